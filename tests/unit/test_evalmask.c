/* test_evalmask.c -- the analysis mask is seeded, per record, and fair. */
#include <string.h>
#include "tap.h"
#include "evalmask.h"
#include "vocab.h"

int main(void)
{
	int32_t tok[512], pos[512], pos2[512], masked[512];
	long chosen = 0, eligible = 0;
	for (int t = 0; t < 512; t++) tok[t] = t == 0 ? TOK_CLS : t > 400 ? TOK_PAD : t == 400 ? TOK_SEP : 5 + t % 37;
	int P = evalmask_select(7, "chr1:1-2000", tok, 512, 0.10, pos);
	int P2 = evalmask_select(7, "chr1:1-2000", tok, 512, 0.10, pos2);
	ok(P == P2 && memcmp(pos, pos2, P * sizeof *pos) == 0, "the same seed and record give the same mask");
	int special = 0, sorted = 1;
	for (int i = 0; i < P; i++) {
		special |= vocab_is_special(tok[pos[i]]);
		if (i) sorted &= pos[i] > pos[i - 1];
	}
	ok(!special, "special and pad positions are never masked");
	ok(sorted, "positions come in ascending order");
	P2 = evalmask_select(7, "chr1:2001-4000", tok, 512, 0.10, pos2);
	ok(P != P2 || memcmp(pos, pos2, P * sizeof *pos) != 0, "another record name gives another mask");
	P2 = evalmask_select(8, "chr1:1-2000", tok, 512, 0.10, pos2);
	ok(P != P2 || memcmp(pos, pos2, P * sizeof *pos) != 0, "another seed gives another mask");
	for (int r = 0; r < 2000; r++) {
		char name[32];
		snprintf(name, sizeof name, "s:%d", r);
		chosen += evalmask_select(1, name, tok, 512, 0.15, pos2);
		eligible += 399;
	}
	double frac = (double)chosen / eligible;
	ok(frac > 0.147 && frac < 0.153, "the masked fraction is q (%.4f for q = 0.15)", frac);
	evalmask_apply(tok, 512, pos, P, masked);
	int good = 1;
	for (int t = 0, i = 0; t < 512; t++) {
		if (i < P && pos[i] == t) { good &= masked[t] == TOK_MASK; i++; }
		else good &= masked[t] == tok[t];
	}
	ok(good, "apply puts <MASK> at the chosen positions and nowhere else");
	ok(evalmask_select(1, "x", tok, 512, 0.0, pos) == 0 && evalmask_select(1, "x", tok, 512, 1.0, pos) == 399,
	   "q = 0 masks nothing, q = 1 every eligible position");
	return done_testing();
}
