/* test_bert_bf16.c -- bert_set_precision(m, 1) against the PyTorch
 * reference that rounds every product's inputs to bfloat16 and sums exactly
 * (tests/golden/bert_bf16_ref.py, fixture tests/data/engine/
 * bert_tiny_bf16.fix; the weights, tokens and labels of bert_tiny.fix):
 * hidden states, probabilities, loss and every gradient, with and without
 * dropout.
 *
 * Tolerance, rtol 2e-3 in the norm-wise and per-element measures of
 * test_bert_golden.c (|c - r| <= rtol (|r| + 0.1 max|r|)).  Rounding to
 * bfloat16 is discontinuous: where the engine's float32 value and the
 * reference's float64 value of a product input fall on two sides of a
 * bfloat16 rounding boundary, that input differs by one bfloat16 step,
 * 2^-8 = 3.9e-3 relative, and so does its share of the sums it enters.
 * With float32 inputs agreeing to ~1e-6 relative that happens to about
 * 1 input in 4000, each moving a sum of 16-32 terms by a fraction of one
 * step: ~1e-4 of the tensor's scale, a few times that after backward's
 * products.  The checks below also show the tolerance is tight enough to
 * see the rounding: the fp32 engine misses the bf16 reference (and the
 * bf16 engine the fp32 one) by more than it. */
#include <math.h>
#include <string.h>
#include "tap.h"
#include "fixture.h"
#include "model/bert.h"
#include "base/mm.h"

static fixture fx, fb;
enum { RTOL_E3 = 2 };                  /* rtol = 2e-3 */
#define RTOL (RTOL_E3 * 1e-3)


/* the larger of the two measures of c against reference tensor ref */
static double err(const fixture *f, const float *c, const char *ref, long n)
{
	const fix_tensor *t = fixture_get(f, ref);
	if (!t || t->n != n) return INFINITY;
	double nw, w = fix_worst(c, t->data, n, &nw);
	return nw > w ? nw : w;
}

static void load_w0(bert_model *m)
{
	char nm[160];
	for (int i = 0; i < m->np; i++) {
		snprintf(nm, sizeof nm, "w0.%s", m->p[i].name);
		memcpy(m->params + m->p[i].off, fixture_f32(&fx, nm), m->p[i].n * sizeof(float));
	}
	bert_params_changed(m);
}

/* the worst error over every gradient but the key bias (zero in exact
 * arithmetic: rounding noise on both sides) */
static double grads_err(const bert_model *m, const char *prefix)
{
	char nm[160];
	double e = 0;
	for (int i = 0; i < m->np; i++) {
		if (strstr(m->p[i].name, "key.bias")) continue;
		snprintf(nm, sizeof nm, "%s%s", prefix, m->p[i].name);
		e = fmax(e, err(&fb, m->grads + m->p[i].off, nm, (long)m->p[i].n));
	}
	return e;
}

int main(void)
{
	const char *why = mm_bf16_unavailable();
	if (why) {
		skip(why);                       /* the refusal itself: tests/t/45-precision.t */
		return done_testing();
	}
	char path[512];
	snprintf(path, sizeof path, "%s/engine/bert_tiny.fix", fixture_dir());
	if (fixture_load(&fx, path) != 0) { ok(0, "load %s", path); return done_testing(); }
	snprintf(path, sizeof path, "%s/engine/bert_tiny_bf16.fix", fixture_dir());
	if (fixture_load(&fb, path) != 0) { ok(0, "load %s", path); return done_testing(); }

	bert_config c;
	bert_config_named(&c, "4M", 40);
	c.layers = 2, c.hidden = 16, c.heads = 2, c.ffn = 32, c.max_pos = 16;
	c.hidden_drop = 0.1f, c.attn_drop = 0.2f;
	bert_model m;
	bert_init(&m, &c);
	ok(bert_set_precision(&m, 1) == NULL && m.bf16, "bf16 precision is available here");
	bert_alloc_grads(&m);
	const fix_tensor *tk = fixture_get(&fx, "tokens"), *lb = fixture_get(&fx, "labels");
	int B = (int)tk->dim[0], T = (int)tk->dim[1];
	const int32_t *tokens = tk->data, *labels = lb->data;
	bert_acts *a = bert_acts_new(&m, B, T, 1);
	load_w0(&m);

	/* no dropout */
	bert_forward(&m, a, tokens, B, T, NULL);
	double eh = 0;
	for (int l = 0; l <= c.layers; l++) {
		char nm[32];
		snprintf(nm, sizeof nm, "bf16.hidden.%d", l);
		eh = fmax(eh, err(&fb, bert_hidden(a, l), nm, (long)B * T * c.hidden));
	}
	ok(eh <= RTOL, "hidden states of every layer match the bf16 reference (worst relative error %.2g)", eh);
	float loss = bert_mlm_loss(&m, a, labels);
	int nm = bert_nmasked(a, 0, B);
	is_close(loss, *(float *)fixture_get(&fb, "bf16.loss")->data, 1e-4, 0, "masked-LM loss matches");
	bert_backward(&m, a, 0, B, 1.0f / nm);
	double eg = grads_err(&m, "bf16.grad.");
	ok(eg <= RTOL, "every parameter gradient matches (worst relative error %.2g)", eg);

	/* inference: probabilities at the masked rows, last layer at those rows only */
	int rows[64], k = 0;
	for (int r = 0; r < B * T; r++) if (labels[r] >= 0) rows[k++] = r;
	float *pb = malloc((size_t)k * c.vocab_size * sizeof(float));
	bert_acts *ai = bert_acts_new(&m, B, T, 0);
	bert_forward_rows(&m, ai, tokens, B, T, rows, k);
	bert_head(&m, ai, rows, k, pb, 1);
	double ep = err(&fb, pb, "bf16.probs", (long)k * c.vocab_size);
	ok(ep <= RTOL, "inference probabilities (last layer at the masked rows only) match (%.2g)", ep);
	double ef = err(&fx, pb, "probs", (long)k * c.vocab_size);
	ok(ef > RTOL, "the tolerance sees the rounding: bf16 vs the fp32 reference %.2g > %g", ef, RTOL);
	bert_acts_free(ai);

	/* dropout: the same keep masks on both sides */
	bert_zero_grads(&m);
	bert_drop dr = { 7, 3, 0 };
	bert_forward(&m, a, tokens, B, T, &dr);
	loss = bert_mlm_loss(&m, a, labels);
	is_close(loss, *(float *)fixture_get(&fb, "bf16.drop.loss")->data, 1e-4, 0,
	         "loss with dropout (hidden 0.1, attention 0.2) matches");
	bert_backward(&m, a, 0, B, 1.0f / nm);
	eg = grads_err(&m, "bf16.drop.grad.");
	ok(eg <= RTOL, "every gradient with dropout matches (worst relative error %.2g)", eg);

	/* the weights are rounded once: a change counts from bert_params_changed on */
	bert_forward(&m, a, tokens, B, T, NULL);
	float l0 = bert_mlm_loss(&m, a, labels);
	m.w.tw[0] += 1.0f;
	bert_forward(&m, a, tokens, B, T, NULL);
	float l1 = bert_mlm_loss(&m, a, labels);
	bert_params_changed(&m);
	bert_forward(&m, a, tokens, B, T, NULL);
	float l2 = bert_mlm_loss(&m, a, labels);
	ok(l1 == l0 && l2 != l0, "a weight change counts from bert_params_changed on (%.7g %.7g %.7g)", l0, l1, l2);
	bert_acts_free(a);

	/* the same model in fp32 misses the bf16 reference by more than RTOL */
	bert_set_precision(&m, 0);
	load_w0(&m);
	ai = bert_acts_new(&m, B, T, 0);
	bert_forward(&m, ai, tokens, B, T, NULL);
	bert_head(&m, ai, rows, k, pb, 1);
	ef = err(&fb, pb, "bf16.probs", (long)k * c.vocab_size);
	ok(ef > RTOL, "fp32 probabilities vs the bf16 reference %.2g > %g", ef, RTOL);
	ok(err(&fx, pb, "probs", (long)k * c.vocab_size) <= 1e-5, "and back in fp32 the fp32 reference matches");
	bert_acts_free(ai);
	free(pb);
	bert_free(&m);
	fixture_free(&fx);
	fixture_free(&fb);
	return done_testing();
}
