/* hfnames.c -- checkpoint names <-> the parameter table's (see hfnames.h) */
#include "model/hfnames.h"

#include <stdio.h>
#include <string.h>
#include "model/hfconfig.h"

/* The families whose names differ from the table's.  Sources: ESM's
 * modeling_esm.py (transformers models/esm; NT v2's remote copy, R in
 * tests/golden/families/README.md): EsmEmbeddings, EsmLayer (attention.
 * LayerNorm before attention, LayerNorm before the FFN),
 * EsmEncoder.emb_layer_norm_after, EsmLMHead (dense, layer_norm, decoder
 * without bias, bias); DNABERT-2's bert_layers.py (D): BertUnpadSelfAttention.
 * Wqkv (rows q|k|v, D 156), BertGatedLinearUnitMLP (gated_layers, wo,
 * layernorm), BertLMPredictionHead.decoder (its bias is the vocabulary
 * bias). */
typedef struct {
	int family;
	const char *table, *hf;       /* hf NULL: the family has no such tensor */
	int part, nparts;
} name_row;

#define L "bert.encoder.layer.%d."
#define EL "esm.encoder.layer.%d."
#define ESM2(t, h) { HF_ESM, t "weight", h "weight", 0, 1 }, { HF_ESM, t "bias", h "bias", 0, 1 }
#define QKV(x, part) { HF_DNABERT2, L "attention.self." x ".weight", L "attention.self.Wqkv.weight", part, 3 }, \
                     { HF_DNABERT2, L "attention.self." x ".bias", L "attention.self.Wqkv.bias", part, 3 }
#define DB2(t, h) { HF_DNABERT2, L t "weight", L h "weight", 0, 1 }, { HF_DNABERT2, L t "bias", L h "bias", 0, 1 }
static const name_row rows[] = {
	{ HF_ESM, "bert.embeddings.word_embeddings.weight", "esm.embeddings.word_embeddings.weight", 0, 1 },
	{ HF_ESM, "bert.embeddings.position_embeddings.weight", "esm.embeddings.position_embeddings.weight", 0, 1 },
	ESM2("bert.embeddings.LayerNorm.", "esm.embeddings.layer_norm."),
	ESM2(L "pre_attention_ln.", EL "attention.LayerNorm."),
	ESM2(L "attention.self.query.", EL "attention.self.query."),
	ESM2(L "attention.self.key.", EL "attention.self.key."),
	ESM2(L "attention.self.value.", EL "attention.self.value."),
	ESM2(L "attention.output.dense.", EL "attention.output.dense."),
	ESM2(L "post_attention_ln.", EL "LayerNorm."),
	ESM2(L "intermediate.dense.", EL "intermediate.dense."),
	ESM2(L "output.dense.", EL "output.dense."),
	ESM2("bert.encoder.last_layer_ln.", "esm.encoder.emb_layer_norm_after."),
	ESM2("cls.predictions.transform.dense.", "lm_head.dense."),
	ESM2("cls.predictions.transform.LayerNorm.", "lm_head.layer_norm."),
	{ HF_ESM, "cls.predictions.bias", "lm_head.bias", 0, 1 },
	{ HF_ESM, "cls.predictions.decoder.weight", "lm_head.decoder.weight", 0, 1 },
	{ HF_ESM, "cls.predictions.decoder.bias", NULL, 0, 1 },

	QKV("query", 0), QKV("key", 1), QKV("value", 2),
	{ HF_DNABERT2, L "intermediate.dense.weight", L "mlp.gated_layers.weight", 0, 1 },
	DB2("output.dense.", "mlp.wo."),
	DB2("output.LayerNorm.", "mlp.layernorm."),
	{ HF_DNABERT2, "cls.predictions.bias", "cls.predictions.decoder.bias", 0, 1 },
	{ HF_DNABERT2, "cls.predictions.decoder.bias", NULL, 0, 1 },
};
#undef L
#undef EL
#undef ESM2
#undef QKV
#undef DB2

int hfname_of(int family, const char *pattern, int layer, char *buf, size_t len, int *part)
{
	if (family == HF_NT2) family = HF_ESM;            /* the same names */
	const char *hf = pattern;
	int nparts = 1;
	*part = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (rows[i].family != family || strcmp(rows[i].table, pattern) != 0) continue;
		if (!rows[i].hf) return 0;
		hf = rows[i].hf, *part = rows[i].part, nparts = rows[i].nparts;
		break;
	}
	if (strstr(hf, "%d")) snprintf(buf, len, hf, layer);
	else snprintf(buf, len, "%s", hf);
	return nparts;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);
	return n >= k && strcmp(s + n - k, tail) == 0;
}

int hfname_is_inv_freq(const char *name)
{
	return strncmp(name, "esm.encoder.layer.", 18) == 0 && ends_with(name, ".attention.self.rotary_embeddings.inv_freq");
}

int hfname_ignored(int family, const bert_config *c, const char *name)
{
	if (bert_hf_ignored(name)) return 1;
	if (family != HF_ESM && family != HF_NT2) return 0;
	return strncmp(name, "esm.contact_head.", 17) == 0 ||
	       (family == HF_NT2 && c->pos == BERT_POS_ROTARY && strcmp(name, "esm.embeddings.position_embeddings.weight") == 0);
}
