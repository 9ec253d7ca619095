/* bert_table.c -- the configuration of a BERT model and its parameter table
 * (see bert.h): which tensors a config has, their HF names and shapes, their
 * order in the buffer and in files, how they are initialised and which
 * pointer of bert_weights / bert_layer_w each one binds.  model.c (files),
 * lmconvert (HF checkpoints) and fisher.c (group sums) all walk the table
 * this builds, so a parameter is added here, once. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/bert.h"
#include "base/cli.h"
#include "tok/vocab.h"

/* ---- configuration ------------------------------------------------------ */

int bert_config_named(bert_config *c, const char *name, int V)
{
	static const struct { const char *name; int L, d, h, ffn; } arch[] = {
		{ "90M", 12, 768, 12, 3072 },
		{ "20M", 8, 512, 8, 1024 },
		{ "4M", 6, 256, 8, 512 },
	};
	memset(c, 0, sizeof *c);                      /* the variant: BERT */
	for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++) {
		if (strcmp(name, arch[i].name) != 0) continue;
		c->vocab_size = V;
		c->layers = arch[i].L, c->hidden = arch[i].d, c->heads = arch[i].h, c->ffn = arch[i].ffn;
		c->max_pos = 512, c->type_vocab = 1;
		c->ln_eps = 1e-12f, c->hidden_drop = 0.1f, c->attn_drop = 0.1f;
		c->pad_id = TOK_PAD, c->mask_id = TOK_MASK;   /* seqlm's own vocabularies */
		return 0;
	}
	return -1;
}

const char *bert_config_unsupported(const bert_config *c)
{
	/* issue 23 implements these one by one: each line goes when its
	 * branch in bert.c (and its table rows) exist */
	if (c->norm != BERT_NORM_POST) return c->norm == BERT_NORM_PRE ? "pre-LN layers" : "an unknown norm placement";
	if (c->final_ln) return "a final LayerNorm";
	switch (c->pos) {
	case BERT_POS_ABSOLUTE: break;
	case BERT_POS_OFFSET: return "position ids with an offset";
	case BERT_POS_ROTARY: return "rotary position embeddings";
	case BERT_POS_ALIBI: return "ALiBi attention biases";
	case BERT_POS_NONE: return "no position embeddings";
	default: return "an unknown position encoding";
	}
	if (c->ffn_kind == BERT_FFN_GEGLU) return "a GeGLU feed-forward";
	if (c->ffn_kind == BERT_FFN_SWIGLU) return "a SwiGLU feed-forward";
	if (c->ffn_kind != BERT_FFN_GELU) return "an unknown feed-forward";
	if (c->attn_nobias) return "attention without biases";
	if (c->ffn_nobias) return "a feed-forward without biases";
	if (c->lm_head == BERT_LMHEAD_ESM) return "the ESM language-model head";
	if (c->lm_head != BERT_LMHEAD_BERT) return "an unknown language-model head";
	return NULL;
}

const char *bert_config_check(const bert_config *c)
{
	if (c->vocab_size < 6) return "vocab_size must be at least 6 (5 specials + 1)";
	if (c->pad_id < -1 || c->pad_id >= c->vocab_size || c->mask_id < -1 || c->mask_id >= c->vocab_size)
		return "pad_token_id and mask_token_id must be ids of the vocabulary";
	if (c->hidden < 1 || c->layers < 1 || c->heads < 1 || c->ffn < 1 || c->max_pos < 1)
		return "hidden, layers, heads, ffn and max positions must be positive";
	if (c->hidden % c->heads) return "hidden size must be a multiple of the number of heads";
	if (c->type_vocab < 1) return "type_vocab_size must be at least 1";
	if (!(c->hidden_drop >= 0 && c->hidden_drop < 1 && c->attn_drop >= 0 && c->attn_drop < 1))
		return "dropout probabilities must be in [0,1)";
	if ((double)c->vocab_size * c->hidden > 1e10 || (double)c->hidden * c->ffn > 1e10)
		return "model too large";
	if (c->pos_offset && c->pos != BERT_POS_OFFSET) return "a position offset needs offset position ids";
	return bert_config_unsupported(c);
}

/* ---- the table ----------------------------------------------------------- */

#define EMB(name, r, c, init, f) { "bert.embeddings." name, BERT_AT_EMB, r, c, init, offsetof(bert_weights, f), NULL, NULL }
#define LAY(name, r, c, init, f) { "bert.encoder.layer.%d." name, BERT_AT_LAYER, r, c, init, offsetof(bert_layer_w, f), NULL, NULL }
#define HEAD(name, r, c, init, f) { "cls.predictions." name, BERT_AT_HEAD, r, c, init, offsetof(bert_weights, f), NULL, NULL }
#define D BERT_DIM_HIDDEN
#define F BERT_DIM_FFN
#define NONE BERT_DIM_NONE
#define N BERT_INIT_NORMAL
#define Z BERT_INIT_ZERO
#define ONE BERT_INIT_ONE

/* HF BertForMaskedLM's parameters in its state_dict order, the order of
 * seqlm's files (the scopes in the order of bert_scope) */
const bert_spec bert_specs[] = {
	{ "bert.embeddings.word_embeddings.weight", BERT_AT_EMB, BERT_DIM_VOCAB, D, BERT_INIT_EMBED,
	  offsetof(bert_weights, wte), "cls.predictions.decoder.weight", NULL },
	EMB("position_embeddings.weight", BERT_DIM_POS, D, N, wpe),
	EMB("token_type_embeddings.weight", BERT_DIM_TYPE, D, N, wtt),
	EMB("LayerNorm.weight", D, NONE, ONE, eln_w),
	EMB("LayerNorm.bias", D, NONE, Z, eln_b),
	LAY("attention.self.query.weight", D, D, N, qw), LAY("attention.self.query.bias", D, NONE, Z, qb),
	LAY("attention.self.key.weight", D, D, N, kw), LAY("attention.self.key.bias", D, NONE, Z, kb),
	LAY("attention.self.value.weight", D, D, N, vw), LAY("attention.self.value.bias", D, NONE, Z, vb),
	LAY("attention.output.dense.weight", D, D, N, ow), LAY("attention.output.dense.bias", D, NONE, Z, ob),
	LAY("attention.output.LayerNorm.weight", D, NONE, ONE, ln1w),
	LAY("attention.output.LayerNorm.bias", D, NONE, Z, ln1b),
	LAY("intermediate.dense.weight", F, D, N, iw), LAY("intermediate.dense.bias", F, NONE, Z, ib),
	LAY("output.dense.weight", D, F, N, fw), LAY("output.dense.bias", D, NONE, Z, fb),
	LAY("output.LayerNorm.weight", D, NONE, ONE, ln2w), LAY("output.LayerNorm.bias", D, NONE, Z, ln2b),
	{ "cls.predictions.bias", BERT_AT_HEAD, BERT_DIM_VOCAB, NONE, Z,
	  offsetof(bert_weights, cls_bias), "cls.predictions.decoder.bias", NULL },
	HEAD("transform.dense.weight", D, D, N, tw), HEAD("transform.dense.bias", D, NONE, Z, tb),
	HEAD("transform.LayerNorm.weight", D, NONE, ONE, tln_w),
	HEAD("transform.LayerNorm.bias", D, NONE, Z, tln_b),
};
const int bert_nspecs = (int)(sizeof bert_specs / sizeof bert_specs[0]);
#undef EMB
#undef LAY
#undef HEAD
#undef D
#undef F
#undef NONE
#undef N
#undef Z
#undef ONE

static int64_t dim_of(const bert_config *c, bert_dim k)
{
	switch (k) {
	case BERT_DIM_HIDDEN: return c->hidden;
	case BERT_DIM_FFN: return c->ffn;
	case BERT_DIM_VOCAB: return c->vocab_size;
	case BERT_DIM_POS: return c->max_pos;
	case BERT_DIM_TYPE: return c->type_vocab;
	default: return 0;
	}
}

/* the model's tensors of one scope (of layer l) appended to m->p */
static void add_scope(bert_model *m, bert_scope scope, int l)
{
	for (int s = 0; s < bert_nspecs; s++) {
		const bert_spec *sp = &bert_specs[s];
		if (sp->scope != scope || (sp->when && !sp->when(&m->c))) continue;
		bert_param *p = &m->p[m->np++];
		if (scope == BERT_AT_LAYER) snprintf(p->name, sizeof p->name, sp->name, l);
		else snprintf(p->name, sizeof p->name, "%s", sp->name);
		p->dim[0] = dim_of(&m->c, sp->rows), p->dim[1] = dim_of(&m->c, sp->cols);
		p->ndim = p->dim[1] ? 2 : 1;
		p->n = (size_t)p->dim[0] * (p->dim[1] ? (size_t)p->dim[1] : 1);
		p->off = m->n;
		p->spec = s, p->layer = scope == BERT_AT_LAYER ? l : -1;
		m->n += p->n;
	}
}

void bert_build_table(bert_model *m)
{
	m->p = xcalloc((size_t)bert_nspecs * (m->c.layers + 1), sizeof *m->p);
	m->np = 0, m->n = 0;
	add_scope(m, BERT_AT_EMB, -1);
	for (int l = 0; l < m->c.layers; l++) add_scope(m, BERT_AT_LAYER, l);
	add_scope(m, BERT_AT_HEAD, -1);
}

void bert_bind(const bert_model *m, float *buf, bert_weights *w)
{
	free(w->layer);
	memset(w, 0, sizeof *w);                  /* absent parameters: NULL */
	w->layer = xcalloc(m->c.layers, sizeof *w->layer);
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		char *base = p->layer >= 0 ? (char *)&w->layer[p->layer] : (char *)w;
		float **slot = (float **)(void *)(base + bert_specs[p->spec].ptr);
		*slot = buf + p->off;
	}
}

int bert_param_find(const bert_model *m, const char *name)
{
	for (int i = 0; i < m->np; i++)
		if (strcmp(m->p[i].name, name) == 0) return i;
	return -1;
}

int bert_hf_ignored(const char *name)
{
	size_t n = strlen(name);
	return strncmp(name, "bert.pooler.", 12) == 0 || strncmp(name, "cls.seq_relationship.", 21) == 0 ||
	       (n >= 12 && strcmp(name + n - 12, "position_ids") == 0);
}
