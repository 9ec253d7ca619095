/* kmer.h -- nucleotide tokenizers: k-mers as in the Nucleotide Transformer
 * tokenizer, and one token per nucleotide (--char).
 *
 * Input is a normalised sequence: bytes 'A' 'C' 'G' 'T' 'N' only (see
 * io/dna.h).  Vocabulary order, fixed and documented in seqtok(1):
 *   0..4    <UNK> <PAD> <CLS> <SEP> <MASK>
 *   5..9    A C G T N
 *   10..    the 4^K k-mers in lexicographic order (A<C<G<T), so the k-mer
 *           with base-4 value x has id 10 + x.
 * The char vocabulary is ids 0..9 alone. */
#ifndef SEQLM_KMER_H
#define SEQLM_KMER_H

#include <stdint.h>
#include "tok/vocab.h"

enum { KMER_ID_A = 5, KMER_ID_N = 9, KMER_ID0 = 10, KMER_MAXK = 10 };

/* builds the "kmer" vocabulary (k in 1..KMER_MAXK, stride in 1..k) */
void kmer_vocab(tok_vocab *v, int k, int stride);
/* builds the nucleotide "char" vocabulary */
void kmer_char_vocab(tok_vocab *v);

/* Non-overlapping (stride == k) or overlapping k-mers, left to right within
 * each run of ACGT: an N is a token of its own and the frame restarts after
 * it; the bases of a run after its last whole k-mer become single-nucleotide
 * tokens.  Writes at most n ids, and pos[i] = first base of token i.
 * Returns the number of tokens. */
long kmer_encode(int k, int stride, const char *seq, long n, int32_t *ids, int32_t *pos);
/* one token per base */
long kmer_encode_char(const char *seq, long n, int32_t *ids, int32_t *pos);

#endif
