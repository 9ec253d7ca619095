/* test_bert_golden.c -- the C engine against the float64 PyTorch reference
 * (tests/golden/bert_ref.py, fixture tests/data/engine/bert_tiny.fix):
 * hidden states, logits, probabilities, loss, every parameter gradient (with
 * and without dropout, the dropout masks drawn by both sides from the same
 * counter-based RNG), and the parameters after 3 clipped AdamW steps on the
 * HF cosine schedule.
 *
 * Tolerance, rtol 1e-5 (1e-4 for the updated weights, plus the rounding
 * sensitivity of Adam's step explained below): the norm-wise
 * relative error ||c - r|| / ||r|| <= rtol, and per element
 * |c - r| <= rtol * (|r| + 0.1 max|r|).  The floor term is there because a
 * float32 computation cannot give 5 relative digits to entries that cancel
 * to nearly zero (the reference is float64).  The key bias gradient, exactly
 * zero in exact arithmetic, is compared in absolute terms against the
 * largest gradient. */
#include <math.h>
#include <string.h>
#include "tap.h"
#include "fixture.h"
#include "model/bert.h"
#include "model/adamw.h"

static fixture fx;


static int close_tensor(const float *c, const char *ref, long n, double rtol, const char *what)
{
	const fix_tensor *t = fixture_get(&fx, ref);
	if (!t || t->n != n) return ok(0, "%s: reference %s missing or wrong size", what, ref);
	double nw, w = fix_worst(c, t->data, n, &nw);
	int r = ok(w <= rtol && nw <= rtol, "%s matches (relative error: norm-wise %.2g, worst element %.2g)",
	           what, nw, w);
	if (!r && getenv("GOLDEN_DEBUG"))
		for (long i = 0; i < n && i < 12; i++) diag("%ld: %.8g %.8g", i, c[i], ((const float *)t->data)[i]);
	return r;
}

static void load_weights(bert_model *m, const char *prefix)
{
	char nm[160];
	int missing = 0;
	for (int i = 0; i < m->np; i++) {
		snprintf(nm, sizeof nm, "%s%s", prefix, m->p[i].name);
		const fix_tensor *t = fixture_get(&fx, nm);
		if (!t || (size_t)t->n != m->p[i].n) { missing++; continue; }
		memcpy(m->params + m->p[i].off, t->data, m->p[i].n * sizeof(float));
	}
	ok(missing == 0, "all %d reference tensors %s* found with the right sizes", m->np, prefix);
}

static int is_key_bias(const char *name) { return strstr(name, "key.bias") != NULL; }

/* every gradient tensor against prefix.NAME */
static void check_grads(const bert_model *m, const char *prefix, double rtol)
{
	char nm[160];
	double gmax = 0;
	for (size_t i = 0; i < m->n; i++) if (fabs(m->grads[i]) > gmax) gmax = fabs(m->grads[i]);
	int bad = 0;
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		snprintf(nm, sizeof nm, "%s%s", prefix, p->name);
		const float *g = m->grads + p->off;
		if (is_key_bias(p->name)) {
			double mx = 0;
			for (size_t j = 0; j < p->n; j++) if (fabs(g[j]) > mx) mx = fabs(g[j]);
			if (!ok(mx <= 1e-6 * gmax, "gradient of %s is zero (max %.2g)", p->name, mx)) bad++;
			continue;
		}
		char what[200];
		snprintf(what, sizeof what, "gradient of %s", p->name);
		if (!close_tensor(g, nm, (long)p->n, rtol, what)) bad++;
	}
	ok(bad == 0, "every parameter gradient (%s) matches PyTorch", prefix);
}

static bert_config tiny(void)
{
	bert_config c;
	bert_config_named(&c, "4M", 40);
	c.layers = 2, c.hidden = 16, c.heads = 2, c.ffn = 32, c.max_pos = 16;
	c.hidden_drop = 0.1f, c.attn_drop = 0.2f;
	return c;
}

int main(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/engine/bert_tiny.fix", fixture_dir());
	if (fixture_load(&fx, path) != 0) { ok(0, "load %s", path); return done_testing(); }
	bert_config c = tiny();
	bert_model m;
	ok(bert_init(&m, &c) == 0, "tiny config initialises");
	bert_alloc_grads(&m);
	const fix_tensor *tk = fixture_get(&fx, "tokens"), *lb = fixture_get(&fx, "labels");
	int B = (int)tk->dim[0], T = (int)tk->dim[1];
	const int32_t *tokens = tk->data, *labels = lb->data;
	bert_acts *a = bert_acts_new(&m, B, T, 1);

	/* 1. no dropout */
	load_weights(&m, "w0.");
	bert_forward(&m, a, tokens, B, T, NULL);
	for (int l = 0; l <= c.layers; l++) {
		char nm[32], what[64];
		snprintf(nm, sizeof nm, "hidden.%d", l);
		snprintf(what, sizeof what, "hidden states after layer %d", l);
		close_tensor(bert_hidden(a, l), nm, (long)B * T * c.hidden, 1e-5, what);
	}
	float loss = bert_mlm_loss(&m, a, labels);
	int nm = bert_nmasked(a, 0, B);
	is_close(loss, *(float *)fixture_get(&fx, "loss")->data, 1e-5, 0, "masked-LM loss matches");
	ok(nm == (int)fixture_get(&fx, "logits")->dim[0], "loss runs over the %d labelled positions", nm);
	bert_backward(&m, a, 0, B, 1.0f / nm);
	check_grads(&m, "grad.", 1e-5);

	/* inference head at the masked rows: logits and probabilities */
	int rows[64], k = 0;
	for (int r = 0; r < B * T; r++) if (labels[r] >= 0) rows[k++] = r;
	float *out = malloc((size_t)k * c.vocab_size * sizeof(float));
	bert_acts *ai = bert_acts_new(&m, B, T, 0);
	bert_forward(&m, ai, tokens, B, T, NULL);
	bert_head(&m, ai, rows, k, out, 0);
	close_tensor(out, "logits", (long)k * c.vocab_size, 1e-5, "inference logits at chosen positions");
	bert_head(&m, ai, rows, k, out, 1);
	close_tensor(out, "probs", (long)k * c.vocab_size, 1e-5, "inference probabilities at chosen positions");
	close_tensor(bert_hidden(ai, c.layers), "hidden.2", (long)B * T * c.hidden, 1e-5,
	             "inference activations (shared layer buffers) give the same last hidden state");
	bert_acts_free(ai);
	free(out);

	/* 2. dropout: the reference applied C's keep masks at HF's places */
	bert_zero_grads(&m);
	bert_drop dr = { 7, 3, 0 };
	loss = bert_mlm_loss(&m, (bert_forward(&m, a, tokens, B, T, &dr), a), labels);
	is_close(loss, *(float *)fixture_get(&fx, "drop.loss")->data, 1e-5, 0,
	         "loss with dropout (hidden 0.1, attention 0.2) matches");
	bert_backward(&m, a, 0, B, 1.0f / nm);
	check_grads(&m, "drop.grad.", 1e-5);

	/* 3. three AdamW steps: clip 0.5, wd 0.01 (not biases, LayerNorm),
	 * lr 1e-2 on the cosine schedule with 1 warm-up step of 6 */
	load_weights(&m, "w0.");
	adamw opt;
	adamw_init(&opt, m.n);
	opt.weight_decay = 0.01f;
	for (int i = 0; i < m.np; i++)
		if (m.p[i].ndim == 1) adamw_no_decay(&opt, m.p[i].off, m.p[i].n);
	const float *norms = fixture_f32(&fx, "adam.norms");
	for (int s = 0; s < 3; s++) {
		bert_zero_grads(&m);
		bert_forward(&m, a, tokens, B, T, NULL);
		bert_mlm_loss(&m, a, labels);
		bert_backward(&m, a, 0, B, 1.0f / nm);
		double norm = grad_clip(m.grads, m.n, 0.5);
		char what[64];
		snprintf(what, sizeof what, "gradient norm before clipping, step %d", s);
		is_close(norm, norms[s], 1e-5, 0, what);
		adamw_step(&opt, m.params, m.grads, (float)lr_at(s, 6, 1, 1e-2, 0));
	}
	int bad = 0;
	for (int i = 0; i < m.np; i++) {
		char ref[160], what[200];
		snprintf(ref, sizeof ref, "adam.w3.%s", m.p[i].name);
		snprintf(what, sizeof what, "%s after 3 AdamW steps", m.p[i].name);
		if (is_key_bias(m.p[i].name)) {
			/* its gradient is rounding noise (zero in exact arithmetic),
			 * which Adam scales up to steps of about lr: bound the drift */
			snprintf(ref, sizeof ref, "w0.%s", m.p[i].name);
			const float *w0 = fixture_f32(&fx, ref), *w = m.params + m.p[i].off;
			double drift = 0;
			for (size_t j = 0; j < m.p[i].n; j++) drift = fmax(drift, fabs(w[j] - w0[j]));
			if (!ok(drift <= 3 * 1e-2, "%s moved at most 3 lr (%.2g) in 3 steps", m.p[i].name, drift)) bad++;
			continue;
		}
		/* Adam's step is about lr g/|g|, so an entry inherits the relative
		 * error of its gradient: float32 gives gradients to ~1e-6 of the
		 * tensor's largest, which for an entry with a near-zero gradient is
		 * an O(1) relative error of its step.  Allowed besides rtol:
		 * sum(lr) * dg / (|g| + dg), dg = 1e-6 max|g| (g: the first step's
		 * reference gradient). */
		char gname[160];
		snprintf(gname, sizeof gname, "grad.%s", m.p[i].name);
		const float *g0 = fixture_f32(&fx, gname), *r = fixture_f32(&fx, ref);
		const float *w = m.params + m.p[i].off;
		double gmx = 0, rmx = 0, worst_e = 0;
		size_t n = m.p[i].n;
		for (size_t j = 0; j < n; j++) gmx = fmax(gmx, fabs(g0[j])), rmx = fmax(rmx, fabs(r[j]));
		double dg = 1e-6 * gmx, lrsum = lr_at(0, 6, 1, 1e-2, 0) + lr_at(1, 6, 1, 1e-2, 0) + lr_at(2, 6, 1, 1e-2, 0);
		for (size_t j = 0; j < n; j++) {
			double tol = 1e-4 * (fabs(r[j]) + 0.1 * rmx) + lrsum * dg / (fabs(g0[j]) + dg);
			worst_e = fmax(worst_e, fabs(w[j] - r[j]) / tol);
		}
		if (!ok(worst_e <= 1, "%s matches (worst error %.2g of its tolerance)", what, worst_e)) bad++;
	}
	ok(bad == 0, "every parameter after 3 clipped AdamW steps matches PyTorch");
	adamw_free(&opt);
	bert_acts_free(a);
	bert_free(&m);
	fixture_free(&fx);
	return done_testing();
}
