/* test_variants.c -- the attention and FFN variants of issue 23 (rotary
 * position embeddings, ALiBi, q/k/v/output and FFN without biases, GeGLU,
 * SwiGLU):
 *
 *  - ALiBi's slopes for 4, 6 and 12 heads, as MosaicBERT's bert_layers.py
 *    makes them (the float32 values of tests/golden/families/dnabert2_ref.py's
 *    alibi_slopes);
 *  - finite differences of the loss against the analytic gradient for
 *    entries of every parameter tensor of each variant, dropout on (the
 *    method and tolerance of test_bert_fd.c);
 *  - bert_forward_rows gives bert_forward's probabilities; -t 1 and -t 2
 *    give the same bits (forward, loss, every gradient); bf16 runs and
 *    stays near fp32; a model file round trip keeps the variant;
 *  - the DNABERT-2 fixtures of tests/golden/families (post-LN, ALiBi with
 *    4 and 6 heads, GeGLU, no positions, BERT embeddings and head), read
 *    straight from their model.safetensors with the checkpoint's names
 *    mapped to the table's here (the fused Wqkv split into q, k, v rows,
 *    mlp.* -> intermediate/output, decoder.bias -> cls.predictions.bias,
 *    the gate without a bias: zeros): hidden states of every layer where
 *    attention_mask is 1 and the probabilities at the masked positions
 *    against PyTorch's (float64) to 1e-5, and the per-tensor Fisher sums
 *    (squared gradients of each window's loss, fisher_params.tsv) to 1e-5
 *    relative;
 *  - rotary (with NT v2's SwiGLU without biases) on a post-LN BERT against
 *    tests/golden/variants_ref.py (float64 PyTorch, rotary and SwiGLU as
 *    tests/golden/families/nt_ref.py has them): hidden states, probabilities,
 *    loss and every gradient (tests/data/engine/variants_rotary.fix). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "fixture.h"
#include "bertcheck.h"
#include "model/bert.h"
#include "model/model.h"
#include "base/rng.h"
#include "base/mm.h"
#include "io/tns.h"
#include "io/safetensors.h"

/* ---- a small model of each variant ------------------------------------- */

enum { V = 13, B = 3, T = 9 };

static bert_config variant(int pos, int ffn, int anb, int fnb, int heads)
{
	bert_config c;
	bert_config_named(&c, "4M", V);
	c.layers = 2, c.heads = heads, c.hidden = heads == 6 ? 24 : 16, c.ffn = 12, c.max_pos = 16;
	c.pos = pos, c.ffn_kind = ffn, c.attn_nobias = anb, c.ffn_nobias = fnb;
	c.type_vocab = 2;
	return c;
}

/* weights large enough that attention is far from uniform (so positions
 * matter), LayerNorm weights near 1 */
static void random_weights(bert_model *m, uint64_t seed)
{
	for (int i = 0; i < m->np; i++) {
		rng_t r;
		rng_seed(&r, seed, (uint64_t)i);
		float *x = m->params + m->p[i].off;
		int ln = strstr(m->p[i].name, "LayerNorm.weight") != NULL;
		double sd = m->p[i].ndim == 1 ? 0.2 : 0.35;
		for (size_t j = 0; j < m->p[i].n; j++) x[j] = (float)((ln ? 1.0 : 0.0) + sd * rng_normal(&r));
	}
	bert_params_changed(m);
}

/* tokens with <PAD> (1) at the end of records 1 and 2, labels at a few rows */
static void batch(int32_t *tok, int32_t *lab)
{
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			int r = b * T + t, len = T - 2 * b;
			tok[r] = t >= len ? 1 : 5 + (int)rng_below(rng_hash4(3, b, t, 0), V - 5);
			lab[r] = t < len && rng_below(rng_hash4(4, b, t, 0), 100) < 40 ? tok[r] : -1;
			if (lab[r] >= 0 && t % 2) tok[r] = 4;          /* some of them <MASK> */
		}
}

static bert_drop dr = { 11, 5, 0 };

/* finite differences at 2 entries of every tensor (bertcheck.h); returns
 * the failures */
static int check_fd(const char *what, bert_config c)
{
	bert_model m;
	if (!ok(bert_init(&m, &c) == 0, "%s: bert_init", what)) return 1;
	c.attn_drop = 0.1f;
	random_weights(&m, 7);
	bert_alloc_grads(&m);
	int32_t tok[B * T], lab[B * T];
	batch(tok, lab);
	fd_batch x = { &m, bert_acts_new(&m, B, T, 1), tok, lab, B, T, dr };
	int nm, n;
	float *grad = fd_grad(&x, &nm);
	double gall = 0;                     /* the largest gradient of the model */
	for (size_t j = 0; j < m.n; j++) gall = fmax(gall, fabs(grad[j]));
	/* (+ a floor for the key bias, whose gradient is zero but for
	 * rounding: the softmax ignores a constant) */
	int bad = fd_all_tensors(&x, grad, 1e-2, 1e-4 * gall, what, &n);
	ok(bad == 0, "%s: %d gradient entries of all %d tensors agree with finite differences", what, n, m.np);
	free(grad);
	bert_acts_free(x.a);
	bert_free(&m);
	return bad;
}

/* forward, loss and gradients with nthreads; returns a hash of them all */
static uint64_t run_hash(const bert_config *c, int nthreads, int bf16, double *loss)
{
	bert_model m;
	bert_init(&m, c);
	random_weights(&m, 9);
	bert_set_threads(&m, nthreads);
	if (bf16) bert_set_precision(&m, 1);
	bert_alloc_grads(&m);
	bert_acts *a = bert_acts_new(&m, B, T, 1);
	int32_t tok[B * T], lab[B * T];
	batch(tok, lab);
	bert_forward(&m, a, tok, B, T, &dr);
	*loss = bert_mlm_loss(&m, a, lab);
	bert_backward(&m, a, 0, B, 1.0f / bert_nmasked(a, 0, B));
	uint64_t h = rng_fnv1a(m.grads, m.n * sizeof(float)) ^ rng_fnv1a(bert_hidden(a, c->layers), sizeof(float) * B * T * c->hidden);
	bert_acts_free(a);
	bert_free(&m);
	return h;
}

/* bert_forward_rows vs bert_forward: max |difference| of the probabilities */
static double rows_vs_full(const bert_config *c, int nthreads)
{
	bert_model m;
	bert_init(&m, c);
	random_weights(&m, 5);
	bert_set_threads(&m, nthreads);
	bert_acts *a = bert_acts_new(&m, B, T, 0);
	int32_t tok[B * T], lab[B * T];
	batch(tok, lab);
	int rws[B * T], nr = 0;
	for (int r = 0; r < B * T; r++) if (r % 3 == 1 || r == B * T - 1) rws[nr++] = r;
	double mx = rows_vs_full_diff(&m, a, tok, B, T, rws, nr);
	bert_acts_free(a);
	bert_free(&m);
	return mx;
}

/* a model file keeps the variant: config and parameters */
static void round_trip(const bert_config *c, const char *what)
{
	bert_model m, r;
	bert_init(&m, c);
	random_weights(&m, 3);
	char path[] = "/tmp/test_variants_XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char err[512] = "";
	tns_header h;
	tns_header_init(&h);
	model_set_header(&h, &m, 1, 2, 3);
	tns_writer *w = tns_create(path, &h, 0, err, sizeof err);
	tns_header_free(&h);
	int rc = w && model_write_buffer(w, &m, "params", m.params) == 0 && tns_close(w) == 0 ? 0 : -1;
	if (rc == 0) rc = model_load(path, &r, NULL, NULL, NULL, err, sizeof err);
	ok(rc == 0 && !memcmp(&r.c, &m.c, sizeof m.c) && bert_hash(&r) == bert_hash(&m),
	   "%s: a model file round trip keeps the config and the parameters (%s)", what, err);
	if (rc == 0) bert_free(&r);
	unlink(path);
	bert_free(&m);
}

/* ---- the DNABERT-2 fixtures -------------------------------------------- */

#define FAM "tests/golden/families/"

/* the windows' tokens of NAME.windows.json ("tokens": [[..], ..]) */
static int read_windows(const char *path, int32_t *tok, int maxw, int Tn)
{
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strstr(buf, "\"tokens\"");
	if (!p || !(p = strchr(p, '['))) return -1;
	p++;
	int w = 0;
	while (w < maxw && (p = strchr(p, '[')) != NULL) {
		p++;
		for (int t = 0; t < Tn; t++) {
			tok[w * Tn + t] = (int32_t)strtol(p, &p, 10);
			p += strspn(p, " ,");
		}
		if (*p != ']') return -1;
		w++;
		if (p[1] == ']' || (p[1] == ',' && strchr(p, '[') == NULL)) break;
		if (strncmp(p, "]]", 2) == 0) break;
	}
	return w;
}

/* the checkpoint tensor of a table name (DNABERT-2's names), rows
 * [r0, r0 + rows) of it (the fused Wqkv); 0 if absent (the gate's bias) */
static int load_param(const st_set *s, const bert_param *p, float *out)
{
	char nm[160];
	const char *n = p->name, *x;
	int part = -1;
	snprintf(nm, sizeof nm, "%s", n);
	if ((x = strstr(n, "attention.self.")) != NULL) {
		const char *what = x + 15;
		part = !strncmp(what, "query", 5) ? 0 : !strncmp(what, "key", 3) ? 1 : 2;
		snprintf(nm, sizeof nm, "%.*sattention.self.Wqkv.%s", (int)(x - n), n, strchr(what, '.') + 1);
	} else if ((x = strstr(n, "intermediate.dense.")) != NULL) {
		if (strstr(x, "bias")) { memset(out, 0, p->n * sizeof *out); return 0; }
		snprintf(nm, sizeof nm, "%.*smlp.gated_layers.weight", (int)(x - n), n);
	} else if ((x = strstr(n, "output.dense.")) != NULL && !strstr(n, "attention")) {
		snprintf(nm, sizeof nm, "%.*smlp.wo.%s", (int)(x - n), n, x + 13);
	} else if ((x = strstr(n, "output.LayerNorm.")) != NULL && !strstr(n, "attention")) {
		snprintf(nm, sizeof nm, "%.*smlp.layernorm.%s", (int)(x - n), n, x + 17);
	} else if (!strcmp(n, "cls.predictions.bias"))
		snprintf(nm, sizeof nm, "cls.predictions.decoder.bias");
	const st_tensor *t = st_set_find(s, nm, NULL);
	if (!t) { diag("no tensor %s for %s", nm, n); return -1; }
	if (part < 0) {
		if ((size_t)t->numel != p->n) { diag("%s: %lld values, want %zu", nm, (long long)t->numel, p->n); return -1; }
		return st_to_f32(t, out);
	}
	float *all = malloc(t->numel * sizeof *all);
	int rc = (size_t)t->numel == 3 * p->n ? st_to_f32(t, all) : -1;
	if (rc == 0) memcpy(out, all + part * p->n, p->n * sizeof *out);
	free(all);
	return rc;
}

/* |c - r| <= tol (1 + |r|) everywhere; the worst |c - r| / (1 + |r|) */
static double worst(const float *c, const float *r, size_t n)
{
	double w = 0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)c[i] - r[i]) / (1 + fabs(r[i]));
		if (!(e <= w)) w = isnan(e) ? INFINITY : e;
	}
	return w;
}

/* the fisher_params.tsv sum of a checkpoint name from ours, or -1 */
static double fisher_of(const bert_model *m, const double *fi, const char *ck)
{
	double s = 0;
	int found = 0;
	for (int i = 0; i < m->np; i++) {
		char nm[160];
		const bert_param *p = &m->p[i];
		const char *n = p->name, *x;
		snprintf(nm, sizeof nm, "%s", n);
		if ((x = strstr(n, "attention.self.")) != NULL)
			snprintf(nm, sizeof nm, "%.*sattention.self.Wqkv.%s", (int)(x - n), n, strchr(x + 15, '.') + 1);
		else if ((x = strstr(n, "intermediate.dense.")) != NULL)
			snprintf(nm, sizeof nm, "%.*smlp.gated_layers.%s", (int)(x - n), n, x + 19);
		else if ((x = strstr(n, "output.dense.")) != NULL && !strstr(n, "attention"))
			snprintf(nm, sizeof nm, "%.*smlp.wo.%s", (int)(x - n), n, x + 13);
		else if ((x = strstr(n, "output.LayerNorm.")) != NULL && !strstr(n, "attention"))
			snprintf(nm, sizeof nm, "%.*smlp.layernorm.%s", (int)(x - n), n, x + 17);
		else if (!strcmp(n, "cls.predictions.bias"))
			snprintf(nm, sizeof nm, "cls.predictions.decoder.bias");
		if (!strcmp(nm, ck)) s += fi[i], found = 1;
	}
	return found ? s : -1;
}

static void dnabert2(const char *name, int heads, int d)
{
	char path[512], err[256] = "";
	bert_config c;
	bert_config_named(&c, "4M", 22);
	c.layers = 2, c.hidden = d, c.heads = heads, c.ffn = 2 * d, c.max_pos = 512, c.type_vocab = 2;
	c.hidden_drop = c.attn_drop = 0;
	c.pad_id = 3, c.mask_id = 4;
	c.pos = BERT_POS_ALIBI, c.ffn_kind = BERT_FFN_GEGLU;
	bert_model m;
	if (!ok(bert_init(&m, &c) == 0, "%s: the config (ALiBi, GeGLU, no positions)", name)) return;
	st_set s;
	snprintf(path, sizeof path, FAM "%s", name);
	if (!ok(st_set_open(&s, path, err, sizeof err) == 0, "%s: open %s (%s)", name, path, err)) { bert_free(&m); return; }
	int bad = 0;
	for (int i = 0; i < m.np; i++) bad |= load_param(&s, &m.p[i], m.params + m.p[i].off) != 0;
	st_set_close(&s);
	ok(!bad, "%s: every tensor of the table from the checkpoint", name);
	bert_params_changed(&m);

	enum { W = 6, TN = 16 };
	int32_t tok[W * TN];
	snprintf(path, sizeof path, FAM "%s.windows.json", name);
	int nw = read_windows(path, tok, W, TN);
	if (!ok(nw == W, "%s: %d windows of %d tokens", name, nw, TN)) { bert_free(&m); return; }

	snprintf(path, sizeof path, FAM "%s.probs.tns", name);
	tns_reader *pr = tns_open(path, err, sizeof err);
	snprintf(path, sizeof path, FAM "%s.hidden.tns", name);
	tns_reader *hr = tns_open(path, err, sizeof err);
	if (!ok(pr && hr, "%s: open the expected outputs (%s)", name, err)) { bert_free(&m); return; }
	bert_alloc_grads(&m);
	bert_acts *a = bert_acts_new(&m, 1, TN, 1);
	double wh = 0, wp = 0;
	double *fi = calloc(m.np, sizeof *fi);
	float *g2 = malloc(m.n * sizeof *g2);
	int nfw = 0, rows = 0;
	for (int w = 0; w < W; w++) {
		tns_record prec, hrec;
		memset(&prec, 0, sizeof prec), memset(&hrec, 0, sizeof hrec);
		if (tns_read(pr, &prec) != 1 || tns_read(hr, &hrec) != 1) { ok(0, "%s: record %d", name, w); break; }
		const tns_tensor *mp = tns_get(&prec, "mask_pos"), *lb = tns_get(&prec, "labels"),
		                 *pp = tns_get(&prec, "probs"), *am = tns_get(&hrec, "attention_mask");
		int nm = (int)tns_numel(mp);
		int32_t in[TN], lab[TN];
		const int32_t *pos = mp->data, *ml = am->data;
		memcpy(in, tok + w * TN, sizeof in);
		for (int t = 0; t < TN; t++) lab[t] = -1;
		for (int i = 0; i < nm; i++) in[pos[i]] = 4, lab[pos[i]] = ((const int32_t *)lb->data)[i];
		bert_forward(&m, a, in, 1, TN, NULL);
		for (int l = 0; l <= c.layers; l++) {
			char hn[32];
			snprintf(hn, sizeof hn, "hidden.%d.m0", l);
			const tns_tensor *ht = tns_get(&hrec, hn);
			for (int t = 0; t < TN; t++)
				if (ml[t]) wh = fmax(wh, worst(bert_hidden(a, l) + (size_t)t * d, (const float *)ht->data + (size_t)t * d, d)), rows++;
		}
		float pb[TN * 22];
		bert_head(&m, a, pos, nm, pb, 1);
		for (int i = 0; i < nm * 22; i++) wp = fmax(wp, fabs(pb[i] - ((const float *)pp->data)[i]));
		/* the window's Fisher: squared gradient of its mean masked loss */
		if (nm) {
			bert_zero_grads(&m);
			bert_forward(&m, a, in, 1, TN, NULL);
			bert_mlm_loss(&m, a, lab);
			bert_backward(&m, a, 0, 1, 1.0f / nm);
			for (int i = 0; i < m.np; i++) {
				double q = 0;
				for (size_t j = 0; j < m.p[i].n; j++) q += (double)m.grads[m.p[i].off + j] * m.grads[m.p[i].off + j];
				fi[i] += q;
			}
			nfw++;
		}
		tns_record_free(&prec), tns_record_free(&hrec);
	}
	tns_close_reader(pr), tns_close_reader(hr);
	ok(wh <= 1e-5, "%s: hidden states of every layer at the %d real positions (worst |diff|/(1+|ref|) %.2g)", name, rows, wh);
	ok(wp <= 1e-5, "%s: probabilities at the masked positions (max |diff| %.2g)", name, wp);
	/* Fisher per checkpoint tensor */
	snprintf(path, sizeof path, FAM "%s.fisher_params.tsv", name);
	FILE *f = fopen(path, "r");
	char line[256], ck[160];
	double want, wf = 0;
	int nf = 0, missing = 0;
	for (int i = 0; i < m.np; i++) fi[i] /= nfw;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%159s %lf", ck, &want) == 2) {
			double got = fisher_of(&m, fi, ck);
			if (got < 0) { missing++; diag("%s: %s not in the table", name, ck); continue; }
			double e = fabs(got - want) / fmax(fabs(want), 1e-30);
			if (e > 1e-5) diag("%s: %s: %.9g, reference %.9g", name, ck, got, want);
			wf = fmax(wf, e), nf++;
		}
	if (f) fclose(f);
	ok(nf >= 25 && !missing && wf <= 1e-5, "%s: Fisher of %d tensors (squared gradients: the backward) to %.2g relative",
	   name, nf, wf);
	free(fi), free(g2);
	bert_acts_free(a);
	bert_free(&m);
}

/* the rotary reference: norm-wise and worst-element relative error as
 * test_bert_golden.c measures them (fix_worst) */
static void rotary_golden(void)
{
	fixture fx;
	char path[512];
	snprintf(path, sizeof path, "%s/engine/variants_rotary.fix", fixture_dir());
	if (fixture_load(&fx, path) != 0) { ok(0, "load %s", path); return; }
	bert_config c = variant(BERT_POS_ROTARY, BERT_FFN_SWIGLU, 0, 1, 2);
	c.hidden_drop = c.attn_drop = 0;
	bert_model m;
	bert_init(&m, &c);
	int missing = 0;
	for (int i = 0; i < m.np; i++) {
		char nm[160];
		snprintf(nm, sizeof nm, "w.%s", m.p[i].name);
		const fix_tensor *t = fixture_get(&fx, nm);
		if (!t || (size_t)t->n != m.p[i].n) { missing++; continue; }
		memcpy(m.params + m.p[i].off, t->data, m.p[i].n * sizeof(float));
	}
	ok(missing == 0 && fx.n == 2 * m.np + 7, "rotary reference: its %d tensors are the table's", m.np);
	bert_params_changed(&m);
	bert_alloc_grads(&m);
	const fix_tensor *tk = fixture_get(&fx, "tokens");
	const int32_t *tok = tk->data, *lab = fixture_get(&fx, "labels")->data;
	int Bn = (int)tk->dim[0], Tn = (int)tk->dim[1], N = Bn * Tn;
	bert_acts *a = bert_acts_new(&m, Bn, Tn, 1);
	bert_forward(&m, a, tok, Bn, Tn, NULL);
	double w = 0, nw = 0, x;
	for (int l = 0; l <= c.layers; l++) {
		char nm[32];
		snprintf(nm, sizeof nm, "hidden.%d", l);
		w = fmax(w, fix_worst(bert_hidden(a, l), fixture_f32(&fx, nm), (long)N * c.hidden, &x));
		nw = fmax(nw, x);
	}
	ok(w <= 1e-5 && nw <= 1e-5, "rotary reference: hidden states of every layer (relative: worst %.2g, norm-wise %.2g)", w, nw);
	int rws[64];
	for (int r = 0; r < N; r++) rws[r] = r;
	float *pr = malloc(sizeof(float) * N * V);
	bert_head(&m, a, rws, N, pr, 1);
	w = fix_worst(pr, fixture_f32(&fx, "probs"), (long)N * V, &nw);
	ok(w <= 1e-5 && nw <= 1e-5, "rotary reference: probabilities at every row (relative: worst %.2g, norm-wise %.2g)", w, nw);
	float loss = bert_mlm_loss(&m, a, lab);
	double want = fixture_f32(&fx, "loss")[0];
	ok(fabs(loss - want) <= 1e-5 * fabs(want), "rotary reference: loss %.7f (reference %.7f)", loss, want);
	bert_backward(&m, a, 0, Bn, 1.0f / bert_nmasked(a, 0, Bn));
	w = 0, nw = 0;
	for (int i = 0; i < m.np; i++) {
		char nm[160];
		snprintf(nm, sizeof nm, "g.%s", m.p[i].name);
		if (strstr(nm, "key.bias")) continue;          /* zero but for rounding */
		double e = fix_worst(m.grads + m.p[i].off, fixture_f32(&fx, nm), (long)m.p[i].n, &x);
		if (e > 5e-5 || x > 1e-5) diag("%s: worst %.2g, norm-wise %.2g", m.p[i].name, e, x);
		w = fmax(w, e), nw = fmax(nw, x);
	}
	/* the worst element to 5e-5: a float32 backward's sums round to about
	 * that in single elements (1.8e-5 seen in the sanitizer build, whose
	 * code is not vectorised alike); a wrong gradient is off by O(1) */
	ok(w <= 5e-5 && nw <= 1e-5, "rotary reference: every gradient (relative: worst %.2g, norm-wise %.2g)", w, nw);
	free(pr);
	bert_acts_free(a);
	bert_free(&m);
	fixture_free(&fx);
}

int main(void)
{
	static const float s4[] = { 2.500000000e-01f, 6.250000000e-02f, 1.562500000e-02f, 3.906250000e-03f };
	static const float s6[] = { 2.500000000e-01f, 6.250000000e-02f, 1.562500000e-02f, 3.906250000e-03f,
	                            5.000000000e-01f, 1.250000000e-01f };
	static const float s12[] = { 5.000000000e-01f, 2.500000000e-01f, 1.250000000e-01f, 6.250000000e-02f,
	                             3.125000000e-02f, 1.562500000e-02f, 7.812500000e-03f, 3.906250000e-03f,
	                             7.071067691e-01f, 3.535533845e-01f, 1.767766923e-01f, 8.838834614e-02f };
	float got[12];
	bert_alibi_slopes(4, got);
	ok(!memcmp(got, s4, sizeof s4), "ALiBi slopes, 4 heads: 1/4 .. 1/256");
	bert_alibi_slopes(6, got);
	ok(!memcmp(got, s6, sizeof s6), "ALiBi slopes, 6 heads: slopes(4) ++ slopes(8)[0::2][:2]");
	bert_alibi_slopes(12, got);
	ok(!memcmp(got, s12, sizeof s12), "ALiBi slopes, 12 heads (DNABERT-2-117M): slopes(8) ++ slopes(16)[0::2][:4]");

	static const struct { const char *what; int pos, ffn, anb, fnb, heads; } vs[] = {
		{ "rotary", BERT_POS_ROTARY, BERT_FFN_GELU, 0, 0, 2 },
		{ "ALiBi, 4 heads", BERT_POS_ALIBI, BERT_FFN_GELU, 0, 0, 4 },
		{ "ALiBi, 6 heads", BERT_POS_ALIBI, BERT_FFN_GELU, 0, 0, 6 },
		{ "no positions", BERT_POS_NONE, BERT_FFN_GELU, 0, 0, 2 },
		{ "GeGLU", BERT_POS_ABSOLUTE, BERT_FFN_GEGLU, 0, 0, 2 },
		{ "SwiGLU", BERT_POS_ABSOLUTE, BERT_FFN_SWIGLU, 0, 0, 2 },
		{ "no biases (attention, FFN)", BERT_POS_ABSOLUTE, BERT_FFN_GELU, 1, 1, 2 },
		{ "NT v2's (rotary, SwiGLU without biases)", BERT_POS_ROTARY, BERT_FFN_SWIGLU, 0, 1, 4 },
		{ "DNABERT-2's (ALiBi, GeGLU), attention without biases", BERT_POS_ALIBI, BERT_FFN_GEGLU, 1, 0, 6 },
	};
	const char *nobf = mm_bf16_unavailable();
	for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
		bert_config c = variant(vs[i].pos, vs[i].ffn, vs[i].anb, vs[i].fnb, vs[i].heads);
		check_fd(vs[i].what, c);
		double e1 = rows_vs_full(&c, 1), e2 = rows_vs_full(&c, 2);
		ok(e1 < 1e-6 && e2 < 1e-6, "%s: bert_forward_rows = bert_forward at the listed rows (max |diff| %.2g, %.2g with 2 threads)",
		   vs[i].what, e1, e2);
		double l1, l2;
		uint64_t h1 = run_hash(&c, 1, 0, &l1), h2 = run_hash(&c, 2, 0, &l2);
		ok(h1 == h2 && l1 == l2, "%s: 1 and 2 threads give the same bits (hidden states, loss, gradients)", vs[i].what);
		if (nobf) skip(nobf);
		else {
			double lb1, lb2;
			uint64_t b1 = run_hash(&c, 1, 1, &lb1), b2 = run_hash(&c, 2, 1, &lb2);
			ok(b1 == b2 && lb1 == lb2 && fabs(lb1 - l1) < 0.05 * fabs(l1) && b1 != h1,
			   "%s: bf16: 1 and 2 threads the same bits, loss %.5f near fp32's %.5f", vs[i].what, lb1, l1);
		}
		round_trip(&c, vs[i].what);
	}
	rotary_golden();
	dnabert2("dnabert2", 4, 16);
	dnabert2("dnabert2_h6", 6, 24);
	return done_testing();
}
