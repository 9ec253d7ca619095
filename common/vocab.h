/* vocab.h -- a tokenizer vocabulary as it travels in stream headers, so that
 * every program can check that tokens and models belong together.
 *
 * Header form (man/tns.5):
 *   @TK\tTY:<kind>\tN:<size>\tH:<hash>[\tK:<k>][\tST:<stride>]...
 *   @VO\t<escaped token>[\t<extra>]     one line per id, in id order
 * kind is kmer, char, bpe or text-char.  <extra> carries what a tokenizer
 * needs beyond the string (BPE: the two ids merged, "L:12\tR:40").
 * The hash (16 hex digits) is FNV-1a 64 over the @TK kind and parameters
 * and every @VO line; it identifies the vocabulary. */
#ifndef SEQLM_VOCAB_H
#define SEQLM_VOCAB_H

#include <stdint.h>
#include "tns.h"

/* the five specials, always ids 0..4 in this order */
enum { TOK_UNK = 0, TOK_PAD = 1, TOK_CLS = 2, TOK_SEP = 3, TOK_MASK = 4, TOK_NSPECIAL = 5 };

typedef struct {
	char kind[16];                /* "kmer", "char", "bpe", "text-char" */
	int k, stride;                /* kmer parameters, 0 if unused */
	int n;                        /* vocabulary size */
	char **tok;                   /* token bytes, NUL-terminated (may hold any byte but NUL) */
	int *len;                     /* token lengths in bytes */
	char **extra;                 /* per-token extra fields, NULL if none */
	char params[256];             /* further "\tKEY:VALUE" fields of @TK, may be empty */
	uint64_t hash;
} tok_vocab;

void vocab_init(tok_vocab *v, const char *kind);
void vocab_free(tok_vocab *v);
/* append a token (len bytes) with optional extra field text; returns its id */
int vocab_add(tok_vocab *v, const char *s, int len, const char *extra);
void vocab_add_specials(tok_vocab *v);        /* the five, ids 0..4 */
void vocab_finish(tok_vocab *v);              /* computes hash */
/* writes @TK + @VO lines into h (replacing any there) */
void vocab_to_header(const tok_vocab *v, tns_header *h);
/* 0 ok; -1 absent; -2 malformed or hash mismatch (message in err) */
int vocab_from_header(tok_vocab *v, const tns_header *h, char *err, size_t errlen);
/* the H: field of h's @TK line, 0 if none */
uint64_t vocab_header_hash(const tns_header *h);
int vocab_is_special(int id);
/* token as printable text: escapes as in the header */
void vocab_escape(const char *s, int len, char *out, size_t outlen);

#endif
