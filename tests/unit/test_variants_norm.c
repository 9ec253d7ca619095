/* test_variants_norm.c -- the model-family variants of bert.c's norm
 * placement, embeddings and head (issue 23): pre-LN layers, the final
 * LayerNorm, offset / no position ids, no embedding LayerNorm, no token
 * types, token dropout, ESM's masked embeddings, the untied decoder.
 *
 * 1. Finite differences of the loss against bert_backward for every
 *    parameter tensor of three variant models (dropout on, <PAD> and
 *    <MASK> tokens in the batch), as test_bert_fd.c does for BERT
 *    (bertcheck.h).
 * 2. bert_forward_rows == bert_forward for pre-LN + final LN; -t 1 and
 *    -t 2 give bitwise the same hidden states and gradients; bf16 runs.
 * 3. The PyTorch references of tests/golden/families (gena, gena_lastln,
 *    esmln, nt1: the folders that need only these variants, absolute /
 *    offset positions and the GELU FFN with biases): their safetensors read
 *    through common/io/safetensors under the table's names (ESM's renamed
 *    here, as lmconvert will), the config from config.json, the windows
 *    and analysis masks from NAME.windows.json / NAME.probs.tns.  Hidden
 *    states of every layer (where attention_mask is 1) and the
 *    probabilities at the masked positions equal the reference's to 1e-5;
 *    the squared gradients per tensor (NAME.fisher_params.tsv, autograd)
 *    to 1e-5 relative. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "bertcheck.h"
#include "model/bert.h"
#include "base/mm.h"
#include "base/rng.h"
#include "base/util.h"
#include "io/safetensors.h"
#include "io/tns.h"

enum { V = 20, PAD = 1, MASK = 2 };
static double H = 2e-2, FLOOR = 5e-5;

/* ---- 1. finite differences ------------------------------------------------ */

static int32_t *tokens, *labels;
static int B = 3, T = 8;
static bert_drop dr = { 11, 5, 0 };

static bert_config small(void)
{
	bert_config c;
	bert_config_named(&c, "4M", V);
	c.layers = 2, c.hidden = 16, c.heads = 2, c.ffn = 24, c.max_pos = 12;
	c.pad_id = PAD, c.mask_id = MASK;
	return c;
}

/* a model of c with random weights: the table's init, then every vector
 * (LayerNorm weights and biases, biases) drawn too, so none is degenerate */
static void model_of(bert_model *mm, const bert_config *c, uint64_t seed)
{
	if (bert_init(mm, c) != 0) { fprintf(stderr, "bad config: %s\n", bert_config_check(c)); exit(1); }
	bert_init_weights(mm, seed);
	for (int i = 0; i < mm->np; i++) {
		if (mm->p[i].ndim != 1) continue;
		float *x = mm->params + mm->p[i].off;
		rng_t r;
		rng_seed(&r, seed + 99, (uint64_t)i);
		for (size_t j = 0; j < mm->p[i].n; j++) x[j] += (float)(0.3 * rng_normal(&r));
	}
	/* larger weights than 0.02 make the layers matter */
	for (size_t j = 0; j < mm->n; j++) mm->params[j] *= 1.0f + 9.0f * (mm->params[j] != 0 && fabsf(mm->params[j]) < 0.1f);
	bert_params_changed(mm);
}

/* a batch with a short (padded) record, <MASK> inputs and labels */
static void make_batch(void)
{
	tokens = malloc(sizeof *tokens * B * T), labels = malloc(sizeof *labels * B * T);
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			int r = b * T + t, len = b == 1 ? 5 : T;
			tokens[r] = t >= len ? PAD : t == 0 ? 3 : 5 + (int)rng_below(rng_hash4(3, b, t, 0), V - 5);
			labels[r] = -1;
			if (t > 0 && t < len && rng_below(rng_hash4(4, b, t, 0), 100) < 40) {
				labels[r] = tokens[r];
				if (rng_below(rng_hash4(5, b, t, 0), 100) < 70) tokens[r] = MASK;
			}
		}
}

/* every tensor of the model: two entries each (the largest gradient and
 * another), analytic vs Richardson-extrapolated central differences */
static void fd_check(const bert_config *c, const char *what)
{
	bert_model m;
	model_of(&m, c, 7);
	bert_alloc_grads(&m);
	fd_batch x = { &m, bert_acts_new(&m, B, T, 1), tokens, labels, B, T, dr };
	int nm, n;
	float *grad = fd_grad(&x, &nm);
	int bad = fd_all_tensors(&x, grad, H, FLOOR, what, &n);
	ok(!bad && n > 0, "%s: analytic gradients = finite differences at %d entries of all %d tensors", what, n, m.np);
	/* per-window backward slices add up to the batch's */
	double rel = fd_slices(&x, grad, nm);
	ok(rel < 1e-6, "%s: per-window backward slices add up to the batch gradient (rel. %.2g)", what, rel);
	free(grad);
	bert_acts_free(x.a);
	bert_free(&m);
}

/* ---- 2. rows vs full, threads, bf16 ------------------------------------------ */

/* hidden states (all layers), loss and gradients of one training step */
typedef struct { float *hid, *grads; double loss; } run_out;

static run_out run_step(const bert_config *c, int nthreads, int bf16)
{
	bert_model mm;
	model_of(&mm, c, 3);
	bert_set_threads(&mm, nthreads);
	if (bf16) bert_set_precision(&mm, 1);
	bert_alloc_grads(&mm);
	bert_acts *aa = bert_acts_new(&mm, B, T, 1);
	bert_forward(&mm, aa, tokens, B, T, &dr);
	run_out o;
	o.loss = bert_mlm_loss(&mm, aa, labels);
	bert_backward(&mm, aa, 0, B, 1.0f / bert_nmasked(aa, 0, B));
	size_t nh = (size_t)B * T * c->hidden;
	o.hid = malloc((c->layers + 1) * nh * sizeof(float));
	for (int l = 0; l <= c->layers; l++) memcpy(o.hid + l * nh, bert_hidden(aa, l), nh * sizeof(float));
	o.grads = malloc(mm.n * sizeof(float));
	memcpy(o.grads, mm.grads, mm.n * sizeof(float));
	bert_acts_free(aa);
	bert_free(&mm);
	return o;
}

static void threads_check(const bert_config *c, const char *what)
{
	bert_model mm;
	model_of(&mm, c, 3);
	size_t nh = (size_t)B * T * c->hidden * (c->layers + 1), n = mm.n;
	bert_free(&mm);
	run_out r1 = run_step(c, 1, 0), r2 = run_step(c, 2, 0);
	ok(!memcmp(r1.hid, r2.hid, nh * sizeof(float)) && !memcmp(r1.grads, r2.grads, n * sizeof(float)) && r1.loss == r2.loss,
	   "%s: -t 1 and -t 2 give bitwise the same hidden states, loss and gradients", what);
	const char *why = mm_bf16_unavailable();
	if (why) skip(why);
	else {
		run_out b = run_step(c, 2, 1), b1 = run_step(c, 1, 1);
		ok(!memcmp(b.grads, b1.grads, n * sizeof(float)) && !memcmp(b.hid, b1.hid, nh * sizeof(float)),
		   "%s: bf16: -t 1 and -t 2 bitwise the same too", what);
		free(b1.hid), free(b1.grads);
		double se = 0, sr = 0;
		for (size_t i = 0; i < n; i++) se += (b.grads[i] - r1.grads[i]) * (double)(b.grads[i] - r1.grads[i]),
		                                sr += (double)r1.grads[i] * r1.grads[i];
		ok(fabs(b.loss - r1.loss) < 2e-2 * r1.loss && sqrt(se / sr) < 0.1,
		   "%s: bf16 runs, near fp32 (loss %.5f vs %.5f, gradients rel. %.2g)", what, b.loss, r1.loss, sqrt(se / sr));
		free(b.hid), free(b.grads);
	}
	free(r1.hid), free(r1.grads), free(r2.hid), free(r2.grads);
}

static void rows_check(const bert_config *c, const char *what)
{
	bert_model mm;
	model_of(&mm, c, 5);
	bert_acts *aa = bert_acts_new(&mm, B, T, 0);
	int rws[B * T], nr = 0;
	for (int r = 0; r < B * T; r++) if (labels[r] >= 0) rws[nr++] = r;
	int d = c->hidden, L = c->layers;
	float *h1 = malloc(sizeof(float) * nr * d);
	bert_forward(&mm, aa, tokens, B, T, NULL);
	for (int i = 0; i < nr; i++) memcpy(h1 + i * d, bert_hidden(aa, L) + (size_t)rws[i] * d, d * sizeof(float));
	/* (that leaves the hidden states of bert_forward_rows in aa) */
	double mp = rows_vs_full_diff(&mm, aa, tokens, B, T, rws, nr), mh = 0;
	for (int i = 0; i < nr; i++)
		for (int k = 0; k < d; k++) mh = fmax(mh, fabs(h1[i * d + k] - bert_hidden(aa, L)[(size_t)rws[i] * d + k]));
	ok(nr > 0 && mp < 1e-6 && mh < 1e-5, "%s: bert_forward_rows at %d rows = bert_forward (probabilities %.2g, hidden:L %.2g)",
	   what, nr, mp, mh);
	free(h1);
	bert_acts_free(aa);
	bert_free(&mm);
}

/* the embedding output by hand (bert.h, EsmEmbeddings.forward) for a model
 * without an embedding LayerNorm: word times the token-dropout scale +
 * position pos_offset + k for the k-th real token, zero at <PAD> */
static void emb_check(const bert_config *c, const char *what)
{
	bert_model mm;
	model_of(&mm, c, 9);
	bert_acts *aa = bert_acts_new(&mm, B, T, 0);
	bert_forward(&mm, aa, tokens, B, T, NULL);
	int d = c->hidden;
	double mx = 0;
	for (int b = 0; b < B; b++) {
		int real = 0, masks = 0, k = 0;
		for (int t = 0; t < T; t++) real += tokens[b * T + t] != PAD, masks += tokens[b * T + t] == MASK;
		double s = c->token_dropout ? 0.88 / (1.0 - (double)masks / real) : 1.0;
		for (int t = 0; t < T; t++) {
			int tok = tokens[b * T + t];
			const float *x = bert_hidden(aa, 0) + (size_t)(b * T + t) * d;
			for (int i = 0; i < d; i++) {
				double want = 0;
				if (tok != PAD) {
					want = (tok == MASK && c->token_dropout ? 0.0 : mm.w.wte[tok * d + i] * s);
					if (mm.w.wpe) want += mm.w.wpe[(c->pos == BERT_POS_OFFSET ? c->pos_offset + k : t) * d + i];
				}
				mx = fmax(mx, fabs(x[i] - want));
			}
			k += tok != PAD;
		}
	}
	ok(mx < 1e-6, "%s: the embedding output is word x 0.88 / (1 - masks / real) + position (pad + 1 + k), 0 at <PAD> (max |diff| %.2g)",
	   what, mx);
	bert_acts_free(aa);
	bert_free(&mm);
}

/* ---- 3. the PyTorch references -------------------------------------------- */

static const char *fam_dir(void)
{
	const char *d = getenv("SEQLM_FAMILIES");
	return d ? d : "tests/golden/families";
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc(n + 1);
	s[fread(s, 1, n, f)] = 0;
	fclose(f);
	return s;
}

static int jint(const cJSON *j, const char *k, int def)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, k);
	return cJSON_IsNumber(x) ? x->valueint : def;
}

static int jtrue(const cJSON *j, const char *k, int def)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, k);
	return cJSON_IsBool(x) ? cJSON_IsTrue(x) : def;
}

/* config.json of an ESM or GENA-LM folder as the variant (the families'
 * rules of tests/golden/families/README.md) */
static int fam_config(const char *name, bert_config *c, int *esm)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s/config.json", fam_dir(), name);
	char *s = slurp(p);
	cJSON *j = s ? cJSON_Parse(s) : NULL;
	free(s);
	if (!j) return -1;
	memset(c, 0, sizeof *c);
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(j, "model_type");
	*esm = cJSON_IsString(mt) && !strcmp(mt->valuestring, "esm");
	if (!mt && cJSON_GetObjectItemCaseSensitive(j, "add_bias_fnn")) *esm = 1;   /* NT v2's remote code */
	c->vocab_size = jint(j, "vocab_size", 0), c->hidden = jint(j, "hidden_size", 0);
	c->layers = jint(j, "num_hidden_layers", 0), c->heads = jint(j, "num_attention_heads", 0);
	c->ffn = jint(j, "intermediate_size", 0), c->max_pos = jint(j, "max_position_embeddings", 0);
	c->ln_eps = (float)cJSON_GetObjectItemCaseSensitive(j, "layer_norm_eps")->valuedouble;
	c->pad_id = jint(j, "pad_token_id", 0), c->mask_id = -1;
	c->norm = BERT_NORM_PRE;
	const cJSON *pe = cJSON_GetObjectItemCaseSensitive(j, "position_embedding_type");
	if (*esm) {
		c->final_ln = 1, c->pos = BERT_POS_OFFSET, c->pos_offset = c->pad_id + 1, c->lm_head = BERT_LMHEAD_ESM;
		if (cJSON_IsString(pe) && !strcmp(pe->valuestring, "rotary")) c->pos = BERT_POS_ROTARY, c->pos_offset = 0;
		if (!jtrue(j, "add_bias_fnn", 1)) c->ffn_kind = BERT_FFN_SWIGLU, c->ffn_nobias = 1;   /* NT v2 */
		c->emb_noln = !jtrue(j, "emb_layer_norm_before", 0), c->token_dropout = jtrue(j, "token_dropout", 0);
		c->untied = !jtrue(j, "tie_word_embeddings", 1), c->type_vocab = 0;
		c->mask_id = jint(j, "mask_token_id", -1);
	} else {
		c->type_vocab = jint(j, "type_vocab_size", 2);
		c->final_ln = jtrue(j, "last_layer_norm", jtrue(j, "pre_layer_norm", 0));
	}
	cJSON_Delete(j);
	return 0;
}

/* the table's name -> ESM's checkpoint name (what lmconvert maps) */
static void esm_name(const char *t, char *out, size_t len)
{
	static const char *const map[][2] = {
		{ "bert.embeddings.LayerNorm.", "esm.embeddings.layer_norm." },
		{ "bert.embeddings.", "esm.embeddings." },
		{ "bert.encoder.last_layer_ln.", "esm.encoder.emb_layer_norm_after." },
		{ "cls.predictions.transform.dense.", "lm_head.dense." },
		{ "cls.predictions.transform.LayerNorm.", "lm_head.layer_norm." },
		{ "cls.predictions.bias", "lm_head.bias" },
		{ "cls.predictions.decoder.", "lm_head.decoder." },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strncmp(t, map[i][0], strlen(map[i][0]))) {
			snprintf(out, len, "%s%s", map[i][1], t + strlen(map[i][0]));
			return;
		}
	int l;
	char rest[96];
	if (sscanf(t, "bert.encoder.layer.%d.%95s", &l, rest) == 2) {
		const char *r = !strncmp(rest, "pre_attention_ln.", 17) ? "attention.LayerNorm." :
		                !strncmp(rest, "post_attention_ln.", 18) ? "LayerNorm." : NULL;
		if (r) snprintf(out, len, "esm.encoder.layer.%d.%s%s", l, r, strrchr(rest, '.') + 1);
		else snprintf(out, len, "esm.encoder.layer.%d.%s", l, rest);
		return;
	}
	snprintf(out, len, "%s", t);
}

/* every tensor of the table from the folder's safetensors; -1 if one is
 * missing or misshapen */
static int fam_load(const char *name, int esm, bert_model *mm)
{
	char p[512], e[256], hf[128];
	snprintf(p, sizeof p, "%s/%s", fam_dir(), name);
	st_set s;
	if (st_set_open(&s, p, e, sizeof e)) { diag("%s", e); return -1; }
	int bad = 0;
	for (int i = 0; i < mm->np; i++) {
		const bert_param *q = &mm->p[i];
		if (esm) esm_name(q->name, hf, sizeof hf);
		else snprintf(hf, sizeof hf, "%s", q->name);
		const st_tensor *t = st_set_find(&s, hf, NULL);
		if (!t || t->numel != (int64_t)q->n || st_to_f32(t, mm->params + q->off)) {
			diag("%s: %s (%s) missing or misshapen", name, q->name, hf);
			bad++;
		}
	}
	st_set_close(&s);
	bert_params_changed(mm);
	return bad ? -1 : 0;
}

/* the fisher_params.tsv of the reference: name -> value */
static double fisher_ref(const char *name, const char *param)
{
	char p[512], line[512];
	snprintf(p, sizeof p, "%s/%s.fisher_params.tsv", fam_dir(), name);
	FILE *f = fopen(p, "r");
	double v = NAN;
	size_t n = strlen(param);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, param, n) && line[n] == '\t') v = atof(line + n + 1);
	if (f) fclose(f);
	return v;
}

static void fam_check(const char *name)
{
	bert_config c;
	int esm;
	char p[512];
	if (fam_config(name, &c, &esm)) { ok(0, "%s: config.json read", name); return; }
	bert_model mm;
	const char *why = bert_config_check(&c);
	if (!ok(!why && bert_init(&mm, &c) == 0, "%s: its variant is accepted (%s)", name, why ? why : "ok")) return;
	if (!ok(fam_load(name, esm, &mm) == 0, "%s: every tensor read from model.safetensors", name)) { bert_free(&mm); return; }
	bert_alloc_grads(&mm);

	snprintf(p, sizeof p, "%s/%s.windows.json", fam_dir(), name);
	char *s = slurp(p);
	cJSON *w = s ? cJSON_Parse(s) : NULL;
	free(s);
	snprintf(p, sizeof p, "%s/%s.probs.tns", fam_dir(), name);
	char e[256];
	tns_reader *rp = tns_open(p, e, sizeof e);
	snprintf(p, sizeof p, "%s/%s.hidden.tns", fam_dir(), name);
	tns_reader *rh = tns_open(p, e, sizeof e);
	if (!ok(w && rp && rh, "%s: windows, probabilities and hidden states read", name)) return;
	int Tw = jint(w, "window", 0), mask = jint(w, "mask_id", -1), d = c.hidden, Vv = c.vocab_size;
	const cJSON *toks = cJSON_GetObjectItemCaseSensitive(w, "tokens"), *win;
	bert_acts *aa = bert_acts_new(&mm, 1, Tw, 1), *ai = bert_acts_new(&mm, 1, Tw, 0);
	int32_t *tk = malloc(Tw * sizeof *tk), *lab = malloc(Tw * sizeof *lab);
	double eh = 0, ep = 0, er = 0;
	int nwin = 0, nmasked = 0, nrec = 0;
	double *fis = calloc(mm.np, sizeof *fis);
	float *pr = malloc((size_t)Tw * Vv * sizeof *pr);
	cJSON_ArrayForEach(win, toks) {
		tns_record rec, hrec;
		if (tns_read(rp, &rec) != 1 || tns_read(rh, &hrec) != 1) break;
		nrec++;
		int t = 0;
		const cJSON *x;
		cJSON_ArrayForEach(x, win) tk[t++] = x->valueint;
		const tns_tensor *mp = tns_get(&rec, "mask_pos"), *pb = tns_get(&rec, "probs");
		const int32_t *pos = mp->data, *labs = tns_get(&rec, "labels")->data;
		int n = (int)tns_numel(mp);
		for (t = 0; t < Tw; t++) lab[t] = -1;
		for (int i = 0; i < n; i++) tk[pos[i]] = mask, lab[pos[i]] = labs[i];
		bert_forward(&mm, aa, tk, 1, Tw, NULL);
		const int32_t *am = tns_get(&hrec, "attention_mask")->data;
		for (int l = 0; l <= c.layers; l++) {
			char hn[32];
			snprintf(hn, sizeof hn, "hidden.%d.m0", l);
			const float *want = tns_get(&hrec, hn)->data, *got = bert_hidden(aa, l);
			for (t = 0; t < Tw; t++)
				for (int k = 0; am[t] && k < d; k++) eh = fmax(eh, fabs(got[t * d + k] - want[t * d + k]));
		}
		if (n) {
			const float *want = pb->data;
			bert_head(&mm, aa, pos, n, pr, 1);
			for (int i = 0; i < n * Vv; i++) ep = fmax(ep, fabs(pr[i] - want[i]));
			bert_forward_rows(&mm, ai, tk, 1, Tw, pos, n);
			bert_head(&mm, ai, pos, n, pr, 1);
			for (int i = 0; i < n * Vv; i++) er = fmax(er, fabs(pr[i] - want[i]));
			/* the window's squared gradient per tensor */
			bert_forward(&mm, aa, tk, 1, Tw, NULL);
			bert_mlm_loss(&mm, aa, lab);
			bert_zero_grads(&mm);
			bert_backward(&mm, aa, 0, 1, 1.0f / n);
			for (int i = 0; i < mm.np; i++)
				for (size_t j = 0; j < mm.p[i].n; j++) fis[i] += (double)mm.grads[mm.p[i].off + j] * mm.grads[mm.p[i].off + j];
			nwin++, nmasked += n;
		}
		tns_record_free(&rec), tns_record_free(&hrec);
	}
	ok(nrec == cJSON_GetArraySize(toks) && nmasked > 0, "%s: %d windows, %d masked positions", name, nrec, nmasked);
	ok(eh <= 1e-5, "%s: hidden states of every layer = the reference's where attention_mask is 1 (max |diff| %.2g)", name, eh);
	ok(ep <= 1e-5, "%s: probabilities at the masked positions = the reference's (max |diff| %.2g)", name, ep);
	ok(er <= 1e-5, "%s: bert_forward_rows' probabilities too (max |diff| %.2g)", name, er);
	/* relative error, with a floor of 1e-9 of the largest for tensors
	 * whose gradient is zero in exact arithmetic (the key biases: softmax
	 * ignores a constant shift) and rounding noise here */
	double ef = 0, fmx = 0;
	int nf = 0;
	for (int i = 0; i < mm.np; i++) fmx = fmax(fmx, fis[i] / nwin);
	for (int i = 0; i < mm.np; i++) {
		char hf[128];
		if (esm) esm_name(mm.p[i].name, hf, sizeof hf);
		else snprintf(hf, sizeof hf, "%s", mm.p[i].name);
		double want = fisher_ref(name, hf), got = fis[i] / nwin;
		if (isnan(want)) { diag("%s: %s not in fisher_params.tsv", name, hf); ef = INFINITY; continue; }
		double rel = fabs(got - want) / (want + 1e-9 * fmx);
		if (rel > 1e-5) diag("%s: %s: %.8g vs autograd %.8g", name, hf, got, want);
		ef = fmax(ef, rel), nf++;
	}
	ok(ef <= 1e-5 && nf == mm.np, "%s: squared gradients of all %d tensors = autograd's (max rel. %.2g)", name, nf, ef);
	free(fis), free(pr), free(tk), free(lab);
	cJSON_Delete(w);
	tns_close_reader(rp), tns_close_reader(rh);
	bert_acts_free(aa), bert_acts_free(ai);
	bert_free(&mm);
}

/* the embedding output alone (hidden:0) of a folder whose layers need
 * more than this file's variants (esmtd: token dropout with rotary) */
static void fam_hidden0(const char *name)
{
	bert_config c;
	int esm;
	char p[512], e[256];
	bert_model mm;
	if (fam_config(name, &c, &esm) || bert_init(&mm, &c)) { ok(0, "%s: config", name); return; }
	if (!ok(fam_load(name, esm, &mm) == 0, "%s: every tensor of the embeddings read", name)) { bert_free(&mm); return; }
	snprintf(p, sizeof p, "%s/%s.windows.json", fam_dir(), name);
	char *s = slurp(p);
	cJSON *w = s ? cJSON_Parse(s) : NULL;
	free(s);
	snprintf(p, sizeof p, "%s/%s.probs.tns", fam_dir(), name);
	tns_reader *rp = tns_open(p, e, sizeof e);
	snprintf(p, sizeof p, "%s/%s.hidden.tns", fam_dir(), name);
	tns_reader *rh = tns_open(p, e, sizeof e);
	if (!ok(w && rp && rh, "%s: windows, masks and hidden states read", name)) return;
	int Tw = jint(w, "window", 0), mask = jint(w, "mask_id", -1), d = c.hidden, nm = 0;
	bert_acts *aa = bert_acts_new(&mm, 1, Tw, 0);
	int32_t *tk = malloc(Tw * sizeof *tk);
	double eh = 0;
	const cJSON *win;
	cJSON_ArrayForEach(win, cJSON_GetObjectItemCaseSensitive(w, "tokens")) {
		tns_record rec, hrec;
		if (tns_read(rp, &rec) != 1 || tns_read(rh, &hrec) != 1) break;
		int t = 0;
		const cJSON *x;
		cJSON_ArrayForEach(x, win) tk[t++] = x->valueint;
		const tns_tensor *mp = tns_get(&rec, "mask_pos");
		for (int i = 0; i < tns_numel(mp); i++) tk[((const int32_t *)mp->data)[i]] = mask, nm++;
		bert_forward(&mm, aa, tk, 1, Tw, NULL);
		const int32_t *am = tns_get(&hrec, "attention_mask")->data;
		const float *want = tns_get(&hrec, "hidden.0.m0")->data, *got = bert_hidden(aa, 0);
		for (t = 0; t < Tw; t++)
			for (int k = 0; k < d; k++) eh = fmax(eh, fabs(got[t * d + k] - (am[t] ? want[t * d + k] : 0.0f)));
		tns_record_free(&rec), tns_record_free(&hrec);
	}
	ok(nm > 0 && eh <= 1e-5, "%s: the embedding output (token dropout, %d masks) = the reference's hidden:0 (max |diff| %.2g)",
	   name, nm, eh);
	free(tk);
	cJSON_Delete(w);
	tns_close_reader(rp), tns_close_reader(rh);
	bert_acts_free(aa);
	bert_free(&mm);
}

int main(void)
{
	make_batch();
	bert_config c = small();

	bert_config pre = c;                 /* GENA-LM: pre-LN, last_layer_ln */
	pre.norm = BERT_NORM_PRE, pre.final_ln = 1;
	fd_check(&pre, "pre-LN + final LN");

	bert_config esm = c;                 /* ESM-1b/NT v1 and more: every variant of this file at once */
	esm.norm = BERT_NORM_PRE, esm.final_ln = 1, esm.pos = BERT_POS_OFFSET, esm.pos_offset = PAD + 1;
	esm.emb_noln = 1, esm.type_vocab = 0, esm.token_dropout = 1, esm.lm_head = BERT_LMHEAD_ESM, esm.untied = 1;
	fd_check(&esm, "ESM (offset positions, no embedding LN, no token types, token dropout, untied)");

	bert_config none = c;                /* post-LN without positions, with the embedding LN */
	none.pos = BERT_POS_NONE, none.type_vocab = 0, none.untied = 1;
	fd_check(&none, "post-LN, no positions, no token types, untied");

	emb_check(&esm, "ESM");
	rows_check(&pre, "pre-LN + final LN");
	rows_check(&esm, "ESM");
	threads_check(&pre, "pre-LN + final LN");
	threads_check(&esm, "ESM");

	bert_config bad = esm;
	bad.pos_offset = bad.max_pos;
	ok(bert_config_check(&bad) != NULL, "an offset leaving no position is refused");
	bad = esm, bad.mask_id = -1;
	ok(bert_config_check(&bad) != NULL, "token dropout without a mask id is refused");
	ok(bert_max_tokens(&esm) == esm.max_pos - PAD - 1 && bert_max_tokens(&pre) == pre.max_pos,
	   "bert_max_tokens: offset ids take pos_offset positions");

	fam_check("gena");
	fam_check("gena_lastln");
	fam_check("esmln");
	fam_check("nt1");
	fam_hidden0("esmtd");
	fam_check("nt2");              /* + rotary, SwiGLU without biases (fam-attn) */
	fam_check("esmtd");            /* + rotary with token dropout */
	free(tokens), free(labels);
	return done_testing();
}
