/* kmer.c -- k-mer and single-nucleotide tokenisation (see kmer.h). */
#include <string.h>
#include "kmer.h"

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

long tok_dna_normalise(const char *in, long n, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	long o = 0;
	/* branch-free: a dropped byte is written and then overwritten */
	for (long i = 0; i < n; i++) {
		unsigned char c = tok_dna_norm[s[i]];
		out[o] = (char)c;
		o += c != 0;
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

long kmer_encode(int k, int stride, const char *seq, long n, int32_t *ids, int32_t *pos)
{
	const unsigned char *s = (const unsigned char *)seq;
	long m = 0, i = 0;
	while (i < n) {
		if (s[i] == 'N') { ids[m] = KMER_ID_N; pos[m++] = (int32_t)i++; continue; }
		const unsigned char *np = memchr(s + i, 'N', (size_t)(n - i));
		long j = np ? np - s : n, b = i;
		/* whole k-mers of the run [i, j) */
		for (; b + k <= j; b += stride) {
			uint32_t x = 0;
			for (int t = 0; t < k; t++) x = x << 2 | code4[s[b + t]];
			ids[m] = KMER_ID0 + (int32_t)x;
			pos[m++] = (int32_t)b;
		}
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
