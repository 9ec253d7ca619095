/* tokenizers.c -- the tokenizer table (see tokenizers.h) and seqlm's own
 * entries; the Hugging Face entries live in hfenc.c. */
#include "tok/tokenizers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tok/bpe.h"
#include "base/util.h"
#include "tok/hfenc.h"
#include "tok/kmer.h"

/* bytes covered per id: a token's length; a special stands for one byte
 * (the NUL that text BPE maps to <UNK>), as window names always counted */
static int *native_lengths(const tok_vocab *v)
{
	int *l = xmalloc(v->n * sizeof *l);
	for (int i = 0; i < v->n; i++) l[i] = vocab_is_special(v, i) ? 1 : v->len[i];
	return l;
}

static void fill_len(const int *toklen, const int32_t *ids, long n, int32_t *len)
{
	for (long i = 0; i < n; i++) len[i] = toklen[ids[i]];
}

static void free_state(tokenizer *t) { free(t->state); }

/* ---- kmer: seqlm's k-mers (kmer.h) ---- */

static int kmer_from_vocab(tokenizer *t, char *err, size_t errlen)
{
	int k = t->v.k, stride = t->v.stride ? t->v.stride : t->v.k;
	if (k < 1 || k > KMER_MAXK || stride < 1 || stride > k) {
		snprintf(err, errlen, "k-mer vocabulary with K:%d ST:%d (need 1 <= stride <= k <= %d)", k, stride, KMER_MAXK);
		return -1;
	}
	tok_vocab chk;
	kmer_vocab(&chk, k, stride);
	int same = chk.hash == t->v.hash;
	vocab_free(&chk);
	if (!same) { snprintf(err, errlen, "unknown k-mer vocabulary (not seqtok's order)"); return -1; }
	t->state = native_lengths(&t->v);
	return 0;
}

static long kmer_enc(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	int stride = t->v.stride ? t->v.stride : t->v.k;
	long m = kmer_encode(t->v.k, stride, s, n, ids, pos);
	fill_len(t->state, ids, m, len);
	return m;
}

/* ---- char: one token per nucleotide ---- */

static int char_from_vocab(tokenizer *t, char *err, size_t errlen)
{
	tok_vocab chk;
	kmer_char_vocab(&chk);
	int same = chk.hash == t->v.hash;
	vocab_free(&chk);
	if (!same) { snprintf(err, errlen, "unknown nucleotide vocabulary (not seqtok's order)"); return -1; }
	t->state = native_lengths(&t->v);
	return 0;
}

static long char_enc(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	long m = kmer_encode_char(s, n, ids, pos);
	fill_len(t->state, ids, m, len);
	return m;
}

/* ---- text-char: one token per byte, byte b has id 4 + b, NUL <UNK> ---- */

void tok_text_char_vocab(tok_vocab *v)
{
	vocab_init(v, "text-char");
	vocab_add_specials(v);
	for (int b = 1; b < 256; b++) { char c = (char)b; vocab_add(v, &c, 1, NULL); }
	vocab_finish(v);
}

static int textchar_from_vocab(tokenizer *t, char *err, size_t errlen)
{
	tok_vocab chk;
	tok_text_char_vocab(&chk);
	int same = chk.hash == t->v.hash;
	vocab_free(&chk);
	if (!same) { snprintf(err, errlen, "unknown byte vocabulary (not seqtok's order)"); return -1; }
	return 0;
}

static long textchar_enc(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	(void)t;
	for (long i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		ids[i] = c ? TOK_NSPECIAL - 1 + c : TOK_UNK;
		pos[i] = (int32_t)i;
		len[i] = 1;
	}
	return n;
}

/* ---- bpe: seqlm's BPE (bpe.h) ---- */

typedef struct {
	bpe_model m;
	int *toklen;
} bpe_state;

static int bpe_from(tokenizer *t, char *err, size_t errlen)
{
	bpe_state *b = xmalloc(sizeof *b);
	if (bpe_from_vocab(&b->m, &t->v, err, errlen) < 0) { free(b); return -1; }
	b->toklen = native_lengths(&t->v);
	t->state = b;
	t->input = b->m.alphabet == BPE_TEXT ? TOKIN_TEXT : TOKIN_DNA;
	return 0;
}

static long bpe_enc(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	bpe_state *b = t->state;
	long m = b->m.alphabet == BPE_TEXT ? bpe_encode_text(&b->m, s, n, ids, pos)
	                                   : bpe_encode_segment(&b->m, s, n, ids, pos);
	fill_len(b->toklen, ids, m, len);
	return m;
}

static void bpe_free_state(tokenizer *t)
{
	bpe_state *b = t->state;
	if (!b) return;
	bpe_free(&b->m);
	free(b->toklen);
	free(b);
}

/* ---- the table ---- */

static const tok_kind kinds[] = {
	{"kmer", kmer_from_vocab, kmer_enc, free_state, TOKIN_DNA},
	{"char", char_from_vocab, char_enc, free_state, TOKIN_DNA},
	{"text-char", textchar_from_vocab, textchar_enc, NULL, TOKIN_TEXT},
	{"bpe", bpe_from, bpe_enc, bpe_free_state, TOKIN_BOTH},    /* the vocabulary's alphabet decides */
	{"hf-kmer", hfkmer_from_vocab, hfkmer_encode, hfenc_free, TOKIN_DNA},
	{"hf-esm", hfesm_from_vocab, hfesm_encode, hfenc_free, TOKIN_DNA},
	{"hf-bpe", hfbpe_from_vocab, hfbpe_encode, hfbpe_free, TOKIN_BOTH},
};

const tok_kind *tok_kind_find(const char *kind)
{
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strcmp(kinds[i].kind, kind) == 0) return &kinds[i];
	return NULL;
}

int tokenizer_init(tokenizer *t, tok_vocab *v, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->v = *v;
	memset(v, 0, sizeof *v);
	t->kind = tok_kind_find(t->v.kind);
	if (!t->kind) {
		snprintf(err, errlen, "unknown vocabulary kind '%s'", t->v.kind);
		vocab_free(&t->v);
		return -1;
	}
	t->input = t->kind->input;
	t->expand = 1;
	if (t->kind->from_vocab(t, err, errlen) < 0) {
		t->state = NULL;
		vocab_free(&t->v);
		return -1;
	}
	return 0;
}

long tokenizer_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	return t->kind->encode(t, s, n, ids, pos, len);
}

void tokenizer_free(tokenizer *t)
{
	if (t->kind && t->kind->free) t->kind->free(t);
	vocab_free(&t->v);
	memset(t, 0, sizeof *t);
}
