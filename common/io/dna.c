/* dna.c -- raw sequence bytes to normalised bases (see dna.h). */
#include "io/dna.h"

/* built by a tiny constructor-free initialiser: letters to bases */
#define R16(x) x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x
const unsigned char dna_norm[256] = {
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

long dna_normalise(const char *in, long n, char *out)
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
			unsigned char c = dna_norm[s[i]];
			out[o] = (char)c;
			o += c != 0;
		}
	}
	return o;
}
