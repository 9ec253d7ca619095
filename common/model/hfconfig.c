/* hfconfig.c -- HuggingFace config.json <-> bert_config (see hfconfig.h) */
#include "model/hfconfig.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
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

static int get_bool(const cJSON *root, const char *key, int def, int *out, char *err, size_t len)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!j || cJSON_IsNull(j)) { *out = def; return 0; }
	if (!cJSON_IsBool(j)) { snprintf(err, len, "%s is not true or false", key); return -1; }
	*out = cJSON_IsTrue(j);
	return 0;
}

static int has_key(const cJSON *root, const char *key) { return cJSON_GetObjectItemCaseSensitive(root, key) != NULL; }

/* ---- the family ------------------------------------------------------------ */

static const char *const family_names[] = {
	"BERT", "GENA-LM", "ESM", "Nucleotide Transformer v2", "DNABERT-2 (MosaicBERT)",
};

const char *hfcfg_family_name(int f) { return f >= HF_BERT && f <= HF_DNABERT2 ? family_names[f] : "?"; }

const char *hfcfg_family_class(int f)
{
	return f == HF_ESM || f == HF_NT2 ? "EsmForMaskedLM" : "BertForMaskedLM";
}

/* Keys only one family's code reads.  Every family's config class keeps
 * an unknown key silently and its model ignores it, so a key of another
 * family means a config edited by hand whose meaning is unclear: refused
 * (families.py OWN_KEYS). */
static const struct { int family; const char *key; } own_keys[] = {
	{ HF_DNABERT2, "alibi_starting_size" },
	{ HF_ESM, "add_bias_fnn" }, { HF_ESM, "emb_layer_norm_before" }, { HF_ESM, "esmfold_config" },
	{ HF_ESM, "is_folding_model" }, { HF_ESM, "token_dropout" }, { HF_ESM, "vocab_list" },
	{ HF_GENA, "last_layer_norm" }, { HF_GENA, "pre_layer_norm" },
};

/* the keys of the first other family present, or 0 (own: ESM for NT v2,
 * GENA-LM for BERT: a BERT config may say pre_layer_norm false) */
static int foreign_keys(const cJSON *root, int own, char *keys, size_t len)
{
	int found = -1;
	keys[0] = 0;
	for (size_t i = 0; i < sizeof own_keys / sizeof own_keys[0]; i++) {
		int f = own_keys[i].family;
		if (f == own || !has_key(root, own_keys[i].key) || (found >= 0 && f != found)) continue;
		found = f;
		snprintf(keys + strlen(keys), len - strlen(keys), "%s%s", keys[0] ? ", " : "", own_keys[i].key);
	}
	return found;
}

/* the auto_map's values (remote code's classes), joined */
static void auto_map(const cJSON *root, char *out, size_t len)
{
	const cJSON *x;
	out[0] = 0;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "auto_map"))
		if (cJSON_IsString(x)) snprintf(out + strlen(out), len - strlen(out), " %s", x->valuestring);
}

/* which family the config is, and what said so (for messages) */
static int detect_family(const cJSON *root, int *fam, const char **what, char *err, size_t len)
{
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
	char amap[512];
	if (mt && !cJSON_IsString(mt)) { snprintf(err, len, "model_type is not a string"); return -1; }
	const char *t = mt ? mt->valuestring : NULL;
	auto_map(root, amap, sizeof amap);
	/* GENA-LM's sparse models (DeepSpeed block-sparse attention, G
	 * 261-267; transformers' BigBird): another attention, not computed */
	if (t && strcmp(t, "big_bird") == 0) {
		snprintf(err, len, "sparse attention (model_type big_bird) is not supported");
		return -1;
	}
	if (has_key(root, "sparse_config_cls") || has_key(root, "sparse_attention")) {
		snprintf(err, len, "sparse attention (sparse_config_cls/sparse_attention) is not supported");
		return -1;
	}
	if (strstr(amap, "esm_config.") || (t && strcmp(t, "esm") == 0)) {
		*fam = has_key(root, "add_bias_fnn") ? HF_NT2 : HF_ESM;
		*what = t ? "model_type esm" : "auto_map esm_config (Nucleotide Transformer v2)";
	} else if (strstr(amap, "bert_layers.") || has_key(root, "alibi_starting_size")) {
		*fam = HF_DNABERT2;
		*what = has_key(root, "alibi_starting_size") ? "alibi_starting_size (MosaicBERT, DNABERT-2)"
		                                            : "auto_map bert_layers (MosaicBERT, DNABERT-2)";
	} else if (t && strcmp(t, "bert") != 0) {
		snprintf(err, len, "model_type \"%.60s\" is not supported (bert, esm; MosaicBERT by its keys)", t);
		return -1;
	} else {
		if (!t) {   /* configs older than model_type: BertFor... in architectures */
			const cJSON *x;
			int bert = 0;
			cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "architectures"))
				bert |= cJSON_IsString(x) && strncmp(x->valuestring, "Bert", 4) == 0;
			if (!bert) { snprintf(err, len, "no model_type (and no Bert architecture): not a BERT config"); return -1; }
		}
		*fam = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "pre_layer_norm")) ? HF_GENA : HF_BERT;
		*what = *fam == HF_GENA ? "pre_layer_norm true (GENA-LM)" : "model_type bert";
	}
	char keys[200];
	int own = *fam == HF_NT2 ? HF_ESM : *fam == HF_BERT ? HF_GENA : *fam;
	int other = foreign_keys(root, own, keys, sizeof keys);
	if (other >= 0) {
		snprintf(err, len, "config.json mixes families: %s %s %s's, but %s makes it %s", keys,
		         strchr(keys, ',') ? "are" : "is", hfcfg_family_name(other), *what, hfcfg_family_name(*fam));
		return -1;
	}
	return 0;
}

/* the variant fields of each family (bert.h) from its keys */
static int family_fields(const cJSON *root, hf_config *h, char *err, size_t len)
{
	bert_config *c = &h->c;
	int tie, b;
	const char *pe = get_str(root, "position_embedding_type");
	if (has_key(root, "position_embedding_type") && !pe && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "position_embedding_type"))) {
		snprintf(err, len, "position_embedding_type is not a string");
		return -1;
	}
	if (!pe) pe = "absolute";
	if (get_bool(root, "tie_word_embeddings", 1, &tie, err, len)) return -1;
	switch (h->family) {
	case HF_ESM:
	case HF_NT2:
		/* modeling_esm.py (U; R for NT v2): pre-LN layers, the final
		 * emb_layer_norm_after, learned positions from padding_idx + 1
		 * or rotary, EsmLMHead; no token types */
		c->norm = BERT_NORM_PRE, c->final_ln = 1, c->lm_head = BERT_LMHEAD_ESM, c->type_vocab = 0;
		if (strcmp(pe, "absolute") == 0) c->pos = BERT_POS_OFFSET;
		else if (strcmp(pe, "rotary") == 0) c->pos = BERT_POS_ROTARY;
		else {
			snprintf(err, len, "position_embedding_type \"%.60s\" is not supported for ESM (absolute or rotary)", pe);
			return -1;
		}
		if (get_bool(root, "emb_layer_norm_before", 0, &b, err, len)) return -1;
		c->emb_noln = !b;
		if (get_bool(root, "token_dropout", 0, &c->token_dropout, err, len)) return -1;
		c->untied = !tie;
		if (h->family == HF_NT2) {   /* R 555-589: the SwiGLU EsmIntermediate, biases iff add_bias_fnn */
			if (get_bool(root, "add_bias_fnn", 1, &b, err, len)) return -1;
			c->ffn_kind = BERT_FFN_SWIGLU, c->ffn_nobias = !b;
		}
		return 0;
	case HF_DNABERT2:
		/* bert_layers.py (D): no position embeddings whatever
		 * position_embedding_type says, ALiBi, the GeGLU mlp, post-LN;
		 * the decoder is the word embeddings always (BertOnlyMLMHead) */
		c->pos = BERT_POS_ALIBI, c->ffn_kind = BERT_FFN_GEGLU;
		return 0;
	default: {
		int pre, last;
		if (strcmp(pe, "absolute") != 0) {
			snprintf(err, len, "position_embedding_type \"%.60s\" is not supported (absolute only)", pe);
			return -1;
		}
		/* GENA-LM's BertEncoder (G 768-770): last_layer_norm defaults to
		 * pre_layer_norm and needs it */
		if (get_bool(root, "pre_layer_norm", 0, &pre, err, len) ||
		    get_bool(root, "last_layer_norm", pre, &last, err, len))
			return -1;
		if (last && !pre) {
			snprintf(err, len, "last_layer_norm needs pre_layer_norm (GENA-LM's BertEncoder refuses it)");
			return -1;
		}
		c->norm = pre ? BERT_NORM_PRE : BERT_NORM_POST, c->final_ln = last;
		c->untied = !tie;
		return 0;
	}
	}
}

/* the string keys the computation depends on */
static int check_strings(const cJSON *root, int family, char *err, size_t len)
{
	const char *act = get_str(root, "hidden_act");
	if (family != HF_ESM && family != HF_NT2) {   /* ESM's code has GELU written in, no hidden_act */
		if (has_key(root, "hidden_act") && !act) {
			snprintf(err, len, "hidden_act is not a string");
			return -1;
		}
		if (act && strcmp(act, "gelu") != 0) {
			snprintf(err, len, "hidden_act \"%.60s\" is not supported: seqlm computes the exact (erf) GELU, \"gelu\", only", act);
			return -1;
		}
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
	int tv;
	if (get_int(root, "vocab_size", 6, 1 << 24, 30522, &c->vocab_size, NULL, err, len) ||
	    get_int(root, "hidden_size", 1, 1 << 16, 768, &c->hidden, NULL, err, len) ||
	    get_int(root, "num_hidden_layers", 1, 1024, 12, &c->layers, NULL, err, len) ||
	    get_int(root, "num_attention_heads", 1, 1 << 16, 12, &c->heads, NULL, err, len) ||
	    get_int(root, "intermediate_size", 1, 1 << 20, 3072, &c->ffn, NULL, err, len) ||
	    get_int(root, "max_position_embeddings", 1, 1 << 20, 512, &c->max_pos, NULL, err, len) ||
	    get_int(root, "type_vocab_size", 1, 1 << 16, 2, &tv, NULL, err, len) ||
	    get_int(root, "pad_token_id", 0, (1 << 24) - 1, 0, &h->pad_token_id, &h->has_pad, err, len) ||
	    get_int(root, "mask_token_id", 0, (1 << 24) - 1, -1, &h->mask_token_id, NULL, err, len) ||
	    get_real(root, "layer_norm_eps", 0, 1, 1e-12, &c->ln_eps, err, len) ||
	    get_real(root, "hidden_dropout_prob", 0, 0.999, 0.1, &c->hidden_drop, err, len) ||
	    get_real(root, "attention_probs_dropout_prob", 0, 0.999, 0.1, &c->attn_drop, err, len))
		return -1;
	if (h->family != HF_ESM && h->family != HF_NT2) {
		c->type_vocab = tv;                  /* ESM has no token types */
		h->mask_token_id = -1;               /* BertConfig has none: the tokenizer's */
	}
	if (c->hidden % c->heads) {
		snprintf(err, len, "hidden_size %d is not a multiple of num_attention_heads %d", c->hidden, c->heads);
		return -1;
	}
	c->pad_id = h->pad_token_id;
	c->mask_id = h->mask_token_id;
	if (h->pad_token_id >= c->vocab_size) {
		snprintf(err, len, "pad_token_id %d is not below vocab_size %d", h->pad_token_id, c->vocab_size);
		return -1;
	}
	if (h->mask_token_id >= c->vocab_size) {
		snprintf(err, len, "mask_token_id %d is not below vocab_size %d", h->mask_token_id, c->vocab_size);
		return -1;
	}
	return 0;
}

/* what each family's code needs of the numbers */
static int check_family_numbers(const hf_config *h, char *err, size_t len)
{
	const bert_config *c = &h->c;
	int dh = c->hidden / c->heads;
	if ((h->family == HF_ESM || h->family == HF_NT2) && !h->has_pad) {
		snprintf(err, len, "pad_token_id is missing: ESM's position ids and padding need it");
		return -1;
	}
	/* R 59-68: inv_freq = 1/10000^(arange(0, dh, 2)/dh), cat(freqs, freqs)
	 * is dh + 1 wide for an odd dh: RuntimeError in apply_rotary_pos_emb */
	if (c->pos == BERT_POS_ROTARY && dh % 2) {
		snprintf(err, len, "rotary position embeddings need an even head size, not %d (hidden_size %d / num_attention_heads %d)",
		         dh, c->hidden, c->heads);
		return -1;
	}
	/* D 515: the head's LayerNorm has eps 1e-12 written in; seqlm has one eps */
	if (h->family == HF_DNABERT2 && c->ln_eps != 1e-12f) {
		snprintf(err, len, "layer_norm_eps %g: DNABERT-2's head LayerNorm uses 1e-12 whatever the config says; only 1e-12 is supported",
		         (double)c->ln_eps);
		return -1;
	}
	return 0;
}

static int parse_root(hf_config *h, const cJSON *root, char *err, size_t len)
{
	const char *what = "";
	memset(h, 0, sizeof *h);
	if (!cJSON_IsObject(root)) { snprintf(err, len, "not a JSON object"); return -1; }
	if (detect_family(root, &h->family, &what, err, len) || check_strings(root, h->family, err, len) ||
	    family_fields(root, h, err, len) || parse_numbers(h, root, err, len) || check_family_numbers(h, err, len))
		return -1;
	if (h->c.pos == BERT_POS_OFFSET) h->c.pos_offset = h->pad_token_id + 1;   /* ESM's position ids (R 1442-1459) */
	/* a variant bert.c does not compute yet: named, with what said so */
	const char *no = bert_config_unsupported(&h->c);
	if (no) { snprintf(err, len, "%s (%s) is not supported yet", what, no); return -1; }
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

/* config.json as key/value texts, written sorted by key as
 * to_json_string(sort_keys=True) does */
typedef struct { const char *key; char val[400]; } kv;
typedef struct { kv e[40]; int n; } kvs;

static void put(kvs *k, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(kvs *k, const char *key, const char *fmt, ...)
{
	va_list ap;
	k->e[k->n].key = key;
	va_start(ap, fmt);
	vsnprintf(k->e[k->n].val, sizeof k->e[k->n].val, fmt, ap);
	va_end(ap);
	k->n++;
}

static int kv_cmp(const void *a, const void *b) { return strcmp(((const kv *)a)->key, ((const kv *)b)->key); }

static const char *jbool(int b) { return b ? "true" : "false"; }

char *hfcfg_format(const hf_config *h)
{
	const bert_config *c = &h->c;
	int esm = h->family == HF_ESM || h->family == HF_NT2;
	char r[32];
	kvs k = { .n = 0 };
	put(&k, "architectures", "[\n    \"%s\"\n  ]", hfcfg_family_class(h->family));
	put_real(r, sizeof r, c->attn_drop); put(&k, "attention_probs_dropout_prob", "%s", r);
	put_real(r, sizeof r, c->hidden_drop); put(&k, "hidden_dropout_prob", "%s", r);
	put_real(r, sizeof r, c->ln_eps); put(&k, "layer_norm_eps", "%s", r);
	put(&k, "hidden_size", "%d", c->hidden);
	put(&k, "initializer_range", "0.02");
	put(&k, "intermediate_size", "%d", c->ffn);
	put(&k, "max_position_embeddings", "%d", c->max_pos);
	put(&k, "num_attention_heads", "%d", c->heads);
	put(&k, "num_hidden_layers", "%d", c->layers);
	put(&k, "torch_dtype", "\"float32\"");
	put(&k, "vocab_size", "%d", c->vocab_size);
	if (h->family != HF_DNABERT2) {   /* its config has none: the tokenizer's pad */
		if (h->pad_token_id >= 0) put(&k, "pad_token_id", "%d", h->pad_token_id);
		else put(&k, "pad_token_id", "null");
	}
	if (!esm) {
		put(&k, "classifier_dropout", "null");
		put(&k, "hidden_act", "\"gelu\"");
		put(&k, "type_vocab_size", "%d", c->type_vocab);
		put(&k, "use_cache", "true");
		put(&k, "position_embedding_type", "\"absolute\"");
		put(&k, "model_type", "\"bert\"");
	}
	if (c->untied) put(&k, "tie_word_embeddings", "false");
	switch (h->family) {
	case HF_GENA:
		put(&k, "pre_layer_norm", "true");
		put(&k, "last_layer_norm", "%s", jbool(c->final_ln));
		break;
	case HF_DNABERT2:
		/* the size of bert_layers.py's precomputed ALiBi table, which it
		 * extends for longer inputs: its default */
		put(&k, "alibi_starting_size", "512");
		put(&k, "auto_map", "{\n    \"AutoConfig\": \"configuration_bert.BertConfig\",\n"
		    "    \"AutoModel\": \"bert_layers.BertModel\",\n"
		    "    \"AutoModelForMaskedLM\": \"bert_layers.BertForMaskedLM\"\n  }");
		break;
	case HF_ESM:
	case HF_NT2:
		put(&k, "emb_layer_norm_before", "%s", jbool(!c->emb_noln));
		put(&k, "esmfold_config", "null");
		put(&k, "is_folding_model", "false");
		put(&k, "vocab_list", "null");
		put(&k, "use_cache", "false");
		put(&k, "mask_token_id", "%d", c->mask_id);
		put(&k, "position_embedding_type", "\"%s\"", c->pos == BERT_POS_ROTARY ? "rotary" : "absolute");
		put(&k, "token_dropout", "%s", jbool(c->token_dropout));
		if (!c->untied) put(&k, "tie_word_embeddings", "true");
		if (h->family == HF_ESM) put(&k, "model_type", "\"esm\"");
		else {
			put(&k, "add_bias_fnn", "%s", jbool(!c->ffn_nobias));
			put(&k, "auto_map", "{\n    \"AutoConfig\": \"esm_config.EsmConfig\",\n"
			    "    \"AutoModelForMaskedLM\": \"modeling_esm.EsmForMaskedLM\"\n  }");
		}
		break;
	}
	qsort(k.e, k.n, sizeof *k.e, kv_cmp);
	size_t cap = 64;
	for (int i = 0; i < k.n; i++) cap += strlen(k.e[i].key) + strlen(k.e[i].val) + 8;
	char *s = xmalloc(cap), *p = s;
	p += sprintf(p, "{\n");
	for (int i = 0; i < k.n; i++) p += sprintf(p, "  \"%s\": %s%s\n", k.e[i].key, k.e[i].val, i + 1 < k.n ? "," : "");
	sprintf(p, "}\n");
	return s;
}

/* ---- a model's family, for writing it out ----------------------------------- */

int hfcfg_family_of(const bert_config *c, const char **why)
{
	*why = NULL;
	if (c->attn_nobias) *why = "attention without biases";
	else if (c->lm_head == BERT_LMHEAD_ESM) {
		if (c->norm != BERT_NORM_PRE || !c->final_ln || c->type_vocab)
			*why = "the ESM head without ESM's pre-LN layers, final LayerNorm and no token types";
		else if (c->pos != BERT_POS_OFFSET && c->pos != BERT_POS_ROTARY) *why = "ESM with neither offset nor rotary positions";
		else if (c->pos == BERT_POS_OFFSET && c->pos_offset != c->pad_id + 1) *why = "ESM positions not starting at pad + 1";
		else if (c->ffn_kind == BERT_FFN_SWIGLU) return HF_NT2;
		else if (c->ffn_kind != BERT_FFN_GELU || c->ffn_nobias) *why = "ESM with a feed-forward other than GELU with biases or SwiGLU";
		else return HF_ESM;
	} else if (c->emb_noln || c->token_dropout || !c->type_vocab) {
		*why = "BERT's head with ESM's embeddings";
	} else if (c->pos == BERT_POS_ALIBI) {
		if (c->ffn_kind != BERT_FFN_GEGLU || c->norm != BERT_NORM_POST || c->final_ln || c->untied || c->ffn_nobias)
			*why = "ALiBi without the rest of MosaicBERT (GeGLU, post-LN, tied, biases)";
		else return HF_DNABERT2;
	} else if (c->pos != BERT_POS_ABSOLUTE || c->ffn_kind != BERT_FFN_GELU || c->ffn_nobias) {
		*why = "rotary, no positions or a gated feed-forward with BERT's head";
	} else if (c->norm == BERT_NORM_PRE) return HF_GENA;
	else if (c->final_ln) *why = "a final LayerNorm after post-LN layers";
	else return HF_BERT;
	return -1;
}
