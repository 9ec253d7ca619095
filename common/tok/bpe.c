/* bpe.c -- byte-pair encoding, training and encoding (see bpe.h).
 *
 * Training keeps every symbol of the corpus in one array with a doubly
 * linked list per segment, the pair starting at each position (pidx), a
 * count and an occurrence list per distinct pair, and a lazy max-heap of
 * (count, pair).  A merge visits only the occurrences of its pair and
 * updates the counts of the neighbouring pairs, so the cost is about the
 * number of merges applied, not the corpus size times the number of merges.
 * Encoding visits buckets of positions in merge-rank order (see
 * bpe_encode_segment), which is exactly merge-in-order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tok/bpe.h"
#include "base/util.h"
#include "base/rng.h"

#define EMPTY_KEY UINT64_MAX

static inline uint64_t pair_key(int l, int r) { return (uint64_t)(uint32_t)l << 32 | (uint32_t)r; }

/* ---- the model: pair -> merged id ---------------------------------------- */

/* one multiply (Fibonacci hashing): lookups are the inner loop of encoding */
static inline uint32_t mhash(uint64_t k) { return (uint32_t)((k * 0x9e3779b97f4a7c15ULL) >> 29); }

static inline int lookup(const bpe_model *m, int l, int r)
{
	uint64_t k = pair_key(l, r);
	uint32_t h = mhash(k) & m->hmask;
	for (;;) {
		uint64_t x = m->hkey[h];
		if (x == k) return m->hval[h];
		if (x == EMPTY_KEY) return -1;
		h = (h + 1) & m->hmask;
	}
}

static void model_rehash(bpe_model *m, uint32_t size)
{
	uint64_t *ok = m->hkey;
	int32_t *ov = m->hval;
	uint32_t osize = ok ? m->hmask + 1 : 0;
	m->hkey = xmalloc(size * sizeof *m->hkey);
	m->hval = xmalloc(size * sizeof *m->hval);
	m->hmask = size - 1;
	for (uint32_t i = 0; i < size; i++) m->hkey[i] = EMPTY_KEY;
	for (uint32_t i = 0; i < osize; i++) {
		if (ok[i] == EMPTY_KEY) continue;
		uint32_t h = mhash(ok[i]) & m->hmask;
		while (m->hkey[h] != EMPTY_KEY) h = (h + 1) & m->hmask;
		m->hkey[h] = ok[i]; m->hval[h] = ov[i];
	}
	free(ok); free(ov);
}

void bpe_init(bpe_model *m, int alphabet)
{
	memset(m, 0, sizeof *m);
	m->alphabet = alphabet;
	if (alphabet == BPE_DNA) {
		m->n_base = TOK_NSPECIAL + 5;
		for (int b = 0; b < 256; b++) m->byte_id[b] = TOK_NSPECIAL + 4;   /* N */
		m->byte_id['A'] = 5; m->byte_id['C'] = 6; m->byte_id['G'] = 7; m->byte_id['T'] = 8;
	} else {
		m->n_base = TOK_NSPECIAL + 255;
		m->byte_id[0] = TOK_UNK;
		for (int b = 1; b < 256; b++) m->byte_id[b] = TOK_NSPECIAL - 1 + b;
	}
	m->n = m->n_base;
	m->ncap = m->n_base + 256;
	m->left = xmalloc(m->ncap * sizeof *m->left);
	m->right = xmalloc(m->ncap * sizeof *m->right);
	m->tlen = xmalloc(m->ncap * sizeof *m->tlen);
	for (int i = 0; i < m->n; i++) {
		m->left[i] = m->right[i] = -1;
		m->tlen[i] = i < TOK_NSPECIAL ? 0 : 1;
	}
	if (alphabet == BPE_TEXT) m->tlen[TOK_UNK] = 1;   /* a NUL byte */
	model_rehash(m, 1024);
}

static void cache_free(struct bpe_cache *c);

void bpe_free(bpe_model *m)
{
	cache_free(m->cache);
	free(m->left); free(m->right); free(m->tlen); free(m->hkey); free(m->hval);
	free(m->sym); free(m->nxt); free(m->prv); free(m->pm);
	free(m->epos); free(m->enext); free(m->head); free(m->tail); free(m->bits);
	memset(m, 0, sizeof *m);
}

int bpe_lookup(const bpe_model *m, int l, int r) { return lookup(m, l, r); }

int bpe_add_merge(bpe_model *m, int l, int r)
{
	if (m->n == m->ncap) {
		m->ncap *= 2;
		m->left = xrealloc(m->left, m->ncap * sizeof *m->left);
		m->right = xrealloc(m->right, m->ncap * sizeof *m->right);
		m->tlen = xrealloc(m->tlen, m->ncap * sizeof *m->tlen);
	}
	int id = m->n++;
	m->left[id] = l; m->right[id] = r;
	m->tlen[id] = m->tlen[l] + m->tlen[r];
	if ((uint32_t)(m->n - m->n_base) * 2 > m->hmask) model_rehash(m, (m->hmask + 1) * 2);
	uint64_t k = pair_key(l, r);
	uint32_t h = mhash(k) & m->hmask;
	while (m->hkey[h] != EMPTY_KEY) h = (h + 1) & m->hmask;
	m->hkey[h] = k; m->hval[h] = id;
	return id;
}

void bpe_to_vocab(const bpe_model *m, tok_vocab *v)
{
	vocab_init(v, "bpe");
	snprintf(v->params, sizeof v->params, "\tAL:%s", m->alphabet == BPE_DNA ? "dna" : "text");
	vocab_add_specials(v);
	if (m->alphabet == BPE_DNA) {
		for (const char *b = "ACGTN"; *b; b++) vocab_add(v, b, 1, NULL);
	} else {
		for (int b = 1; b < 256; b++) { char c = (char)b; vocab_add(v, &c, 1, NULL); }
	}
	char extra[64];
	for (int id = m->n_base; id < m->n; id++) {
		int l = m->left[id], r = m->right[id];
		int len = v->len[l] + v->len[r];
		char *s = xmalloc(len + 1);
		memcpy(s, v->tok[l], v->len[l]);
		memcpy(s + v->len[l], v->tok[r], v->len[r]);
		s[len] = 0;
		snprintf(extra, sizeof extra, "L:%d\tR:%d", l, r);
		vocab_add(v, s, len, extra);
		free(s);
	}
	vocab_finish(v);
}

int bpe_from_vocab(bpe_model *m, const tok_vocab *v, char *err, size_t errlen)
{
	int alphabet;
	if (strcmp(v->kind, "bpe") != 0) {
		snprintf(err, errlen, "vocabulary is of kind '%s', not bpe", v->kind);
		return -1;
	}
	if (strstr(v->params, "AL:dna")) alphabet = BPE_DNA;
	else if (strstr(v->params, "AL:text")) alphabet = BPE_TEXT;
	else { snprintf(err, errlen, "bpe vocabulary without an AL:dna|text alphabet"); return -1; }
	bpe_init(m, alphabet);
	if (v->n < m->n_base) {
		snprintf(err, errlen, "bpe vocabulary has %d tokens, fewer than its alphabet", v->n);
		goto fail;
	}
	for (int id = m->n_base; id < v->n; id++) {
		int l, r;
		const char *x = v->extra ? v->extra[id] : NULL;
		if (!x || sscanf(x, "L:%d\tR:%d", &l, &r) != 2 || l < TOK_NSPECIAL || r < TOK_NSPECIAL
		    || l >= id || r >= id) {
			snprintf(err, errlen, "bpe token %d has no valid L:/R: merge fields", id);
			goto fail;
		}
		if (v->len[id] != v->len[l] + v->len[r] || memcmp(v->tok[id], v->tok[l], v->len[l])
		    || memcmp(v->tok[id] + v->len[l], v->tok[r], v->len[r])) {
			snprintf(err, errlen, "bpe token %d is not the concatenation of tokens %d and %d", id, l, r);
			goto fail;
		}
		if (bpe_lookup(m, l, r) >= 0) {
			snprintf(err, errlen, "bpe merge %d repeats the pair %d %d", id, l, r);
			goto fail;
		}
		bpe_add_merge(m, l, r);
	}
	return 0;
fail:
	bpe_free(m);
	return -1;
}

/* ---- encoding ------------------------------------------------------------- */

/* Encoding keeps, per merge rank, a bucket of the positions where that pair
 * was seen, and visits the buckets in rank order.  A merge only creates
 * pairs of higher rank (a pair with the new token cannot have been learned
 * before it), so one forward sweep over the ranks is merge-in-order; stale
 * positions are skipped by checking the pair now there (pm). */
static int cmp_pos(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

long bpe_encode_segment(bpe_model *m, const char *s, long n, int32_t *ids, int32_t *pos)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n <= 0) return 0;
	if (n > m->cap || m->n > m->vcap) {
		if (n > m->cap) m->cap = n + n / 2;
		m->vcap = m->n;
		free(m->sym); free(m->nxt); free(m->prv); free(m->pm);
		free(m->epos); free(m->enext); free(m->head); free(m->tail); free(m->bits);
		m->sym = xmalloc(m->cap * sizeof *m->sym);
		m->nxt = xmalloc(m->cap * sizeof *m->nxt);
		m->prv = xmalloc(m->cap * sizeof *m->prv);
		m->pm = xmalloc(m->cap * sizeof *m->pm);
		m->epos = xmalloc(3 * m->cap * sizeof *m->epos);
		m->enext = xmalloc(3 * m->cap * sizeof *m->enext);
		m->head = xmalloc(m->vcap * sizeof *m->head);
		m->tail = xmalloc(m->vcap * sizeof *m->tail);
		m->bits = xcalloc((m->vcap + 63) / 64, sizeof *m->bits);
		for (int i = 0; i < m->vcap; i++) m->head[i] = -1;
	}
	int32_t *sym = m->sym, *nxt = m->nxt, *prv = m->prv, *pm = m->pm;
	int32_t *epos = m->epos, *enext = m->enext, *head = m->head, *tail = m->tail;
	uint64_t *bits = m->bits;
	long ne = 0;
#define PUSH(z, p) do { \
		int32_t e_ = (int32_t)ne++; epos[e_] = (p); enext[e_] = -1; \
		if (head[z] < 0) { head[z] = e_; bits[(z) >> 6] |= 1ULL << ((z) & 63); } \
		else enext[tail[z]] = e_; \
		tail[z] = e_; } while (0)
	for (long i = 0; i < n; i++) {
		sym[i] = m->byte_id[u[i]];
		prv[i] = (int32_t)i - 1;
		nxt[i] = (int32_t)i + 1;
	}
	nxt[n - 1] = -1;
	for (long i = 0; i + 1 < n; i++) {
		int z = lookup(m, sym[i], sym[i + 1]);
		pm[i] = z;
		if (z >= 0) PUSH(z, (int32_t)i);
	}
	pm[n - 1] = -1;
	int32_t *tmp = NULL;
	long ntmp = 0;
	int nw = (m->n + 63) / 64;
	for (int w = m->n_base >> 6; w < nw; w++) {
		while (bits[w]) {
			int z = w * 64 + __builtin_ctzll(bits[w]);
			bits[w] &= bits[w] - 1;
			int32_t e = head[z];
			head[z] = -1;
			/* a pair of equal tokens can overlap itself: then the leftmost
			 * occurrence goes first, as a left-to-right pass would do */
			int sorted = m->left[z] == m->right[z];
			if (sorted) {
				ntmp = 0;
				for (int32_t x = e; x >= 0; x = enext[x]) {
					if (!tmp) tmp = xmalloc(3 * m->cap * sizeof *tmp);
					tmp[ntmp++] = epos[x];
				}
				qsort(tmp, ntmp, sizeof *tmp, cmp_pos);
			}
			for (long k = 0;; k++) {
				int32_t p;
				if (sorted) { if (k == ntmp) break; p = tmp[k]; }
				else { if (e < 0) break; p = epos[e]; e = enext[e]; }
				if (sym[p] < 0 || pm[p] != z) continue;      /* stale */
				int32_t q = nxt[p], r = nxt[q], l = prv[p];
				sym[p] = z; sym[q] = -1; pm[q] = -1;
				nxt[p] = r;
				if (r >= 0) prv[r] = p;
				if (l >= 0) {
					int y = lookup(m, sym[l], z);
					pm[l] = y;
					if (y >= 0) PUSH(y, l);
				}
				if (r >= 0) {
					int y = lookup(m, z, sym[r]);
					pm[p] = y;
					if (y >= 0) PUSH(y, p);
				} else pm[p] = -1;
			}
		}
	}
#undef PUSH
	free(tmp);
	long k = 0;
	for (int32_t p = 0; p >= 0; p = nxt[p]) {
		ids[k] = sym[p];
		if (pos) pos[k] = p;
		k++;
	}
	return k;
}

/* ---- text pre-split ------------------------------------------------------- */

enum { C_LETTER, C_DIGIT, C_SPACE, C_OTHER, C_NUL };
static inline int byte_class(unsigned char c)
{
	if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return C_LETTER;
	if (c >= '0' && c <= '9') return C_DIGIT;
	if (c == ' ' || (c >= '\t' && c <= '\r')) return C_SPACE;
	if (c == 0) return C_NUL;
	return C_OTHER;
}

long bpe_piece_len(const char *s, long n)
{
	const unsigned char *u = (const unsigned char *)s;
	long i = 0;
	int c = byte_class(u[0]);
	if (c == C_NUL) return 1;
	if (c == C_SPACE) {
		while (i < n && byte_class(u[i]) == C_SPACE) i++;
		/* a run followed by a word leaves its last ' ' to that word */
		if (i < n && i > 1 && u[i - 1] == ' ' && byte_class(u[i]) != C_NUL) return i - 1;
		if (!(i == 1 && u[0] == ' ' && i < n && byte_class(u[i]) != C_NUL)) return i;
		/* a lone ' ' before a word: part of the word */
		c = byte_class(u[1]);
		i = 1;
	}
	while (i < n && byte_class(u[i]) == c) i++;
	return i;
}

/* ---- text: pre-split and a cache of pieces ------------------------------- */

enum { CACHE_MAX_PIECE = 64, CACHE_MAX_ENTRIES = 1 << 18 };

struct bpe_cache {
	int32_t *slot;                /* entry + 1, 0 = empty */
	uint32_t mask;
	uint64_t *hash;
	int32_t *koff, *voff;
	uint8_t *klen, *vlen;
	long n;
	char *kbuf;
	int32_t *vbuf;
	long kn, vn;
};

static void cache_free(struct bpe_cache *c)
{
	if (!c) return;
	free(c->slot); free(c->hash); free(c->koff); free(c->voff); free(c->klen); free(c->vlen);
	free(c->kbuf); free(c->vbuf);
	free(c);
}

static struct bpe_cache *cache_new(void)
{
	struct bpe_cache *c = xcalloc(1, sizeof *c);
	c->mask = 2 * CACHE_MAX_ENTRIES - 1;
	c->slot = xcalloc(c->mask + 1, sizeof *c->slot);
	c->hash = xmalloc(CACHE_MAX_ENTRIES * sizeof *c->hash);
	c->koff = xmalloc(CACHE_MAX_ENTRIES * sizeof *c->koff);
	c->voff = xmalloc(CACHE_MAX_ENTRIES * sizeof *c->voff);
	c->klen = xmalloc(CACHE_MAX_ENTRIES);
	c->vlen = xmalloc(CACHE_MAX_ENTRIES);
	c->kbuf = xmalloc((size_t)CACHE_MAX_ENTRIES * CACHE_MAX_PIECE);
	c->vbuf = xmalloc((size_t)CACHE_MAX_ENTRIES * CACHE_MAX_PIECE * sizeof *c->vbuf);
	return c;
}

long bpe_encode_text(bpe_model *m, const char *s, long n, int32_t *ids, int32_t *pos)
{
	if (!m->cache) m->cache = cache_new();
	struct bpe_cache *c = m->cache;
	long nt = 0;
	for (long i = 0; i < n;) {
		long k = bpe_piece_len(s + i, n - i), got;
		if (k > CACHE_MAX_PIECE) {
			got = bpe_encode_segment(m, s + i, k, ids + nt, pos ? pos + nt : NULL);
			if (pos) for (long j = 0; j < got; j++) pos[nt + j] += (int32_t)i;
			nt += got; i += k;
			continue;
		}
		uint64_t h = rng_fnv1a(s + i, k);
		uint32_t sl = (uint32_t)rng_mix(h) & c->mask;
		int32_t e = -1;
		for (int32_t x; (x = c->slot[sl]) != 0; sl = (sl + 1) & c->mask) {
			x--;
			if (c->hash[x] == h && c->klen[x] == k && !memcmp(c->kbuf + c->koff[x], s + i, k)) { e = x; break; }
		}
		if (e < 0) {
			if (c->n == CACHE_MAX_ENTRIES) {   /* full: start again */
				memset(c->slot, 0, (c->mask + 1) * sizeof *c->slot);
				c->n = c->kn = c->vn = 0;
				sl = (uint32_t)rng_mix(h) & c->mask;
			}
			e = (int32_t)c->n++;
			c->hash[e] = h;
			c->koff[e] = (int32_t)c->kn;
			c->klen[e] = (uint8_t)k;
			memcpy(c->kbuf + c->kn, s + i, k);
			c->kn += k;
			c->voff[e] = (int32_t)c->vn;
			/* positions of a piece's tokens follow from the token lengths */
			c->vlen[e] = (uint8_t)bpe_encode_segment(m, s + i, k, c->vbuf + c->vn, NULL);
			c->vn += c->vlen[e];
			c->slot[sl] = e + 1;
		}
		const int32_t *v = c->vbuf + c->voff[e];
		long p = i;
		for (int j = 0; j < c->vlen[e]; j++) {
			ids[nt] = v[j];
			if (pos) pos[nt] = (int32_t)p;
			p += m->tlen[v[j]];
			nt++;
		}
		i += k;
	}
	return nt;
}

/* ---- training ------------------------------------------------------------- */

typedef struct {
	uint64_t key;
	int64_t count;
	int32_t *occ;
	int32_t nocc, cap;
	int dirty;
} bpe_pair;

typedef struct { int64_t count; uint64_t key; } heap_ent;

struct bpe_trainer {
	int alphabet;
	char *buf;                    /* DNA: the segments; text: the distinct pieces */
	long nbuf, cbuf;
	long *seg;                    /* segment (piece) start offsets into buf, + end */
	int64_t *seg_count;           /* text: occurrences of each piece */
	long nseg, cseg;
	int32_t *wh;                  /* text: hash of pieces -> segment index */
	uint32_t whmask;
	uint64_t bytes;
	/* after bpe_train */
	int32_t *sym, *nxt;
	long npos;
};

bpe_trainer *bpe_trainer_new(int alphabet)
{
	bpe_trainer *t = xcalloc(1, sizeof *t);
	t->alphabet = alphabet;
	t->cseg = 1024;
	t->seg = xmalloc((t->cseg + 1) * sizeof *t->seg);
	t->seg[0] = 0;
	if (alphabet == BPE_TEXT) {
		t->seg_count = xmalloc(t->cseg * sizeof *t->seg_count);
		t->whmask = 4095;
		t->wh = xmalloc((t->whmask + 1) * sizeof *t->wh);
		memset(t->wh, 0xff, (t->whmask + 1) * sizeof *t->wh);
	}
	return t;
}

void bpe_trainer_free(bpe_trainer *t)
{
	if (!t) return;
	free(t->buf); free(t->seg); free(t->seg_count); free(t->wh);
	free(t->sym); free(t->nxt);
	free(t);
}

uint64_t bpe_trainer_bytes(const bpe_trainer *t) { return t->bytes; }

static void append_segment(bpe_trainer *t, const char *s, long n)
{
	if (t->nbuf + n > t->cbuf) {
		t->cbuf = (t->nbuf + n) * 3 / 2 + 4096;
		t->buf = xrealloc(t->buf, t->cbuf);
	}
	memcpy(t->buf + t->nbuf, s, n);
	t->nbuf += n;
	if (t->nseg == t->cseg) {
		t->cseg *= 2;
		t->seg = xrealloc(t->seg, (t->cseg + 1) * sizeof *t->seg);
		if (t->seg_count) t->seg_count = xrealloc(t->seg_count, t->cseg * sizeof *t->seg_count);
	}
	t->seg[++t->nseg] = t->nbuf;
}

static void word_rehash(bpe_trainer *t)
{
	free(t->wh);
	t->whmask = t->whmask * 2 + 1;
	t->wh = xmalloc((t->whmask + 1) * sizeof *t->wh);
	memset(t->wh, 0xff, (t->whmask + 1) * sizeof *t->wh);
	for (long w = 0; w < t->nseg; w++) {
		uint32_t h = (uint32_t)rng_fnv1a(t->buf + t->seg[w], t->seg[w + 1] - t->seg[w]) & t->whmask;
		while (t->wh[h] >= 0) h = (h + 1) & t->whmask;
		t->wh[h] = (int32_t)w;
	}
}

static void add_piece(bpe_trainer *t, const char *s, long n)
{
	uint32_t h = (uint32_t)rng_fnv1a(s, n) & t->whmask;
	for (;;) {
		int32_t w = t->wh[h];
		if (w < 0) break;
		if (t->seg[w + 1] - t->seg[w] == n && !memcmp(t->buf + t->seg[w], s, n)) {
			t->seg_count[w]++;
			return;
		}
		h = (h + 1) & t->whmask;
	}
	t->wh[h] = (int32_t)t->nseg;
	append_segment(t, s, n);
	t->seg_count[t->nseg - 1] = 1;
	if ((uint64_t)t->nseg * 2 > t->whmask) word_rehash(t);
}

void bpe_trainer_add(bpe_trainer *t, const char *s, long n)
{
	t->bytes += n;
	if (t->alphabet == BPE_DNA) {
		if (n > 0) append_segment(t, s, n);
		return;
	}
	for (long i = 0; i < n;) {
		long k = bpe_piece_len(s + i, n - i);
		if (s[i] != 0) add_piece(t, s + i, k);
		i += k;
	}
}

/* the training state, local to bpe_train */
typedef struct {
	bpe_pair *pair;
	long npair, cpair;
	uint32_t *ph;                 /* pair hash: index + 1, 0 = empty */
	uint32_t phmask;
	heap_ent *heap;
	long nheap, cheap;
	int32_t *dirty;
	long ndirty, cdirty;
} tstate;

static inline int heap_less(heap_ent a, heap_ent b) /* a ranks below b */
{
	return a.count < b.count || (a.count == b.count && a.key > b.key);
}

static void theap_push(tstate *s, heap_ent x)
{
	if (s->nheap == s->cheap) {
		s->cheap = s->cheap * 2 + 1024;
		s->heap = xrealloc(s->heap, s->cheap * sizeof *s->heap);
	}
	long i = s->nheap++;
	while (i > 0) {
		long p = (i - 1) >> 1;
		if (!heap_less(s->heap[p], x)) break;
		s->heap[i] = s->heap[p]; i = p;
	}
	s->heap[i] = x;
}

static heap_ent theap_pop(tstate *s)
{
	heap_ent top = s->heap[0], x = s->heap[--s->nheap];
	long i = 0, n = s->nheap;
	for (;;) {
		long c = 2 * i + 1;
		if (c >= n) break;
		if (c + 1 < n && heap_less(s->heap[c], s->heap[c + 1])) c++;
		if (!heap_less(x, s->heap[c])) break;
		s->heap[i] = s->heap[c]; i = c;
	}
	s->heap[i] = x;
	return top;
}

static void ph_rehash(tstate *s, uint32_t size)
{
	free(s->ph);
	s->ph = xcalloc(size, sizeof *s->ph);
	s->phmask = size - 1;
	for (long i = 0; i < s->npair; i++) {
		uint32_t h = (uint32_t)rng_mix(s->pair[i].key) & s->phmask;
		while (s->ph[h]) h = (h + 1) & s->phmask;
		s->ph[h] = (uint32_t)i + 1;
	}
}

/* index of pair (l, r), created with count 0 if new */
static int32_t pair_get(tstate *s, int l, int r)
{
	uint64_t k = pair_key(l, r);
	uint32_t h = (uint32_t)rng_mix(k) & s->phmask;
	for (;;) {
		uint32_t x = s->ph[h];
		if (!x) break;
		if (s->pair[x - 1].key == k) return (int32_t)(x - 1);
		h = (h + 1) & s->phmask;
	}
	if (s->npair == s->cpair) {
		s->cpair = s->cpair * 2 + 1024;
		s->pair = xrealloc(s->pair, s->cpair * sizeof *s->pair);
	}
	int32_t i = (int32_t)s->npair++;
	memset(&s->pair[i], 0, sizeof s->pair[i]);
	s->pair[i].key = k;
	s->ph[h] = (uint32_t)i + 1;
	if ((uint64_t)s->npair * 2 > s->phmask) ph_rehash(s, (s->phmask + 1) * 2);
	return i;
}

static inline void pair_inc(tstate *s, int32_t k, int64_t f, int32_t p)
{
	bpe_pair *x = &s->pair[k];
	x->count += f;
	if (x->nocc == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 4;
		x->occ = xrealloc(x->occ, x->cap * sizeof *x->occ);
	}
	x->occ[x->nocc++] = p;
	if (!x->dirty) {
		x->dirty = 1;
		if (s->ndirty == s->cdirty) {
			s->cdirty = s->cdirty * 2 + 1024;
			s->dirty = xrealloc(s->dirty, s->cdirty * sizeof *s->dirty);
		}
		s->dirty[s->ndirty++] = k;
	}
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

int bpe_train(bpe_trainer *t, int vocab_size, bpe_model *m)
{
	tstate st = {0}, *s = &st;
	long npos = t->nbuf;
	int32_t *sym = xmalloc((npos + 1) * sizeof *sym);
	int32_t *nxt = xmalloc((npos + 1) * sizeof *nxt);
	int32_t *prv = xmalloc((npos + 1) * sizeof *prv);
	int32_t *pidx = xmalloc((npos + 1) * sizeof *pidx);
	int32_t *segof = NULL;        /* text: piece of each position, for its count */
	if (t->alphabet == BPE_TEXT) segof = xmalloc((npos + 1) * sizeof *segof);
	for (long w = 0; w < t->nseg; w++) {
		for (long p = t->seg[w]; p < t->seg[w + 1]; p++) {
			sym[p] = m->byte_id[(unsigned char)t->buf[p]];
			prv[p] = (int32_t)p - 1;
			nxt[p] = (int32_t)p + 1;
			if (segof) segof[p] = (int32_t)w;
		}
		if (t->seg[w + 1] > t->seg[w]) {
			prv[t->seg[w]] = -1;
			nxt[t->seg[w + 1] - 1] = -1;
		}
	}
#define FREQ(p) (segof ? t->seg_count[segof[p]] : 1)
	/* the initial pair counts; pairs of the alphabet through a direct table */
	ph_rehash(s, 1 << 16);
	int nb = m->n_base;
	int32_t *base_pair = xmalloc((size_t)nb * nb * sizeof *base_pair);
	for (long i = 0; i < (long)nb * nb; i++) base_pair[i] = -1;
	for (long p = 0; p < npos; p++) {
		if (nxt[p] < 0) { pidx[p] = -1; continue; }
		int a = sym[p], b = sym[nxt[p]];
		int32_t *bp = &base_pair[(long)a * nb + b];
		if (*bp < 0) *bp = pair_get(s, a, b);
		pidx[p] = *bp;
		pair_inc(s, *bp, FREQ(p), (int32_t)p);
	}
	free(base_pair);
	for (long i = 0; i < s->ndirty; i++) {
		bpe_pair *x = &s->pair[s->dirty[i]];
		x->dirty = 0;
		theap_push(s, (heap_ent){x->count, x->key});
	}
	s->ndirty = 0;
	/* per-merge caches: pair (x, z) at cl[x], (z, y) at cr[y] */
	int32_t *cl = xmalloc(vocab_size * sizeof *cl), *cr = xmalloc(vocab_size * sizeof *cr);
	for (int i = 0; i < vocab_size; i++) cl[i] = cr[i] = -1;
	int nmerge = 0;
	while (m->n < vocab_size && s->nheap > 0) {
		heap_ent e = theap_pop(s);
		uint32_t h = (uint32_t)rng_mix(e.key) & s->phmask;
		while (s->pair[s->ph[h] - 1].key != e.key) h = (h + 1) & s->phmask;
		int32_t k = (int32_t)s->ph[h] - 1;
		bpe_pair *x = &s->pair[k];
		if (x->count != e.count) {        /* stale: re-queue a decrease */
			if (x->count > 0 && x->count < e.count) theap_push(s, (heap_ent){x->count, x->key});
			continue;
		}
		if (x->count < 2) break;
		int a = (int)(e.key >> 32), b = (int)(e.key & 0xffffffffu);
		int z = bpe_add_merge(m, a, b);
		nmerge++;
		int32_t *occ = x->occ;
		long nocc = x->nocc;
		x->occ = NULL; x->nocc = x->cap = 0;
		/* only a pair of equal symbols can overlap itself; then the order of
		 * occurrences decides, and left to right is what encoding does */
		if (a == b) qsort(occ, nocc, sizeof *occ, cmp_i32);
		for (long i = 0; i < nocc; i++) {
			int32_t p = occ[i];
			if (sym[p] < 0 || pidx[p] != k) continue;
			int32_t q = nxt[p], r = nxt[q], l = prv[p];
			int64_t f = FREQ(p);
			s->pair[k].count -= f;
			if (r >= 0) s->pair[pidx[q]].count -= f;
			sym[q] = -1; pidx[q] = -1;
			sym[p] = z; nxt[p] = r;
			if (r >= 0) prv[r] = p;
			if (l >= 0) {
				s->pair[pidx[l]].count -= f;
				int y = sym[l];
				if (cl[y] < 0) cl[y] = pair_get(s, y, z);
				pidx[l] = cl[y];
				pair_inc(s, cl[y], f, l);
			}
			if (r >= 0) {
				int y = sym[r];
				int32_t *c = y == z ? &cl[z] : &cr[y];
				if (*c < 0) *c = pair_get(s, z, y);
				pidx[p] = *c;
				pair_inc(s, *c, f, p);
			} else pidx[p] = -1;
		}
		free(occ);
		for (long i = 0; i < s->ndirty; i++) {
			bpe_pair *d = &s->pair[s->dirty[i]];
			d->dirty = 0;
			cl[(int)(d->key >> 32)] = -1;
			cr[(int)(d->key & 0xffffffffu)] = -1;
			if (d->count > 0) theap_push(s, (heap_ent){d->count, d->key});
		}
		cl[z] = -1;
		s->ndirty = 0;
	}
#undef FREQ
	for (long i = 0; i < s->npair; i++) free(s->pair[i].occ);
	free(s->pair); free(s->ph); free(s->heap); free(s->dirty);
	free(cl); free(cr); free(prv); free(pidx); free(segof);
	free(t->sym); free(t->nxt);
	t->sym = sym; t->nxt = nxt; t->npos = npos;
	return nmerge;
}

void bpe_trainer_foreach(const bpe_trainer *t,
                         void (*f)(void *ctx, const int32_t *ids, long n, long count), void *ctx)
{
	long cap = 1024;
	int32_t *ids = xmalloc(cap * sizeof *ids);
	for (long w = 0; w < t->nseg; w++) {
		long n = 0;
		if (t->seg[w + 1] == t->seg[w]) continue;
		for (int32_t p = (int32_t)t->seg[w]; p >= 0; p = t->nxt[p]) {
			if (n == cap) ids = xrealloc(ids, (cap *= 2) * sizeof *ids);
			ids[n++] = t->sym[p];
		}
		f(ctx, ids, n, t->seg_count ? (long)t->seg_count[w] : 1);
	}
	free(ids);
}
