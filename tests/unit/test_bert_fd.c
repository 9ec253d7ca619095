/* test_bert_fd.c -- the analytic gradients against finite differences of
 * the loss, for a handful of entries of every kind of parameter, with
 * dropout on (its masks are fixed by the key, so the loss is a smooth
 * function of the weights).
 *
 * The engine computes in float32 only, so the difference quotient is taken
 * on a loss whose rounding is about 1e-7 relative: a central difference
 * with h = 1e-2 and one Richardson step, (4 D(h/2) - D(h)) / 3, makes the
 * truncation error O(h^4) and keeps the rounding error near 1e-5 of the
 * gradient scale; the tolerance is 2e-3 of the tensor's largest gradient
 * plus 2e-3 relative.  (A wrong gradient is off by O(1); the float64-level
 * agreement is what the golden test against the float64 PyTorch reference
 * shows.)  Also: the per-window backward slices used by the window Fisher
 * add up to the whole-batch backward. */
#include <math.h>
#include <string.h>
#include "tap.h"
#include "fixture.h"
#include "model/bert.h"

static fixture fx;
static bert_model m;
static bert_acts *a;
static const int32_t *tokens, *labels;
static int B, T;
static bert_drop dr = { 11, 5, 0 };

static double loss_at(void)
{
	bert_forward(&m, a, tokens, B, T, &dr);
	return bert_mlm_loss(&m, a, labels);
}

static double fd(float *w, double h)
{
	float w0 = *w;
	*w = w0 + (float)h; double lp = loss_at();
	*w = w0 - (float)h; double lm = loss_at();
	double hp = (double)(w0 + (float)h) - w0, hm = (double)w0 - (float)(w0 - (float)h);
	*w = w0;
	return (lp - lm) / (hp + hm);
}

int main(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/engine/bert_tiny.fix", fixture_dir());
	if (fixture_load(&fx, path) != 0) { ok(0, "load %s", path); return done_testing(); }
	bert_config c;
	bert_config_named(&c, "4M", 40);
	c.layers = 2, c.hidden = 16, c.heads = 2, c.ffn = 32, c.max_pos = 16;
	bert_init(&m, &c);
	bert_alloc_grads(&m);
	for (int i = 0; i < m.np; i++) {
		char nm[160];
		snprintf(nm, sizeof nm, "w0.%s", m.p[i].name);
		memcpy(m.params + m.p[i].off, fixture_f32(&fx, nm), m.p[i].n * sizeof(float));
	}
	const fix_tensor *tk = fixture_get(&fx, "tokens");
	tokens = tk->data, labels = fixture_get(&fx, "labels")->data;
	B = (int)tk->dim[0], T = (int)tk->dim[1];
	a = bert_acts_new(&m, B, T, 1);

	loss_at();
	int nm = bert_nmasked(a, 0, B);
	bert_backward(&m, a, 0, B, 1.0f / nm);
	float *grad = malloc(m.n * sizeof(float));
	memcpy(grad, m.grads, m.n * sizeof(float));

	static const char *pick[] = {
		"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
		"bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
		"bert.embeddings.LayerNorm.bias", "bert.encoder.layer.0.attention.self.query.weight",
		"bert.encoder.layer.0.attention.self.key.weight", "bert.encoder.layer.0.attention.self.value.bias",
		"bert.encoder.layer.0.attention.output.dense.weight", "bert.encoder.layer.0.attention.output.LayerNorm.weight",
		"bert.encoder.layer.0.intermediate.dense.weight", "bert.encoder.layer.0.intermediate.dense.bias",
		"bert.encoder.layer.1.output.dense.weight", "bert.encoder.layer.1.output.LayerNorm.bias",
		"cls.predictions.bias", "cls.predictions.transform.dense.weight",
		"cls.predictions.transform.LayerNorm.weight",
	};
	for (size_t k = 0; k < sizeof pick / sizeof pick[0]; k++) {
		int i = bert_param_find(&m, pick[k]);
		if (!ok(i >= 0, "parameter %s exists", pick[k])) continue;
		const bert_param *p = &m.p[i];
		size_t jmax = 0;
		double gmax = 0;
		for (size_t j = 0; j < p->n; j++)
			if (fabs(grad[p->off + j]) > gmax) gmax = fabs(grad[p->off + j]), jmax = j;
		size_t js[2] = { jmax, (jmax * 7 + p->n / 3) % p->n };
		for (int q = 0; q < 2; q++) {
			size_t j = js[q];
			float *w = m.params + p->off + j;
			double d1 = fd(w, 1e-2), d2 = fd(w, 5e-3);
			double num = (4 * d2 - d1) / 3, an = grad[p->off + j];
			double tol = 2e-3 * gmax + 2e-3 * fabs(an);
			ok(fabs(num - an) <= tol, "%s[%zu]: analytic %.6g, finite difference %.6g",
			   p->name, j, an, num);
		}
	}

	/* per-window backward slices sum to the whole-batch backward */
	bert_zero_grads(&m);
	loss_at();
	for (int b = 0; b < B; b++) bert_backward(&m, a, b, 1, 1.0f / nm);
	double se = 0, sr = 0;
	for (size_t i = 0; i < m.n; i++) {
		double e = (double)m.grads[i] - grad[i];
		se += e * e, sr += (double)grad[i] * grad[i];
	}
	ok(sqrt(se / sr) < 1e-6, "per-window backward slices add up to the batch gradient (rel. %.2g)",
	   sqrt(se / sr));
	free(grad);
	bert_acts_free(a);
	bert_free(&m);
	fixture_free(&fx);
	return done_testing();
}
