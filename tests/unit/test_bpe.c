/* test_bpe.c -- the BPE trainer and encoder against simple reference
 * implementations: merge-in-order encoding and a naive re-counting trainer. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "tok/bpe.h"
#include "base/rng.h"

/* reference encoder: each merge in order, left to right, non-overlapping */
static long ref_encode(const bpe_model *m, const char *s, long n, int32_t *ids)
{
	for (long i = 0; i < n; i++) ids[i] = m->byte_id[(unsigned char)s[i]];
	for (int z = m->n_base; z < m->n; z++) {
		long o = 0;
		for (long i = 0; i < n; i++) {
			if (i + 1 < n && ids[i] == m->left[z] && ids[i + 1] == m->right[z]) { ids[o++] = z; i++; }
			else ids[o++] = ids[i];
		}
		n = o;
	}
	return n;
}

static void random_dna(rng_t *r, char *s, long n, int skew)
{
	/* skewed base frequencies and repeats make merges of every kind */
	for (long i = 0; i < n; i++) {
		uint32_t x = rng_below(rng_next(r), 100);
		if (skew && i >= 4 && x < 30) { s[i] = s[i - 4]; continue; }
		s[i] = x < 40 ? 'A' : x < 60 ? 'C' : x < 75 ? 'G' : x < 98 ? 'T' : 'N';
	}
}

static void random_text(rng_t *r, char *s, long n)
{
	static const char *words[] = {"the", " the", "cat", " sat", " on", "mat", ",", ".", " ", "  ",
	                              "\n", "42", " 7", "caf\xc3\xa9", "!!", "aaaa", " dog's", "\t"};
	long i = 0;
	while (i < n) {
		const char *w = words[rng_below(rng_next(r), sizeof words / sizeof *words)];
		for (; *w && i < n; w++) s[i++] = *w;
	}
}

/* naive trainer: count every pair from scratch before each merge */
static int ref_train(const bpe_model *base, char **segs, long *lens, int nseg, int vocab_size,
                     int32_t *ml, int32_t *mr)
{
	int32_t **sy = malloc(nseg * sizeof *sy);
	long *n = malloc(nseg * sizeof *n);
	for (int i = 0; i < nseg; i++) {
		sy[i] = malloc(lens[i] * sizeof **sy);
		n[i] = lens[i];
		for (long j = 0; j < n[i]; j++) sy[i][j] = base->byte_id[(unsigned char)segs[i][j]];
	}
	int nm = 0, V = vocab_size;
	long *cnt = malloc((size_t)V * V * sizeof *cnt);
	for (int z = base->n_base; z < vocab_size; z++) {
		memset(cnt, 0, (size_t)V * V * sizeof *cnt);
		for (int i = 0; i < nseg; i++)
			for (long j = 0; j + 1 < n[i]; j++) cnt[(long)sy[i][j] * V + sy[i][j + 1]]++;
		long best = -1, bc = 0;
		for (long k = 0; k < (long)V * V; k++) if (cnt[k] > bc) { bc = cnt[k]; best = k; }
		if (bc < 2) break;
		int a = (int)(best / V), b = (int)(best % V);
		ml[nm] = a; mr[nm] = b; nm++;
		for (int i = 0; i < nseg; i++) {
			long o = 0;
			for (long j = 0; j < n[i]; j++) {
				if (j + 1 < n[i] && sy[i][j] == a && sy[i][j + 1] == b) { sy[i][o++] = z; j++; }
				else sy[i][o++] = sy[i][j];
			}
			n[i] = o;
		}
	}
	for (int i = 0; i < nseg; i++) free(sy[i]);
	free(sy); free(n); free(cnt);
	return nm;
}

typedef struct { bpe_model *m; int bad; long nseg; } seg_check;

static void check_segment(void *ctx, const int32_t *ids, long n, long count)
{
	seg_check *c = ctx;
	(void)count;
	/* rebuild the bytes of the segment from the token strings' leaves */
	char *s = malloc(4 * n * 64 + 1);
	long len = 0;
	int32_t stack[4096];
	for (long i = 0; i < n; i++) {
		int sp = 0;
		stack[sp++] = ids[i];
		while (sp) {
			int x = stack[--sp];
			if (x >= c->m->n_base) { stack[sp++] = c->m->right[x]; stack[sp++] = c->m->left[x]; }
			else s[len++] = c->m->alphabet == BPE_DNA ? "ACGTN"[x - 5] : (char)(x - 4);
		}
	}
	int32_t *e = malloc((len + 1) * sizeof *e);
	long k = bpe_encode_segment(c->m, s, len, e, NULL);
	if (k != n || memcmp(e, ids, n * sizeof *e)) c->bad++;
	c->nseg++;
	free(e); free(s);
}

static int same_merges(const bpe_model *m, const int32_t *ml, const int32_t *mr, int nm)
{
	if (m->n - m->n_base != nm) { diag("%d merges, reference %d", m->n - m->n_base, nm); return 0; }
	for (int i = 0; i < nm; i++)
		if (m->left[m->n_base + i] != ml[i] || m->right[m->n_base + i] != mr[i]) {
			diag("merge %d: %d+%d, reference %d+%d", i, m->left[m->n_base + i],
			     m->right[m->n_base + i], ml[i], mr[i]);
			return 0;
		}
	return 1;
}

static void test_dna_training_matches_naive_trainer(void)
{
	rng_t r;
	rng_seed(&r, 7, 1);
	enum { NSEG = 12 };
	char *segs[NSEG];
	long lens[NSEG];
	bpe_trainer *t = bpe_trainer_new(BPE_DNA);
	for (int i = 0; i < NSEG; i++) {
		lens[i] = 50 + rng_below(rng_next(&r), 400);
		segs[i] = malloc(lens[i]);
		random_dna(&r, segs[i], lens[i], 1);
		bpe_trainer_add(t, segs[i], lens[i]);
	}
	bpe_model m;
	bpe_init(&m, BPE_DNA);
	int nm = bpe_train(t, 200, &m);
	int32_t ml[200], mr[200];
	int rn = ref_train(&m, segs, lens, NSEG, 200, ml, mr);
	ok(nm > 20, "DNA training learns merges (%d)", nm);
	ok(same_merges(&m, ml, mr, rn), "DNA training gives the naive trainer's merges in order");
	seg_check c = {&m, 0, 0};
	bpe_trainer_foreach(t, check_segment, &c);
	ok(c.bad == 0 && c.nseg == NSEG, "encoding the training segments reproduces the training segmentation");
	for (int i = 0; i < NSEG; i++) free(segs[i]);
	bpe_trainer_free(t);
	bpe_free(&m);
}

static void test_text_training_matches_naive_trainer(void)
{
	rng_t r;
	rng_seed(&r, 11, 2);
	bpe_trainer *t = bpe_trainer_new(BPE_TEXT);
	enum { NDOC = 20 };
	char doc[600];
	/* the naive trainer sees every piece occurrence as its own segment */
	char *segs[NDOC * 600];
	long lens[NDOC * 600];
	int nseg = 0;
	for (int d = 0; d < NDOC; d++) {
		long n = 100 + rng_below(rng_next(&r), 500);
		random_text(&r, doc, n);
		bpe_trainer_add(t, doc, n);
		for (long i = 0; i < n;) {
			long k = bpe_piece_len(doc + i, n - i);
			segs[nseg] = malloc(k);
			memcpy(segs[nseg], doc + i, k);
			lens[nseg++] = k;
			i += k;
		}
	}
	bpe_model m;
	bpe_init(&m, BPE_TEXT);
	int nm = bpe_train(t, 330, &m);
	int32_t ml[400], mr[400];
	int rn = ref_train(&m, segs, lens, nseg, 330, ml, mr);
	ok(nm > 10, "text training learns merges (%d)", nm);
	ok(same_merges(&m, ml, mr, rn), "text training gives the naive trainer's merges in order");
	seg_check c = {&m, 0, 0};
	bpe_trainer_foreach(t, check_segment, &c);
	ok(c.bad == 0, "encoding the distinct training pieces reproduces their segmentation");
	for (int i = 0; i < nseg; i++) free(segs[i]);
	bpe_trainer_free(t);
	bpe_free(&m);
}

static void test_encoder_matches_merge_in_order(int alphabet)
{
	rng_t r;
	rng_seed(&r, 3, (uint64_t)alphabet);
	/* a random model: merges of random existing ids, some pairs of equal ids */
	bpe_model m;
	bpe_init(&m, alphabet);
	int nbase = alphabet == BPE_DNA ? 5 : 6;
	const char *tb = "abc d.";
	int base[6];
	for (int i = 0; i < nbase; i++) base[i] = alphabet == BPE_DNA ? 5 + i : m.byte_id[(unsigned char)tb[i]];
	int ids[600], nid = nbase;
	for (int i = 0; i < nbase; i++) ids[i] = base[i];
	while (m.n - m.n_base < 300) {
		int l = ids[rng_below(rng_next(&r), nid)];
		int rr = rng_below(rng_next(&r), 4) == 0 ? l : ids[rng_below(rng_next(&r), nid)];
		if (bpe_lookup(&m, l, rr) >= 0) continue;
		ids[nid++] = bpe_add_merge(&m, l, rr);
	}
	int bad = 0;
	char s[3000];
	int32_t got[3000], want[3000];
	for (int trial = 0; trial < 300; trial++) {
		long n = 1 + rng_below(rng_next(&r), 2500);
		if (alphabet == BPE_DNA) random_dna(&r, s, n, trial & 1);
		else for (long i = 0; i < n; i++) s[i] = tb[rng_below(rng_next(&r), 6)];
		long a = bpe_encode_segment(&m, s, n, got, NULL), b = ref_encode(&m, s, n, want);
		if (a != b || memcmp(got, want, a * sizeof *got)) bad++;
	}
	ok(bad == 0, "%s encoder equals applying the merges in order on 300 random inputs (%d differ)",
	   alphabet == BPE_DNA ? "DNA" : "text", bad);
	bpe_free(&m);
}

static void test_positions_are_token_starts(void)
{
	bpe_model m;
	bpe_init(&m, BPE_DNA);
	int ac = bpe_add_merge(&m, 5, 6);            /* AC */
	bpe_add_merge(&m, ac, ac);                   /* ACAC */
	int32_t ids[16], pos[16];
	long n = bpe_encode_segment(&m, "ACACGAC", 7, ids, pos);
	ok(n == 3 && pos[0] == 0 && pos[1] == 4 && pos[2] == 5,
	   "token start positions: ACAC G AC -> 0 4 5");
	bpe_free(&m);
}

static void test_presplit_pieces(void)
{
	const char *s = "Hello, world!  It's 2024\tok";
	const char *want[] = {"Hello", ",", " world", "!", " ", " It", "'", "s", " 2024", "\t", "ok"};
	int i = 0, good = 1;
	for (long p = 0, n = (long)strlen(s); p < n; i++) {
		long k = bpe_piece_len(s + p, n - p);
		if (i >= 11 || (long)strlen(want[i]) != k || memcmp(want[i], s + p, k)) good = 0;
		p += k;
	}
	ok(good && i == 11, "pre-split: words keep one leading space, punctuation and whitespace runs apart");
}

static void test_text_encoder_equals_piecewise_segments(void)
{
	rng_t r;
	rng_seed(&r, 5, 9);
	bpe_trainer *t = bpe_trainer_new(BPE_TEXT);
	char doc[2000];
	for (int d = 0; d < 30; d++) { random_text(&r, doc, 1500); bpe_trainer_add(t, doc, 1500); }
	bpe_model m;
	bpe_init(&m, BPE_TEXT);
	bpe_train(t, 400, &m);
	int bad = 0;
	int32_t a[2000], ap[2000], b[2000], bp[2000];
	for (int trial = 0; trial < 50; trial++) {
		long n = 1 + rng_below(rng_next(&r), 1999);
		random_text(&r, doc, n);
		if (trial == 7) doc[n / 2] = 0;                     /* a NUL byte is <UNK> */
		long na = bpe_encode_text(&m, doc, n, a, ap), nb = 0;
		for (long i = 0; i < n;) {
			long k = bpe_piece_len(doc + i, n - i);
			long g = bpe_encode_segment(&m, doc + i, k, b + nb, bp + nb);
			for (long j = 0; j < g; j++) bp[nb + j] += (int32_t)i;
			nb += g; i += k;
		}
		if (na != nb || memcmp(a, b, na * sizeof *a) || memcmp(ap, bp, na * sizeof *ap)) bad++;
	}
	ok(bad == 0, "text encoder (cached pieces) equals encoding each piece, positions included");
	bpe_trainer_free(t);
	bpe_free(&m);
}

int main(void)
{
	test_presplit_pieces();
	test_positions_are_token_starts();
	test_encoder_matches_merge_in_order(BPE_DNA);
	test_encoder_matches_merge_in_order(BPE_TEXT);
	test_text_encoder_equals_piecewise_segments();
	test_dna_training_matches_naive_trainer();
	test_text_training_matches_naive_trainer();
	return done_testing();
}
