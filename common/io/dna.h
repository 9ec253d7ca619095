/* dna.h -- normalised nucleotides: what seqread hands the tokenizers.
 * A normalised sequence holds the bytes 'A' 'C' 'G' 'T' 'N' only; the
 * nucleotide tokenizers (kmer.h) take nothing else. */
#ifndef SEQLM_DNA_H
#define SEQLM_DNA_H

/* raw byte -> normalised base: ACGT (either case; U as T) -> "ACGT", every
 * other printable byte -> 'N', whitespace and control bytes -> 0 (dropped) */
extern const unsigned char dna_norm[256];
/* normalise n raw bytes into out (which may be in); returns bases written */
long dna_normalise(const char *in, long n, char *out);

#endif
