/* hfbpe.c -- the hf-bpe encoder: what HF tokenizers' Tokenizer::encode does
 * with a tokenizer.json BPE for one document (hftokjson.c reads the file).
 * Sources followed (tokenizers, Rust; the new pieces as of @3ba8ad0):
 *   src/tokenizer/added_vocabulary.rs  extract_and_normalize: added tokens
 *       that are not "normalized" are cut out of the raw text first
 *       (leftmost-longest), the rest is normalized, then normalized added
 *       tokens are cut out; find_matches: lstrip/rstrip take the white
 *       space beside a match into it
 *   src/normalizers/utils.rs + normalizer.rs  Lowercase: each char's
 *       char::to_lowercase
 *   src/normalizers/strip.rs 26-40 + normalizer.rs lrstrip  Strip: the
 *       leading / trailing chars that are char::is_whitespace removed
 *   src/normalizers/replace.rs 82-86 + normalizer.rs replace  Replace:
 *       every match of the pattern (hfpat.h) by the content
 *   the normalizer runs on each piece left between the added tokens that
 *       are not "normalized" (added_vocabulary.rs extract_and_normalize,
 *       step 2), so Strip strips each piece
 *   src/pre_tokenizers/split.rs 96-103 + normalizer.rs split  Split: the
 *       pattern's matches and the text between them (pattern.rs
 *       find_matches), flags flipped by invert, then the behavior's fold
 *   src/pre_tokenizers/whitespace.rs  Whitespace: the matches of
 *       \w+|[^\w\s]+ are the pieces; WhitespaceSplit: split on
 *       char::is_whitespace, removed
 *   src/pre_tokenizers/byte_level.rs  ByteLevel: prepend " " to a piece
 *       not starting with one (add_prefix_space), split by the GPT-2
 *       expression 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
 *       ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ (use_regex), each match a piece,
 *       then every byte as its bytes_char() character
 *   src/models/bpe/model.rs  merge_word: each char its vocab id, an unknown
 *       char the unk token (runs fused with fuse_unk; dropped without
 *       unk_token); ignore_merges: a piece found whole is one token
 *   src/models/bpe/word.rs  merge_all: a min-heap on (rank, position),
 *       stale entries skipped, new pairs pushed after each merge
 * Pieces are byte ranges of an arena; each byte carries the span of input
 * bytes it came from, so tokens are named by input bytes.  Input that is
 * not UTF-8 is decoded as Python's bytes.decode(errors="replace") does:
 * U+FFFD for each maximal invalid subsequence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "tok/hfenc.h"
#include "base/strmap.h"
#include "tok/hfpat.h"
#include "tok/unitab.h"

enum { PT_WS = 1, PT_WSS, PT_BL, PT_SPLIT };
enum { NM_LC = 1, NM_STRIP, NM_REPLACE };
enum { MAXPT = 8, MAXNM = 8 };

typedef struct {
	int kind, l, r;               /* NM_*; Strip: left, right */
	hfpat pat;                    /* Replace: the pattern and its content */
	char *content;
	long clen;
} norm_step;
typedef struct { long a, b; int m; } seg;          /* a Split's text between matches (m 0) or a match (m 1) */

typedef struct {
	int id, l, r;                 /* l, r: lstrip, rstrip */
	char *pat;                    /* what is matched: the content, normalized for a normalized token */
	int plen;
} added_tok;
typedef struct { long a, b; int id; } piece;       /* arena bytes [a, b); id -1: text, else a token */
typedef struct { int32_t rank, pos, nid; } merge;

typedef struct {
	tokenizer *t;
	strmap model;                 /* the BPE model's vocab (not added-only tokens) */
	uint64_t *pkey;               /* (left, right) -> rank, new id; key 0 = empty */
	int32_t *prank, *pnew;
	uint32_t pmask;
	norm_step nm[MAXNM];          /* the normalizers, in order */
	int nnm;
	int npt, pt[MAXPT], ap[MAXPT], re[MAXPT];
	hfpat spat[MAXPT];            /* Split: pattern, behavior (R I P N C), invert */
	char sbeh[MAXPT];
	int sinv[MAXPT];
	int unk, fuse, ignore;
	added_tok *raw, *norm;        /* added tokens matched before / after normalizing */
	int nraw, nnorm;
	unsigned char first_raw[256], first_norm[256];   /* first bytes of the added tokens */
	char bchar[256][2];           /* ByteLevel: byte -> UTF-8 of its char */
	int bclen[256];
	/* per document */
	char *a; int32_t *os, *oe;    /* arena bytes and each byte's input span */
	long an, acap;
	piece *pc, *pc2; long np, np2, pcap, pcap2;
	/* BPE scratch */
	int32_t *sid, *sa, *sb, *sprev, *snext;   /* per symbol: id, arena bytes [sa, sb), links */
	long scap;
	merge *heap; long hn, hcap;
	seg *sg; long nsg, sgcap;     /* Split scratch */
} hfbpe;

/* ---- UTF-8 -------------------------------------------------------------- */

/* the code point at s[0..n) and its length; invalid: the maximal prefix of
 * a valid sequence (at least one byte) and cp -1 (Unicode's "maximal
 * subpart", which CPython's decoder replaces with one U+FFFD) */
static int utf8_next(const unsigned char *s, long n, uint32_t *cp)
{
	unsigned c = s[0];
	if (c < 0x80) { *cp = c; return 1; }
	int need;
	unsigned lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) need = 1;
	else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
	else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
	else { *cp = (uint32_t)-1; return 1; }
	uint32_t v = c & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07);
	for (int k = 1; k <= need; k++) {
		if (k >= n || s[k] < lo || s[k] > hi) { *cp = (uint32_t)-1; return k; }
		v = v << 6 | (s[k] & 0x3F);
		lo = 0x80, hi = 0xBF;
	}
	*cp = v;
	return need + 1;
}

static int utf8_put(uint32_t c, char *o)
{
	if (c < 0x80) { o[0] = (char)c; return 1; }
	if (c < 0x800) { o[0] = (char)(0xC0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
	if (c < 0x10000) { o[0] = (char)(0xE0 | c >> 12); o[1] = (char)(0x80 | (c >> 6 & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F)); return 3; }
	o[0] = (char)(0xF0 | c >> 18); o[1] = (char)(0x80 | (c >> 12 & 0x3F));
	o[2] = (char)(0x80 | (c >> 6 & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* the code point at arena byte i (the arena holds valid UTF-8) */
static uint32_t cp_at(const hfbpe *h, long i, long end, int *len)
{
	uint32_t c;
	*len = utf8_next((const unsigned char *)h->a + i, end - i, &c);
	return c;
}

/* ---- the arena and the pieces --------------------------------------------- */

/* The arena is kept NUL-terminated: regexec is given each piece's bounds
 * (REG_STARTEND), but sanitizers' regexec interceptors read the string to
 * its NUL. */
static void arena_put(hfbpe *h, const char *s, int n, int32_t os, int32_t oe)
{
	if (h->an + n + 1 > h->acap) {
		h->acap = 2 * (h->an + n) + 4096;
		h->a = xrealloc(h->a, h->acap);
		h->os = xrealloc(h->os, h->acap * sizeof *h->os);
		h->oe = xrealloc(h->oe, h->acap * sizeof *h->oe);
	}
	for (int k = 0; k < n; k++) {
		h->a[h->an] = s[k];
		h->os[h->an] = os, h->oe[h->an++] = oe;
	}
	h->a[h->an] = 0;
}

/* appends a piece to the next list; empty text pieces are dropped
 * (PreTokenizedString::split filters them) */
static void emit(hfbpe *h, long a, long b, int id)
{
	if (id < 0 && a >= b) return;
	if (h->np2 == h->pcap2) { h->pcap2 = 2 * h->pcap2 + 64; h->pc2 = xrealloc(h->pc2, h->pcap2 * sizeof *h->pc2); }
	h->pc2[h->np2++] = (piece){a, b, id};
}

static void next_list(hfbpe *h)
{
	piece *p = h->pc;
	long c = h->pcap;
	h->pc = h->pc2, h->pcap = h->pcap2, h->np = h->np2;
	h->pc2 = p, h->pcap2 = c, h->np2 = 0;
}

/* ---- added tokens ----------------------------------------------------------- */

/* cuts the text pieces at the added tokens of list: leftmost, longest
 * (the aho-corasick MatchKind::LeftmostLongest of added_vocabulary.rs),
 * lstrip/rstrip taking the white space beside a match into it */
static void split_added(hfbpe *h, const added_tok *list, int n, const unsigned char *first)
{
	h->np2 = 0;
	for (long p = 0; p < h->np; p++) {
		long a = h->pc[p].a, b = h->pc[p].b;
		if (h->pc[p].id >= 0 || !n) { emit(h, a, b, h->pc[p].id); continue; }
		long off = a;                        /* start of what is not yet emitted */
		for (long i = a; i < b;) {
			int best = -1, bl = 0;
			if (first[(unsigned char)h->a[i]])
				for (int k = 0; k < n; k++) {
					int l = list[k].plen;
					if (l > bl && l <= b - i && memcmp(h->a + i, list[k].pat, l) == 0) best = k, bl = l;
				}
			if (best < 0) { i++; continue; }
			long s = i, stop = i + bl;
			int cl;
			if (list[best].l)                /* the white space before it, back to off */
				while (s > off) {
					long q = s - 1;
					while (q > off && ((unsigned char)h->a[q] & 0xC0) == 0x80) q--;
					if (!uni_is_space(cp_at(h, q, b, &cl))) break;
					s = q;
				}
			if (list[best].r)
				while (stop < b && uni_is_space(cp_at(h, stop, b, &cl))) stop += cl;
			emit(h, off, s, -1);
			emit(h, s, stop, list[best].id);
			off = i = stop;
		}
		emit(h, off, b, -1);
	}
	next_list(h);
}

/* ---- normalizer ---------------------------------------------------------- */

/* Lowercase: every char of the piece by its lowercase (1..3 chars), which
 * keeps the input span of the char it came from */
static void lowercase(hfbpe *h, long a0, long b)
{
	long a = h->an;
	for (long i = a0; i < b;) {
		int cl;
		uint32_t c = cp_at(h, i, b, &cl), lc[3];
		int k = uni_lower(c, lc);
		for (int j = 0; j < k; j++) {
			char u[4];
			arena_put(h, u, utf8_put(lc[j], u), h->os[i], h->oe[i]);
		}
		i += cl;
	}
	emit(h, a, h->an, -1);
}

/* Strip (normalizer.rs lrstrip): the white space at either end goes, the
 * rest keeps its spans */
static void strip(hfbpe *h, long a, long b, int left, int right)
{
	int cl;
	if (left)
		while (a < b && uni_is_space(cp_at(h, a, b, &cl))) a += cl;
	if (right)
		while (b > a) {
			long q = b - 1;
			while (q > a && ((unsigned char)h->a[q] & 0xC0) == 0x80) q--;
			if (!uni_is_space(cp_at(h, q, b, &cl))) break;
			b = q;
		}
	emit(h, a, b, -1);
}

/* copies arena bytes [a, b) to its end with their spans */
static void copy_bytes(hfbpe *h, long a, long b)
{
	for (long i = a; i < b; i++) {
		char c = h->a[i];               /* not h->a + i: arena_put may move the arena */
		arena_put(h, &c, 1, h->os[i], h->oe[i]);
	}
}

/* Replace (normalizer.rs replace): each match by the content.  HF gives
 * the content's chars the alignment of the match's last char; here they
 * cover the whole match, so a token made of them (GENA's "-" for a run of
 * N) names all the bases it stands for.  The ids are the same. */
static void replace(hfbpe *h, long a, long b, const norm_step *n)
{
	long s = h->an, i = a, ms, me;
	while (i < b && hfpat_find(&n->pat, h->a, i, b, &ms, &me)) {
		copy_bytes(h, i, ms);
		arena_put(h, n->content, (int)n->clen, h->os[ms], h->oe[me - 1]);
		i = me;
	}
	copy_bytes(h, i, b);
	emit(h, s, h->an, -1);
}

/* the normalizers in order, each on every text piece */
static void normalize(hfbpe *h)
{
	for (int k = 0; k < h->nnm; k++) {
		const norm_step *n = &h->nm[k];
		h->np2 = 0;
		for (long p = 0; p < h->np; p++) {
			piece x = h->pc[p];
			if (x.id >= 0) emit(h, x.a, x.b, x.id);
			else if (n->kind == NM_LC) lowercase(h, x.a, x.b);
			else if (n->kind == NM_STRIP) strip(h, x.a, x.b, n->l, n->r);
			else replace(h, x.a, x.b, n);
		}
		next_list(h);
	}
}

/* ---- pre-tokenizers ------------------------------------------------------ */

/* Whitespace (\w+|[^\w\s]+, the matches kept) or WhitespaceSplit */
static void split_ws(hfbpe *h, long a, long b, int wss)
{
	long i = a;
	while (i < b) {
		int cl;
		uint32_t c = cp_at(h, i, b, &cl);
		if (uni_is_space(c)) { i += cl; continue; }
		int word = uni_is_word(c);
		long j = i + cl;
		while (j < b) {
			uint32_t d = cp_at(h, j, b, &cl);
			if (uni_is_space(d) || (!wss && uni_is_word(d) != word)) break;
			j += cl;
		}
		emit(h, i, j, -1);
		i = j;
	}
}

/* the length in bytes of the GPT-2 expression's match at i (byte_level.rs):
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * tried in that order, as a backtracking engine does */
static long gpt2_match(const hfbpe *h, long i, long b)
{
	int cl, cl2;
	uint32_t c = cp_at(h, i, b, &cl);
	if (c == '\'' && i + 1 < b) {
		char x = h->a[i + 1], y = i + 2 < b ? h->a[i + 2] : 0;
		if (x == 's' || x == 't' || x == 'm' || x == 'd') return 2;
		if ((x == 'r' && y == 'e') || (x == 'v' && y == 'e') || (x == 'l' && y == 'l')) return 3;
	}
	for (int cls = 0; cls < 3; cls++) {      /* \p{L}, \p{N}, [^\s\p{L}\p{N}] after an optional ' ' */
		long j = i;
		if (c == ' ' && i + 1 < b) j = i + 1;
		for (int pass = 0; pass < 2; pass++) {   /* with the ' ', then without it */
			long k = j;
			for (;;) {
				if (k >= b) break;
				uint32_t d = cp_at(h, k, b, &cl2);
				int in = cls == 0 ? uni_is_letter(d) : cls == 1 ? uni_is_number(d)
				                  : !uni_is_space(d) && !uni_is_letter(d) && !uni_is_number(d);
				if (!in) break;
				k += cl2;
			}
			if (k > j) return k - i;
			if (j == i) break;
			j = i;
		}
	}
	/* white space: \s+(?!\S), else \s+ */
	long k = i, last = i;
	while (k < b) {
		uint32_t d = cp_at(h, k, b, &cl2);
		if (!uni_is_space(d)) break;
		last = k;
		k += cl2;
	}
	if (k > i) {
		if (k == b) return k - i;          /* to the end: nothing follows */
		if (last > i) return last - i;     /* leave the last space to the next word */
		return k - i;
	}
	return cl;                              /* not reached: every char matches one branch */
}

/* ByteLevel on one text piece */
static void byte_level(hfbpe *h, long a, long b, int prefix, int regex)
{
	if (prefix && h->a[a] != ' ') {          /* add_prefix_space: " " + the piece */
		long s = h->an;
		arena_put(h, " ", 1, h->os[a], h->os[a]);
		for (long i = a; i < b; i++) {
			char c = h->a[i];                /* not h->a + i: arena_put may move the arena */
			arena_put(h, &c, 1, h->os[i], h->oe[i]);
		}
		a = s, b = h->an;
	}
	for (long i = a; i < b;) {
		long l = regex ? gpt2_match(h, i, b) : b - i;
		long s = h->an;
		for (long j = i; j < i + l; j++) {
			unsigned char c = (unsigned char)h->a[j];
			arena_put(h, h->bchar[c], h->bclen[c], h->os[j], h->oe[j]);
		}
		emit(h, s, h->an, -1);
		i += l;
	}
}

static void seg_add(hfbpe *h, long a, long b, int m)
{
	if (h->nsg == h->sgcap) { h->sgcap = 2 * h->sgcap + 64; h->sg = xrealloc(h->sg, h->sgcap * sizeof *h->sg); }
	h->sg[h->nsg++] = (seg){a, b, m};
}

/* Split on one piece (normalizer.rs split): the matches and the text
 * between them, flags flipped by invert, then the behavior's fold as the
 * source writes it; a piece "removed" is left out, empty ones dropped */
static void split_pat(hfbpe *h, long a, long b, int k)
{
	long i = a, ms, me;
	h->nsg = 0;
	while (i < b && hfpat_find(&h->spat[k], h->a, i, b, &ms, &me)) {
		if (ms > i) seg_add(h, i, ms, 0);
		seg_add(h, ms, me, 1);
		i = me;
	}
	if (i < b) seg_add(h, i, b, 0);
	seg *g = h->sg;
	long n = h->nsg, w = 0, first = 0;
	if (h->sinv[k]) for (long r = 0; r < n; r++) g[r].m = !g[r].m;
	int prev = 0;
	switch (h->sbeh[k]) {
	case 'I': w = n; break;
	case 'R':                                  /* the matches go */
		for (long r = 0; r < n; r++) if (!g[r].m) g[w++] = g[r];
		break;
	case 'C':                                  /* runs of one flag become one piece */
		for (long r = 0; r < n; r++) {
			if (g[r].m == prev && w) g[w - 1].b = g[r].b;
			else g[w++] = g[r];
			prev = g[r].m;
		}
		break;
	case 'P':                                  /* a match joins the piece before it */
		for (long r = 0; r < n; r++) {
			if (g[r].m && !prev && w) g[w - 1].b = g[r].b;
			else g[w++] = g[r];
			prev = g[r].m;
		}
		break;
	case 'N':                                  /* ... the piece after it: the fold runs backwards */
		first = n;
		for (long r = n - 1; r >= 0; r--) {
			if (g[r].m && !prev && first < n) g[first].a = g[r].a;
			else g[--first] = g[r];
			prev = g[r].m;
		}
		w = n;
		break;
	}
	for (long r = first; r < w; r++) emit(h, g[r].a, g[r].b, -1);
}

static void pre_tokenize(hfbpe *h)
{
	for (int k = 0; k < h->npt; k++) {
		h->np2 = 0;
		for (long p = 0; p < h->np; p++) {
			piece x = h->pc[p];
			if (x.id >= 0) emit(h, x.a, x.b, x.id);
			else if (h->pt[k] == PT_BL) byte_level(h, x.a, x.b, h->ap[k], h->re[k]);
			else if (h->pt[k] == PT_SPLIT) split_pat(h, x.a, x.b, k);
			else split_ws(h, x.a, x.b, h->pt[k] == PT_WSS);
		}
		next_list(h);
	}
}

/* ---- BPE ---------------------------------------------------------------- */

static uint32_t pair_slot(const hfbpe *h, int32_t l, int32_t r)
{
	uint64_t key = ((uint64_t)(uint32_t)l << 32 | (uint32_t)r) + 1;
	uint64_t x = key * 0x9E3779B97F4A7C15ULL;
	uint32_t i = (uint32_t)(x >> 32) & h->pmask;
	while (h->pkey[i] && h->pkey[i] != key) i = (i + 1) & h->pmask;
	return i;
}

static int pair_get(const hfbpe *h, int32_t l, int32_t r, int32_t *rank, int32_t *nid)
{
	uint32_t i = pair_slot(h, l, r);
	if (!h->pkey[i]) return 0;
	*rank = h->prank[i], *nid = h->pnew[i];
	return 1;
}

static int merge_less(const merge *x, const merge *y)
{
	return x->rank != y->rank ? x->rank < y->rank : x->pos < y->pos;
}

static void heap_push(hfbpe *h, merge m)
{
	if (h->hn == h->hcap) { h->hcap = 2 * h->hcap + 64; h->heap = xrealloc(h->heap, h->hcap * sizeof *h->heap); }
	long i = h->hn++;
	while (i > 0 && merge_less(&m, &h->heap[(i - 1) / 2])) { h->heap[i] = h->heap[(i - 1) / 2]; i = (i - 1) / 2; }
	h->heap[i] = m;
}

static merge heap_pop(hfbpe *h)
{
	merge top = h->heap[0], last = h->heap[--h->hn];
	long i = 0;
	for (;;) {
		long c = 2 * i + 1;
		if (c >= h->hn) break;
		if (c + 1 < h->hn && merge_less(&h->heap[c + 1], &h->heap[c])) c++;
		if (!merge_less(&h->heap[c], &last)) break;
		h->heap[i] = h->heap[c];
		i = c;
	}
	h->heap[i] = last;
	return top;
}

static void add_symbol(hfbpe *h, long *ns, int32_t id, long a, long b)
{
	h->sid[*ns] = id, h->sa[*ns] = (int32_t)a, h->sb[*ns] = (int32_t)b;
	(*ns)++;
}

/* one text piece through the BPE model; appends its tokens */
static long bpe_piece(hfbpe *h, long a, long b, int32_t *ids, int32_t *pos, int32_t *len, long m, long cap)
{
	if (b - a > h->scap) {
		h->scap = 2 * (b - a);
		h->sid = xrealloc(h->sid, h->scap * sizeof *h->sid);
		h->sa = xrealloc(h->sa, h->scap * sizeof *h->sa);
		h->sb = xrealloc(h->sb, h->scap * sizeof *h->sb);
		h->sprev = xrealloc(h->sprev, h->scap * sizeof *h->sprev);
		h->snext = xrealloc(h->snext, h->scap * sizeof *h->snext);
	}
	long ns = 0;
	int id;
	if (h->ignore && (id = strmap_get(&h->model, h->a + a, b - a)) >= 0) {
		add_symbol(h, &ns, id, a, b);
	} else {
		long ua = -1, ub = -1;                 /* a pending unk and its bytes */
		for (long i = a; i < b;) {
			int cl;
			cp_at(h, i, b, &cl);
			if ((id = strmap_get(&h->model, h->a + i, cl)) >= 0) {
				if (ua >= 0) { add_symbol(h, &ns, h->unk, ua, ub); ua = -1; }
				add_symbol(h, &ns, id, i, i + cl);
			} else if (h->unk >= 0) {
				if (ua >= 0 && h->fuse) ub = i + cl;
				else {
					if (ua >= 0) add_symbol(h, &ns, h->unk, ua, ub);
					ua = i, ub = i + cl;
				}
			}                                  /* no unk_token: the char is dropped */
			i += cl;
		}
		if (ua >= 0) add_symbol(h, &ns, h->unk, ua, ub);
		/* word.rs merge_all */
		h->hn = 0;
		for (long s = 0; s < ns; s++) {
			h->sprev[s] = (int32_t)s - 1;
			h->snext[s] = s + 1 < ns ? (int32_t)s + 1 : -1;
		}
		int32_t rank, nid;
		for (long s = 0; s + 1 < ns; s++)
			if (pair_get(h, h->sid[s], h->sid[s + 1], &rank, &nid)) heap_push(h, (merge){rank, (int32_t)s, nid});
		while (h->hn) {
			merge top = heap_pop(h);
			long p = top.pos;
			if (h->sb[p] == h->sa[p] || h->snext[p] < 0) continue;   /* removed, or the last symbol */
			long q = h->snext[p];
			if (!pair_get(h, h->sid[p], h->sid[q], &rank, &nid) || nid != top.nid) continue;   /* stale */
			h->sid[p] = top.nid;
			h->sb[p] = h->sb[q];
			h->sa[q] = h->sb[q];              /* removed: length 0 */
			h->snext[p] = h->snext[q];
			if (h->snext[q] >= 0) h->sprev[h->snext[q]] = (int32_t)p;
			if (h->sprev[p] >= 0 && pair_get(h, h->sid[h->sprev[p]], h->sid[p], &rank, &nid))
				heap_push(h, (merge){rank, h->sprev[p], nid});
			if (h->snext[p] >= 0 && pair_get(h, h->sid[p], h->sid[h->snext[p]], &rank, &nid))
				heap_push(h, (merge){rank, (int32_t)p, nid});
		}
	}
	for (long s = 0; s < ns && m < cap; s++) {
		if (h->sb[s] == h->sa[s]) continue;
		ids[m] = h->sid[s];
		pos[m] = h->os[h->sa[s]];
		len[m++] = h->oe[h->sb[s] - 1] - h->os[h->sa[s]];
	}
	return m;
}

long hfbpe_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	hfbpe *h = t->state;
	long cap = tokenizer_capacity(t, n), m = 0;
	h->an = 0, h->np = h->np2 = 0;
	/* the document as valid UTF-8, each byte with the input bytes it came from */
	for (long i = 0; i < n;) {
		uint32_t c;
		int l = utf8_next((const unsigned char *)s + i, n - i, &c);
		if (c == (uint32_t)-1) arena_put(h, "\xEF\xBF\xBD", 3, (int32_t)i, (int32_t)(i + l));
		else arena_put(h, s + i, l, (int32_t)i, (int32_t)(i + l));
		i += l;
	}
	emit(h, 0, h->an, -1);
	next_list(h);
	split_added(h, h->raw, h->nraw, h->first_raw);
	normalize(h);
	split_added(h, h->norm, h->nnorm, h->first_norm);
	pre_tokenize(h);
	for (long p = 0; p < h->np && m < cap; p++) {
		piece x = h->pc[p];
		if (x.id >= 0) {
			ids[m] = x.id, pos[m] = h->os[x.a], len[m++] = h->oe[x.b - 1] - h->os[x.a];
		} else
			m = bpe_piece(h, x.a, x.b, ids, pos, len, m, cap);
	}
	return m;
}

/* ---- setup ---------------------------------------------------------------- */

static void hfbpe_free_state(void *p)
{
	hfbpe *h = p;
	strmap_free(&h->model);
	free(h->pkey); free(h->prank); free(h->pnew);
	for (int i = 0; i < h->nnorm; i++) free(h->norm[i].pat);
	for (int i = 0; i < h->nraw; i++) free(h->raw[i].pat);
	free(h->raw); free(h->norm);
	free(h->a); free(h->os); free(h->oe);
	free(h->pc); free(h->pc2);
	free(h->sid); free(h->sa); free(h->sb); free(h->sprev); free(h->snext);
	free(h->heap);
	free(h->sg);
	for (int k = 0; k < h->nnm; k++) { hfpat_free(&h->nm[k].pat); free(h->nm[k].content); }
	for (int k = 0; k < h->npt; k++) hfpat_free(&h->spat[k]);
	free(h);
}

void hfbpe_free(tokenizer *t)
{
	if (t->state) hfbpe_free_state(t->state);
	t->state = NULL;
}

/* the added-token flags of id ("" if it is not an added token) */
static const char *flags_of(const tok_vocab *v, int i)
{
	const char *x = v->extra[i];
	return x && !strncmp(x, "A:", 2) ? x + 2 : "";
}

/* GPT-2's bytes_to_unicode (byte_level.rs bytes_char): printable Latin-1
 * bytes are themselves, the others 256, 257, ... in byte order */
static void byte_chars(hfbpe *h)
{
	int n = 0;
	for (int b = 0; b < 256; b++) {
		int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
		h->bclen[b] = utf8_put(keep ? (uint32_t)b : (uint32_t)(256 + n++), h->bchar[b]);
	}
}

/* a Replace's or Split's "<s|r><escaped pattern>" of the spec into p */
static int spec_pattern(const char *x, long n, hfpat *p, char *err, size_t errlen)
{
	char *raw = xmalloc(n + 1);
	int rc = -1;
	long l = n > 1 && (*x == 's' || *x == 'r') ? hfpat_unescape(x + 1, n - 1, raw) : -1;
	if (l < 0 || (long)strlen(raw) != l) snprintf(err, errlen, "hf-bpe pattern '%.*s' malformed", (int)n, x);
	else rc = hfpat_init(p, raw, *x == 'r', err, errlen);
	free(raw);
	return rc;
}

/* a normalizer of the NM: spec (hftokjson.c): lc, st<l><r>, r<s|r><pattern>=<content> */
static int spec_normalizer(hfbpe *h, const char *p, char *err, size_t errlen)
{
	if (h->nnm == MAXNM) { snprintf(err, errlen, "hf-bpe: more than %d normalizers", MAXNM); return -1; }
	norm_step *n = &h->nm[h->nnm];
	if (!strcmp(p, "lc")) n->kind = NM_LC;
	else if (!strncmp(p, "st", 2) && strlen(p) == 4 && strchr("01", p[2]) && strchr("01", p[3]))
		n->kind = NM_STRIP, n->l = p[2] == '1', n->r = p[3] == '1';
	else if (p[0] == 'r' && strchr(p, '=')) {
		const char *eq = strchr(p, '=');
		n->content = xmalloc(strlen(eq) + 1);
		n->clen = hfpat_unescape(eq + 1, (long)strlen(eq + 1), n->content);
		if (n->clen < 0 || (long)strlen(n->content) != n->clen) {
			free(n->content);
			n->content = NULL;
			snprintf(err, errlen, "hf-bpe normalizer '%s' malformed", p);
			return -1;
		}
		if (spec_pattern(p + 1, eq - p - 1, &n->pat, err, errlen) < 0) { free(n->content); n->content = NULL; return -1; }
		n->kind = NM_REPLACE;
	} else { snprintf(err, errlen, "hf-bpe normalizer '%s' unknown", p); return -1; }
	h->nnm++;
	return 0;
}

static int parse_spec(hfbpe *h, const tok_vocab *v, char *err, size_t errlen)
{
	char nm[256], pt[256], buf[32], *save;
	if (!tns_line_field(v->params, "NM", nm, sizeof nm) || !tns_line_field(v->params, "PT", pt, sizeof pt) ||
	    !tns_line_field(v->params, "MU", buf, sizeof buf)) {
		snprintf(err, errlen, "hf-bpe vocabulary without NM:, PT: and MU: fields");
		return -1;
	}
	h->unk = atoi(buf);
	h->fuse = tns_line_field(v->params, "FU", buf, sizeof buf) && !strcmp(buf, "1");
	h->ignore = tns_line_field(v->params, "IM", buf, sizeof buf) && !strcmp(buf, "1");
	if (h->unk < -1 || h->unk >= v->n) { snprintf(err, errlen, "hf-bpe MU:%d outside the vocabulary", h->unk); return -1; }
	for (char *p = strtok_r(nm, ",", &save); p; p = strtok_r(NULL, ",", &save))
		if (strcmp(p, "-") && spec_normalizer(h, p, err, errlen) < 0) return -1;
	for (char *p = strtok_r(pt, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (!strcmp(p, "-")) continue;
		if (h->npt == MAXPT) { snprintf(err, errlen, "hf-bpe: more than %d pre-tokenizers", MAXPT); return -1; }
		int k = h->npt;
		if (!strcmp(p, "ws")) h->pt[k] = PT_WS;
		else if (!strcmp(p, "wss")) h->pt[k] = PT_WSS;
		else if (!strncmp(p, "bl", 2) && strlen(p) == 4 && (p[2] == '0' || p[2] == '1') && (p[3] == '0' || p[3] == '1'))
			h->pt[k] = PT_BL, h->ap[k] = p[2] == '1', h->re[k] = p[3] == '1';
		else if (p[0] == 's' && strlen(p) >= 5 && strchr("RIPNC", p[2]) && (p[3] == '0' || p[3] == '1')) {
			char x[256];
			snprintf(x, sizeof x, "%c%s", p[1], p + 4);            /* <s|r><pattern> */
			if (spec_pattern(x, (long)strlen(x), &h->spat[k], err, errlen) < 0) return -1;
			h->pt[k] = PT_SPLIT, h->sbeh[k] = p[2], h->sinv[k] = p[3] == '1';
		} else { snprintf(err, errlen, "hf-bpe pre-tokenizer '%s' unknown", p); return -1; }
		h->npt++;
	}
	return 0;
}

/* s[0..n) through the normalizers (the arena is free between documents):
 * a "normalized" added token is matched by its content normalized so
 * (added_vocabulary.rs refresh_added_tokens).  Content that is not UTF-8
 * stays as it is: no UTF-8 document piece can hold it anyway. */
static char *norm_string(hfbpe *h, const char *s, long n, int *len)
{
	char *out = xmalloc(n + 1);
	for (long j = 0; j < n;) {
		uint32_t c;
		j += utf8_next((const unsigned char *)s + j, n - j, &c);
		if (c == (uint32_t)-1) { memcpy(out, s, n); *len = (int)n; return out; }
	}
	h->an = 0, h->np = h->np2 = 0;
	arena_put(h, s, (int)n, 0, 1);
	emit(h, 0, h->an, -1);
	next_list(h);
	normalize(h);
	long m = 0;
	for (long p = 0; p < h->np; p++) m += h->pc[p].b - h->pc[p].a;
	out = xrealloc(out, m + 1);
	m = 0;
	for (long p = 0; p < h->np; p++) {
		memcpy(out + m, h->a + h->pc[p].a, h->pc[p].b - h->pc[p].a);
		m += h->pc[p].b - h->pc[p].a;
	}
	*len = (int)m;
	return out;
}

int hfbpe_check_spec(const tok_vocab *v, char *err, size_t errlen)
{
	hfbpe *h = xmalloc(sizeof *h);
	memset(h, 0, sizeof *h);
	strmap_init(&h->model);
	int rc = parse_spec(h, v, err, errlen);
	hfbpe_free_state(h);
	return rc;
}

int hfbpe_from_vocab(tokenizer *t, char *err, size_t errlen)
{
	const tok_vocab *v = &t->v;
	hfbpe *h = xmalloc(sizeof *h);
	memset(h, 0, sizeof *h);
	h->t = t;
	strmap_init(&h->model);
	if (parse_spec(h, v, err, errlen) < 0) { hfbpe_free_state(h); return -1; }
	byte_chars(h);
	h->raw = xmalloc((v->n + 1) * sizeof *h->raw);
	h->norm = xmalloc((v->n + 1) * sizeof *h->norm);
	for (int i = 0; i < v->n; i++) {
		const char *f = flags_of(v, i);
		if (!strchr(f, 'x')) strmap_put(&h->model, v->tok[i], v->len[i], i);
		if (!*f) continue;
		added_tok a = {i, strchr(f, 'l') != NULL, strchr(f, 'r') != NULL, NULL, 0};
		if (strchr(f, 'n')) {
			a.pat = norm_string(h, v->tok[i], v->len[i], &a.plen);
			if (!a.plen) {
				snprintf(err, errlen, "hf-bpe added token %d (%s) is empty once normalized", i, v->tok[i]);
				free(a.pat);
				hfbpe_free_state(h);
				return -1;
			}
			h->norm[h->nnorm++] = a;
			h->first_norm[(unsigned char)a.pat[0]] = 1;
		} else {
			a.pat = xmalloc(v->len[i]);
			memcpy(a.pat, v->tok[i], v->len[i]);
			a.plen = v->len[i];
			h->raw[h->nraw++] = a;
			h->first_raw[(unsigned char)a.pat[0]] = 1;
		}
	}
	uint32_t cap = 64;
	while (cap < 2u * (uint32_t)v->nmerge + 2) cap *= 2;
	h->pmask = cap - 1;
	h->pkey = calloc(cap, sizeof *h->pkey);
	h->prank = xmalloc(cap * sizeof *h->prank);
	h->pnew = xmalloc(cap * sizeof *h->pnew);
	if (!h->pkey) die("out of memory");
	for (int r = 0; r < v->nmerge; r++) {
		int32_t l = v->merge[2 * r], rr = v->merge[2 * r + 1];
		char *ab = xmalloc(v->len[l] + v->len[rr] + 1);
		memcpy(ab, v->tok[l], v->len[l]);
		memcpy(ab + v->len[l], v->tok[rr], v->len[rr]);
		int nid = strmap_get(&h->model, ab, v->len[l] + v->len[rr]);
		free(ab);
		if (nid < 0 || strchr(flags_of(v, l), 'x') || strchr(flags_of(v, rr), 'x')) {
			snprintf(err, errlen, "hf-bpe merge %d (%d, %d): the tokens or their concatenation are not in the model's vocab", r + 1, l, rr);
			hfbpe_free_state(h);
			return -1;
		}
		uint32_t i = pair_slot(h, l, rr);      /* a later merge of the same pair wins (a HashMap collect) */
		h->pkey[i] = ((uint64_t)(uint32_t)l << 32 | (uint32_t)rr) + 1;
		h->prank[i] = r, h->pnew[i] = nid;
	}
	t->state = h;
	/* U+FFFD for a bad byte (3 bytes), and a prefix space per piece; a
	 * Replace with a content longer than its shortest match multiplies it */
	t->expand = 6;
	for (int k = 0; k < h->nnm; k++) {
		const norm_step *n = &h->nm[k];
		long f = n->kind == NM_REPLACE ? (n->clen + n->pat.minlen - 1) / n->pat.minlen : 1;
		if (f > 1 && (t->expand *= (int)f) > 4096) {
			snprintf(err, errlen, "hf-bpe Replace contents too long for their patterns (over 4096 tokens per input byte)");
			hfbpe_free_state(h);
			return -1;
		}
	}
	return 0;
}
