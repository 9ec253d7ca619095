/* kmer.c -- k-mer and single-nucleotide tokenisation (see kmer.h). */
#include <string.h>
#include "tok/kmer.h"

void kmer_char_vocab(tok_vocab *v)
{
	vocab_init(v, "char");
	vocab_add_specials(v);
	for (const char *b = "ACGTN"; *b; b++) vocab_add(v, b, 1, NULL);
	vocab_finish(v);
}

void kmer_vocab(tok_vocab *v, int k, int stride)
{
	char s[KMER_MAXK + 1];
	vocab_init(v, "kmer");
	v->k = k;
	v->stride = stride;
	vocab_add_specials(v);
	for (const char *b = "ACGTN"; *b; b++) vocab_add(v, b, 1, NULL);
	uint64_t nk = (uint64_t)1 << (2 * k);
	for (uint64_t x = 0; x < nk; x++) {
		for (int i = 0; i < k; i++) s[i] = "ACGT"[(x >> (2 * (k - 1 - i))) & 3];
		s[k] = 0;
		vocab_add(v, s, k, NULL);
	}
	vocab_finish(v);
}

#define R16(x) x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x
/* base -> 2-bit code; N (or anything else) has bit 2 set */
static const unsigned char code4[256] = {
	R16(4), R16(4), R16(4), R16(4),
	4,0,4,1,4,4,4,2,4,4,4,4,4,4,4,4, 4,4,4,4,3,4,4,4,4,4,4,4,4,4,4,4,
	R16(4), R16(4),
	R16(4), R16(4), R16(4), R16(4), R16(4), R16(4), R16(4), R16(4),
};

static inline long emit_singles(const unsigned char *s, long beg, long end,
                                int32_t *ids, int32_t *pos, long m)
{
	for (long i = beg; i < end; i++) {
		ids[m] = KMER_ID_A + code4[s[i]];
		pos[m++] = (int32_t)i;
	}
	return m;
}

/* the 6-mer at p as 12 bits, first base most significant, from one 8-byte
 * load: ACGT -> 0123 is ((c >> 1) ^ (c >> 2)) & 3 on the ASCII codes, done
 * for all bytes at once, then pairs and quads are gathered by shifts */
static inline uint32_t pack6(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	v = __builtin_bswap64(v);                      /* p[0] in the top byte */
	uint64_t c = ((v >> 1) ^ (v >> 2)) & 0x0303030303030303ULL;
	uint64_t u = (c | (c >> 6)) & 0x000F000F000F000FULL;
	return (uint32_t)((u >> 48) << 8 | ((u >> 32) & 0xF) << 4 | ((u >> 16) & 0xF));
}

static long run_6mers(const unsigned char *s, long i, long j, long n, int32_t *ids, int32_t *pos, long *end)
{
	long m = 0, b = i;
	for (; b + 6 <= j && b + 8 <= n; b += 6) {
		ids[m] = KMER_ID0 + (int32_t)pack6(s + b);
		pos[m++] = (int32_t)b;
	}
	for (; b + 6 <= j; b += 6) {
		uint32_t x = 0;
		for (int t = 0; t < 6; t++) x = x << 2 | code4[s[b + t]];
		ids[m] = KMER_ID0 + (int32_t)x;
		pos[m++] = (int32_t)b;
	}
	*end = b;
	return m;
}

/* the k-mers of the run [i, j) starting at i, every stride bases; returns
 * the number written and the start of the next (unwritten) k-mer in *end */
static long run_kmers(const unsigned char *s, long i, long j, int k, int stride, int32_t *ids, int32_t *pos, long *end)
{
	long m = 0, b = i;
	for (; b + k <= j; b += stride) {
		uint32_t x = 0;
		for (int t = 0; t < k; t++) x = x << 2 | code4[s[b + t]];
		ids[m] = KMER_ID0 + (int32_t)x;
		pos[m++] = (int32_t)b;
	}
	*end = b;
	return m;
}

long kmer_encode(int k, int stride, const char *seq, long n, int32_t *ids, int32_t *pos)
{
	const unsigned char *s = (const unsigned char *)seq;
	long m = 0, i = 0;
	while (i < n) {
		if (s[i] == 'N') { ids[m] = KMER_ID_N; pos[m++] = (int32_t)i++; continue; }
		const unsigned char *np = memchr(s + i, 'N', (size_t)(n - i));
		long j = np ? np - s : n, b;
		if (k == 6 && stride == 6) m += run_6mers(s, i, j, n, ids + m, pos + m, &b);
		else m += run_kmers(s, i, j, k, stride, ids + m, pos + m, &b);
		/* after the last k-mer (which ends at b - stride + k) */
		long tail = b == i ? i : b - stride + k;
		m = emit_singles(s, tail, j, ids, pos, m);
		i = j;
	}
	return m;
}

long kmer_encode_char(const char *seq, long n, int32_t *ids, int32_t *pos)
{
	return emit_singles((const unsigned char *)seq, 0, n, ids, pos, 0);
}
