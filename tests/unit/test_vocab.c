/* test_vocab.c -- vocabularies in stream headers (vocab.h): written and
 * read back unchanged (tokens with any byte, extras, k-mer parameters,
 * Hugging Face special ids and merges), the hash that identifies them, and
 * the errors a damaged header gives. */
#include <stdlib.h>
#include <string.h>
#include "tok/vocab.h"
#include "tok/kmer.h"
#include "tap.h"

static int same_vocab(const tok_vocab *a, const tok_vocab *b)
{
	if (strcmp(a->kind, b->kind) || a->n != b->n || a->k != b->k || a->stride != b->stride || a->hash != b->hash ||
	    a->nmerge != b->nmerge || memcmp(&a->id, &b->id, sizeof a->id) || strcmp(a->params, b->params))
		return 0;
	for (int i = 0; i < a->n; i++) {
		if (a->len[i] != b->len[i] || memcmp(a->tok[i], b->tok[i], a->len[i])) return 0;
		const char *ea = a->extra ? a->extra[i] : NULL, *eb = b->extra ? b->extra[i] : NULL;
		if (strcmp(ea ? ea : "", eb ? eb : "")) return 0;
		if (a->special[i] != b->special[i]) return 0;
	}
	return a->nmerge == 0 || memcmp(a->merge, b->merge, 2 * sizeof *a->merge * a->nmerge) == 0;
}

/* v through a header and back: 0 and *back, or the reader's code */
static int round_trip(const tok_vocab *v, tok_vocab *back, tns_header *h, char *err, size_t elen)
{
	tns_header_init(h);
	tns_header_add(h, "@HD\tVN:1");
	vocab_to_header(v, h);
	return vocab_from_header(back, h, err, elen);
}

static void test_native(void)
{
	tok_vocab v, b;
	tns_header h;
	char err[256];
	vocab_init(&v, "bpe");
	vocab_add_specials(&v);
	static const char *odd[] = {"a", "\t", "\n", "\\", "x y", "\\t", "\xc3\xa9", "\x01"};
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) vocab_add(&v, odd[i], (int)strlen(odd[i]), NULL);
	vocab_add(&v, "a\t", 2, "L:5\tR:6");
	vocab_finish(&v);
	int rc = round_trip(&v, &b, &h, err, sizeof err);
	ok(rc == 0 && same_vocab(&v, &b), "bpe: tokens with tab, newline, backslash, UTF-8 and control bytes, extras: read back unchanged");
	if (rc) diag("%s", err);
	ok(vocab_header_hash(&h) == v.hash && v.hash != 0, "the @TK line carries the hash");
	ok(b.id.pad == TOK_PAD && b.id.mask == TOK_MASK && vocab_is_special(&b, TOK_CLS) && !vocab_is_special(&b, 5),
	   "a native vocabulary has the five specials as ids 0..4");
	ok(vocab_ncontent(&b) == b.n - TOK_NSPECIAL && vocab_nlead(&b) == TOK_NSPECIAL, "content ids follow the specials");
	vocab_free(&b);

	/* a changed token no longer matches the hash */
	for (int i = 0; i < h.n; i++)
		if (strcmp(h.line[i], "@VO\ta") == 0) { h.line[i][4] = 'b'; break; }
	rc = vocab_from_header(&b, &h, err, sizeof err);
	ok(rc == -2 && strstr(err, "vocabulary hash mismatch (header says "), "an edited token is a hash mismatch (-2)");
	vocab_free(&b);
	tns_header_free(&h);

	tok_vocab w;
	vocab_init(&w, "bpe");
	vocab_add_specials(&w);
	vocab_add(&w, "b", 1, NULL);
	vocab_finish(&w);
	ok(w.hash != v.hash, "different tokens, different hash");
	vocab_free(&w);
	vocab_free(&v);
}

static void test_kmer(void)
{
	tok_vocab v, b;
	tns_header h;
	char err[256];
	kmer_vocab(&v, 3, 1);
	int rc = round_trip(&v, &b, &h, err, sizeof err);
	ok(rc == 0 && same_vocab(&v, &b) && b.k == 3 && b.stride == 1 && b.n == 10 + 64, "kmer k=3 stride 1: 74 ids, K and ST read back");
	vocab_free(&b);
	tns_header_free(&h);
	tok_vocab c;
	kmer_vocab(&c, 3, 3);
	ok(c.hash != v.hash, "the stride is part of the hash");
	vocab_free(&c);
	vocab_free(&v);
}

static void test_hf(void)
{
	tok_vocab v, b;
	tns_header h;
	char err[256];
	vocab_init(&v, "hf-bpe");
	const char *t[] = {"<s>", "</s>", "<unk>", "a", "b", "ab"};
	for (int i = 0; i < 6; i++) vocab_add(&v, t[i], (int)strlen(t[i]), i < 3 ? "A:s" : NULL);
	v.id = (tok_ids){.unk = 2, .pad = -1, .cls = 0, .sep = 1, .mask = -1, .beg = 0, .end = 1};
	vocab_add_merge(&v, 3, 4);
	vocab_finish(&v);
	int rc = round_trip(&v, &b, &h, err, sizeof err);
	ok(v.special[0] && v.special[2] && !v.special[3], "hf-bpe: the tokens flagged A:s are special");
	ok(rc == 0 && same_vocab(&v, &b), "hf-bpe: special ids, added-token flags and merges read back");
	if (rc) diag("%s", err);
	ok(vocab_nlead(&b) == 3 && !vocab_is_native(&b), "its specials are a leading block of 3; not a native kind");
	vocab_free(&b);
	tns_header_free(&h);
	vocab_free(&v);
}

static void test_errors(void)
{
	tok_vocab b;
	tns_header h;
	char err[256];
	tns_header_init(&h);
	tns_header_add(&h, "@HD\tVN:1");
	ok(vocab_from_header(&b, &h, err, sizeof err) == -1 && strstr(err, "no tokenizer vocabulary (@TK line)"),
	   "no @TK line: absent (-1)");
	tns_header_add(&h, "@TK\tTY:char\tN:3\tH:0000000000000000");
	tns_header_add(&h, "@VO\t<UNK>");
	int rc = vocab_from_header(&b, &h, err, sizeof err);
	ok(rc == -2 && strstr(err, "vocabulary says 3 tokens, header has 1 @VO lines"), "a short vocabulary is malformed (-2)");
	if (rc != -2) diag("rc %d: %s", rc, err);
	vocab_free(&b);
	tns_header_free(&h);

	tok_vocab v;
	kmer_char_vocab(&v);
	tns_header_init(&h);
	vocab_to_header(&v, &h);
	for (int i = 0; i < h.n; i++)
		if (strcmp(h.line[i], "@VO\t<PAD>") == 0) { free(h.line[i]); h.line[i] = strdup("@VO\t<PAX>"); }
	rc = vocab_from_header(&b, &h, err, sizeof err);
	ok(rc == -2 && strstr(err, "vocabulary token 1 is not"), "a native vocabulary whose id 1 is not <PAD> is refused");
	if (rc != -2) diag("rc %d: %s", rc, err);
	vocab_free(&b);
	tns_header_free(&h);
	vocab_free(&v);

	char out[64];
	vocab_escape("a\tb\n\\", 5, out, sizeof out);
	ok(strcmp(out, "a\\tb\\n\\\\") == 0, "vocab_escape: tab, newline and backslash escaped");
}

int main(void)
{
	test_native();
	test_kmer();
	test_hf();
	test_errors();
	return done_testing();
}
