/* test_fisher_golden.c -- the empirical Fisher diagonal of common/model/fisher.c
 * against explicit per-example backward loops in float64 PyTorch
 * (tests/golden/fisher_ref.py, fixture tests/data/fisher/fisher_tiny.fix),
 * for the batch, window and token estimators, every parameter; and the
 * group sums.  Tolerance as in test_bert_golden.c: norm-wise relative error
 * <= 1e-5 and per element |c - r| <= 1e-5 (|r| + 0.1 max|r|). */
#include <math.h>
#include <string.h>
#include "tap.h"
#include "fixture.h"
#include "model/bert.h"
#include "model/fisher.h"

static fixture fx;

static int close_diag(const fisher_acc *f, const bert_param *p, const char *ref, const char *what)
{
	const fix_tensor *t = fixture_get(&fx, ref);
	const float *r = t ? t->data : NULL;
	double den = fisher_denominator(f), mx = 0, w = 0, se = 0, sr = 0;
	if (!t || (size_t)t->n != p->n) return ok(0, "%s: reference missing", what);
	for (size_t i = 0; i < p->n; i++) if (fabs(r[i]) > mx) mx = fabs(r[i]);
	for (size_t i = 0; i < p->n; i++) {
		double c = f->sum[p->off + i] / den, d = c - r[i];
		double e = fabs(d) / (fabs(r[i]) + 0.1 * mx + 1e-300);
		if (!(e <= w)) w = isnan(e) ? INFINITY : e;
		se += d * d, sr += (double)r[i] * r[i];
	}
	double nw = sr > 0 ? sqrt(se / sr) : sqrt(se);
	/* attention.self.key.bias has an exactly zero gradient: absolute terms */
	if (strstr(p->name, "key.bias")) return ok(sqrt(se) < 1e-12, "%s is zero (|c| = %.2g)", what, sqrt(se));
	return ok(w <= 1e-5 && nw <= 1e-5, "%s (norm-wise %.2g, worst element %.2g)", what, nw, w);
}

int main(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/fisher/fisher_tiny.fix", fixture_dir());
	if (fixture_load(&fx, path) < 0) { ok(0, "load %s", path); return done_testing(); }
	bert_config c;
	bert_config_named(&c, "4M", 40);
	c.hidden = 16; c.layers = 2; c.heads = 2; c.ffn = 32; c.max_pos = 16;
	bert_model m;
	bert_init(&m, &c);
	bert_alloc_grads(&m);
	for (int i = 0; i < m.np; i++) {
		char nm[160];
		snprintf(nm, sizeof nm, "w0.%s", m.p[i].name);
		memcpy(m.params + m.p[i].off, fixture_get(&fx, nm)->data, m.p[i].n * sizeof(float));
	}
	const fix_tensor *tk = fixture_get(&fx, "tokens");
	const int32_t *in = tk->data, *labels = fixture_get(&fx, "labels")->data;
	int B = (int)tk->dim[0], T = (int)tk->dim[1];
	int bs = *(int32_t *)fixture_get(&fx, "batch_size")->data;
	int ntok = *(int32_t *)fixture_get(&fx, "ntokens")->data, nwin = *(int32_t *)fixture_get(&fx, "nwindows")->data;
	bert_acts *a = bert_acts_new(&m, B, T, 1);
	for (int e = FISHER_BATCH; e <= FISHER_TOKEN; e++) {
		fisher_acc f;
		fisher_init(&f, &m, e);
		/* the batch estimator in batches of bs; the others at once, then
		 * again in batches of bs, which must not change them */
		int step = e == FISHER_BATCH ? bs : B;
		for (int b0 = 0; b0 < B; b0 += step) {
			int nb = B - b0 < step ? B - b0 : step;
			fisher_add_batch(&f, &m, a, in + (size_t)b0 * T, labels + (size_t)b0 * T, nb, T);
		}
		ok(f.ntokens == ntok && f.nwindows == nwin, "%s: counts %ld masked tokens in %ld windows",
		   fisher_estimator_name(e), f.ntokens, f.nwindows);
		int bad = 0;
		for (int i = 0; i < m.np; i++) {
			char ref[160], what[200];
			snprintf(ref, sizeof ref, "fisher.%s.%s", fisher_estimator_name(e), m.p[i].name);
			snprintf(what, sizeof what, "%s Fisher of %s", fisher_estimator_name(e), m.p[i].name);
			bad += !close_diag(&f, &m.p[i], ref, what);
		}
		ok(bad == 0, "%s: every parameter's Fisher diagonal matches PyTorch", fisher_estimator_name(e));
		if (e != FISHER_BATCH) {
			fisher_acc g;
			fisher_init(&g, &m, e);
			for (int b0 = 0; b0 < B; b0 += bs)
				fisher_add_batch(&g, &m, a, in + (size_t)b0 * T, labels + (size_t)b0 * T, B - b0 < bs ? B - b0 : bs, T);
			/* float32 products of another shape round differently: equal
			 * to float32 precision, norm-wise */
			double se = 0, sr = 0;
			for (size_t i = 0; i < f.n; i++) se += (g.sum[i] - f.sum[i]) * (g.sum[i] - f.sum[i]), sr += f.sum[i] * f.sum[i];
			ok(g.ntokens == f.ntokens && g.nwindows == f.nwindows && sqrt(se / sr) < 1e-6,
			   "%s: the estimate does not depend on how windows are batched (relative %.2g)",
			   fisher_estimator_name(e), sqrt(se / sr));
			fisher_free(&g);
		}
		/* groups: sums of the per-parameter references */
		fisher_group *gr;
		int ng = fisher_groups(&f, &m, FISHER_BY_GROUP, &gr);
		int good = ng == 2 + c.layers;
		for (int k = 0; k < ng && good; k++) {
			double want = 0;
			char buf[96];
			for (int i = 0; i < m.np; i++) {
				if (strcmp(fisher_group_of(m.p[i].name, FISHER_BY_GROUP, buf, sizeof buf), gr[k].name)) continue;
				char ref[160];
				snprintf(ref, sizeof ref, "fisher.%s.%s", fisher_estimator_name(e), m.p[i].name);
				const float *r = fixture_get(&fx, ref)->data;
				for (size_t j = 0; j < m.p[i].n; j++) want += r[j];
			}
			good &= fabs(gr[k].fisher - want) <= 1e-5 * fabs(want);
		}
		ok(good && strcmp(gr[0].name, "embeddings") == 0 && strcmp(gr[ng - 1].name, "head") == 0,
		   "%s: group sums (embeddings, encoder.0.., head) match", fisher_estimator_name(e));
		free(gr);
		fisher_free(&f);
	}
	char buf[96];
	ok(strcmp(fisher_group_of("bert.encoder.layer.11.attention.output.LayerNorm.weight", FISHER_BY_LAYER_PART, buf, sizeof buf), "encoder.11.layernorm") == 0 &&
	   strcmp(fisher_group_of("bert.encoder.layer.3.attention.self.query.weight", FISHER_BY_LAYER_PART, buf, sizeof buf), "encoder.3.attention") == 0 &&
	   strcmp(fisher_group_of("bert.encoder.layer.3.intermediate.dense.bias", FISHER_BY_LAYER_PART, buf, sizeof buf), "encoder.3.ffn") == 0 &&
	   strcmp(fisher_group_of("bert.embeddings.position_embeddings.weight", FISHER_BY_GROUP, buf, sizeof buf), "embeddings") == 0 &&
	   strcmp(fisher_group_of("cls.predictions.bias", FISHER_BY_GROUP, buf, sizeof buf), "head") == 0,
	   "parameter names map to groups and layer parts");
	ok(strcmp(fisher_group_of("bert.encoder.last_layer_ln.weight", FISHER_BY_GROUP, buf, sizeof buf), "head") == 0 &&
	   strcmp(fisher_group_of("bert.encoder.last_layer_ln.bias", FISHER_BY_LAYER_PART, buf, sizeof buf), "head") == 0 &&
	   strcmp(fisher_group_of("cls.predictions.decoder.weight", FISHER_BY_GROUP, buf, sizeof buf), "head") == 0 &&
	   strcmp(fisher_group_of("bert.encoder.layer.1.pre_attention_ln.weight", FISHER_BY_LAYER_PART, buf, sizeof buf), "encoder.1.layernorm") == 0 &&
	   strcmp(fisher_group_of("bert.encoder.layer.1.post_attention_ln.bias", FISHER_BY_LAYER_PART, buf, sizeof buf), "encoder.1.layernorm") == 0 &&
	   strcmp(fisher_group_of("bert.encoder.layer.1.pre_attention_ln.weight", FISHER_BY_GROUP, buf, sizeof buf), "encoder.1") == 0,
	   "the families' rows: the final LayerNorm and an untied decoder in the head, pre-LN layers' LayerNorms in their layer");
	bert_acts_free(a);
	bert_free(&m);
	fixture_free(&fx);
	return done_testing();
}
