/* hftoksave.c -- hfsave_* (see hftok.h): a vocabulary as the Hugging
 * Face files that tokenize the same way, one function per vocabulary kind
 * (the tokenizer table, tokenizers.c, picks it: tokenizer_save_hf).
 *   hf-kmer            vocab.txt + BertTokenizer configs (do_lower_case as LC:)
 *   hf-esm             vocab.txt + EsmTokenizer configs (eos_token: END: or null)
 *   kmer (stride = k), char
 *                      vocab.txt + EsmTokenizer configs: its greedy longest
 *                      match gives seqtok's non-overlapping k-mers (an N its
 *                      own token, the frame restarting after it, a short
 *                      tail as single bases), <CLS> first and <SEP>, the
 *                      eos_token, last
 *   bpe (DNA)          tokenizer.json: a BPE model with seqtok's merges and
 *                      no pre-tokenizer (merges run over the whole sequence),
 *                      TemplateProcessing <CLS> $A <SEP>.  HF's lowest-rank-
 *                      first merging gives the same tokens as applying the
 *                      merges in order: a merge never recreates a pair of
 *                      lower rank, since its token is new
 *   hf-bpe             tokenizer.json rebuilt from the @TK fields: the
 *                      normalizers (Lowercase, Strip, Replace), the
 *                      pre-tokenizers (Whitespace, WhitespaceSplit,
 *                      ByteLevel, Split) as a Sequence of them, the
 *                      decoder (BPEDecoder, ByteLevel) where DC: has one
 * Refused: overlapping seqtok k-mers, byte-level text vocabularies (bytes
 * above 0x7f are not text) and seqtok's text BPE (its pre-split is not
 * GPT-2's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "base/util.h"
#include "tok/hftok.h"
#include "base/strmap.h"
#include "tok/hfenc.h"
#include "tok/hfpat.h"

/* writes s to dir/name through name.tmp */
static int put_file(const char *dir, const char *name, const char *s, size_t n, char *err, size_t errlen)
{
	char *path = NULL, *tmp = NULL;
	int rc = -1;
	if (asprintf(&path, "%s/%s", dir, name) < 0 || asprintf(&tmp, "%s/%s.tmp", dir, name) < 0) die("out of memory");
	FILE *fp = fopen(tmp, "wb");
	if (!fp) { snprintf(err, errlen, "%s: %s", name, strerror(errno)); goto out; }
	int bad = fwrite(s, 1, n, fp) != n;
	bad |= fclose(fp) != 0;
	if (bad || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno ? errno : EIO));
		remove(tmp);
		goto out;
	}
	rc = 0;
out:
	free(path);
	free(tmp);
	return rc;
}

static int put_json(const char *dir, const char *name, cJSON *j, char *err, size_t errlen)
{
	char *s = cJSON_Print(j);
	if (!s) die("out of memory");
	size_t n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n++] = '\n';
	int rc = put_file(dir, name, s, n, err, errlen);
	free(s);
	return rc;
}

static int valid_text(const tok_vocab *v, int i)
{
	for (int k = 0; k < v->len[i]; k++) {
		unsigned char c = (unsigned char)v->tok[i][k];
		if (c < 0x20 || c == 0x7f) return 0;
	}
	return 1;
}

static int put_vocab_txt(const char *dir, const tok_vocab *v, char *err, size_t errlen)
{
	size_t n = 0;
	for (int i = 0; i < v->n; i++) n += v->len[i] + 1;
	char *s = xmalloc(n + 1), *p = s;
	for (int i = 0; i < v->n; i++) {
		if (!valid_text(v, i)) { free(s); snprintf(err, errlen, "token %d is not a line of text", i); return -1; }
		memcpy(p, v->tok[i], v->len[i]);
		p += v->len[i];
		*p++ = '\n';
	}
	int rc = put_file(dir, "vocab.txt", s, n, err, errlen);
	free(s);
	return rc;
}

static const char *tok_or_null(const tok_vocab *v, int id) { return id >= 0 ? v->tok[id] : NULL; }

static void add_tok(cJSON *o, const char *key, const char *s)
{
	if (s) cJSON_AddStringToObject(o, key, s);
	else cJSON_AddNullToObject(o, key);
}

/* tokenizer_config.json (class and roles) and special_tokens_map.json */
static int put_configs(const char *dir, const tok_vocab *v, const char *cls, const char *const role_tok[7],
                       int lower, char *err, size_t errlen)
{
	static const char *const keys[7] = {"unk_token", "pad_token", "cls_token", "sep_token", "mask_token", "bos_token", "eos_token"};
	cJSON *cfg = cJSON_CreateObject(), *stm = cJSON_CreateObject();
	cJSON_AddStringToObject(cfg, "tokenizer_class", cls);
	if (lower >= 0) cJSON_AddBoolToObject(cfg, "do_lower_case", lower);
	for (int k = 0; k < 7; k++) {
		if (!role_tok[k] && k != 6) continue;          /* eos_token: null says "none" to EsmTokenizer */
		add_tok(cfg, keys[k], role_tok[k]);
		if (role_tok[k]) add_tok(stm, keys[k], role_tok[k]);
	}
	(void)v;
	int rc = put_json(dir, "tokenizer_config.json", cfg, err, errlen);
	if (!rc) rc = put_json(dir, "special_tokens_map.json", stm, err, errlen);
	cJSON_Delete(cfg);
	cJSON_Delete(stm);
	return rc;
}

static int save_esm(const char *dir, const tok_vocab *v, const char *const role[7], char *err, size_t errlen)
{
	if (put_vocab_txt(dir, v, err, errlen) < 0) return -1;
	return put_configs(dir, v, "EsmTokenizer", role, -1, err, errlen);
}

/* ---- tokenizer.json ------------------------------------------------------ */

static cJSON *added_token(const tok_vocab *v, int id, const char *flags)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddNumberToObject(a, "id", id);
	cJSON_AddStringToObject(a, "content", v->tok[id]);
	cJSON_AddBoolToObject(a, "single_word", 0);
	cJSON_AddBoolToObject(a, "lstrip", strchr(flags, 'l') != NULL);
	cJSON_AddBoolToObject(a, "rstrip", strchr(flags, 'r') != NULL);
	cJSON_AddBoolToObject(a, "normalized", strchr(flags, 'n') != NULL);
	cJSON_AddBoolToObject(a, "special", strchr(flags, 's') != NULL);
	return a;
}

static cJSON *template(const tok_vocab *v, int beg, int end)
{
	if (beg < 0 && end < 0) return cJSON_CreateNull();
	cJSON *p = cJSON_CreateObject(), *single = cJSON_CreateArray(), *pair = cJSON_CreateArray(), *sp = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "type", "TemplateProcessing");
	int ends[2] = {beg, end};
	for (int w = 0; w < 2; w++) {                /* single: [beg] $A [end]; pair: [beg] $A [end] $B:1 [end]:1 */
		cJSON *t = w ? pair : single;
		for (int part = 0; part < (w ? 5 : 3); part++) {
			int id = part == 0 ? ends[0] : part == 2 || part == 4 ? ends[1] : -2;
			if (id == -1) continue;
			cJSON *x = cJSON_CreateObject(), *in = cJSON_CreateObject();
			if (id == -2) {
				cJSON_AddStringToObject(in, "id", part == 3 ? "B" : "A");
				cJSON_AddNumberToObject(in, "type_id", part >= 3);
				cJSON_AddItemToObject(x, "Sequence", in);
			} else {
				cJSON_AddStringToObject(in, "id", v->tok[id]);
				cJSON_AddNumberToObject(in, "type_id", part >= 3);
				cJSON_AddItemToObject(x, "SpecialToken", in);
			}
			cJSON_AddItemToArray(t, x);
		}
	}
	for (int k = 0; k < 2; k++) {
		if (ends[k] < 0 || cJSON_GetObjectItemCaseSensitive(sp, v->tok[ends[k]])) continue;
		cJSON *e = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *toks = cJSON_CreateArray();
		cJSON_AddStringToObject(e, "id", v->tok[ends[k]]);
		cJSON_AddItemToArray(ids, cJSON_CreateNumber(ends[k]));
		cJSON_AddItemToArray(toks, cJSON_CreateString(v->tok[ends[k]]));
		cJSON_AddItemToObject(e, "ids", ids);
		cJSON_AddItemToObject(e, "tokens", toks);
		cJSON_AddItemToObject(sp, v->tok[ends[k]], e);
	}
	cJSON_AddItemToObject(p, "single", single);
	cJSON_AddItemToObject(p, "pair", pair);
	cJSON_AddItemToObject(p, "special_tokens", sp);
	return p;
}

/* the added-token flags of an HF vocabulary's token, "" if none */
static const char *flags_of(const tok_vocab *v, int i)
{
	const char *x = v->extra ? v->extra[i] : NULL;
	return x && !strncmp(x, "A:", 2) ? x + 2 : "";
}

/* the items of a comma-separated spec ("-": none, JSON null) as a
 * {"type": "Sequence", list: [item(p) for each p]} */
static cJSON *sequence_json(const char *spec, const char *list, cJSON *(*item)(const char *p))
{
	if (!strcmp(spec, "-")) return cJSON_CreateNull();
	cJSON *seq = cJSON_CreateObject(), *l = cJSON_CreateArray();
	cJSON_AddStringToObject(seq, "type", "Sequence");
	char buf[256], *save;
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) cJSON_AddItemToArray(l, item(p));
	cJSON_AddItemToObject(seq, list, l);
	return seq;
}

/* an escaped string of a spec (hfpat.h) as a JSON string */
static cJSON *unescaped(const char *s, long n)
{
	char *raw = xmalloc(n + 1);
	if (hfpat_unescape(s, n, raw) < 0) raw[0] = 0;   /* not reached: hfbpe.c checked the spec */
	cJSON *x = cJSON_CreateString(raw);
	free(raw);
	return x;
}

/* "<s|r><escaped>" as {"String": ...} or {"Regex": ...} */
static cJSON *pattern_json(const char *p, long n)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, *p == 'r' ? "Regex" : "String", unescaped(p + 1, n - 1));
	return o;
}

/* a normalizer of the spec (hftokjson.c): lc, st<l><r>, r<s|r><pattern>=<content> */
static cJSON *normalizer_item(const char *p)
{
	cJSON *n = cJSON_CreateObject();
	if (!strncmp(p, "st", 2)) {
		cJSON_AddStringToObject(n, "type", "Strip");
		cJSON_AddBoolToObject(n, "strip_left", p[2] == '1');
		cJSON_AddBoolToObject(n, "strip_right", p[3] == '1');
	} else if (p[0] == 'r') {
		const char *eq = strchr(p, '=');
		cJSON_AddStringToObject(n, "type", "Replace");
		cJSON_AddItemToObject(n, "pattern", pattern_json(p + 1, eq - p - 1));
		cJSON_AddItemToObject(n, "content", unescaped(eq + 1, (long)strlen(eq + 1)));
	} else
		cJSON_AddStringToObject(n, "type", "Lowercase");
	return n;
}

/* a pre-tokenizer of the spec: ws, wss, bl<prefix space><regex>, or
 * s<s|r><behavior><invert><pattern> */
static cJSON *pretok_item(const char *p)
{
	static const char beh[] = "RIPNC";
	static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
	cJSON *n = cJSON_CreateObject();
	if (!strcmp(p, "ws")) cJSON_AddStringToObject(n, "type", "Whitespace");
	else if (!strcmp(p, "wss")) cJSON_AddStringToObject(n, "type", "WhitespaceSplit");
	else if (p[0] == 's') {
		char x[256];
		snprintf(x, sizeof x, "%c%s", p[1], p + 4);
		cJSON_AddStringToObject(n, "type", "Split");
		cJSON_AddItemToObject(n, "pattern", pattern_json(x, (long)strlen(x)));
		cJSON_AddStringToObject(n, "behavior", names[strchr(beh, p[2]) - beh]);
		cJSON_AddBoolToObject(n, "invert", p[3] == '1');
	} else {
		cJSON_AddStringToObject(n, "type", "ByteLevel");
		cJSON_AddBoolToObject(n, "add_prefix_space", p[2] == '1');
		cJSON_AddBoolToObject(n, "trim_offsets", 1);
		cJSON_AddBoolToObject(n, "use_regex", p[3] == '1');
	}
	return n;
}

/* the decoder of the DC: field ("" none): bpe<suffix> or bl<p><t><r> */
static cJSON *decoder_json(const char *dc)
{
	cJSON *d = cJSON_CreateObject();
	if (!strncmp(dc, "bpe", 3)) {
		cJSON_AddStringToObject(d, "type", "BPEDecoder");
		cJSON_AddItemToObject(d, "suffix", unescaped(dc + 3, (long)strlen(dc + 3)));
	} else if (!strncmp(dc, "bl", 2) && strlen(dc) == 5) {
		cJSON_AddStringToObject(d, "type", "ByteLevel");
		cJSON_AddBoolToObject(d, "add_prefix_space", dc[2] == '1');
		cJSON_AddBoolToObject(d, "trim_offsets", dc[3] == '1');
		cJSON_AddBoolToObject(d, "use_regex", dc[4] == '1');
	} else {
		cJSON_Delete(d);
		return cJSON_CreateNull();
	}
	return d;
}

/* tokenizer.json of a BPE vocabulary: merges (pairs of ids, by rank),
 * the added tokens' flags, the normalizer and pre-tokenizer specs */
static int put_tokenizer_json(const char *dir, const tok_vocab *v, const int32_t *merge, int nmerge,
                              const char *nm, const char *pt, const char *dc, int munk, int fuse, int ignore,
                              char *err, size_t errlen)
{
	strmap seen;
	strmap_init(&seen);
	for (int i = 0; i < v->n; i++)
		if (strmap_put(&seen, v->tok[i], v->len[i], i) >= 0) {
			snprintf(err, errlen, "token %d (%s) repeats token %d: a tokenizer.json vocab cannot hold it", i, v->tok[i],
			         strmap_get(&seen, v->tok[i], v->len[i]));
			strmap_free(&seen);
			return -1;
		}
	strmap_free(&seen);
	cJSON *j = cJSON_CreateObject(), *at = cJSON_CreateArray(), *m = cJSON_CreateObject(), *vo = cJSON_CreateObject(),
	      *mg = cJSON_CreateArray();
	cJSON_AddStringToObject(j, "version", "1.0");
	cJSON_AddNullToObject(j, "truncation");
	cJSON_AddNullToObject(j, "padding");
	for (int i = 0; i < v->n; i++) {
		const char *f = flags_of(v, i);
		if (*f) cJSON_AddItemToArray(at, added_token(v, i, f));
		if (!strchr(f, 'x')) cJSON_AddNumberToObject(vo, v->tok[i], i);
	}
	cJSON_AddItemToObject(j, "added_tokens", at);
	cJSON_AddItemToObject(j, "normalizer", sequence_json(nm, "normalizers", normalizer_item));
	cJSON_AddItemToObject(j, "pre_tokenizer", sequence_json(pt, "pretokenizers", pretok_item));
	cJSON_AddItemToObject(j, "post_processor", template(v, v->id.beg, v->id.end));
	cJSON_AddItemToObject(j, "decoder", decoder_json(dc));
	cJSON_AddStringToObject(m, "type", "BPE");
	cJSON_AddNullToObject(m, "dropout");
	add_tok(m, "unk_token", tok_or_null(v, munk));
	cJSON_AddNullToObject(m, "continuing_subword_prefix");
	cJSON_AddNullToObject(m, "end_of_word_suffix");
	cJSON_AddBoolToObject(m, "fuse_unk", fuse);
	cJSON_AddBoolToObject(m, "byte_fallback", 0);
	cJSON_AddBoolToObject(m, "ignore_merges", ignore);
	cJSON_AddItemToObject(m, "vocab", vo);
	for (int r = 0; r < nmerge; r++) {
		cJSON *p = cJSON_CreateArray();
		cJSON_AddItemToArray(p, cJSON_CreateString(v->tok[merge[2 * r]]));
		cJSON_AddItemToArray(p, cJSON_CreateString(v->tok[merge[2 * r + 1]]));
		cJSON_AddItemToArray(mg, p);
	}
	cJSON_AddItemToObject(m, "merges", mg);
	cJSON_AddItemToObject(j, "model", m);
	int rc = put_json(dir, "tokenizer.json", j, err, errlen);
	cJSON_Delete(j);
	return rc;
}

/* seqtok's DNA BPE: its specials added (special, not normalized), the
 * merges from the L:/R: extras in id order */
int hfsave_bpe(const char *dir, const tok_vocab *v, char *err, size_t errlen)
{
	if (!strstr(v->params, "AL:dna")) {
		snprintf(err, errlen, "seqtok's text BPE has no tokenizers equivalent (its pre-split is not GPT-2's)");
		return -1;
	}
	tok_vocab c = *v;                  /* a shallow copy with HF flags on the specials */
	char **extra = xmalloc(v->n * sizeof *extra);
	int32_t *merge = xmalloc(2 * sizeof *merge * (v->n + 1));
	int nm = 0, rc = -1;
	for (int i = 0; i < v->n; i++) {
		extra[i] = i < TOK_NSPECIAL ? "A:s" : NULL;
		int l, r;
		if (i >= TOK_NSPECIAL + 5) {
			if (!v->extra[i] || sscanf(v->extra[i], "L:%d\tR:%d", &l, &r) != 2) {
				snprintf(err, errlen, "bpe token %d without its merge", i);
				goto out;
			}
			merge[2 * nm] = l, merge[2 * nm + 1] = r, nm++;
		}
	}
	c.extra = extra;
	c.id = v->id;
	rc = put_tokenizer_json(dir, &c, merge, nm, "-", "-", "", TOK_UNK, 0, 0, err, errlen);
	if (!rc) {
		const char *role[7] = {"<UNK>", "<PAD>", "<CLS>", "<SEP>", "<MASK>", NULL, NULL};
		rc = put_configs(dir, v, "PreTrainedTokenizerFast", role, -1, err, errlen);
	}
out:
	free(extra);
	free(merge);
	return rc;
}

int hfsave_hf_bpe(const char *dir, const tok_vocab *v, char *err, size_t errlen)
{
	char nm[256], pt[256], dc[256] = "", buf[32];
	if (!tns_line_field(v->params, "NM", nm, sizeof nm) || !tns_line_field(v->params, "PT", pt, sizeof pt) ||
	    !tns_line_field(v->params, "MU", buf, sizeof buf)) {
		snprintf(err, errlen, "hf-bpe vocabulary without NM:, PT: and MU: fields");
		return -1;
	}
	int munk = atoi(buf), fuse = 0, ignore = 0;
	if (tns_line_field(v->params, "FU", buf, sizeof buf)) fuse = !strcmp(buf, "1");
	if (tns_line_field(v->params, "IM", buf, sizeof buf)) ignore = !strcmp(buf, "1");
	if (munk >= v->n) munk = -1;
	/* the items below are written as the encoder reads them: a spec it
	 * would refuse (a hand-made header) is refused here too */
	if (hfbpe_check_spec(v, err, errlen) < 0) return -1;
	tns_line_field(v->params, "DC", dc, sizeof dc);
	if (put_tokenizer_json(dir, v, v->merge, v->nmerge, nm, pt, dc, munk, fuse, ignore, err, errlen) < 0) return -1;
	const char *role[7] = {tok_or_null(v, v->id.unk), tok_or_null(v, v->id.pad), tok_or_null(v, v->id.cls),
	                       tok_or_null(v, v->id.sep), tok_or_null(v, v->id.mask), NULL, NULL};
	return put_configs(dir, v, "PreTrainedTokenizerFast", role, -1, err, errlen);
}

int hfsave_hf_kmer(const char *dir, const tok_vocab *v, char *err, size_t errlen)
{
	const tok_ids *d = &v->id;
	if (put_vocab_txt(dir, v, err, errlen) < 0) return -1;
	const char *role[7] = {tok_or_null(v, d->unk), tok_or_null(v, d->pad), tok_or_null(v, d->cls),
	                       tok_or_null(v, d->sep), tok_or_null(v, d->mask), NULL, NULL};
	return put_configs(dir, v, "BertTokenizer", role, strstr(v->params, "LC:1") != NULL, err, errlen);
}

int hfsave_hf_esm(const char *dir, const tok_vocab *v, char *err, size_t errlen)
{
	const tok_ids *d = &v->id;
	const char *role[7] = {tok_or_null(v, d->unk), tok_or_null(v, d->pad), tok_or_null(v, d->cls),
	                       NULL, tok_or_null(v, d->mask), NULL, tok_or_null(v, d->end)};
	return save_esm(dir, v, role, err, errlen);
}

int hfsave_char(const char *dir, const tok_vocab *v, char *err, size_t errlen)
{
	const char *role[7] = {"<UNK>", "<PAD>", "<CLS>", NULL, "<MASK>", NULL, "<SEP>"};
	return save_esm(dir, v, role, err, errlen);
}

int hfsave_kmer(const char *dir, const tok_vocab *v, char *err, size_t errlen)
{
	if (v->stride && v->stride != v->k) {
		snprintf(err, errlen, "overlapping k-mers (stride %d < k %d) have no HF tokenizer that cuts them as seqtok does", v->stride, v->k);
		return -1;
	}
	return hfsave_char(dir, v, err, errlen);
}
