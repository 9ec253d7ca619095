/* vocab.c -- tokenizer vocabularies in stream headers (see vocab.h). */
#include "tok/vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "base/rng.h"

static const char *const specials[TOK_NSPECIAL] = {"<UNK>", "<PAD>", "<CLS>", "<SEP>", "<MASK>"};

static const tok_ids no_ids = {-1, -1, -1, -1, -1, -1, -1};
static const tok_ids native_ids = {TOK_UNK, TOK_PAD, TOK_CLS, TOK_SEP, TOK_MASK, TOK_CLS, TOK_SEP};

void vocab_init(tok_vocab *v, const char *kind)
{
	memset(v, 0, sizeof *v);
	snprintf(v->kind, sizeof v->kind, "%.15s", kind);
	v->id = no_ids;
}

int vocab_is_native(const tok_vocab *v) { return strncmp(v->kind, "hf-", 3) != 0; }

void vocab_free(tok_vocab *v)
{
	for (int i = 0; i < v->n; i++) {
		free(v->tok[i]);
		if (v->extra) free(v->extra[i]);
	}
	free(v->tok);
	free(v->len);
	free(v->extra);
	free(v->special);
	free(v->merge);
	memset(v, 0, sizeof *v);
}

int vocab_add(tok_vocab *v, const char *s, int len, const char *extra)
{
	if ((v->n & (v->n - 1)) == 0) {           /* grow at powers of two */
		int m = v->n ? 2 * v->n : 16;
		v->tok = xrealloc(v->tok, m * sizeof *v->tok);
		v->len = xrealloc(v->len, m * sizeof *v->len);
		v->extra = xrealloc(v->extra, m * sizeof *v->extra);
		v->special = xrealloc(v->special, m * sizeof *v->special);
	}
	v->special[v->n] = 0;
	v->tok[v->n] = xmalloc(len + 1);
	memcpy(v->tok[v->n], s, len);
	v->tok[v->n][len] = 0;
	v->len[v->n] = len;
	v->extra[v->n] = extra && *extra ? xstrdup(extra) : NULL;
	return v->n++;
}

void vocab_add_specials(tok_vocab *v)
{
	for (int i = 0; i < TOK_NSPECIAL; i++) vocab_add(v, specials[i], (int)strlen(specials[i]), NULL);
}

void vocab_add_merge(tok_vocab *v, int l, int r)
{
	if ((v->nmerge & (v->nmerge - 1)) == 0)
		v->merge = xrealloc(v->merge, 2 * sizeof *v->merge * (v->nmerge ? 2 * v->nmerge : 16));
	v->merge[2 * v->nmerge] = l;
	v->merge[2 * v->nmerge + 1] = r;
	v->nmerge++;
}

int vocab_is_special(const tok_vocab *v, int id) { return id >= 0 && id < v->n && v->special[id]; }

int vocab_ncontent(const tok_vocab *v)
{
	int c = 0;
	for (int i = 0; i < v->n; i++) c += !v->special[i];
	return c;
}

int vocab_nlead(const tok_vocab *v)
{
	int k = 0;
	while (k < v->n && v->special[k]) k++;
	for (int i = k; i < v->n; i++)
		if (v->special[i]) return -1;
	return k;
}

/* an HF token's added-token flags ("A:snlr" in its extra), "" if none */
static const char *added_flags(const tok_vocab *v, int i)
{
	const char *x = v->extra[i];
	if (!x) return "";
	for (const char *p = x; (p = strstr(p, "A:")); p++)
		if (p == x || p[-1] == '\t') return p + 2;
	return "";
}

void vocab_escape(const char *s, int len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;
	for (int i = 0; i < len && k + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') { out[k++] = '\\'; out[k++] = '\\'; }
		else if (c == '\t') { out[k++] = '\\'; out[k++] = 't'; }
		else if (c == '\n') { out[k++] = '\\'; out[k++] = 'n'; }
		else if (c == '\r') { out[k++] = '\\'; out[k++] = 'r'; }
		else if (c < 0x20 || c >= 0x7f) {
			out[k++] = '\\'; out[k++] = 'x'; out[k++] = hex[c >> 4]; out[k++] = hex[c & 15];
		} else out[k++] = (char)c;
	}
	if (outlen) out[k < outlen ? k : outlen - 1] = 0;
}

/* inverse of vocab_escape; returns the length or -1 when malformed */
static int unescape(const char *s, size_t n, char *out)
{
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') { out[k++] = s[i]; continue; }
		if (++i >= n) return -1;
		switch (s[i]) {
		case '\\': out[k++] = '\\'; break;
		case 't': out[k++] = '\t'; break;
		case 'n': out[k++] = '\n'; break;
		case 'r': out[k++] = '\r'; break;
		case 'x': {
			unsigned v = 0;
			for (int j = 1; j <= 2; j++) {
				if (i + j >= n) return -1;
				char c = s[i + j];
				v = v * 16 + (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99);
			}
			if (v > 255 || v == 0) return -1;
			out[k++] = (char)v;
			i += 2;
			break;
		}
		default: return -1;
		}
	}
	out[k] = 0;
	return k;
}

/* the @TK line without its H: field, as hashed */
static char *tk_line(const tok_vocab *v)
{
	char *s = NULL;
	char k[32] = "", st[32] = "";
	if (v->k) snprintf(k, sizeof k, "\tK:%d", v->k);
	if (v->stride) snprintf(st, sizeof st, "\tST:%d", v->stride);
	char ids[160] = "";
	if (!vocab_is_native(v)) {
		const tok_ids *d = &v->id;
		snprintf(ids, sizeof ids, "\tUNK:%d\tPAD:%d\tCLS:%d\tSEP:%d\tMASK:%d\tBEG:%d\tEND:%d",
		         d->unk, d->pad, d->cls, d->sep, d->mask, d->beg, d->end);
	}
	if (asprintf(&s, "@TK\tTY:%s\tN:%d%s%s%s%s", v->kind, v->n, k, st, ids, v->params) < 0) die("out of memory");
	return s;
}

static char *vo_line(const tok_vocab *v, int i)
{
	size_t el = v->extra[i] ? strlen(v->extra[i]) : 0, cap = 4 * (size_t)v->len[i] + el + 16;
	char *s = xmalloc(cap);
	memcpy(s, "@VO\t", 4);
	vocab_escape(v->tok[i], v->len[i], s + 4, cap - 4);
	if (el) {
		strcat(s, "\t");
		strcat(s, v->extra[i]);
	}
	return s;
}

static uint64_t fnv_more(uint64_t h, const char *s)
{
	for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ULL; }
	h ^= '\n'; h *= 0x100000001b3ULL;
	return h;
}

static char *mg_line(const tok_vocab *v, int i)
{
	char *s = NULL;
	if (asprintf(&s, "@MG\t%d\t%d", v->merge[2 * i], v->merge[2 * i + 1]) < 0) die("out of memory");
	return s;
}

void vocab_finish(tok_vocab *v)
{
	if (vocab_is_native(v)) {
		v->id = native_ids;
		for (int i = 0; i < v->n; i++) v->special[i] = i < TOK_NSPECIAL;
	} else
		for (int i = 0; i < v->n; i++) v->special[i] = strchr(added_flags(v, i), 's') != NULL;
	char *s = tk_line(v);
	/* the decoder (DC:, kept only for writing tokenizer.json back) does not
	 * change an id: it stays out of the hash, so vocabularies read before
	 * decoders were kept still match the streams made now */
	char *dc = strstr(s, "\tDC:");
	if (dc) {
		char *end = strchr(dc + 1, '\t');
		memmove(dc, end ? end : dc + strlen(dc), strlen(end ? end : dc + strlen(dc)) + 1);
	}
	uint64_t h = fnv_more(0xcbf29ce484222325ULL, s);
	free(s);
	for (int i = 0; i < v->n; i++) {
		s = vo_line(v, i);
		h = fnv_more(h, s);
		free(s);
	}
	for (int i = 0; i < v->nmerge; i++) {
		s = mg_line(v, i);
		h = fnv_more(h, s);
		free(s);
	}
	v->hash = h;
}

void vocab_to_header(const tok_vocab *v, tns_header *h)
{
	char *s = tk_line(v);
	tns_header_remove(h, "@TK\t");
	tns_header_remove(h, "@VO\t");
	tns_header_remove(h, "@MG\t");
	tns_header_add(h, "%s\tH:%016llx", s, (unsigned long long)v->hash);
	free(s);
	for (int i = 0; i < v->n; i++) {
		s = vo_line(v, i);
		tns_header_add(h, "%s", s);
		free(s);
	}
	for (int i = 0; i < v->nmerge; i++) {
		s = mg_line(v, i);
		tns_header_add(h, "%s", s);
		free(s);
	}
}

uint64_t vocab_header_hash(const tns_header *h)
{
	char buf[32];
	for (int i = 0; i < h->n; i++)
		if (strncmp(h->line[i], "@TK\t", 4) == 0 && tns_line_field(h->line[i], "H", buf, sizeof buf))
			return strtoull(buf, NULL, 16);
	return 0;
}

/* the special-id fields of an HF @TK line */
static const char *const id_tag[7] = {"UNK", "PAD", "CLS", "SEP", "MASK", "BEG", "END"};

static int *id_slot(tok_ids *d, int k)
{
	int *p[7] = {&d->unk, &d->pad, &d->cls, &d->sep, &d->mask, &d->beg, &d->end};
	return p[k];
}

static int is_known_field(const char *p, size_t l)
{
	static const char *const f[] = {"TY", "N", "K", "ST", "H", "UNK", "PAD", "CLS", "SEP", "MASK", "BEG", "END"};
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		size_t fl = strlen(f[i]);
		if (l > fl + 1 && !strncmp(p + 1, f[i], fl) && p[fl + 1] == ':') return 1;
	}
	return 0;
}

/* a decimal integer filling all of s, in [lo, hi] */
static int parse_id(const char *s, long lo, long hi, long *x)
{
	char *e;
	errno = 0;
	*x = strtol(s, &e, 10);
	return *s && !*e && !errno && *x >= lo && *x <= hi ? 0 : -1;
}

static int read_ids(tok_vocab *v, const char *tk, char *err, size_t errlen)
{
	char buf[64];
	for (int k = 0; k < 7; k++) {
		long x;
		int has = tns_line_field(tk, id_tag[k], buf, sizeof buf) != NULL;
		if (vocab_is_native(v)) {
			if (has) { snprintf(err, errlen, "@TK %s: field in a %s vocabulary (its specials are ids 0..4)", id_tag[k], v->kind); return -1; }
			continue;
		}
		if (!has || parse_id(buf, -1, v->n - 1, &x) < 0) {
			snprintf(err, errlen, "@TK %s:%s: %s", id_tag[k], has ? buf : "", has ? "not an id of the vocabulary" : "missing");
			return -1;
		}
		*id_slot(&v->id, k) = (int)x;
	}
	return 0;
}

static int read_merges(tok_vocab *v, const tns_header *h, char *err, size_t errlen)
{
	for (int i = 0; i < h->n; i++) {
		const char *s = h->line[i];
		if (strncmp(s, "@MG\t", 4) != 0) continue;
		char a[24], b[24];
		long l, r;
		const char *t = strchr(s + 4, '\t');
		if (strcmp(v->kind, "hf-bpe") != 0) { snprintf(err, errlen, "@MG line in a %s vocabulary", v->kind); return -1; }
		if (!t || t - s - 4 >= (long)sizeof a || strlen(t + 1) >= sizeof b) goto bad;
		memcpy(a, s + 4, t - s - 4);
		a[t - s - 4] = 0;
		strcpy(b, t + 1);
		if (parse_id(a, 0, v->n - 1, &l) < 0 || parse_id(b, 0, v->n - 1, &r) < 0) goto bad;
		vocab_add_merge(v, (int)l, (int)r);
		continue;
	bad:
		snprintf(err, errlen, "merge %d: malformed @MG line or id outside the vocabulary", v->nmerge);
		return -1;
	}
	return 0;
}

int vocab_from_header(tok_vocab *v, const tns_header *h, char *err, size_t errlen)
{
	const char *tk = NULL;
	char buf[64];
	int nvo = 0;
	for (int i = 0; i < h->n; i++) {
		if (strncmp(h->line[i], "@TK\t", 4) == 0) tk = h->line[i];
		else if (strncmp(h->line[i], "@VO\t", 4) == 0) nvo++;
	}
	if (!tk) { snprintf(err, errlen, "no tokenizer vocabulary (@TK line) in the header"); return -1; }
	vocab_init(v, tns_line_field(tk, "TY", buf, sizeof buf) ? buf : "?");
	long n = tns_line_field(tk, "N", buf, sizeof buf) ? strtol(buf, NULL, 10) : -1;
	v->k = tns_line_field(tk, "K", buf, sizeof buf) ? atoi(buf) : 0;
	v->stride = tns_line_field(tk, "ST", buf, sizeof buf) ? atoi(buf) : 0;
	uint64_t want = tns_line_field(tk, "H", buf, sizeof buf) ? strtoull(buf, NULL, 16) : 0;
	/* keep the other @TK fields, in order */
	for (const char *p = strchr(tk, '\t'); p; p = strchr(p + 1, '\t')) {
		const char *e = strchr(p + 1, '\t');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (is_known_field(p, l)) continue;
		if (strlen(v->params) + l + 1 > sizeof v->params) { snprintf(err, errlen, "@TK line too long"); goto bad; }
		strncat(v->params, p, l);
	}
	int native = vocab_is_native(v);
	if (n < (native ? TOK_NSPECIAL : 1) || n != nvo) {
		snprintf(err, errlen, "vocabulary says %ld tokens, header has %d @VO lines", n, nvo);
		goto bad;
	}
	for (int i = 0; i < h->n; i++) {
		const char *s = h->line[i];
		if (strncmp(s, "@VO\t", 4) != 0) continue;
		s += 4;
		const char *tab = strchr(s, '\t');
		size_t l = tab ? (size_t)(tab - s) : strlen(s);
		char *tok = xmalloc(l + 1);
		int tl = unescape(s, l, tok);
		if (tl <= 0) {
			free(tok);
			snprintf(err, errlen, "malformed vocabulary token %d", v->n);
			goto bad;
		}
		vocab_add(v, tok, tl, tab ? tab + 1 : NULL);
		free(tok);
	}
	if (native)
		for (int i = 0; i < TOK_NSPECIAL; i++)
			if (strcmp(v->tok[i], specials[i]) != 0) {
				snprintf(err, errlen, "vocabulary token %d is not %s", i, specials[i]);
				goto bad;
			}
	if (read_ids(v, tk, err, errlen) < 0 || read_merges(v, h, err, errlen) < 0) goto bad;
	vocab_finish(v);             /* HF kinds keep the ids just read */
	if (v->hash != want) {
		snprintf(err, errlen, "vocabulary hash mismatch (header says %016llx, tokens give %016llx)",
		         (unsigned long long)want, (unsigned long long)v->hash);
		goto bad;
	}
	return 0;
bad:
	vocab_free(v);
	return -2;
}
