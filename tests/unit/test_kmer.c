/* test_kmer.c -- k-mer tokens and base normalisation against plain
 * reference loops, on random sequences (the fast paths: 16-byte
 * normalisation, 8-byte 6-mer packing). */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "io/dna.h"
#include "tok/kmer.h"
#include "base/rng.h"

static char ref_norm1(unsigned char c)
{
	if (c <= ' ' || c == 127) return 0;
	if (c >= 'a' && c <= 'z') c -= 32;
	if (c == 'U') c = 'T';
	return strchr("ACGT", c) && c ? (char)c : 'N';
}

/* the rule of kmer.h, written the obvious way */
static long ref_kmers(int k, int stride, const char *s, long n, int32_t *ids, int32_t *pos)
{
	long m = 0, i = 0;
	while (i < n) {
		if (s[i] == 'N') { ids[m] = 9; pos[m++] = (int32_t)i++; continue; }
		long j = i;
		while (j < n && s[j] != 'N') j++;
		long b = i, end = i;
		for (; b + k <= j; b += stride) {
			int32_t x = 0;
			for (int t = 0; t < k; t++) x = x * 4 + (int32_t)(strchr("ACGT", s[b + t]) - "ACGT");
			ids[m] = 10 + x; pos[m++] = (int32_t)b; end = b + k;
		}
		for (long t = end; t < j; t++) { ids[m] = 5 + (int32_t)(strchr("ACGT", s[t]) - "ACGT"); pos[m++] = (int32_t)t; }
		i = j;
	}
	return m;
}

static void random_seq(rng_t *r, char *s, long n, int nrate)
{
	for (long i = 0; i < n; i++)
		s[i] = rng_below(rng_next(r), 100) < (uint32_t)nrate ? 'N' : "ACGT"[rng_below(rng_next(r), 4)];
}

int main(void)
{
	rng_t r;
	rng_seed(&r, 1, 1);
	static char raw[5000], a[5000], b[5000];
	int bad = 0;
	for (int trial = 0; trial < 300; trial++) {
		long n = rng_below(rng_next(&r), 4000);
		for (long i = 0; i < n; i++) {
			uint32_t x = rng_below(rng_next(&r), 100);
			/* mostly clean bases (the 16-byte fast path), some of everything */
			raw[i] = x < 90 ? "ACGTN"[x % 5] : (char)rng_below(rng_next(&r), 256);
		}
		if (trial & 1) {                     /* FASTA-like lines of a random width */
			long w = 5 + rng_below(rng_next(&r), 80);
			for (long i = 0; i < n; i++) raw[i] = (i + 1) % (w + 1) == 0 ? '\n' : "ACGTN"[i % 5];
			if (n > 10 && trial % 4 == 1) raw[n / 2] = 'a';
		}
		long m = 0;
		for (long i = 0; i < n; i++) { char c = ref_norm1((unsigned char)raw[i]); if (c) b[m++] = c; }
		long got = dna_normalise(raw, n, a);
		if (got != m || memcmp(a, b, m)) bad++;
	}
	ok(bad == 0, "normalisation: upper case, U as T, IUPAC and symbols N, white space and new lines dropped (300 random inputs)");
	memcpy(a, "acgt\tnRyu\r\nACGU", 15);
	ok(dna_normalise(a, 15, a) == 12 && !memcmp(a, "ACGTNNNTACGT", 12), "normalisation in place");

	static int32_t ids[5000], pos[5000], rid[5000], rpos[5000];
	int ks[][2] = {{6, 6}, {6, 1}, {6, 3}, {3, 3}, {1, 1}, {5, 2}, {10, 10}};
	for (unsigned c = 0; c < sizeof ks / sizeof *ks; c++) {
		int k = ks[c][0], st = ks[c][1];
		bad = 0;
		for (int trial = 0; trial < 200; trial++) {
			long n = rng_below(rng_next(&r), 3000);
			random_seq(&r, a, n, trial % 3 == 0 ? 0 : trial % 3 == 1 ? 2 : 20);
			long m1 = kmer_encode(k, st, a, n, ids, pos), m2 = ref_kmers(k, st, a, n, rid, rpos);
			if (m1 != m2 || memcmp(ids, rid, m1 * 4) || memcmp(pos, rpos, m1 * 4)) bad++;
		}
		ok(bad == 0, "%d-mers with stride %d equal the reference rule on 200 random sequences", k, st);
	}
	int32_t i6[8], p6[8];
	long m = kmer_encode(6, 6, "ACGTACGTNACGTACA", 16, i6, p6);
	ok(m == 6 && i6[0] == 10 + 0x1b1 && i6[1] == 7 && i6[2] == 8 && i6[3] == 9 && i6[4] == 10 + 0x1b1 && i6[5] == 5,
	   "ACGTAC G T N ACGTAC A: 6-mer ids are 10 + base-4 value, singles A..N are 5..9");
	return done_testing();
}
