/* test_bert_determinism.c -- training is bitwise reproducible across thread
 * counts: 3 steps (MLM masks, dropout, clipping, AdamW) with 1, 2 and 3
 * threads give identical parameter bytes; and a different seed does not. */
#include <string.h>
#include "tap.h"
#include "bert.h"
#include "mlm.h"
#include "adamw.h"
#include "rng.h"

enum { V = 64, B = 8, T = 40 };

static uint64_t train(int nthreads, uint64_t seed)
{
	bert_config c;
	bert_config_named(&c, "4M", V);
	c.layers = 2, c.hidden = 64, c.heads = 4, c.ffn = 128, c.max_pos = 64;
	bert_model m;
	bert_init(&m, &c);
	bert_set_threads(&m, nthreads);
	bert_init_weights(&m, seed);
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
			mlm_mask(tok + b * T, T, V, seed, step, b, 0.15, in + b * T, lab + b * T);
		}
		bert_drop dr = { seed, (uint64_t)step, 0 };
		bert_forward(&m, a, in, B, T, &dr);
		bert_mlm_loss(&m, a, lab);
		bert_zero_grads(&m);
		bert_backward(&m, a, 0, B, 1.0f / bert_nmasked(a, 0, B));
		grad_clip(m.grads, m.n, 0.5);
		adamw_step(&opt, m.params, m.grads, (float)lr_at(step, 10, 1, 1e-3, 0));
	}
	uint64_t h = bert_hash(&m);
	bert_acts_free(a);
	adamw_free(&opt);
	bert_free(&m);
	return h;
}

int main(void)
{
	uint64_t h1 = train(1, 1), h2 = train(2, 1), h3 = train(3, 1);
	ok(h1 == h2, "parameters after 3 steps: -t 1 and -t 2 bitwise identical (%016llx %016llx)",
	   (unsigned long long)h1, (unsigned long long)h2);
	ok(h1 == h3, "parameters after 3 steps: -t 1 and -t 3 bitwise identical");
	ok(train(1, 2) != h1, "another seed gives other parameters");
	return done_testing();
}
