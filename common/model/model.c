/* model.c -- model files; see model.h and man/lmtrain.1 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "tok/vocab.h"

/* The variant fields of bert_config (bert.h) as @KV keys with named
 * values; value 0 is BERT's and is not written, so a BERT model's header
 * is what it always was.  A new variant field is one row here. */
typedef struct {
	const char *key;
	size_t off;                   /* offsetof the int in bert_config */
	const char *val[6];           /* names of the values 0, 1, ... */
} variant_key;

static const variant_key variant_keys[] = {
	{ "layer_norm_placement", offsetof(bert_config, norm), { "post", "pre" } },
	{ "final_layer_norm", offsetof(bert_config, final_ln), { "false", "true" } },
	{ "position_encoding", offsetof(bert_config, pos), { "absolute", "offset", "rotary", "alibi", "none" } },
	{ "ffn_kind", offsetof(bert_config, ffn_kind), { "gelu", "geglu", "swiglu" } },
	{ "attention_bias", offsetof(bert_config, attn_nobias), { "true", "false" } },
	{ "ffn_bias", offsetof(bert_config, ffn_nobias), { "true", "false" } },
	{ "lm_head", offsetof(bert_config, lm_head), { "bert", "esm" } },
	{ "embedding_layer_norm", offsetof(bert_config, emb_noln), { "true", "false" } },
	{ "tie_word_embeddings", offsetof(bert_config, untied), { "true", "false" } },
	{ "token_dropout", offsetof(bert_config, token_dropout), { "false", "true" } },
};
enum { NVARIANT = sizeof variant_keys / sizeof variant_keys[0] };

static int *variant_field(bert_config *c, const variant_key *k) { return (int *)(void *)((char *)c + k->off); }

static int variant_nval(const variant_key *k)
{
	int n = 0;
	while (n < 6 && k->val[n]) n++;
	return n;
}

/* the variant key named key, NULL if none */
static const variant_key *variant_find(const char *key)
{
	for (int i = 0; i < NVARIANT; i++)
		if (!strcmp(variant_keys[i].key, key)) return &variant_keys[i];
	return NULL;
}

/* the index of value name s of key k, -1 if it has none such */
static int variant_index(const variant_key *k, const char *s)
{
	for (int v = 0; v < variant_nval(k); v++)
		if (!strcmp(s, k->val[v])) return v;
	return -1;
}

int model_variant_value(const char *key, const char *name)
{
	const variant_key *k = variant_find(key);
	return k ? variant_index(k, name) : -1;
}

static void set_variant(tns_header *h, const bert_config *c)
{
	for (int i = 0; i < NVARIANT; i++) {
		const variant_key *k = &variant_keys[i];
		int v = *variant_field((bert_config *)c, k);
		if (v) tns_header_set(h, k->key, "%s", v >= 0 && v < variant_nval(k) ? k->val[v] : "?");
	}
	if (c->pos_offset) tns_header_set(h, "position_offset", "%d", c->pos_offset);
}

void model_set_header(tns_header *h, const bert_model *m, uint64_t seed, uint64_t data_seed,
                      int64_t step)
{
	model_set_header_hash(h, &m->c, bert_hash(m), seed, data_seed, step);
}

void model_set_header_hash(tns_header *h, const bert_config *c, uint64_t hash, uint64_t seed,
                           uint64_t data_seed, int64_t step)
{
	tns_header_set(h, "model_type", "bert");
	tns_header_set(h, "vocab_size", "%d", c->vocab_size);
	tns_header_set(h, "hidden_size", "%d", c->hidden);
	tns_header_set(h, "num_hidden_layers", "%d", c->layers);
	tns_header_set(h, "num_attention_heads", "%d", c->heads);
	tns_header_set(h, "intermediate_size", "%d", c->ffn);
	tns_header_set(h, "max_position_embeddings", "%d", c->max_pos);
	tns_header_set(h, "type_vocab_size", "%d", c->type_vocab);
	tns_header_set(h, "layer_norm_eps", "%.7g", c->ln_eps);
	tns_header_set(h, "pad_token_id", "%d", c->pad_id);
	tns_header_set(h, "mask_token_id", "%d", c->mask_id);
	tns_header_set(h, "hidden_act", "gelu");
	tns_header_set(h, "hidden_dropout_prob", "%.7g", c->hidden_drop);
	tns_header_set(h, "attention_probs_dropout_prob", "%.7g", c->attn_drop);
	set_variant(h, c);
	tns_header_set(h, "seed", "%" PRIu64, seed);
	tns_header_set(h, "data_seed", "%" PRIu64, data_seed);
	tns_header_set(h, "step", "%" PRId64, step);
	tns_header_set(h, "model_hash", "%016" PRIx64, hash);
}

static int get_int(const tns_header *h, const char *key, int lo, int hi, int *v, char *err, size_t len)
{
	int64_t x;
	if (tns_header_get_int(h, key, &x) != 0) {
		snprintf(err, len, "@KV %s %s", key, tns_header_get(h, key) ? "is not an integer" : "missing");
		return -1;
	}
	if (x < lo || x > hi) {
		snprintf(err, len, "@KV %s %" PRId64 " out of range [%d,%d]", key, x, lo, hi);
		return -1;
	}
	*v = (int)x;
	return 0;
}

static int get_real(const tns_header *h, const char *key, double lo, double hi, float *v, char *err, size_t len)
{
	double x;
	if (tns_header_get_double(h, key, &x) != 0 || !(x >= lo && x <= hi)) {
		snprintf(err, len, "@KV %s missing or out of range", key);
		return -1;
	}
	*v = (float)x;
	return 0;
}

/* the variant keys of h into c (absent: 0, BERT's); an unknown value or
 * one not implemented yet is refused, naming the key */
static int get_variant(const tns_header *h, bert_config *c, char *err, size_t len)
{
	for (int i = 0; i < NVARIANT; i++) {
		const variant_key *k = &variant_keys[i];
		const char *s = tns_header_get(h, k->key);
		if (!s) continue;
		int v = variant_index(k, s), n = variant_nval(k);
		if (v < 0) {
			char names[128] = "";
			for (int j = 0; j < n; j++)
				snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "", k->val[j]);
			snprintf(err, len, "@KV %s %.40s is not one of %s", k->key, s, names);
			return -1;
		}
		bert_config one;
		memset(&one, 0, sizeof one);
		*variant_field(&one, k) = v;
		const char *what = bert_config_unsupported(&one);
		if (what) { snprintf(err, len, "@KV %s %s (%s) is not supported yet", k->key, s, what); return -1; }
		*variant_field(c, k) = v;
	}
	if (tns_header_get(h, "position_offset") &&
	    get_int(h, "position_offset", 0, 1 << 20, &c->pos_offset, err, len))
		return -1;
	return 0;
}

int model_config_from_header(const tns_header *h, bert_config *c, char *err, size_t len)
{
	const char *mt = tns_header_get(h, "model_type");
	if (!mt) { snprintf(err, len, "not a model file (no @KV model_type)"); return -1; }
	if (strcmp(mt, "bert") != 0) { snprintf(err, len, "model_type %s is not bert", mt); return -1; }
	memset(c, 0, sizeof *c);
	if (get_int(h, "vocab_size", 6, 1 << 24, &c->vocab_size, err, len) ||
	    get_int(h, "hidden_size", 1, 1 << 16, &c->hidden, err, len) ||
	    get_int(h, "num_hidden_layers", 1, 1024, &c->layers, err, len) ||
	    get_int(h, "num_attention_heads", 1, 1 << 16, &c->heads, err, len) ||
	    get_int(h, "intermediate_size", 1, 1 << 20, &c->ffn, err, len) ||
	    get_int(h, "max_position_embeddings", 1, 1 << 20, &c->max_pos, err, len) ||
	    get_int(h, "type_vocab_size", 0, 1 << 16, &c->type_vocab, err, len) ||
	    get_int(h, "pad_token_id", -1, (1 << 24) - 1, &c->pad_id, err, len) ||
	    get_int(h, "mask_token_id", -1, (1 << 24) - 1, &c->mask_id, err, len) ||
	    get_real(h, "layer_norm_eps", 0, 1, &c->ln_eps, err, len) ||
	    get_real(h, "hidden_dropout_prob", 0, 0.999, &c->hidden_drop, err, len) ||
	    get_real(h, "attention_probs_dropout_prob", 0, 0.999, &c->attn_drop, err, len) ||
	    get_variant(h, c, err, len))
		return -1;
	const char *act = tns_header_get(h, "hidden_act");
	if (!act || strcmp(act, "gelu") != 0) {
		snprintf(err, len, "@KV hidden_act %s is not supported (gelu only)", act ? act : "missing");
		return -1;
	}
	const char *why = bert_config_check(c);
	if (why) { snprintf(err, len, "bad config: %s", why); return -1; }
	return 0;
}

int model_write_buffer(tns_writer *w, const bert_model *m, const char *record, const float *buf)
{
	tns_tensor *t = calloc(m->np, sizeof *t);
	if (!t) return -1;
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		t[i] = tns_tensor_make(p->name, TNS_F32, p->ndim, p->dim, buf + p->off);
	}
	int r = tns_write(w, record, m->np, t);
	free(t);
	return r;
}

/* every parameter of m from rec into buf; exact names, shapes, f32 */
int model_read_buffer(const tns_record *rec, const bert_model *m, float *buf, char *err, size_t len)
{
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		const tns_tensor *t = tns_get(rec, p->name);
		if (!t) { snprintf(err, len, "record %s: parameter %s missing", rec->name, p->name); return -1; }
		if (t->dtype != TNS_F32) {
			snprintf(err, len, "record %s: %s is %s, not f32", rec->name, p->name, tns_dtype_name(t->dtype));
			return -1;
		}
		int same = t->ndim == p->ndim;
		for (int d = 0; same && d < p->ndim; d++) same = t->dim[d] == p->dim[d];
		if (!same) {
			if (p->ndim == 2)
				snprintf(err, len, "record %s: %s has the wrong shape (want %" PRId64 "x%" PRId64 ")",
				         rec->name, p->name, p->dim[0], p->dim[1]);
			else
				snprintf(err, len, "record %s: %s has the wrong shape (want %" PRId64 ")",
				         rec->name, p->name, p->dim[0]);
			return -1;
		}
		memcpy(buf + p->off, t->data, p->n * sizeof(float));
	}
	if (rec->n != m->np) {
		for (int j = 0; j < rec->n; j++)
			if (bert_param_find(m, rec->t[j].name) < 0) {
				snprintf(err, len, "record %s: unknown tensor %s", rec->name, rec->t[j].name);
				return -1;
			}
		snprintf(err, len, "record %s: repeated tensors", rec->name);
		return -1;
	}
	return 0;
}

/* the header's vocabulary (if any) has the config's size and special ids */
static int vocab_agrees(const tns_header *h, const bert_config *c, char *err, size_t len)
{
	char e[512];
	tok_vocab v;
	if (!h->n || !vocab_header_hash(h)) return 0;
	int vr = vocab_from_header(&v, h, e, sizeof e);
	if (vr == -2) { snprintf(err, len, "vocabulary: %s", e); return -1; }
	if (vr != 0) return 0;
	int n = v.n, pad = v.id.pad, mask = v.id.mask;
	vocab_free(&v);
	if (n != c->vocab_size) {
		snprintf(err, len, "vocabulary has %d tokens but vocab_size is %d", n, c->vocab_size);
		return -1;
	}
	if (pad != c->pad_id || mask != c->mask_id) {
		snprintf(err, len, "@KV pad_token_id %d, mask_token_id %d are not the vocabulary's %d, %d",
		         c->pad_id, c->mask_id, pad, mask);
		return -1;
	}
	return 0;
}

int model_load(const char *path, bert_model *m, tns_header *hout, adamw *opt, int *has_adam,
               char *err, size_t len)
{
	char e[512];
	int got_m = 0, got_v = 0, ok = 0;
	memset(m, 0, sizeof *m);
	if (has_adam) *has_adam = 0;
	tns_reader *r = tns_open(path, e, sizeof e);
	if (!r) { snprintf(err, len, "%s", e); return -1; }
	const tns_header *h = tns_reader_header(r);
	bert_config c;
	if (model_config_from_header(h, &c, e, sizeof e) != 0) { snprintf(err, len, "%s", e); goto done; }
	if (vocab_agrees(h, &c, err, len) != 0) goto done;
	if (bert_init(m, &c) != 0) { snprintf(err, len, "bad config"); goto done; }
	tns_record rec;
	int rr, nrec = 0;
	while ((rr = tns_read(r, &rec)) == 1) {
		if (nrec++ == 0) {
			if (strcmp(rec.name, "params") != 0) {
				snprintf(err, len, "first record is %s, not params", rec.name);
				goto done;
			}
			if (model_read_buffer(&rec, m, m->params, err, len) != 0) goto done;
		} else if (opt && (!strcmp(rec.name, "adam_m") || !strcmp(rec.name, "adam_v"))) {
			if (!opt->n) adamw_init(opt, m->n);
			int isv = rec.name[5] == 'v';
			if (model_read_buffer(&rec, m, isv ? opt->v : opt->m, err, len) != 0) goto done;
			if (isv) got_v = 1; else got_m = 1;
		}
	}
	if (rr < 0) { snprintf(err, len, "%s", tns_error(r)); goto done; }
	if (nrec == 0) { snprintf(err, len, "no params record"); goto done; }
	const char *hs = tns_header_get(h, "model_hash");
	if (hs) {
		char want[32];
		snprintf(want, sizeof want, "%016" PRIx64, bert_hash(m));
		if (strcmp(hs, want) != 0) {
			snprintf(err, len, "parameters do not match model_hash %s (got %s)", hs, want);
			goto done;
		}
	}
	if (has_adam) *has_adam = got_m && got_v;
	if (hout) tns_header_copy(hout, h);
	ok = 1;
done:
	tns_close_reader(r);
	if (!ok) bert_free(m);
	return ok ? 0 : -1;
}
