/* hfenc.c -- hf-kmer and hf-esm encoders (see hfenc.h); hf-bpe is in
 * hfbpe.c.  The HF sources each rule follows are cited where it is coded. */
#include "tok/hfenc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "base/strmap.h"

/* shared by hf-kmer and hf-esm: the vocabulary's tokens by string */
typedef struct {
	strmap map;
	int k;                        /* hf-kmer: k */
	int lc;                       /* hf-kmer: lowercase the k-mers first */
	int nlen, lens[8];            /* hf-esm: token lengths, longest first */
} hf_state;

void hfenc_free(tokenizer *t)
{
	hf_state *h = t->state;
	if (!h) return;
	strmap_free(&h->map);
	free(h);
	t->state = NULL;
}

static hf_state *state_new(const tok_vocab *v, int skip_special)
{
	hf_state *h = xmalloc(sizeof *h);
	memset(h, 0, sizeof *h);
	strmap_init(&h->map);
	for (int i = 0; i < v->n; i++)
		if (!(skip_special && v->special[i])) strmap_put(&h->map, v->tok[i], v->len[i], i);
	return h;
}

/* ---- hf-kmer ---------------------------------------------------------
 * DNABERT feeds BertTokenizer the sequence as space-separated overlapping
 * k-mers (DNABERT's seq2kmer: [seq[x:x+k] for x in range(len(seq)+1-k)]).
 * BertTokenizer (transformers models/bert/tokenization_bert.py) splits on
 * whitespace (BasicTokenizer.tokenize; lowercasing when do_lower_case),
 * then WordpieceTokenizer.tokenize: a word found whole in the vocabulary is
 * that token; otherwise it looks for the longest vocabulary prefix and then
 * "##"-pieces, and with no "##" tokens in a k-mer vocabulary (hftok refuses
 * those) any word not found whole is [UNK] (is_bad -> unk_token).  So: each
 * k-mer its id or unk.  A sequence shorter than k has no k-mer: no tokens. */

int hfkmer_from_vocab(tokenizer *t, char *err, size_t errlen)
{
	const tok_vocab *v = &t->v;
	char buf[8];
	if (v->k < 1 || v->k > 64) { snprintf(err, errlen, "hf-kmer vocabulary with K:%d (1..64)", v->k); return -1; }
	if (v->id.unk < 0) { snprintf(err, errlen, "hf-kmer vocabulary without an unknown token"); return -1; }
	hf_state *h = state_new(v, 1);
	h->k = v->k;
	h->lc = tns_line_field(v->params, "LC", buf, sizeof buf) && strcmp(buf, "1") == 0;
	t->state = h;
	return 0;
}

long hfkmer_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	hf_state *h = t->state;
	int k = h->k;
	char w[64];
	long m = 0;
	for (long i = 0; i + k <= n; i++) {
		const char *p = s + i;
		if (h->lc) {
			for (int j = 0; j < k; j++) w[j] = (char)tolower((unsigned char)p[j]);
			p = w;
		}
		int id = strmap_get(&h->map, p, k);
		ids[m] = id >= 0 ? id : t->v.id.unk;
		pos[m] = (int32_t)i;
		len[m++] = k;
	}
	return m;
}

/* ---- hf-esm ----------------------------------------------------------
 * EsmTokenizer (transformers models/esm/tokenization_esm.py, __init__):
 * unique_no_split_tokens = all_tokens, so the added-tokens Trie
 * (tokenization_utils.py, Trie.split) cuts the text at every vocabulary
 * token: scanning left to right, once a partial match is a whole token it
 * looks ahead for the longest token from the earliest start ("This trie
 * will match the longest possible word first"), cuts it, and restarts
 * after it.  With A C G T single tokens (hftok checks) every base starts a
 * match that is decided one byte later, so the cut is the longest token at
 * each position, left to right.  Text between cuts goes to _tokenize
 * (text.split()) and an unknown word to <unk>: a run of bytes starting no
 * token (e.g. N when N is not a token) is one <unk>. */

int hfesm_from_vocab(tokenizer *t, char *err, size_t errlen)
{
	const tok_vocab *v = &t->v;
	if (v->id.unk < 0) { snprintf(err, errlen, "hf-esm vocabulary without an unknown token"); return -1; }
	hf_state *h = state_new(v, 0);
	for (const char *b = "ACGT"; *b; b++)
		if (strmap_get(&h->map, b, 1) < 0) {
			snprintf(err, errlen, "hf-esm vocabulary without the single-base token %c (the greedy match needs A C G T)", *b);
			strmap_free(&h->map);
			free(h);
			return -1;
		}
	for (int i = 0; i < v->n; i++) {
		int l = v->len[i], j;
		for (j = 0; j < h->nlen && h->lens[j] != l; j++) {}
		if (j < h->nlen) continue;
		if (h->nlen == (int)(sizeof h->lens / sizeof *h->lens)) {
			snprintf(err, errlen, "hf-esm vocabulary with tokens of more than %d lengths", h->nlen);
			strmap_free(&h->map);
			free(h);
			return -1;
		}
		h->lens[h->nlen++] = l;
	}
	for (int i = 1; i < h->nlen; i++)           /* longest first */
		for (int j = i; j > 0 && h->lens[j] > h->lens[j - 1]; j--) {
			int x = h->lens[j]; h->lens[j] = h->lens[j - 1]; h->lens[j - 1] = x;
		}
	t->state = h;
	return 0;
}

/* the longest token at s[0..n), its id (length in *l), or -1 */
static int longest(const hf_state *h, const char *s, long n, int *l)
{
	for (int j = 0; j < h->nlen; j++) {
		if (h->lens[j] > n) continue;
		int id = strmap_get(&h->map, s, h->lens[j]);
		if (id >= 0) { *l = h->lens[j]; return id; }
	}
	return -1;
}

long hfesm_encode(tokenizer *t, const char *s, long n, int32_t *ids, int32_t *pos, int32_t *len)
{
	hf_state *h = t->state;
	long m = 0, i = 0;
	while (i < n) {
		int l, id = longest(h, s + i, n - i, &l);
		if (id >= 0) {
			ids[m] = id, pos[m] = (int32_t)i, len[m++] = l;
			i += l;
			continue;
		}
		long j = i + 1;
		while (j < n && longest(h, s + j, n - j, &l) < 0) j++;
		ids[m] = t->v.id.unk, pos[m] = (int32_t)i, len[m++] = (int32_t)(j - i);
		i = j;
	}
	return m;
}
