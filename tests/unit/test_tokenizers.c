/* test_tokenizers.c -- the tokenizer table (tokenizers.h) and the special
 * ids of a vocabulary in the stream header (vocab.h). */
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "tok/kmer.h"
#include "io/tns.h"
#include "tok/tokenizers.h"
#include "tok/vocab.h"

/* an hf-kmer vocabulary of 2-mers with DNABERT's specials, [PAD] first */
static void hf_vocab(tok_vocab *v)
{
	static const char *const sp[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
	vocab_init(v, "hf-kmer");
	for (int i = 0; i < 5; i++) vocab_add(v, sp[i], (int)strlen(sp[i]), "A:s");
	for (const char *a = "ACGT"; *a; a++)
		for (const char *b = "ACGT"; *b; b++) {
			char s[2] = {*a, *b};
			vocab_add(v, s, 2, NULL);
		}
	v->k = 2;
	v->id = (tok_ids){1, 0, 2, 3, 4, 2, 3};
	vocab_finish(v);
}

int main(void)
{
	static const char *const kinds[] = {"kmer", "char", "text-char", "bpe", "hf-kmer", "hf-esm", "hf-bpe"};
	int all = 1;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		const tok_kind *k = tok_kind_find(kinds[i]);
		all &= k && !strcmp(k->kind, kinds[i]) && k->from_vocab && k->encode;
	}
	ok(all, "the table has an entry for each vocabulary kind");
	ok(tok_kind_find("wordpiece") == NULL, "and none for an unknown kind");

	char err[256];
	tok_vocab v, w;
	tokenizer t;
	vocab_init(&v, "wordpiece");
	vocab_add(&v, "x", 1, NULL);
	vocab_finish(&v);
	ok(tokenizer_init(&t, &v, err, sizeof err) == -1 && strstr(err, "unknown vocabulary kind 'wordpiece'"),
	   "an unknown kind is refused by name (%s)", err);

	/* seqtok's 6-mers through the table: kmer_encode's tokens */
	kmer_vocab(&v, 6, 6);
	ok(v.id.pad == TOK_PAD && v.id.mask == TOK_MASK && v.id.beg == TOK_CLS && v.id.end == TOK_SEP &&
	   vocab_is_special(&v, 4) && !vocab_is_special(&v, 5) && vocab_nlead(&v) == 5,
	   "seqlm's own vocabularies have the specials 0..4 and start/end <CLS>/<SEP>");
	ok(tokenizer_init(&t, &v, err, sizeof err) == 0 && t.input == TOKIN_DNA, "seqtok's 6-mers load into the table");
	const char *seq = "ACGTACGTNACGTTGCAAC";
	int32_t ids[64], pos[64], len[64], ids2[64], pos2[64];
	long n = tokenizer_encode(&t, seq, (long)strlen(seq), ids, pos, len);
	long n2 = kmer_encode(6, 6, seq, (long)strlen(seq), ids2, pos2);
	ok(n == n2 && !memcmp(ids, ids2, n * 4) && !memcmp(pos, pos2, n * 4) && len[0] == 6 && len[n - 1] == 1,
	   "its encoder gives kmer_encode's tokens, with their lengths");
	tokenizer_free(&t);

	/* an HF vocabulary's ids travel in the header and come back */
	hf_vocab(&v);
	tns_header h;
	tns_header_init(&h);
	vocab_to_header(&v, &h);
	int found = 0;
	for (int i = 0; i < h.n; i++) found |= strstr(h.line[i], "@TK\tTY:hf-kmer\tN:21\tK:2\tUNK:1\tPAD:0\tCLS:2\tSEP:3\tMASK:4\tBEG:2\tEND:3\tH:") == h.line[i];
	ok(found, "the @TK line of an HF vocabulary names its special ids");
	ok(vocab_from_header(&w, &h, err, sizeof err) == 0 && w.hash == v.hash && w.id.pad == 0 && w.id.unk == 1 &&
	   vocab_is_special(&w, 0) && !vocab_is_special(&w, 5) && vocab_ncontent(&w) == 16,
	   "and read back: same hash, ids and specials");
	vocab_free(&w);
	ok(tokenizer_init(&t, &v, err, sizeof err) == 0, "hf-kmer loads into the table");
	n = tokenizer_encode(&t, "ACGNT", 5, ids, pos, len);
	ok(n == 4 && ids[0] == 5 + 1 && ids[1] == 5 + 6 && ids[2] == 1 && ids[3] == 1 && pos[3] == 3 && len[3] == 2,
	   "overlapping 2-mers, those with N the file's [UNK] (id 1)");
	tokenizer_free(&t);

	/* a tampered id field is caught by the hash; one out of range by name */
	for (int i = 0; i < h.n; i++)
		if (!strncmp(h.line[i], "@TK", 3)) {
			char *p = strstr(h.line[i], "PAD:0");
			p[4] = '5';
		}
	ok(vocab_from_header(&w, &h, err, sizeof err) == -2 && strstr(err, "hash mismatch"), "a changed special id fails the hash");
	for (int i = 0; i < h.n; i++)
		if (!strncmp(h.line[i], "@TK", 3)) {
			char *p = strstr(h.line[i], "PAD:5");
			memcpy(p, "PAD:x", 5);
		}
	ok(vocab_from_header(&w, &h, err, sizeof err) == -2 && strstr(err, "PAD:x"), "a malformed one is named (%s)", err);
	tns_header_free(&h);

	/* @MG lines belong to hf-bpe only */
	kmer_char_vocab(&v);
	tns_header_init(&h);
	vocab_to_header(&v, &h);
	tns_header_add(&h, "@MG\t5\t6");
	ok(vocab_from_header(&w, &h, err, sizeof err) == -2 && strstr(err, "@MG line in a char vocabulary"),
	   "a merge line in another kind is refused");
	tns_header_free(&h);
	vocab_free(&v);
	return done_testing();
}
