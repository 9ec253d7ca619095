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
	/* every known value is computed (issue 23); a new value of a field is
	 * refused here, by name, until its branch in bert.c and its table rows
	 * exist (docs/HACKING.md, "Adding a model-family variant") */
	if (c->norm != BERT_NORM_POST && c->norm != BERT_NORM_PRE) return "an unknown norm placement";
	switch (c->pos) {
	case BERT_POS_ABSOLUTE: case BERT_POS_OFFSET: case BERT_POS_NONE: case BERT_POS_ROTARY: case BERT_POS_ALIBI: break;
	default: return "an unknown position encoding";
	}
	if (c->ffn_kind != BERT_FFN_GELU && c->ffn_kind != BERT_FFN_GEGLU && c->ffn_kind != BERT_FFN_SWIGLU)
		return "an unknown feed-forward";
	if (c->lm_head != BERT_LMHEAD_BERT && c->lm_head != BERT_LMHEAD_ESM) return "an unknown language-model head";
	return NULL;
}

int bert_max_tokens(const bert_config *c)
{
	return c->pos == BERT_POS_OFFSET ? c->max_pos - c->pos_offset : c->max_pos;
}

const char *bert_config_check(const bert_config *c)
{
	if (c->vocab_size < 6) return "vocab_size must be at least 6 (5 specials + 1)";
	if (c->pad_id < -1 || c->pad_id >= c->vocab_size || c->mask_id < -1 || c->mask_id >= c->vocab_size)
		return "pad_token_id and mask_token_id must be ids of the vocabulary";
	if (c->hidden < 1 || c->layers < 1 || c->heads < 1 || c->ffn < 1 || c->max_pos < 1)
		return "hidden, layers, heads, ffn and max positions must be positive";
	if (c->hidden % c->heads) return "hidden size must be a multiple of the number of heads";
	if (c->type_vocab < 0) return "type_vocab_size must not be negative";
	if (!(c->hidden_drop >= 0 && c->hidden_drop < 1 && c->attn_drop >= 0 && c->attn_drop < 1))
		return "dropout probabilities must be in [0,1)";
	if ((double)c->vocab_size * c->hidden > 1e10 || (double)c->hidden * c->ffn > 1e10)
		return "model too large";
	if (c->pos_offset && c->pos != BERT_POS_OFFSET) return "a position offset needs offset position ids";
	if (c->pos == BERT_POS_ROTARY && (c->hidden / c->heads) % 2)
		return "rotary position embeddings need an even head size";
	if (c->pos == BERT_POS_OFFSET && (c->pos_offset < 1 || c->pos_offset >= c->max_pos))
		return "offset position ids need a position offset from 1 to max positions - 1";
	if (c->token_dropout && c->mask_id < 0) return "token dropout needs a mask token id";
	if ((unsigned)c->final_ln > 1 || (unsigned)c->emb_noln > 1 || (unsigned)c->untied > 1 ||
	    (unsigned)c->token_dropout > 1)
		return "final_ln, emb_noln, untied and token_dropout are 0 or 1";
	return bert_config_unsupported(c);
}

/* ---- the table ----------------------------------------------------------- */

/* which configs have a tensor (the when hooks) */
static int has_wpe(const bert_config *c) { return c->pos == BERT_POS_ABSOLUTE || c->pos == BERT_POS_OFFSET; }
static int has_wtt(const bert_config *c) { return c->type_vocab > 0; }
static int has_eln(const bert_config *c) { return !c->emb_noln; }
static int has_attn_bias(const bert_config *c) { return !c->attn_nobias; }
static int has_ffn_bias(const bert_config *c) { return !c->ffn_nobias; }
/* MosaicBERT's GeGLU (DNABERT-2, bert_layers.py BertGatedLinearUnitMLP):
 * gated_layers is a Linear without bias, mlp.wo has one */
static int has_ffn_in_bias(const bert_config *c) { return !c->ffn_nobias && c->ffn_kind != BERT_FFN_GEGLU; }
static int is_post(const bert_config *c) { return c->norm == BERT_NORM_POST; }
static int is_pre(const bert_config *c) { return c->norm == BERT_NORM_PRE; }
static int has_fln(const bert_config *c) { return c->final_ln; }
static int is_untied(const bert_config *c) { return c->untied; }

#define EMB(name, r, c, init, f, w) { "bert.embeddings." name, BERT_AT_EMB, r, c, init, offsetof(bert_weights, f), NULL, w }
#define LAY(name, r, c, init, f, w) { "bert.encoder.layer.%d." name, BERT_AT_LAYER, r, c, init, offsetof(bert_layer_w, f), NULL, w }
#define HEAD(name, r, c, init, f, w) { name, BERT_AT_HEAD, r, c, init, offsetof(bert_weights, f), NULL, w }
#define D BERT_DIM_HIDDEN
#define F BERT_DIM_FFN
#define FI BERT_DIM_FFN_IN
#define NONE BERT_DIM_NONE
#define N BERT_INIT_NORMAL
#define Z BERT_INIT_ZERO
#define ONE BERT_INIT_ONE

/* HF BertForMaskedLM's parameters in its state_dict order, the order of
 * seqlm's files (the scopes in the order of bert_scope).  The variants
 * keep BERT's names where the tensor is BERT's; pre-LN layers and the
 * final LayerNorm take GENA-LM's names (BERT with pre_layer_norm), the
 * untied decoder HF's.  Other families' checkpoint names are lmconvert's
 * business (it maps them to these). */
const bert_spec bert_specs[] = {
	{ "bert.embeddings.word_embeddings.weight", BERT_AT_EMB, BERT_DIM_VOCAB, D, BERT_INIT_EMBED,
	  offsetof(bert_weights, wte), "cls.predictions.decoder.weight", NULL },
	EMB("position_embeddings.weight", BERT_DIM_POS, D, N, wpe, has_wpe),
	EMB("token_type_embeddings.weight", BERT_DIM_TYPE, D, N, wtt, has_wtt),
	EMB("LayerNorm.weight", D, NONE, ONE, eln_w, has_eln),
	EMB("LayerNorm.bias", D, NONE, Z, eln_b, has_eln),
	LAY("pre_attention_ln.weight", D, NONE, ONE, ln1w, is_pre),
	LAY("pre_attention_ln.bias", D, NONE, Z, ln1b, is_pre),
	LAY("attention.self.query.weight", D, D, N, qw, NULL),
	LAY("attention.self.query.bias", D, NONE, Z, qb, has_attn_bias),
	LAY("attention.self.key.weight", D, D, N, kw, NULL),
	LAY("attention.self.key.bias", D, NONE, Z, kb, has_attn_bias),
	LAY("attention.self.value.weight", D, D, N, vw, NULL),
	LAY("attention.self.value.bias", D, NONE, Z, vb, has_attn_bias),
	LAY("attention.output.dense.weight", D, D, N, ow, NULL),
	LAY("attention.output.dense.bias", D, NONE, Z, ob, has_attn_bias),
	LAY("attention.output.LayerNorm.weight", D, NONE, ONE, ln1w, is_post),
	LAY("attention.output.LayerNorm.bias", D, NONE, Z, ln1b, is_post),
	LAY("post_attention_ln.weight", D, NONE, ONE, ln2w, is_pre),
	LAY("post_attention_ln.bias", D, NONE, Z, ln2b, is_pre),
	LAY("intermediate.dense.weight", FI, D, N, iw, NULL),
	LAY("intermediate.dense.bias", FI, NONE, Z, ib, has_ffn_in_bias),
	LAY("output.dense.weight", D, F, N, fw, NULL),
	LAY("output.dense.bias", D, NONE, Z, fb, has_ffn_bias),
	LAY("output.LayerNorm.weight", D, NONE, ONE, ln2w, is_post),
	LAY("output.LayerNorm.bias", D, NONE, Z, ln2b, is_post),
	HEAD("bert.encoder.last_layer_ln.weight", D, NONE, ONE, fln_w, has_fln),
	HEAD("bert.encoder.last_layer_ln.bias", D, NONE, Z, fln_b, has_fln),
	{ "cls.predictions.bias", BERT_AT_HEAD, BERT_DIM_VOCAB, NONE, Z,
	  offsetof(bert_weights, cls_bias), "cls.predictions.decoder.bias", NULL },
	HEAD("cls.predictions.transform.dense.weight", D, D, N, tw, NULL),
	HEAD("cls.predictions.transform.dense.bias", D, NONE, Z, tb, NULL),
	HEAD("cls.predictions.transform.LayerNorm.weight", D, NONE, ONE, tln_w, NULL),
	HEAD("cls.predictions.transform.LayerNorm.bias", D, NONE, Z, tln_b, NULL),
	HEAD("cls.predictions.decoder.weight", BERT_DIM_VOCAB, D, N, dec_w, is_untied),
};
const int bert_nspecs = (int)(sizeof bert_specs / sizeof bert_specs[0]);
#undef EMB
#undef LAY
#undef HEAD
#undef D
#undef F
#undef FI
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
	case BERT_DIM_FFN_IN: return c->ffn_kind == BERT_FFN_GELU ? c->ffn : 2 * (int64_t)c->ffn;
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
