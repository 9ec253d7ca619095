/* hftok.h -- Hugging Face tokenizer folders in and out: a DNABERT-style
 * vocab.txt of whole k-mers, the Nucleotide Transformer (EsmTokenizer)
 * vocab.txt of 6-mers and single nucleotides, and tokenizer.json with a BPE
 * model.  A folder becomes a tok_vocab whose kind names the tokenization
 * rule (tokenizers.h: "hf-kmer", "hf-esm", "hf-bpe") and which carries the
 * special-token ids of the files, never seqlm's own order (vocab.h tok_ids).
 * Whatever cannot be reproduced exactly (WordPiece sub-words, Unigram,
 * NFKC, ...) is refused with a message saying so. */
#ifndef SEQLM_HFTOK_H
#define SEQLM_HFTOK_H

#include <stddef.h>
#include "tok/vocab.h"

/* Reads the tokenizer of an HF model folder (tokenizer.json if present,
 * else vocab.txt with tokenizer_config.json / special_tokens_map.json) into
 * a finished vocabulary (hash computed) that carries the tokenization rule
 * and the special-token ids.  0 ok; -1 with a message in err naming the
 * file and the problem (v is then empty, nothing to free). */
int hftok_load_dir(const char *dir, tok_vocab *v, char *err, size_t errlen);

/* Write v's tokenizer files into dir (which must exist), one function per
 * vocabulary kind (the tokenizer table's save_hf, tokenizers.h): vocab.txt
 * for k-mer and character vocabularies (seqlm's own kmer and char,
 * hf-kmer, hf-esm), or tokenizer.json for BPE (bpe, hf-bpe), plus
 * tokenizer_config.json and special_tokens_map.json, so that
 * AutoTokenizer.from_pretrained(dir) tokenizes as seqtok does.  0 ok; -1
 * with err.  Files are written whole (FILE.tmp, then renamed). */
int hfsave_kmer(const char *dir, const tok_vocab *v, char *err, size_t errlen);
int hfsave_char(const char *dir, const tok_vocab *v, char *err, size_t errlen);
int hfsave_bpe(const char *dir, const tok_vocab *v, char *err, size_t errlen);
int hfsave_hf_kmer(const char *dir, const tok_vocab *v, char *err, size_t errlen);
int hfsave_hf_esm(const char *dir, const tok_vocab *v, char *err, size_t errlen);
int hfsave_hf_bpe(const char *dir, const tok_vocab *v, char *err, size_t errlen);

#endif
