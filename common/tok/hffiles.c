/* hffiles.c -- what the readers of a Hugging Face tokenizer folder share
 * (hftokint.h): a file of the folder read or parsed as JSON, and the names
 * of the special tokens from its two configs.  hftok.c (vocab.txt) and
 * hftokjson.c (tokenizer.json) both use it; neither uses the other's
 * helpers, so the calls go one way: hftok -> hftokjson -> hffiles. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "base/util.h"
#include "tok/hftokint.h"

enum { HF_MAX_FILE = 1 << 30 };  /* 1 GiB: far above any real tokenizer file */

char *hf_read_file(const char *dir, const char *name, size_t *n, int *missing, char *err, size_t errlen)
{
	char *path = NULL, *buf = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0) die("out of memory");
	FILE *fp = fopen(path, "rb");
	*missing = 0;
	if (!fp) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		free(path);
		return NULL;
	}
	free(path);
	size_t cap = 1 << 16;
	*n = 0;
	buf = xmalloc(cap + 1);
	for (;;) {
		size_t k = fread(buf + *n, 1, cap - *n, fp);
		*n += k;
		if (*n < cap) break;
		if (cap >= HF_MAX_FILE) { snprintf(err, errlen, "%s: larger than 1 GiB", name); goto bad; }
		cap *= 2;
		buf = xrealloc(buf, cap + 1);
	}
	if (ferror(fp)) { snprintf(err, errlen, "%s: read error", name); goto bad; }
	fclose(fp);
	buf[*n] = 0;
	return buf;
bad:
	fclose(fp);
	free(buf);
	return NULL;
}

cJSON *hf_read_json(const char *dir, const char *name, int *missing, char *err, size_t errlen)
{
	size_t n;
	char *s = hf_read_file(dir, name, &n, missing, err, errlen);
	if (!s) return NULL;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(s, n, &end, 0);
	if (!j) {
		size_t at = end && end >= s && end <= s + n ? (size_t)(end - s) : 0;
		snprintf(err, errlen, "%s: malformed JSON near byte %zu", name, at);
	}
	free(s);
	return j;
}

/* ---- special tokens ------------------------------------------------------
 * The names come from tokenizer_config.json (the class's __init__ keyword
 * arguments) and special_tokens_map.json.  transformers
 * (tokenization_utils_base.py, PreTrainedTokenizerBase._from_pretrained):
 * when tokenizer_config.json has no "added_tokens_decoder" (the legacy
 * branch) every special_tokens_map.json entry overwrites init_kwargs[key];
 * with one, the config's values stand.  A value is a string, an AddedToken
 * dict ("content") or null (no such token). */

static const char *const special_keys[HF_NSPECIAL] = {
	"unk_token", "pad_token", "cls_token", "sep_token", "mask_token", "bos_token", "eos_token"
};

/* 1 value found (*s the string or NULL for null), 0 absent, -1 malformed */
static int token_value(const cJSON *obj, const char *key, const char **s)
{
	const cJSON *x = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	if (!x) return 0;
	if (cJSON_IsNull(x)) { *s = NULL; return 1; }
	if (cJSON_IsString(x)) { *s = x->valuestring; return 1; }
	if (cJSON_IsObject(x)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(x, "content");
		if (cJSON_IsString(c)) { *s = c->valuestring; return 1; }
	}
	return -1;
}

int hf_special_names(const cJSON *cfg, const cJSON *stm, const char *const dflt[HF_NSPECIAL],
                     char *name[HF_NSPECIAL], char *err, size_t errlen)
{
	int legacy = !(cfg && cJSON_GetObjectItemCaseSensitive(cfg, "added_tokens_decoder"));
	for (int k = 0; k < HF_NSPECIAL; k++) {
		const char *s = dflt[k];
		int r = token_value(cfg, special_keys[k], &s);
		if (r < 0) { snprintf(err, errlen, "tokenizer_config.json: %s is not a string, token or null", special_keys[k]); goto bad; }
		if (legacy && (r = token_value(stm, special_keys[k], &s)) < 0) {
			snprintf(err, errlen, "special_tokens_map.json: %s is not a string, token or null", special_keys[k]);
			goto bad;
		}
		name[k] = s ? xstrdup(s) : NULL;
	}
	return 0;
bad:
	for (int j = 0; j < HF_NSPECIAL; j++) name[j] = NULL;
	return -1;
}

void hf_special_names_free(char *name[HF_NSPECIAL])
{
	for (int k = 0; k < HF_NSPECIAL; k++) { free(name[k]); name[k] = NULL; }
}
