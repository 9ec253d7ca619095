/* kmer.c -- k-mer and single-nucleotide tokenisation (see kmer.h). */
#include <string.h>
#include "tok/kmer.h"

/* built by a tiny constructor-free initialiser: letters to bases */
#define R16(x) x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x
const unsigned char tok_dna_norm[256] = {
	/* 0x00-0x1f: control bytes are dropped */
	R16(0), R16(0),
	/* 0x20 ' ' dropped, then punctuation/digits -> N */
	0, 'N','N','N','N','N','N','N','N','N','N','N','N','N','N','N',
	R16('N'),
	/* 0x40 @ A..O */
	'N','A','N','C','N','N','N','G','N','N','N','N','N','N','N','N',
	/* P..Z [ \ ] ^ _  (T, U -> T) */
	'N','N','N','N','T','T','N','N','N','N','N','N','N','N','N','N',
	/* ` a..o */
	'N','A','N','C','N','N','N','G','N','N','N','N','N','N','N','N',
	/* p..z { | } ~ DEL */
	'N','N','N','N','T','T','N','N','N','N','N','N','N','N','N', 0,
	/* bytes >= 0x80: not nucleotides */
	R16('N'), R16('N'), R16('N'), R16('N'), R16('N'), R16('N'), R16('N'), R16('N'),
};

#ifdef __SSE2__
#include <emmintrin.h>
/* the 16 bytes at p in *x; returns the mask of bytes that are one of
 * A C G T N (already normal) and sets *nl to the mask of new lines */
static inline int normal16(const unsigned char *p, __m128i *x, int *nl)
{
	*x = _mm_loadu_si128((const __m128i *)p);
	__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(*x, _mm_set1_epi8('A')),
	                                      _mm_cmpeq_epi8(*x, _mm_set1_epi8('C'))),
	                         _mm_or_si128(_mm_cmpeq_epi8(*x, _mm_set1_epi8('G')),
	                                      _mm_or_si128(_mm_cmpeq_epi8(*x, _mm_set1_epi8('T')),
	                                                   _mm_cmpeq_epi8(*x, _mm_set1_epi8('N')))));
	*nl = _mm_movemask_epi8(_mm_cmpeq_epi8(*x, _mm_set1_epi8('\n')));
	return _mm_movemask_epi8(m);
}
#endif

long tok_dna_normalise(const char *in, long n, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	long o = 0, i = 0;
	while (i < n) {
		long e = i + 16 < n ? i + 16 : n;
#ifdef __SSE2__
		/* upper-case bases are copied 16 at a time (load before store, so
		 * in place is fine); a block with one new line (60-column FASTA)
		 * is two overlapping stores: the block, then what followed the
		 * new line over it.  That reads and writes up to 31 bytes ahead,
		 * so only with room behind and not in place. */
		__m128i x;
		int nl, ok = e - i == 16 ? normal16(s + i, &x, &nl) : 0;
		if (ok == 0xffff) {
			_mm_storeu_si128((__m128i *)(out + o), x);
			o += 16; i += 16;
			continue;
		}
		if (e - i == 16 && (ok | nl) == 0xffff && (nl & (nl - 1)) == 0 && i + 32 <= n && out != in) {
			int j = __builtin_ctz((unsigned)nl);
			_mm_storeu_si128((__m128i *)(out + o), x);
			_mm_storeu_si128((__m128i *)(out + o + j), _mm_loadu_si128((const __m128i *)(s + i + j + 1)));
			o += 15; i += 16;
			continue;
		}
#endif
		/* branch-free: a dropped byte is written and then overwritten */
		for (; i < e; i++) {
			unsigned char c = tok_dna_norm[s[i]];
			out[o] = (char)c;
			o += c != 0;
		}
	}
	return o;
}

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
