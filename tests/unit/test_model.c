/* test_model.c -- the parameter table (bert_table.c), model files (model.c)
 * and config.json parsing (hfconfig.c): names and order pinned, every
 * pointer bound to its tensor, a random model written and read back bit for
 * bit, shape and name errors, and the variants refused where a model
 * enters (bert_init, @KV keys, config.json). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "vocabfix.h"
#include "model/bert.h"
#include "model/hfconfig.h"
#include "model/model.h"

static char dir[256];

static bert_config tiny(void)
{
	bert_config c;
	bert_config_named(&c, "4M", 12);
	c.layers = 2, c.hidden = 8, c.heads = 2, c.ffn = 12, c.max_pos = 10, c.type_vocab = 2;
	return c;
}

/* BertForMaskedLM's state_dict names, in order: the file format */
static void test_table_names(void)
{
	static const char *const layer[16] = {
		"attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
		"attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
		"attention.output.dense.weight", "attention.output.dense.bias",
		"attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
		"intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight",
		"output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias",
	};
	bert_config c = tiny();
	bert_model m;
	ok(bert_init_table(&m, &c) == 0 && m.np == 5 + 16 * 2 + 5, "a 2-layer BERT has 42 tensors (%d)", m.np);
	int bad = 0;
	char want[96];
	for (int l = 0; l < 2; l++)
		for (int i = 0; i < 16; i++) {
			snprintf(want, sizeof want, "bert.encoder.layer.%d.%s", l, layer[i]);
			bad += strcmp(m.p[5 + 16 * l + i].name, want) != 0 || m.p[5 + 16 * l + i].layer != l;
		}
	ok(!bad, "layer tensors in HF order with their layer index");
	ok(!strcmp(m.p[0].name, "bert.embeddings.word_embeddings.weight") &&
	   !strcmp(m.p[4].name, "bert.embeddings.LayerNorm.bias") && !strcmp(m.p[37].name, "cls.predictions.bias") &&
	   !strcmp(m.p[41].name, "cls.predictions.transform.LayerNorm.bias"), "embeddings first, the head last");
	size_t off = 0;
	for (int i = 0; i < m.np; i++) bad += m.p[i].off != off, off += m.p[i].n;
	ok(!bad && off == m.n, "tensors lie end to end in the buffer (%zu floats)", m.n);
	int i = bert_param_find(&m, "bert.encoder.layer.1.intermediate.dense.weight");
	ok(i >= 0 && m.p[i].ndim == 2 && m.p[i].dim[0] == 12 && m.p[i].dim[1] == 8, "intermediate.dense.weight is [ffn, d]");
	i = bert_param_find(&m, "bert.embeddings.token_type_embeddings.weight");
	ok(i >= 0 && m.p[i].dim[0] == 2 && m.p[i].dim[1] == 8, "token types [type_vocab, d]");
	i = bert_param_find(&m, "cls.predictions.bias");
	ok(i >= 0 && m.p[i].ndim == 1 && m.p[i].dim[0] == 12, "the decoder bias is [V]");
	ok(bert_param_find(&m, "cls.predictions.decoder.weight") < 0, "the tied decoder is no tensor of its own");
	bert_free(&m);
}

/* every pointer of bert_weights / bert_layer_w bound to its own tensor */
static void test_bind(void)
{
	bert_config c = tiny();
	bert_model m;
	bert_init(&m, &c);
	int bad = 0, n = 0;
	for (int i = 0; i < m.np; i++) {
		const bert_spec *s = &bert_specs[m.p[i].spec];
		char *base = m.p[i].layer >= 0 ? (char *)&m.w.layer[m.p[i].layer] : (char *)&m.w;
		bad += *(float **)(void *)(base + s->ptr) != m.params + m.p[i].off;
	}
	ok(!bad, "each tensor's pointer is its place in the buffer");
	/* and nothing left unbound: count the pointers in the structs */
	const float *const *wp = (const float *const *)&m.w;
	for (size_t k = 0; k < sizeof m.w / sizeof(float *); k++)
		if ((const void *)&wp[k] != (const void *)&m.w.layer) n += wp[k] != NULL;
	for (int l = 0; l < c.layers; l++) {
		const float *const *lp = (const float *const *)&m.w.layer[l];
		for (size_t k = 0; k < sizeof m.w.layer[l] / sizeof(float *); k++) n += lp[k] != NULL;
	}
	ok(n == m.np, "every weight pointer is bound (%d of %d)", n, m.np);
	/* by name, independent of the table: the pointer the kernels use is
	 * the tensor of that HF name */
	const bert_layer_w *y = &m.w.layer[1];
	const struct { const char *name; const float *ptr; } named[] = {
		{ "bert.embeddings.word_embeddings.weight", m.w.wte }, { "bert.embeddings.position_embeddings.weight", m.w.wpe },
		{ "bert.embeddings.token_type_embeddings.weight", m.w.wtt }, { "bert.embeddings.LayerNorm.weight", m.w.eln_w },
		{ "bert.embeddings.LayerNorm.bias", m.w.eln_b },
		{ "bert.encoder.layer.1.attention.self.query.weight", y->qw }, { "bert.encoder.layer.1.attention.self.query.bias", y->qb },
		{ "bert.encoder.layer.1.attention.self.key.weight", y->kw }, { "bert.encoder.layer.1.attention.self.key.bias", y->kb },
		{ "bert.encoder.layer.1.attention.self.value.weight", y->vw }, { "bert.encoder.layer.1.attention.self.value.bias", y->vb },
		{ "bert.encoder.layer.1.attention.output.dense.weight", y->ow }, { "bert.encoder.layer.1.attention.output.dense.bias", y->ob },
		{ "bert.encoder.layer.1.attention.output.LayerNorm.weight", y->ln1w },
		{ "bert.encoder.layer.1.attention.output.LayerNorm.bias", y->ln1b },
		{ "bert.encoder.layer.1.intermediate.dense.weight", y->iw }, { "bert.encoder.layer.1.intermediate.dense.bias", y->ib },
		{ "bert.encoder.layer.1.output.dense.weight", y->fw }, { "bert.encoder.layer.1.output.dense.bias", y->fb },
		{ "bert.encoder.layer.1.output.LayerNorm.weight", y->ln2w }, { "bert.encoder.layer.1.output.LayerNorm.bias", y->ln2b },
		{ "cls.predictions.bias", m.w.cls_bias }, { "cls.predictions.transform.dense.weight", m.w.tw },
		{ "cls.predictions.transform.dense.bias", m.w.tb }, { "cls.predictions.transform.LayerNorm.weight", m.w.tln_w },
		{ "cls.predictions.transform.LayerNorm.bias", m.w.tln_b },
	};
	bad = 0;
	for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
		int i = bert_param_find(&m, named[k].name);
		if (i < 0 || named[k].ptr != m.params + m.p[i].off) bad++, diag("%s is not where its pointer points", named[k].name);
	}
	ok(!bad, "each named pointer (embeddings, layer 1, head) is the tensor of its HF name");
	bert_free(&m);
}

static void test_init_weights(void)
{
	bert_config c = tiny();
	bert_model m;
	bert_init(&m, &c);
	bert_init_weights(&m, 7);
	int ones = 1, zeros = 1, padrow = 1;
	for (int k = 0; k < 8; k++) {
		ones &= m.w.layer[1].ln1w[k] == 1.0f && m.w.tln_w[k] == 1.0f;
		zeros &= m.w.layer[0].qb[k] == 0 && m.w.eln_b[k] == 0;
		padrow &= m.w.wte[TOK_PAD * 8 + k] == 0;
	}
	ok(ones && zeros, "LayerNorm weights 1, biases 0");
	ok(padrow && m.w.wte[TOK_MASK * 8] != 0, "the <PAD> row (TOK_PAD) of the word embeddings is zero, the others drawn");
	uint64_t h = bert_hash(&m);
	bert_init_weights(&m, 7);
	ok(bert_hash(&m) == h, "the same seed draws the same weights");
	bert_free(&m);
}

/* writes m (+ an extra header line) to path, with one tensor changed:
 * bad = -1 none; else tensor bad gets one row too many (shape), is left out
 * (drop), or is written under the name rename (rename) */
enum { AS_IS, SHAPE, DROP, RENAME };
static int write_model(const char *path, const bert_model *m, const char *extra, int how, int bad, const char *rename)
{
	tns_header h;
	tok_vocab v;
	char e[256];
	tns_header_init(&h);
	native_vocab(&v, m->c.vocab_size);
	vocab_to_header(&v, &h);
	vocab_free(&v);
	model_set_header(&h, m, 5, 6, 7);
	if (extra) tns_header_add(&h, "%s", extra);
	tns_writer *w = tns_create(path, &h, 0, e, sizeof e);
	tns_header_free(&h);
	if (!w) return -1;
	tns_tensor *t = calloc(m->np, sizeof *t);
	float *big = NULL;
	int n = 0;
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		if (i == bad && how == DROP) continue;
		int64_t dim[2] = { p->dim[0], p->dim[1] };
		const float *x = m->params + p->off;
		if (i == bad && how == SHAPE) {
			dim[0]++;
			x = big = calloc(p->n + (size_t)(p->dim[1] ? p->dim[1] : 1), sizeof *big);
		}
		t[n] = tns_tensor_make(i == bad && how == RENAME ? rename : p->name, TNS_F32, p->ndim, dim, x);
		n++;
	}
	int r = tns_write(w, "params", n, t) || tns_close(w);
	free(big);
	free(t);
	return r;
}

static void test_round_trip(void)
{
	bert_config c = tiny();
	bert_model m, r;
	char path[300], e[512];
	tns_header h;
	bert_init(&m, &c);
	bert_init_weights(&m, 11);
	snprintf(path, sizeof path, "%s/m.tns", dir);
	ok(write_model(path, &m, NULL, AS_IS, -1, NULL) == 0, "a random model written");
	ok(model_load(path, &r, &h, NULL, NULL, e, sizeof e) == 0, "and read back (%s)", e);
	ok(r.n == m.n && memcmp(r.params, m.params, m.n * sizeof(float)) == 0, "every parameter bit for bit");
	ok(!memcmp(&r.c, &m.c, sizeof r.c), "the whole config, the variant included");
	int64_t seed = 0, step = 0;
	tns_header_get_int(&h, "seed", &seed), tns_header_get_int(&h, "step", &step);
	ok(seed == 5 && step == 7, "seed and step in the header");
	ok(!tns_header_get(&h, "layer_norm_placement") && !tns_header_get(&h, "position_encoding") &&
	   !tns_header_get(&h, "ffn_kind") && !tns_header_get(&h, "lm_head"),
	   "a BERT model's header has no variant keys (today's files unchanged)");
	tns_header_free(&h);
	bert_free(&r);
	bert_free(&m);
}

/* model_load fails with a message containing want */
static void load_fails(const char *path, const char *want, const char *what)
{
	bert_model r;
	char e[512] = "";
	int rc = model_load(path, &r, NULL, NULL, NULL, e, sizeof e);
	ok(rc == -1 && strstr(e, want) != NULL, "%s: %s", what, e);
	if (rc == 0) bert_free(&r);
}

static void test_load_errors(void)
{
	bert_config c = tiny();
	bert_model m;
	char path[300];
	bert_init(&m, &c);
	bert_init_weights(&m, 3);
	snprintf(path, sizeof path, "%s/bad.tns", dir);
	int k = bert_param_find(&m, "bert.encoder.layer.0.attention.self.key.weight");
	write_model(path, &m, NULL, SHAPE, k, NULL);
	load_fails(path, "bert.encoder.layer.0.attention.self.key.weight has the wrong shape (want 8x8)", "a 2-d shape error");
	k = bert_param_find(&m, "cls.predictions.bias");
	write_model(path, &m, NULL, SHAPE, k, NULL);
	load_fails(path, "cls.predictions.bias has the wrong shape (want 12)", "a 1-d shape error");
	k = bert_param_find(&m, "bert.encoder.layer.1.output.dense.bias");
	write_model(path, &m, NULL, DROP, k, NULL);
	load_fails(path, "parameter bert.encoder.layer.1.output.dense.bias missing", "a missing tensor");
	write_model(path, &m, NULL, RENAME, k, "bert.encoder.layer.1.output.dense.bias_x");
	load_fails(path, "parameter bert.encoder.layer.1.output.dense.bias missing", "a misnamed tensor");
	static const struct { const char *kv, *want, *what; } refused[] = {
		{ "layer_norm_placement\tsideways", "@KV layer_norm_placement sideways is not one of post, pre", "an unknown value (names the choices)" },
		{ "position_offset\t2", "bad config: a position offset needs offset position ids", "an offset without offset positions" },
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		char kv[80];
		snprintf(kv, sizeof kv, "@KV\t%s", refused[i].kv);
		write_model(path, &m, kv, AS_IS, -1, NULL);
		load_fails(path, refused[i].want, refused[i].what);
	}
	write_model(path, &m, "@KV\tlayer_norm_placement\tpost", AS_IS, -1, NULL);
	bert_model r;
	char e[512] = "";
	ok(model_load(path, &r, NULL, NULL, NULL, e, sizeof e) == 0, "the default written out is accepted (%s)", e);
	bert_free(&r);
	unlink(path);
	bert_free(&m);
}

static void test_variants_refused(void)
{
	bert_config c = tiny();
	bert_model m;
	ok(bert_config_unsupported(&c) == NULL && bert_config_check(&c) == NULL, "BERT (all variant fields 0) is supported");
	static const struct { int field; int v; const char *what; } cases[] = {
		{ 0, 7, "an unknown norm placement" }, { 6, 7, "an unknown language-model head" },
		{ 2, 9, "an unknown position encoding" }, { 3, 9, "an unknown feed-forward" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bert_config v = c;
		int *f[] = { &v.norm, &v.final_ln, &v.pos, &v.ffn_kind, &v.attn_nobias, &v.ffn_nobias, &v.lm_head };
		*f[cases[i].field] = cases[i].v;
		const char *why = bert_config_check(&v);
		ok(why && !strcmp(why, cases[i].what) && bert_init(&m, &v) == -1, "bert_init refuses %s", cases[i].what);
	}
	/* implemented (issue 23): accepted, and the table follows */
	static const struct { int field, v, np; const char *what; } taken[] = {
		{ 2, BERT_POS_ROTARY, -1, "rotary" }, { 2, BERT_POS_ALIBI, -1, "ALiBi" }, { 2, BERT_POS_NONE, -1, "no positions" },
		{ 3, BERT_FFN_GEGLU, -2, "GeGLU (MosaicBERT's gate has no bias)" }, { 3, BERT_FFN_SWIGLU, 0, "SwiGLU" },
		{ 4, 1, -8, "attention without biases" }, { 5, 1, -4, "an FFN without biases" },
	};
	bert_model b;
	bert_init(&b, &c);
	for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
		bert_config v = c;
		int *f[] = { &v.norm, &v.final_ln, &v.pos, &v.ffn_kind, &v.attn_nobias, &v.ffn_nobias, &v.lm_head };
		*f[taken[i].field] = taken[i].v;
		int rc = bert_init(&m, &v);
		ok(rc == 0 && m.np == b.np + taken[i].np, "bert_init takes %s (%d tensors)", taken[i].what, rc ? -1 : m.np);
		if (!rc) bert_free(&m);
	}
	bert_free(&b);
	bert_config odd = c;
	odd.pos = BERT_POS_ROTARY, odd.hidden = 6, odd.heads = 2;
	const char *why = bert_config_check(&odd);
	ok(why && !strcmp(why, "rotary position embeddings need an even head size") && bert_init(&m, &odd) == -1,
	   "bert_init refuses rotary with an odd head size (%s)", why ? why : "accepted");
}

/* the variants of pre-LN, final LN, offset / no positions, no embedding
 * LN, no token types, token dropout, untied decoder, ESM head: accepted,
 * their tensors (and no others) in the table, bound, written as @KV keys
 * and read back bit for bit */
static void test_variants_accepted(void)
{
	bert_config c = tiny();
	c.norm = BERT_NORM_PRE, c.final_ln = 1, c.pos = BERT_POS_OFFSET, c.pos_offset = 2, c.emb_noln = 1;
	c.type_vocab = 0, c.token_dropout = 1, c.mask_id = 4, c.untied = 1, c.lm_head = BERT_LMHEAD_ESM;
	bert_model m, r;
	char path[300], e[512];
	tns_header h;
	ok(bert_init(&m, &c) == 0, "bert_init accepts ESM's variant (%s)", bert_config_check(&c) ? bert_config_check(&c) : "ok");
	/* word + position; per layer BERT's 16, the 2 LayerNorms renamed; final LN 2, head 5 + decoder */
	ok(m.np == 2 + 16 * 2 + 2 + 6, "its table: %d tensors", m.np);
	ok(!m.w.wtt && !m.w.eln_w && m.w.wpe && m.w.fln_w && m.w.fln_b && m.w.dec_w && m.w.layer[1].ln1w && m.w.layer[1].ln2b,
	   "no token types, no embedding LN; positions, final LN, decoder and the pre-LN LayerNorms bound");
	ok(bert_param_find(&m, "bert.encoder.layer.1.pre_attention_ln.weight") >= 0 &&
	   bert_param_find(&m, "bert.encoder.layer.0.post_attention_ln.bias") >= 0 &&
	   bert_param_find(&m, "bert.encoder.last_layer_ln.weight") >= 0 &&
	   bert_param_find(&m, "cls.predictions.decoder.weight") >= 0 &&
	   bert_param_find(&m, "bert.encoder.layer.0.attention.output.LayerNorm.weight") < 0,
	   "named as GENA-LM names them (pre_attention_ln, post_attention_ln, last_layer_ln)");
	bert_init_weights(&m, 13);
	snprintf(path, sizeof path, "%s/v.tns", dir);
	ok(write_model(path, &m, NULL, AS_IS, -1, NULL) == 0, "written");
	ok(model_load(path, &r, &h, NULL, NULL, e, sizeof e) == 0, "and read back (%s)", e);
	ok(r.n == m.n && !memcmp(r.params, m.params, m.n * sizeof(float)) && !memcmp(&r.c, &m.c, sizeof r.c),
	   "every parameter and the whole config bit for bit");
	const char *k[][2] = { { "layer_norm_placement", "pre" }, { "final_layer_norm", "true" }, { "position_encoding", "offset" },
	                       { "position_offset", "2" }, { "embedding_layer_norm", "false" }, { "type_vocab_size", "0" },
	                       { "token_dropout", "true" }, { "tie_word_embeddings", "false" }, { "lm_head", "esm" } };
	int bad = 0;
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		const char *v = tns_header_get(&h, k[i][0]);
		if (!v || strcmp(v, k[i][1])) bad++, diag("@KV %s is %s, want %s", k[i][0], v ? v : "absent", k[i][1]);
	}
	ok(!bad, "the variant's @KV keys in the header");
	tns_header_free(&h);
	bert_free(&r);
	bert_free(&m);
	c = tiny(), c.pos = BERT_POS_NONE;
	ok(bert_init(&m, &c) == 0 && !m.w.wpe && m.np == 4 + 16 * 2 + 5, "no positions: accepted, no position embeddings");
	bert_free(&m);
	unlink(path);
}

static void hf_fails(const char *json, const char *want, const char *what)
{
	hf_config h;
	char e[400] = "";
	int rc = hfcfg_parse(&h, json, strlen(json), e, sizeof e);
	ok(rc == -1 && !strcmp(e, want), "%s: %s", what, e);
}

static void test_hfconfig(void)
{
	hf_config h;
	char e[400] = "";
	const char *bert = "{\"model_type\": \"bert\", \"vocab_size\": 40, \"hidden_size\": 16, \"num_attention_heads\": 2}";
	ok(hfcfg_parse(&h, bert, strlen(bert), e, sizeof e) == 0 && h.c.vocab_size == 40 && h.c.norm == BERT_NORM_POST &&
	   h.c.pos == BERT_POS_ABSOLUTE, "a BERT config.json parses, post-LN, absolute positions (%s)", e);
	const char *esm = "{\"model_type\": \"esm\", \"vocab_size\": 40, \"pad_token_id\": 1}";
	ok(hfcfg_parse(&h, esm, strlen(esm), e, sizeof e) == 0 && h.c.norm == BERT_NORM_PRE && h.c.final_ln &&
	   h.c.pos == BERT_POS_OFFSET && h.c.pos_offset == 2 && h.c.lm_head == BERT_LMHEAD_ESM,
	   "an ESM config.json parses: pre-LN, final LN, positions from pad + 1, ESM head (%s)", e);
	const char *gena = "{\"model_type\": \"bert\", \"pre_layer_norm\": true}";
	ok(hfcfg_parse(&h, gena, strlen(gena), e, sizeof e) == 0 && h.c.norm == BERT_NORM_PRE,
	   "a GENA-LM config.json (pre_layer_norm) parses: pre-LN (%s)", e);
	const char *mosaic = "{\"model_type\": \"bert\", \"alibi_starting_size\": 512, \"vocab_size\": 40, "
	                     "\"hidden_size\": 16, \"num_attention_heads\": 2}";
	e[0] = 0;
	ok(hfcfg_parse(&h, mosaic, strlen(mosaic), e, sizeof e) == 0 && h.c.pos == BERT_POS_ALIBI &&
	   h.c.ffn_kind == BERT_FFN_GEGLU, "DNABERT-2's config.json parses: ALiBi, GeGLU (%s)", e);
	hf_fails("{\"model_type\": \"roberta\"}",
	         "model_type \"roberta\" is not supported (bert, esm; MosaicBERT by its keys)",
	         "an unknown model_type: today's message");
	hf_fails("{\"model_type\": \"bert\", \"position_embedding_type\": \"relative_key\"}",
	         "position_embedding_type \"relative_key\" is not supported (absolute only)", "relative positions: today's message");
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/seqlm-model.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	test_table_names();
	test_bind();
	test_init_weights();
	test_round_trip();
	test_load_errors();
	test_variants_refused();
	test_variants_accepted();
	test_hfconfig();
	char p[300];
	snprintf(p, sizeof p, "%s/m.tns", dir);
	unlink(p);
	rmdir(dir);
	return done_testing();
}
