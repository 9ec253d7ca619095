/* test_bert_determinism.c -- training is bitwise reproducible across thread
 * counts: 3 steps (MLM masks, dropout, clipping, AdamW) with 1, 2 and 3
 * threads give identical parameter bytes; and a different seed does not.
 * Also: the inference forward that runs the last layer at chosen rows only
 * (bert_forward_rows) gives the full forward's probabilities there. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "bertcheck.h"
#include "model/bert.h"
#include "model/mlm.h"
#include "model/adamw.h"
#include "base/rng.h"
#include "base/mm.h"

enum { V = 64, B = 8, T = 40 };

/* a small model of L layers, d = 64, initialised from seed; products in
 * bf16 if bf16 (bert_set_precision) */
static void small_model(bert_model *m, int layers, int nthreads, uint64_t seed, int bf16)
{
	bert_config c;
	bert_config_named(&c, "4M", V);
	c.layers = layers, c.hidden = 64, c.heads = 4, c.ffn = 128, c.max_pos = 64;
	bert_init(m, &c);
	bert_set_threads(m, nthreads);
	bert_init_weights(m, seed);
	if (bert_set_precision(m, bf16)) abort();
}

static uint64_t train(int nthreads, uint64_t seed, int bf16)
{
	tok_vocab voc;                /* seqlm's specials 0..4, then V-5 tokens */
	vocab_init(&voc, "char");
	vocab_add_specials(&voc);
	for (int i = TOK_NSPECIAL; i < V; i++) vocab_add(&voc, "x", 1, NULL);
	vocab_finish(&voc);
	bert_model m;
	small_model(&m, 2, nthreads, seed, bf16);
	bert_alloc_grads(&m);
	adamw opt;
	adamw_init(&opt, m.n);
	opt.nthreads = nthreads;
	bert_acts *a = bert_acts_new(&m, B, T, 1);
	int32_t tok[B * T], in[B * T], lab[B * T];
	for (int step = 0; step < 3; step++) {
		for (int b = 0; b < B; b++) {
			int len = T - 3 * b;
			for (int t = 0; t < T; t++) {
				uint64_t h = rng_hash4(99, step, b, t);
				tok[b * T + t] = t == 0 ? 2 : t == len - 1 ? 3 : t >= len ? 1 : 5 + (int)rng_below(h, V - 5);
			}
			mlm_mask(&voc, tok + b * T, T, seed, step, b, &MLM_RULE_BERT(0.15), in + b * T, lab + b * T);
		}
		bert_drop dr = { seed, (uint64_t)step, 0 };
		bert_forward(&m, a, in, B, T, &dr);
		bert_mlm_loss(&m, a, lab);
		bert_zero_grads(&m);
		bert_backward(&m, a, 0, B, 1.0f / bert_nmasked(a, 0, B));
		grad_clip(m.grads, m.n, 0.5);
		adamw_step(&opt, m.params, m.grads, (float)lr_at(step, 10, 1, 1e-3, 0));
		bert_params_changed(&m);
	}
	uint64_t h = bert_hash(&m);
	bert_acts_free(a);
	adamw_free(&opt);
	bert_free(&m);
	vocab_free(&voc);
	return h;
}

/* bert_forward_rows vs bert_forward: the head's probabilities at the same
 * rows; returns the largest absolute difference */
static double rows_vs_full(int nthreads, int nr, const int *rws, int bf16)
{
	bert_model m;
	small_model(&m, 3, nthreads, 7, bf16);
	bert_acts *a = bert_acts_new(&m, B, T, 0);
	int32_t tok[B * T];
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			int len = T - 4 * b;
			tok[b * T + t] = t == 0 ? 2 : t == len - 1 ? 3 : t >= len ? 1 : 4 + (int)rng_below(rng_hash4(5, b, t, 0), V - 4);
		}
	double mx = rows_vs_full_diff(&m, a, tok, B, T, rws, nr);
	bert_acts_free(a);
	bert_free(&m);
	return mx;
}

int main(void)
{
	int rws[B * T], nr = 0;
	for (int r = 0; r < B * T; r++)      /* some rows of most records, none of record 2 */
		if (r / T != 2 && rng_below(rng_hash4(11, r, 0, 0), 100) < 15) rws[nr++] = r;
	double e1 = rows_vs_full(1, nr, rws, 0), e2 = rows_vs_full(2, nr, rws, 0);
	ok(e1 < 1e-6, "last layer at %d chosen rows only: the full forward's probabilities (max |diff| %.2g)", nr, e1);
	ok(e2 < 1e-6, "the same with 2 threads (max |diff| %.2g)", e2);
	int one = 5 * T + 7;
	ok(rows_vs_full(1, 1, &one, 0) < 1e-6, "one row of one record");
	int unsorted[2] = { T + 3, 4 };
	ok(rows_vs_full(1, 2, unsorted, 0) == 0, "rows out of order: the full forward (fallback)");

	uint64_t h1 = train(1, 1, 0), h2 = train(2, 1, 0), h3 = train(3, 1, 0);
	ok(h1 == h2, "parameters after 3 steps: -t 1 and -t 2 bitwise identical (%016llx %016llx)",
	   (unsigned long long)h1, (unsigned long long)h2);
	ok(h1 == h3, "parameters after 3 steps: -t 1 and -t 3 bitwise identical");
	ok(train(1, 2, 0) != h1, "another seed gives other parameters");

	/* bf16: the same partition of the work, oneDNN one thread per piece */
	const char *why = mm_bf16_unavailable();
	if (why) {
		skip(why);
		return done_testing();
	}
	uint64_t b1 = train(1, 1, 1), b2 = train(2, 1, 1), b3 = train(3, 1, 1);
	ok(b1 == b2 && b1 == b3, "bf16: parameters after 3 steps bitwise identical for -t 1, 2, 3 (%016llx %016llx %016llx)",
	   (unsigned long long)b1, (unsigned long long)b2, (unsigned long long)b3);
	ok(b1 != h1, "bf16 and fp32 training differ");
	/* the last layer at chosen rows runs products of other shapes: the
	 * same roundings, sums in another order */
	double f1 = rows_vs_full(1, nr, rws, 1), f2 = rows_vs_full(2, nr, rws, 1);
	ok(f1 < 1e-5 && f2 < 1e-5, "bf16: last layer at chosen rows only gives the full forward's probabilities (%.2g, %.2g)", f1, f2);
	return done_testing();
}
