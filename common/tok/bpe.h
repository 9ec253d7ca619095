/* bpe.h -- byte-pair encoding: training with incremental pair counts and a
 * lazy max-heap, and an encoder that gives exactly the tokens of applying
 * the learned merges in order (each merge left to right, non-overlapping).
 *
 * Two alphabets.  DNA (BPE_DNA): the normalised bases A C G T N, ids 5..9,
 * and merges run along the whole segment (there is no whitespace).  Text
 * (BPE_TEXT): the bytes 1..255, byte b has id 4 + b (NUL is <UNK>); text is
 * first pre-split into pieces and merges never cross a piece boundary.  The
 * pre-split is GPT-2's rule without its English contractions:
 *     ' '? letters+ | ' '? digits+ | ' '? other+ | whitespace+
 * where bytes >= 0x80 count as letters (so UTF-8 words stay whole) and a
 * whitespace run leaves its last space to the piece that follows it.
 * Merged tokens follow the alphabet: merge r (from 0) has id
 * 5 + alphabet size + r.  Ties between pairs of equal count go to the
 * smaller (left id, right id). */
#ifndef SEQLM_BPE_H
#define SEQLM_BPE_H

#include <stdint.h>
#include "tok/vocab.h"

enum { BPE_DNA = 0, BPE_TEXT = 1 };

typedef struct {
	int alphabet;                 /* BPE_DNA or BPE_TEXT */
	int n;                        /* vocabulary size */
	int ncap;                     /* allocated ids of left/right */
	int n_base;                   /* first merged id */
	int32_t *left, *right;        /* per id; -1 for specials and the alphabet */
	int32_t *tlen;                /* per id: bytes it stands for (0 for specials) */
	int32_t byte_id[256];         /* input byte -> alphabet id */
	/* pair (left, right) -> merged id, open addressing */
	uint64_t *hkey;
	int32_t *hval;
	uint32_t hmask;
	struct bpe_cache *cache;      /* text: tokens of recently seen pieces */
	/* encoder scratch, grown as needed */
	int32_t *sym, *nxt, *prv, *pm;    /* per position */
	int32_t *epos, *enext;            /* bucket entries */
	int32_t *head, *tail;             /* per merged id: its bucket */
	uint64_t *bits;                   /* non-empty buckets */
	long cap;
	int vcap;
} bpe_model;

/* a model with the alphabet only (no merges) */
void bpe_init(bpe_model *m, int alphabet);
void bpe_free(bpe_model *m);
/* appends merge (l, r); returns the new id */
int bpe_add_merge(bpe_model *m, int l, int r);
/* merged id of the pair, -1 if none */
int bpe_lookup(const bpe_model *m, int l, int r);
/* vocabulary of kind "bpe" with "\tAL:dna|text" and "L:<id>\tR:<id>" extras */
void bpe_to_vocab(const bpe_model *m, tok_vocab *v);
/* 0 ok, -1 (message in err) if v is not a well-formed bpe vocabulary */
int bpe_from_vocab(bpe_model *m, const tok_vocab *v, char *err, size_t errlen);

/* Encodes one segment (DNA: a normalised sequence piece; text: one
 * pre-split piece) of n bytes.  Writes at most n ids, pos[i] = first byte of
 * token i (pos may be NULL).  Returns the number of tokens. */
long bpe_encode_segment(bpe_model *m, const char *s, long n, int32_t *ids, int32_t *pos);

/* Encodes a whole text document: pre-split, then each piece (through a
 * cache of recent pieces, which is what makes text fast).  Same contract as
 * bpe_encode_segment. */
long bpe_encode_text(bpe_model *m, const char *s, long n, int32_t *ids, int32_t *pos);

/* text pre-split: length of the piece starting at s[0] (1..n) */
long bpe_piece_len(const char *s, long n);

/* ---- training ---- */
typedef struct bpe_trainer bpe_trainer;
bpe_trainer *bpe_trainer_new(int alphabet);
/* DNA: one normalised segment; text: one document, pre-split here */
void bpe_trainer_add(bpe_trainer *t, const char *s, long n);
uint64_t bpe_trainer_bytes(const bpe_trainer *t);
/* Learns merges until m has vocab_size ids or no pair occurs twice.
 * m must come from bpe_init with the trainer's alphabet.  Returns the number
 * of merges learned. */
int bpe_train(bpe_trainer *t, int vocab_size, bpe_model *m);
/* the training corpus as segmented by the merges learned (for tests):
 * calls f for each segment/piece with its token ids */
void bpe_trainer_foreach(const bpe_trainer *t,
                         void (*f)(void *ctx, const int32_t *ids, long n, long count), void *ctx);
void bpe_trainer_free(bpe_trainer *t);

#endif
