/* vocab.h -- a tokenizer vocabulary as it travels in stream headers, so that
 * every program can check that tokens and models belong together.
 *
 * Header form (man/tns.5):
 *   @TK\tTY:<kind>\tN:<size>\tH:<hash>[\tK:<k>][\tST:<stride>]...
 *   @VO\t<escaped token>[\t<extra>]     one line per id, in id order
 *   @MG\t<left id>\t<right id>           hf-bpe only: the merges, by rank
 * kind names the tokenization rule (tokenizers.h): kmer, char, bpe and
 * text-char are seqlm's own; hf-kmer, hf-esm and hf-bpe come from Hugging
 * Face tokenizer files (hftok.h).  <extra> carries what a tokenizer needs
 * beyond the string (BPE: the two ids merged, "L:12\tR:40"; HF kinds:
 * "A:<flags>" for an added token, flags s special, n normalized, l lstrip,
 * r rstrip).
 * seqlm's own vocabularies have the five specials as ids 0..4; an HF
 * vocabulary names its special ids on the @TK line (UNK: PAD: CLS: SEP:
 * MASK:, -1 for none, and BEG: END:, the ids the tokenizer puts before and
 * after each sequence), since they are the files', not ours.
 * The hash (16 hex digits) is FNV-1a 64 over the @TK kind and parameters
 * and every @VO and @MG line; it identifies the vocabulary. */
#ifndef SEQLM_VOCAB_H
#define SEQLM_VOCAB_H

#include <stdint.h>
#include "io/tns.h"

/* ids of the five specials in seqlm's own vocabularies (kmer, char, bpe,
 * text-char), which build them; every program that reads a vocabulary
 * takes the ids from it (tok_vocab.id), never from here */
enum { TOK_UNK = 0, TOK_PAD = 1, TOK_CLS = 2, TOK_SEP = 3, TOK_MASK = 4, TOK_NSPECIAL = 5 };

/* special-token ids of a vocabulary; -1 where it has none */
typedef struct {
	int unk, pad, cls, sep, mask;
	int beg, end;                 /* put before / after each sequence's tokens */
} tok_ids;

typedef struct {
	char kind[16];                /* "kmer", "char", "bpe", "text-char", "hf-kmer", "hf-esm", "hf-bpe" */
	int k, stride;                /* kmer parameters, 0 if unused */
	int n;                        /* vocabulary size */
	char **tok;                   /* token bytes, NUL-terminated (may hold any byte but NUL) */
	int *len;                     /* token lengths in bytes */
	char **extra;                 /* per-token extra fields, NULL if none */
	char params[256];             /* further "\tKEY:VALUE" fields of @TK, may be empty */
	tok_ids id;                   /* the special ids */
	unsigned char *special;       /* per id: 1 for a special token (never masked, not content) */
	int nmerge;                   /* hf-bpe: merges, by rank */
	int32_t *merge;               /* [2 * nmerge]: left id, right id */
	uint64_t hash;
} tok_vocab;

void vocab_init(tok_vocab *v, const char *kind);
void vocab_free(tok_vocab *v);
/* append a token (len bytes) with optional extra field text; returns its id */
int vocab_add(tok_vocab *v, const char *s, int len, const char *extra);
void vocab_add_specials(tok_vocab *v);        /* seqlm's five, ids 0..4 */
void vocab_add_merge(tok_vocab *v, int l, int r);
/* 1 for seqlm's own kinds (specials 0..4 implied), 0 for an HF kind */
int vocab_is_native(const tok_vocab *v);
/* computes the hash; for native kinds also sets id and special */
void vocab_finish(tok_vocab *v);
/* writes @TK + @VO lines into h (replacing any there) */
void vocab_to_header(const tok_vocab *v, tns_header *h);
/* 0 ok; -1 absent; -2 malformed or hash mismatch (message in err) */
int vocab_from_header(tok_vocab *v, const tns_header *h, char *err, size_t errlen);
/* the H: field of h's @TK line, 0 if none */
uint64_t vocab_header_hash(const tns_header *h);
/* 1 if id is one of v's special tokens */
int vocab_is_special(const tok_vocab *v, int id);
/* number of ids that are not special */
int vocab_ncontent(const tok_vocab *v);
/* ids 0..vocab_nlead(v)-1 are special and no other id is; -1 if v's
 * specials are not such a leading block */
int vocab_nlead(const tok_vocab *v);
/* token as printable text: escapes as in the header */
void vocab_escape(const char *s, int len, char *out, size_t outlen);

#endif
