/* hfconfig.c -- HuggingFace config.json <-> bert_config (see hfconfig.h) */
#include "model/hfconfig.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"

/* an integer key in [lo, hi]; absent: def */
static int get_int(const cJSON *root, const char *key, long lo, long hi, long def, int *out, int *seen,
                   char *err, size_t len)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (seen) *seen = j != NULL && !cJSON_IsNull(j);
	if (!j || cJSON_IsNull(j)) { *out = (int)def; return 0; }
	if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble)) {
		snprintf(err, len, "%s is not an integer", key);
		return -1;
	}
	if (!(j->valuedouble >= lo && j->valuedouble <= hi)) {
		snprintf(err, len, "%s %.17g out of range [%ld, %ld]", key, j->valuedouble, lo, hi);
		return -1;
	}
	*out = (int)j->valuedouble;
	return 0;
}

static int get_real(const cJSON *root, const char *key, double lo, double hi, double def, float *out,
                    char *err, size_t len)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j || cJSON_IsNull(j)) { *out = (float)def; return 0; }
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= lo && j->valuedouble <= hi)) {
		snprintf(err, len, "%s is not a number in [%g, %g]", key, lo, hi);
		return -1;
	}
	*out = (float)j->valuedouble;
	return 0;
}

static const char *get_str(const cJSON *root, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* The family of a config.json, as the variant fields of bert_config
 * (bert.h): BERT, and the families issue 23 brings, recognised by their
 * keys so that each is refused by name until its variant is implemented.
 * *what says which key decided (for the message).  0, or -1 with err. */
static int parse_family(const cJSON *root, bert_config *c, const char **what, char *err, size_t len)
{
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
	*what = "model_type bert";
	if (mt && !cJSON_IsString(mt)) { snprintf(err, len, "model_type is not a string"); return -1; }
	if (!mt) {   /* configs older than model_type: BertFor... in architectures */
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "architectures"), *x;
		int bert = 0;
		cJSON_ArrayForEach(x, a) bert |= cJSON_IsString(x) && strncmp(x->valuestring, "Bert", 4) == 0;
		if (!bert) { snprintf(err, len, "no model_type (and no Bert architecture): not a BERT config"); return -1; }
	} else if (strcmp(mt->valuestring, "esm") == 0) {
		/* EsmConfig (transformers, models/esm/configuration_esm.py) and
		 * modeling_esm.py: pre-LN layers, emb_layer_norm_after, learned
		 * positions from padding_idx + 1 or rotary, EsmLMHead; NT v2's
		 * add_bias_fnn false: a SwiGLU FFN without biases */
		const char *pe = get_str(root, "position_embedding_type");
		*what = "model_type esm";
		c->norm = BERT_NORM_PRE, c->final_ln = 1, c->lm_head = BERT_LMHEAD_ESM;
		c->pos = pe && strcmp(pe, "rotary") == 0 ? BERT_POS_ROTARY : BERT_POS_OFFSET;
		if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "add_bias_fnn")))
			c->ffn_kind = BERT_FFN_SWIGLU, c->ffn_nobias = 1;
	} else if (strcmp(mt->valuestring, "bert") != 0) {
		snprintf(err, len, "model_type \"%.60s\" is not supported (bert only; other families are not implemented)",
		         mt->valuestring);
		return -1;
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "pre_layer_norm"))) {
		*what = "pre_layer_norm true (GENA-LM)";
		c->norm = BERT_NORM_PRE;
	} else if (cJSON_GetObjectItemCaseSensitive(root, "alibi_starting_size")) {
		*what = "alibi_starting_size (MosaicBERT, DNABERT-2)";   /* bert_layers.py */
		c->pos = BERT_POS_ALIBI, c->ffn_kind = BERT_FFN_GEGLU;
	}
	const char *no = bert_config_unsupported(c);
	if (no) { snprintf(err, len, "%s (%s) is not supported yet", *what, no); return -1; }
	return 0;
}

/* the string keys BERT's computation depends on: what seqlm cannot
 * compute exactly is refused (position_embedding_type is BERT's here;
 * parse_family reads ESM's) */
static int check_strings(const cJSON *root, const bert_config *c, char *err, size_t len)
{
	const char *act = get_str(root, "hidden_act");
	if (cJSON_GetObjectItemCaseSensitive(root, "hidden_act") && !act) {
		snprintf(err, len, "hidden_act is not a string");
		return -1;
	}
	if (act && strcmp(act, "gelu") != 0) {
		snprintf(err, len, "hidden_act \"%.60s\" is not supported: seqlm computes the exact (erf) GELU, \"gelu\", only", act);
		return -1;
	}
	const char *pe = get_str(root, "position_embedding_type");
	if (cJSON_GetObjectItemCaseSensitive(root, "position_embedding_type") && !pe) {
		snprintf(err, len, "position_embedding_type is not a string");
		return -1;
	}
	if (pe && strcmp(pe, "absolute") != 0 && c->lm_head != BERT_LMHEAD_ESM) {
		snprintf(err, len, "position_embedding_type \"%.60s\" is not supported (absolute only)", pe);
		return -1;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "is_decoder")) ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "add_cross_attention"))) {
		snprintf(err, len, "a decoder (is_decoder / add_cross_attention) is not a masked language model");
		return -1;
	}
	return 0;
}

/* the sizes and numbers, with BertConfig.__init__'s defaults */
static int parse_numbers(hf_config *h, const cJSON *root, char *err, size_t len)
{
	bert_config *c = &h->c;
	if (get_int(root, "vocab_size", 6, 1 << 24, 30522, &c->vocab_size, NULL, err, len) ||
	    get_int(root, "hidden_size", 1, 1 << 16, 768, &c->hidden, NULL, err, len) ||
	    get_int(root, "num_hidden_layers", 1, 1024, 12, &c->layers, NULL, err, len) ||
	    get_int(root, "num_attention_heads", 1, 1 << 16, 12, &c->heads, NULL, err, len) ||
	    get_int(root, "intermediate_size", 1, 1 << 20, 3072, &c->ffn, NULL, err, len) ||
	    get_int(root, "max_position_embeddings", 1, 1 << 20, 512, &c->max_pos, NULL, err, len) ||
	    get_int(root, "type_vocab_size", 1, 1 << 16, 2, &c->type_vocab, NULL, err, len) ||
	    get_int(root, "pad_token_id", 0, (1 << 24) - 1, 0, &h->pad_token_id, &h->has_pad, err, len) ||
	    get_real(root, "layer_norm_eps", 0, 1, 1e-12, &c->ln_eps, err, len) ||
	    get_real(root, "hidden_dropout_prob", 0, 0.999, 0.1, &c->hidden_drop, err, len) ||
	    get_real(root, "attention_probs_dropout_prob", 0, 0.999, 0.1, &c->attn_drop, err, len))
		return -1;
	if (c->hidden % c->heads) {
		snprintf(err, len, "hidden_size %d is not a multiple of num_attention_heads %d", c->hidden, c->heads);
		return -1;
	}
	c->pad_id = h->pad_token_id;
	c->mask_id = -1;              /* BertConfig has none: the tokenizer's */
	if (c->pos == BERT_POS_OFFSET) c->pos_offset = h->pad_token_id + 1;   /* ESM's position ids */
	if (h->pad_token_id >= c->vocab_size) {
		snprintf(err, len, "pad_token_id %d is not below vocab_size %d", h->pad_token_id, c->vocab_size);
		return -1;
	}
	return 0;
}

static int parse_root(hf_config *h, const cJSON *root, char *err, size_t len)
{
	const char *what;
	memset(h, 0, sizeof *h);
	if (!cJSON_IsObject(root)) { snprintf(err, len, "not a JSON object"); return -1; }
	if (parse_family(root, &h->c, &what, err, len) || check_strings(root, &h->c, err, len) ||
	    parse_numbers(h, root, err, len))
		return -1;
	const char *why = bert_config_check(&h->c);
	if (why) { snprintf(err, len, "%s", why); return -1; }
	return 0;
}

int hfcfg_parse(hf_config *h, const char *text, size_t n, char *err, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, n);
	if (!root) { snprintf(err, len, "not valid JSON"); return -1; }
	int rc = parse_root(h, root, err, len);
	cJSON_Delete(root);
	return rc;
}

int hfcfg_read(hf_config *h, const char *path, char *err, size_t len)
{
	char e[400];
	size_t n;
	char *buf = util_read_small(path, 1 << 20, &n, "larger than 1 MB: not a config", err, len);
	if (!buf) return -1;
	int rc = hfcfg_parse(h, buf, n, e, sizeof e);
	free(buf);
	if (rc) snprintf(err, len, "%s: %s", path, e);
	return rc;
}

/* the shortest decimal that reads back as the same float, in the form
 * Python's json writes a float (repr: "0.1", "1e-12", "1.0") */
static void put_real(char *out, size_t len, float x)
{
	for (int p = 1; p <= 9; p++) {
		snprintf(out, len, "%.*g", p, (double)x);
		if (strtof(out, NULL) == x) break;
	}
	if (!strpbrk(out, ".eninf")) strncat(out, ".0", len - strlen(out) - 1);
}

char *hfcfg_format(const hf_config *h)
{
	const bert_config *c = &h->c;
	char ad[32], hd[32], eps[32], pad[16] = "null";
	put_real(ad, sizeof ad, c->attn_drop);
	put_real(hd, sizeof hd, c->hidden_drop);
	put_real(eps, sizeof eps, c->ln_eps);
	if (h->pad_token_id >= 0) snprintf(pad, sizeof pad, "%d", h->pad_token_id);
	char *s = NULL;
	if (asprintf(&s,
	             "{\n"
	             "  \"architectures\": [\n"
	             "    \"BertForMaskedLM\"\n"
	             "  ],\n"
	             "  \"attention_probs_dropout_prob\": %s,\n"
	             "  \"classifier_dropout\": null,\n"
	             "  \"hidden_act\": \"gelu\",\n"
	             "  \"hidden_dropout_prob\": %s,\n"
	             "  \"hidden_size\": %d,\n"
	             "  \"initializer_range\": 0.02,\n"
	             "  \"intermediate_size\": %d,\n"
	             "  \"layer_norm_eps\": %s,\n"
	             "  \"max_position_embeddings\": %d,\n"
	             "  \"model_type\": \"bert\",\n"
	             "  \"num_attention_heads\": %d,\n"
	             "  \"num_hidden_layers\": %d,\n"
	             "  \"pad_token_id\": %s,\n"
	             "  \"position_embedding_type\": \"absolute\",\n"
	             "  \"torch_dtype\": \"float32\",\n"
	             "  \"type_vocab_size\": %d,\n"
	             "  \"use_cache\": true,\n"
	             "  \"vocab_size\": %d\n"
	             "}\n",
	             ad, hd, c->hidden, c->ffn, eps, c->max_pos, c->heads, c->layers, pad,
	             c->type_vocab, c->vocab_size) < 0)
		return NULL;
	return s;
}
