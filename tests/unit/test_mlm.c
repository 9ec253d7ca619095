/* test_mlm.c -- the training mask: rates, specials untouched, keyed
 * determinism. */
#include <string.h>
#include "tap.h"
#include "model/mlm.h"
#include "tok/vocab.h"
#include "vocabfix.h"


int main(void)
{
	enum { T = 128, V = 100, R = 2000 };
	int32_t tok[T], in[T], lab[T], in2[T], lab2[T];
	tok_vocab voc;
	const mlm_rule bert = MLM_RULE_BERT(0.15);
	native_vocab(&voc, V);
	long sel = 0, nonspec = 0, nmask = 0, nrand = 0, nsame = 0, special_touched = 0, bad_rand = 0;
	for (int r = 0; r < R; r++) {
		for (int t = 0; t < T; t++)
			tok[t] = t == 0 ? TOK_CLS : t == 100 ? TOK_SEP : t > 100 ? TOK_PAD : t == 50 ? TOK_UNK : 5 + (r * 31 + t * 7) % (V - 5);
		int n = mlm_mask(&voc, tok, T, 1, 7, r, &bert, in, lab);
		sel += n;
		for (int t = 0; t < T; t++) {
			if (tok[t] < TOK_NSPECIAL) {
				if (lab[t] != -1 || in[t] != tok[t]) special_touched++;
				continue;
			}
			nonspec++;
			if (lab[t] < 0) { if (in[t] != tok[t]) special_touched++; continue; }
			if (lab[t] != tok[t]) bad_rand++;
			if (in[t] == TOK_MASK) nmask++;
			else if (in[t] == tok[t]) nsame++;
			else { nrand++; if (in[t] < TOK_NSPECIAL || in[t] >= V) bad_rand++; }
		}
	}
	double f = (double)sel / nonspec;
	ok(f > 0.145 && f < 0.155, "15%% of non-special positions selected (%.4f)", f);
	ok(special_touched == 0, "special positions and unselected positions are never changed");
	ok(fabs((double)nmask / sel - 0.8) < 0.01, "80%% of selected become <MASK> (%.4f)", (double)nmask / sel);
	ok(fabs((double)nrand / sel - 0.1) < 0.01, "about 10%% become another token (%.4f)", (double)nrand / sel);
	ok(fabs((double)nsame / sel - 0.1) < 0.01, "about 10%% stay unchanged (%.4f)", (double)nsame / sel);
	ok(bad_rand == 0, "labels are the original tokens, random tokens are non-special ids below V");
	mlm_mask(&voc, tok, T, 1, 7, 3, &bert, in, lab);
	mlm_mask(&voc, tok, T, 1, 7, 3, &bert, in2, lab2);
	ok(!memcmp(in, in2, sizeof in) && !memcmp(lab, lab2, sizeof lab), "same key, same mask");
	mlm_mask(&voc, tok, T, 2, 7, 3, &bert, in2, lab2);
	ok(memcmp(lab, lab2, sizeof lab) != 0, "another seed, another mask");
	mlm_mask(&voc, tok, T, 1, 8, 3, &bert, in2, lab2);
	ok(memcmp(lab, lab2, sizeof lab) != 0, "another step, another mask");
	/* other rules (lmtrain --mask-replace-prob, --random-replace-prob):
	 * the same positions selected, in the proportions asked */
	const mlm_rule rules[] = { { 0.15, 1, 0 }, { 0.15, 0, 1 }, { 0.15, 0.5, 0.4 }, { 0.15, 0, 0 } };
	for (int k = 0; k < 4; k++) {
		long km = 0, kr = 0, ks = 0, kn = 0, same_sel = 1;
		for (int r = 0; r < R; r++) {
			for (int t = 0; t < T; t++) tok[t] = 5 + (r * 31 + t * 7) % (V - 5);
			mlm_mask(&voc, tok, T, 1, 7, r, &bert, in, lab);
			kn += mlm_mask(&voc, tok, T, 1, 7, r, &rules[k], in2, lab2);
			same_sel &= !memcmp(lab, lab2, sizeof lab);
			for (int t = 0; t < T; t++) {
				if (lab2[t] < 0) continue;
				if (in2[t] == TOK_MASK) km++;
				else if (in2[t] == tok[t]) ks++;
				else kr++;
			}
		}
		/* a random token equal to the original (1 in 95) counts as kept */
		double fm = (double)km / kn, fr = (double)kr / kn, fs = (double)ks / kn, want_r = rules[k].random * 94 / 95;
		ok(same_sel && fabs(fm - rules[k].mask) < 0.01 && fabs(fr - want_r) < 0.012 &&
		   fabs(fs - (1 - rules[k].mask - want_r)) < 0.012,
		   "rule mask %.1f random %.1f: the same positions, %.4f <MASK>, %.4f random, %.4f kept", rules[k].mask,
		   rules[k].random, fm, fr, fs);
	}
	vocab_free(&voc);

	/* an HF vocabulary: specials where its files put them (here [PAD] 0,
	 * [MASK] 7, [UNK] 9, [CLS] 10, [SEP] 11 of 12) */
	tok_vocab hf;
	vocab_init(&hf, "hf-kmer");
	for (int i = 0; i < 12; i++) {
		char s[16];
		int sp = i == 0 || i == 7 || i >= 9;
		vocab_add(&hf, s, snprintf(s, sizeof s, "w%d", i), sp ? "A:s" : NULL);
	}
	hf.id = (tok_ids){9, 0, 10, 11, 7, 10, 11};
	vocab_finish(&hf);
	long hmask = 0, hrand_bad = 0, hspecial = 0, hrand = 0;
	for (int r = 0; r < 500; r++) {
		for (int t = 0; t < T; t++) tok[t] = t == 0 ? 10 : t == 100 ? 11 : t > 100 ? 0 : 1 + (r + t) % 6;
		mlm_mask(&hf, tok, T, 1, 7, r, &bert, in, lab);
		for (int t = 0; t < T; t++) {
			if (vocab_is_special(&hf, tok[t])) { hspecial += lab[t] != -1 || in[t] != tok[t]; continue; }
			if (lab[t] < 0) continue;
			if (in[t] == 7) hmask++;
			else if (in[t] != tok[t]) { hrand++; hrand_bad += vocab_is_special(&hf, in[t]); }
		}
	}
	ok(hmask > 0 && hspecial == 0, "an HF vocabulary's mask id (7) is used and its specials (0, 9, 10, 11) stay untouched");
	ok(hrand > 0 && hrand_bad == 0, "random replacements are the HF vocabulary's non-special ids (%ld drawn)", hrand);
	vocab_free(&hf);
	return done_testing();
}
