/* test_evalmask.c -- the analysis mask is seeded, per record, and fair. */
#include <string.h>
#include "tap.h"
#include "model/evalmask.h"
#include "tok/vocab.h"
#include "vocabfix.h"


int main(void)
{
	int32_t tok[512], pos[512], pos2[512], masked[512];
	long chosen = 0, eligible = 0;
	tok_vocab voc;
	native_vocab(&voc, 42);
	for (int t = 0; t < 512; t++) tok[t] = t == 0 ? TOK_CLS : t > 400 ? TOK_PAD : t == 400 ? TOK_SEP : 5 + t % 37;
	int P = evalmask_select(&voc, 7, "chr1:1-2000", tok, 512, 0.10, pos);
	int P2 = evalmask_select(&voc, 7, "chr1:1-2000", tok, 512, 0.10, pos2);
	ok(P == P2 && memcmp(pos, pos2, P * sizeof *pos) == 0, "the same seed and record give the same mask");
	int special = 0, sorted = 1;
	for (int i = 0; i < P; i++) {
		special |= vocab_is_special(&voc, tok[pos[i]]);
		if (i) sorted &= pos[i] > pos[i - 1];
	}
	ok(!special, "special and pad positions are never masked");
	ok(sorted, "positions come in ascending order");
	P2 = evalmask_select(&voc, 7, "chr1:2001-4000", tok, 512, 0.10, pos2);
	ok(P != P2 || memcmp(pos, pos2, P * sizeof *pos) != 0, "another record name gives another mask");
	P2 = evalmask_select(&voc, 8, "chr1:1-2000", tok, 512, 0.10, pos2);
	ok(P != P2 || memcmp(pos, pos2, P * sizeof *pos) != 0, "another seed gives another mask");
	for (int r = 0; r < 2000; r++) {
		char name[32];
		snprintf(name, sizeof name, "s:%d", r);
		chosen += evalmask_select(&voc, 1, name, tok, 512, 0.15, pos2);
		eligible += 399;
	}
	double frac = (double)chosen / eligible;
	ok(frac > 0.147 && frac < 0.153, "the masked fraction is q (%.4f for q = 0.15)", frac);
	evalmask_apply(&voc, tok, 512, pos, P, masked);
	int good = 1;
	for (int t = 0, i = 0; t < 512; t++) {
		if (i < P && pos[i] == t) { good &= masked[t] == TOK_MASK; i++; }
		else good &= masked[t] == tok[t];
	}
	ok(good, "apply puts <MASK> at the chosen positions and nowhere else");
	ok(evalmask_select(&voc, 1, "x", tok, 512, 0.0, pos) == 0 && evalmask_select(&voc, 1, "x", tok, 512, 1.0, pos) == 399,
	   "q = 0 masks nothing, q = 1 every eligible position");
	vocab_free(&voc);

	/* an HF vocabulary whose specials are [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 40 */
	tok_vocab hf;
	vocab_init(&hf, "hf-kmer");
	for (int i = 0; i < 42; i++) {
		char s[16];
		vocab_add(&hf, s, snprintf(s, sizeof s, "w%d", i), i < 4 || i == 40 ? "A:s" : NULL);
	}
	hf.id = (tok_ids){1, 0, 2, 3, 40, 2, 3};
	vocab_finish(&hf);
	for (int t = 0; t < 512; t++) tok[t] = t == 0 ? 2 : t > 400 ? 0 : t == 400 ? 3 : t == 200 ? 1 : 4 + t % 36;
	P = evalmask_select(&hf, 1, "x", tok, 512, 1.0, pos);
	evalmask_apply(&hf, tok, 512, pos, P, masked);
	good = P == 398;
	for (int t = 0; t < 512; t++) good &= masked[t] == ((t > 0 && t < 400 && t != 200) ? 40 : tok[t]);
	ok(good, "with an HF vocabulary its own specials (ids 0..3) stay and its mask id (40) is put");
	vocab_free(&hf);
	return done_testing();
}
