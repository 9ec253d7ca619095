/* hftok.c -- Hugging Face tokenizer folders (see hftok.h): vocab.txt with
 * tokenizer_config.json and special_tokens_map.json here; tokenizer.json
 * in hftokjson.c.  JSON through cJSON. */
#include "tok/hftok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "base/util.h"
#include "tok/hftokint.h"
#include "base/strmap.h"

/* the additional_special_tokens list (special but no role) */
static int mark_additional(const cJSON *obj, const strmap *ids, unsigned char *special)
{
	const cJSON *a = obj ? cJSON_GetObjectItemCaseSensitive(obj, "additional_special_tokens") : NULL, *x;
	if (!a) return 0;
	if (!cJSON_IsArray(a)) return -1;
	cJSON_ArrayForEach(x, a) {
		const char *s = cJSON_IsString(x) ? x->valuestring : NULL;
		if (cJSON_IsObject(x)) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(x, "content");
			s = cJSON_IsString(c) ? c->valuestring : NULL;
		}
		if (!s) return -1;
		int id = strmap_get(ids, s, strlen(s));
		if (id >= 0) special[id] = 1;
	}
	return 0;
}

/* ---- vocab.txt ---------------------------------------------------------- */

typedef struct {
	char **tok;
	int n;
} lines;

/* tokenizer_config.json's "added_tokens_decoder" (transformers >= 4.34
 * save_pretrained): {"id": {"content": ..., "special": ...}}.  An id of
 * vocab.txt must hold the same token; its "special" marks it.  Ids past
 * vocab.txt are tokens transformers added (a special token the vocabulary
 * lacks): no model row exists for them, so they are not part of the
 * vocabulary here. */
static int added_decoder(const cJSON *cfg, const lines *l, unsigned char *special, char *err, size_t errlen)
{
	const cJSON *d = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "added_tokens_decoder") : NULL, *x;
	if (!d) return 0;
	if (!cJSON_IsObject(d)) { snprintf(err, errlen, "tokenizer_config.json: added_tokens_decoder is not an object"); return -1; }
	cJSON_ArrayForEach(x, d) {
		char *e;
		long id = strtol(x->string, &e, 10);
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(x, "content"), *sp = cJSON_GetObjectItemCaseSensitive(x, "special");
		if (!*x->string || *e || id < 0 || !cJSON_IsString(c)) {
			snprintf(err, errlen, "tokenizer_config.json: added_tokens_decoder entry %s is not an id with a content", x->string);
			return -1;
		}
		if (id >= l->n) continue;
		if (strcmp(l->tok[id], c->valuestring) != 0) {
			snprintf(err, errlen, "tokenizer_config.json: added_tokens_decoder says id %ld is %s, vocab.txt says %s",
			         id, c->valuestring, l->tok[id]);
			return -1;
		}
		if (cJSON_IsTrue(sp)) special[id] = 1;
	}
	return 0;
}

static void lines_free(lines *l)
{
	for (int i = 0; i < l->n; i++) free(l->tok[i]);
	free(l->tok);
	memset(l, 0, sizeof *l);
}

/* BertTokenizer's load_vocab (tokenization_bert.py) takes each line with
 * its "\n" removed; EsmTokenizer's load_vocab_file strips each line
 * (str.strip).  Empty tokens, control bytes (a CRLF file) and repeated
 * tokens are refused: HF would map them silently to other ids. */
static int read_lines(const char *dir, int strip, lines *l, char *err, size_t errlen)
{
	size_t n;
	int missing;
	memset(l, 0, sizeof *l);
	char *s = hf_read_file(dir, "vocab.txt", &n, &missing, err, errlen);
	if (!s) return -1;
	if (memchr(s, 0, n)) { snprintf(err, errlen, "vocab.txt: a NUL byte (not a text file)"); free(s); return -1; }
	for (char *p = s; p < s + n;) {
		char *e = memchr(p, '\n', s + n - p), *q = p;
		if (!e) e = s + n;
		char *b = p, *f = e;
		if (strip) {
			while (b < f && (*b == ' ' || (*b >= '\t' && *b <= '\r'))) b++;
			while (f > b && (f[-1] == ' ' || (f[-1] >= '\t' && f[-1] <= '\r'))) f--;
		}
		for (q = b; q < f && (unsigned char)*q >= 0x20 && *q != 0x7f; q++) {}
		if (f == b || q < f) {
			snprintf(err, errlen, "vocab.txt line %d: %s", l->n + 1, f == b ? "empty token" : "control byte in a token (CRLF line ends?)");
			free(s);
			lines_free(l);
			return -1;
		}
		if ((l->n & (l->n - 1)) == 0) l->tok = xrealloc(l->tok, (l->n ? 2 * l->n : 16) * sizeof *l->tok);
		l->tok[l->n] = xmalloc(f - b + 1);
		memcpy(l->tok[l->n], b, f - b);
		l->tok[l->n++][f - b] = 0;
		p = e + 1;
	}
	free(s);
	if (l->n == 0) { snprintf(err, errlen, "vocab.txt: no tokens"); return -1; }
	return 0;
}

static int has_upper_or_lower(const char *s, int lower)
{
	for (; *s; s++) if (lower ? (*s >= 'a' && *s <= 'z') : (*s >= 'A' && *s <= 'Z')) return 1;
	return 0;
}

/* a boolean key of the config; dflt if absent; -1 if not a boolean */
static int cfg_bool(const cJSON *cfg, const char *key, int dflt)
{
	const cJSON *x = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, key) : NULL;
	if (!x) return dflt;
	return cJSON_IsBool(x) ? cJSON_IsTrue(x) : -1;
}

/* Bert (DNABERT): [CLS] k-mers [SEP]; Esm: <cls> tokens <eos> */
static const char *const bert_dflt[HF_NSPECIAL] = {"[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", NULL, NULL};
static const char *const esm_dflt[HF_NSPECIAL] = {"<unk>", "<pad>", "<cls>", NULL, "<mask>", NULL, "<eos>"};

/* EsmTokenizer (1) or BertTokenizer (0): the config's tokenizer_class,
 * else the vocabulary's own special tokens */
static int vocab_txt_class(const cJSON *cfg, const char *dir, int *esm, char *err, size_t errlen)
{
	const cJSON *cls = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "tokenizer_class") : NULL;
	const char *cn = cJSON_IsString(cls) ? cls->valuestring : NULL;
	if (cn) {
		if (!strcmp(cn, "EsmTokenizer")) *esm = 1;
		else if (!strcmp(cn, "BertTokenizer") || !strcmp(cn, "BertTokenizerFast") || !strcmp(cn, "DNATokenizer")) *esm = 0;
		else {
			snprintf(err, errlen, "tokenizer_config.json: tokenizer_class %s is not supported with a vocab.txt "
			         "(BertTokenizer with whole k-mers, EsmTokenizer)", cn);
			return -1;
		}
	}
	if (!cn) {                  /* no class named: the vocabulary's own specials tell */
		lines l = {0};
		if (read_lines(dir, 1, &l, err, errlen) < 0) return -1;
		int e = 0, b = 0;
		for (int i = 0; i < l.n; i++) {
			e |= !strcmp(l.tok[i], "<cls>") || !strcmp(l.tok[i], "<unk>");
			b |= !strcmp(l.tok[i], "[CLS]") || !strcmp(l.tok[i], "[UNK]");
		}
		lines_free(&l);
		if (e == b) {
			snprintf(err, errlen, "vocab.txt: %s, and no tokenizer_class in tokenizer_config.json",
			         e ? "both [CLS]/[UNK] and <cls>/<unk>" : "neither [CLS]/[UNK] (BertTokenizer) nor <cls>/<unk> (EsmTokenizer)");
			return -1;
		}
		*esm = e;
	}
	return 0;
}

/* the vocabulary's tokens: whole k-mers of one k for BertTokenizer, and
 * the case rule (v->k, v->params) */
static int vocab_txt_tokens(const cJSON *cfg, const lines *l, const unsigned char *special, int esm,
                            tok_vocab *v, char *err, size_t errlen)
{
	int k = 0;
	for (int i = 0; i < l->n; i++) {
		if (special[i]) continue;
		int len = (int)strlen(l->tok[i]);
		if (!esm && !strncmp(l->tok[i], "##", 2)) {
			snprintf(err, errlen, "vocab.txt line %d: %s is a WordPiece sub-word: only vocabularies of whole k-mers are supported", i + 1, l->tok[i]);
			return -1;
		}
		if (!esm && k && len != k) {
			snprintf(err, errlen, "vocab.txt line %d: %s is not a %d-mer like the tokens before it "
			         "(a BertTokenizer vocabulary must hold whole k-mers of one k)", i + 1, l->tok[i], k);
			return -1;
		}
		k = len;
	}
	if (!esm) {
		/* BertTokenizer's default do_lower_case is True, but DNABERT's
		 * k-mers are upper case and its own tokenizer is case-sensitive:
		 * with no tokenizer_config.json the vocabulary's case stands.  An
		 * explicit do_lower_case true with upper-case k-mers would turn
		 * every k-mer into [UNK] in transformers: refused. */
		int lc = cfg_bool(cfg, "do_lower_case", -2);
		if (lc == -1) { snprintf(err, errlen, "tokenizer_config.json: do_lower_case is not true or false"); return -1; }
		int upper = 0, lower = 0;
		for (int i = 0; i < l->n; i++)
			if (!special[i]) { upper |= has_upper_or_lower(l->tok[i], 0); lower |= has_upper_or_lower(l->tok[i], 1); }
		if (lc == 1 && upper && !lower) {
			snprintf(err, errlen, "tokenizer_config.json: do_lower_case is true but the k-mers are upper case: "
			         "transformers would make every k-mer [UNK]");
			return -1;
		}
		if (lc == -2) lc = lower && !upper;   /* lower-case k-mers: lowercase the input */
		if (lc) snprintf(v->params, sizeof v->params, "\tLC:1");
		if (!k) { snprintf(err, errlen, "vocab.txt: no k-mers besides the special tokens"); return -1; }
		v->k = k;
	}
	return 0;
}

static int load_vocab_txt(const char *dir, tok_vocab *v, char *err, size_t errlen)
{
	int missing, rc = -1, esm;
	char *name[HF_NSPECIAL] = {0};
	lines l = {0};
	strmap ids;
	strmap_init(&ids);
	cJSON *cfg = hf_read_json(dir, "tokenizer_config.json", &missing, err, errlen), *stm = NULL;
	if (!cfg && !missing) goto out;
	stm = hf_read_json(dir, "special_tokens_map.json", &missing, err, errlen);
	if (!stm && !missing) goto out;
	if (vocab_txt_class(cfg, dir, &esm, err, errlen) < 0) goto out;
	if (read_lines(dir, esm, &l, err, errlen) < 0) goto out;
	for (int i = 0; i < l.n; i++) {
		int j = strmap_put(&ids, l.tok[i], strlen(l.tok[i]), i);
		if (j >= 0) {
			snprintf(err, errlen, "vocab.txt line %d: token %s repeats line %d", i + 1, l.tok[i], j + 1);
			goto out;
		}
	}
	if (hf_special_names(cfg, stm, esm ? esm_dflt : bert_dflt, name, err, errlen) < 0) goto out;
	vocab_init(v, esm ? "hf-esm" : "hf-kmer");
	unsigned char *special = xmalloc(l.n);
	memset(special, 0, l.n);
	int id[HF_NSPECIAL];
	for (int k = 0; k < HF_NSPECIAL; k++) {
		id[k] = name[k] ? strmap_get(&ids, name[k], strlen(name[k])) : -1;
		if (id[k] >= 0) special[id[k]] = 1;
	}
	if (mark_additional(cfg, &ids, special) < 0 || mark_additional(stm, &ids, special) < 0) {
		snprintf(err, errlen, "additional_special_tokens is not a list of tokens");
		free(special);
		goto bad_v;
	}
	if (added_decoder(cfg, &l, special, err, errlen) < 0) { free(special); goto bad_v; }
	if (id[HF_UNK] < 0) {
		snprintf(err, errlen, "vocab.txt: the unknown token %s is not in it", name[HF_UNK] ? name[HF_UNK] : "(null)");
		free(special);
		goto bad_v;
	}
	v->id = (tok_ids){id[HF_UNK], id[HF_PAD], id[HF_CLS], id[HF_SEP], id[HF_MASK], id[HF_CLS], -1};
	if (esm) {
		/* EsmTokenizer.build_inputs_with_special_tokens: cls + ids, + eos
		 * when eos_token_id is not None.  An eos_token missing from
		 * vocab.txt (the Nucleotide Transformer's 4105-token vocabulary)
		 * would get a new id past the model's embeddings (transformers >=
		 * 4.34 adds it) or <unk> (older): neither is a token the model
		 * knows, so no end token then. */
		v->id.end = id[HF_EOS];
		if (cfg_bool(cfg, "do_lower_case", 0) != 0) {
			snprintf(err, errlen, "tokenizer_config.json: do_lower_case with EsmTokenizer is not supported");
			free(special);
			goto bad_v;
		}
	} else
		v->id.end = id[HF_SEP];    /* BertTokenizer: [CLS] X [SEP] */
	if (vocab_txt_tokens(cfg, &l, special, esm, v, err, errlen) < 0) { free(special); goto bad_v; }
	for (int i = 0; i < l.n; i++) vocab_add(v, l.tok[i], (int)strlen(l.tok[i]), special[i] ? "A:s" : NULL);
	free(special);
	vocab_finish(v);
	rc = 0;
	goto out;
bad_v:
	vocab_free(v);
out:
	hf_special_names_free(name);
	lines_free(&l);
	strmap_free(&ids);
	cJSON_Delete(cfg);
	cJSON_Delete(stm);
	return rc;
}

int hftok_load_dir(const char *dir, tok_vocab *v, char *err, size_t errlen)
{
	struct stat st;
	memset(v, 0, sizeof *v);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "not a folder");
		return -1;
	}
	char *p = NULL;
	if (asprintf(&p, "%s/tokenizer.json", dir) < 0) die("out of memory");
	int has_json = access(p, F_OK) == 0;
	free(p);
	if (has_json) return hf_load_tokenizer_json(dir, v, err, errlen);
	if (asprintf(&p, "%s/vocab.txt", dir) < 0) die("out of memory");
	int has_txt = access(p, F_OK) == 0;
	free(p);
	if (has_txt) return load_vocab_txt(dir, v, err, errlen);
	snprintf(err, errlen, "no tokenizer.json or vocab.txt in it");
	return -1;
}
