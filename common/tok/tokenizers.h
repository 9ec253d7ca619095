/* tokenizers.h -- the tokenizer table: one entry per vocabulary kind (the
 * TY: field of the @TK header line), {kind, from_vocab, encode, free}.
 * A program holding a vocabulary looks its kind up here and gets the rule
 * that turns bytes into that vocabulary's ids; adding a tokenizer is adding
 * one entry (tokenizers.c) and its functions.
 *
 * seqlm's own kinds: kmer, char (kmer.h), bpe (bpe.h), text-char (one token
 * per byte).  Hugging Face kinds (hftok.h, hfenc.h): hf-kmer (DNABERT
 * vocab.txt, overlapping k-mers), hf-esm (Nucleotide Transformer vocab.txt,
 * greedy longest match), hf-bpe (tokenizer.json BPE). */
#ifndef SEQLM_TOKENIZERS_H
#define SEQLM_TOKENIZERS_H

#include <stddef.h>
#include <stdint.h>
#include "tok/vocab.h"

/* what a tokenizer reads */
enum { TOKIN_DNA = 1, TOKIN_TEXT = 2, TOKIN_BOTH = 3 };

typedef struct tokenizer tokenizer;

typedef struct {
	const char *kind;
	/* checks t->v and builds t->state; 0 ok, -1 with err */
	int (*from_vocab)(tokenizer *t, char *err, size_t errlen);
	/* tokens of s[0..n) (a normalised DNA piece or one text document):
	 * ids, first byte and bytes covered of each; at most t->expand * n + 1
	 * of them; returns their number */
	long (*encode)(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len);
	void (*free)(tokenizer *t);
	int input;                    /* TOKIN_* */
} tok_kind;

struct tokenizer {
	const tok_kind *kind;
	tok_vocab v;                  /* owned */
	void *state;                  /* the entry's */
	int input;                    /* TOKIN_DNA or TOKIN_TEXT once chosen */
	int expand;                   /* most tokens per input byte (capacity) */
};

/* the entry for a vocabulary kind, NULL if none */
const tok_kind *tok_kind_find(const char *kind);
/* Takes over *v (left empty, also on failure) and prepares its tokenizer.
 * 0 ok; -1 (message in err) for an unknown kind or a vocabulary its
 * tokenizer cannot use. */
int tokenizer_init(tokenizer *t, tok_vocab *v, char *err, size_t errlen);
/* ids/pos/len must hold tokenizer_capacity(t, n) entries */
long tokenizer_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len);
/* inline: a kind's encoder (hfbpe.c) sizes its buffers with it, and the
 * table in tokenizers.c calls the encoders, so a call would make a circle */
static inline long tokenizer_capacity(const tokenizer *t, long n) { return t->expand * n + 1; }
void tokenizer_free(tokenizer *t);

/* seqlm's text-char vocabulary: the five specials, then bytes 1..255 */
void tok_text_char_vocab(tok_vocab *v);

#endif
