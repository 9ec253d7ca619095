/* fuzz_safetensors -- libFuzzer harness for what lmconvert reads: the
 * safetensors parser (header length, JSON header, offsets, dtypes, shapes)
 * with every convertible tensor converted to f32; the same bytes as a
 * config.json; and, when it looks like text, as the tokenizer of a model
 * folder (hftok_load_dir: tokenizer.json when the input starts with '{',
 * else vocab.txt).  Any input
 * must give a result or a clean error: no crash, no out-of-bounds access, no
 * huge allocation.  Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "model/hfconfig.h"
#include "tok/hftok.h"
#include "memfile.h"
#include "io/safetensors.h"

static char dir[64];

static void rm_dir(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/vocab.txt", dir); unlink(p);
	snprintf(p, sizeof p, "%s/tokenizer.json", dir); unlink(p);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	st_file f;
	volatile float sum = 0;
	if (st_parse(&f, data, size, err, sizeof err) == 0) {
		for (int i = 0; i < f.n; i++) {
			const st_tensor *t = &f.t[i];
			if (st_find(&f, t->name) == NULL) abort();       /* every name is found */
			if (t->dtype == ST_OTHER || t->numel > (1 << 20)) continue;
			float *x = malloc((size_t)t->numel * sizeof *x + 1);
			if (st_to_f32(t, x) != 0) abort();
			for (int64_t j = 0; j < t->numel; j++) sum += x[j];
			free(x);
		}
		(void)st_meta(&f, "format");
		st_close(&f);
	}
	hf_config h;
	if (hfcfg_parse(&h, (const char *)data, size, err, sizeof err) == 0) {
		char *s = hfcfg_format(&h);
		hf_config back;             /* what --to-hf writes reads back the same */
		if (!s || hfcfg_parse(&back, s, strlen(s), err, sizeof err) != 0 ||
		    memcmp(&back.c, &h.c, sizeof h.c) != 0)
			abort();
		free(s);
	}
	/* the tokenizer files, in a folder of their own: only for text-like
	 * inputs (file I/O is slow; fuzz_hftok covers the tokenizers in depth) */
	if (!size || !(data[0] == '{' || data[0] == '[' || (data[0] >= 'A' && data[0] <= 'z'))) return 0;
	char path[128];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/fuzz_safetensors.XXXXXX");
		if (!mkdtemp(dir)) abort();
		atexit(rm_dir);
	}
	int json = size && data[0] == '{';
	snprintf(path, sizeof path, "%s/%s", dir, json ? "vocab.txt" : "tokenizer.json");
	unlink(path);
	snprintf(path, sizeof path, "%s/%s", dir, json ? "tokenizer.json" : "vocab.txt");
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0) abort();
	tok_vocab v;
	if (hftok_load_dir(dir, &v, err, sizeof err) == 0) vocab_free(&v);
	(void)memfile;
	return 0;
}
