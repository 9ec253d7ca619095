/* test_bert_fd.c -- the analytic gradients against finite differences of
 * the loss, for a handful of entries of every kind of parameter, with
 * dropout on: central differences with h = 1e-2 and one Richardson step,
 * to 2e-3 of the tensor's largest gradient plus 2e-3 relative (the method
 * of bertcheck.h).  (The float64-level agreement is what the golden test
 * against the float64 PyTorch reference shows.)  Also: the per-window
 * backward slices used by the window Fisher add up to the whole-batch
 * backward. */
#include <math.h>
#include <string.h>
#include "tap.h"
#include "fixture.h"
#include "bertcheck.h"
#include "model/bert.h"

int main(void)
{
	static fixture fx;
	bert_model m;
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
	int B = (int)tk->dim[0], T = (int)tk->dim[1];
	fd_batch x = { &m, bert_acts_new(&m, B, T, 1), tk->data, fixture_get(&fx, "labels")->data, B, T, { 11, 5, 0 } };

	int nm;
	float *grad = fd_grad(&x, &nm);

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
		fd_entry e[2];
		fd_tensor(&x, &m.p[i], grad, 1e-2, 0, e);
		for (int q = 0; q < 2; q++)
			ok(fd_entry_ok(&e[q]), "%s[%zu]: analytic %.6g, finite difference %.6g", m.p[i].name, e[q].j, e[q].an,
			   e[q].num);
	}

	double rel = fd_slices(&x, grad, nm);
	ok(rel < 1e-6, "per-window backward slices add up to the batch gradient (rel. %.2g)", rel);
	free(grad);
	bert_acts_free(x.a);
	bert_free(&m);
	fixture_free(&fx);
	return done_testing();
}
