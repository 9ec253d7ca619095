/* hfenc.h -- the encoders of the Hugging Face tokenizer kinds, entries of
 * the tokenizer table (tokenizers.h); their vocabularies come from
 * hftok_load_dir (hftok.h).  Each does what the HF tokenizer does for one
 * sequence or document, without the start/end tokens (the window writer
 * adds the vocabulary's BEG/END ids).
 *   hf-kmer  BertTokenizer on DNABERT's input: the overlapping (stride 1)
 *            k-mers of the sequence, each a whole word; a k-mer not in the
 *            vocabulary (one with N) is [UNK]; LC:1 lowercases first
 *            (do_lower_case).
 *   hf-esm   EsmTokenizer (Nucleotide Transformer): the vocabulary's tokens
 *            matched greedily, longest first, from the left; a run of bytes
 *            that starts no token is one <unk>.
 *   hf-bpe   a tokenizer.json BPE (hfbpe.c). */
#ifndef SEQLM_HFENC_H
#define SEQLM_HFENC_H

#include "tok/tokenizers.h"

int hfkmer_from_vocab(tokenizer *t, char *err, size_t errlen);
long hfkmer_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len);
int hfesm_from_vocab(tokenizer *t, char *err, size_t errlen);
long hfesm_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len);
int hfbpe_from_vocab(tokenizer *t, char *err, size_t errlen);
/* 0 if v's NM:, PT: and MU: fields are ones hfbpe_from_vocab reads; -1 with err */
int hfbpe_check_spec(const tok_vocab *v, char *err, size_t errlen);
long hfbpe_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len);
void hfbpe_free(tokenizer *t);
void hfenc_free(tokenizer *t);    /* hf-kmer, hf-esm */

#endif
