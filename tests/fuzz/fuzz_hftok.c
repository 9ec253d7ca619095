/* fuzz_hftok -- libFuzzer harness for the Hugging Face tokenizer readers
 * (common/tok/hftok.c, hftokjson.c, cJSON) and encoders (hfenc.c, hfbpe.c).
 * The first byte chooses what the rest is: 0 tokenizer.json, 1 vocab.txt,
 * 2 vocab.txt then (after a NUL) tokenizer_config.json.  The files go into
 * a scratch folder; a vocabulary that loads is put through the tokenizer
 * table, encodes the input's bytes as text and as DNA, is written back
 * (hftok_save_dir) and read again.  Build and run: make fuzz. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "memfile.h"
#include "tok/hftok.h"
#include "io/dna.h"
#include "tok/kmer.h"
#include "tok/tokenizers.h"

static char dir[64], out[80];

static void put(const char *name, const uint8_t *s, size_t n)
{
	char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *fp = fopen(p, "wb");
	if (!fp) abort();
	fwrite(s, 1, n, fp);
	fclose(fp);
}

static void clear(const char *d)
{
	static const char *const names[] = {"tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"};
	char p[128];
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "%s/%s", d, names[i]);
		unlink(p);
	}
}

static void encode_both(tokenizer *t, const uint8_t *data, size_t size)
{
	long cap = tokenizer_capacity(t, (long)size);
	int32_t *ids = malloc(cap * sizeof *ids), *pos = malloc(cap * sizeof *pos), *len = malloc(cap * sizeof *len);
	if (t->kind->input & TOKIN_TEXT) {
		long m = tokenizer_encode(t, (const char *)data, (long)size, ids, pos, len);
		for (long i = 0; i < m; i++)
			if (ids[i] < 0 || ids[i] >= t->v.n || pos[i] < 0 || pos[i] + len[i] > (long)size) abort();
	}
	if (t->kind->input & TOKIN_DNA) {
		char *s = malloc(size + 1);
		long n = dna_normalise((const char *)data, (long)size, s);
		long m = tokenizer_encode(t, s, n, ids, pos, len);
		for (long i = 0; i < m; i++)
			if (ids[i] < 0 || ids[i] >= t->v.n || pos[i] < 0 || pos[i] + len[i] > n) abort();
		free(s);
	}
	free(ids); free(pos); free(len);
}

/* the scratch folders go when the fuzzer exits */
static void cleanup(void)
{
	clear(out);
	rmdir(out);
	clear(dir);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	if (!*dir) {
		snprintf(dir, sizeof dir, "/tmp/fuzz_hftok.XXXXXX");
		if (!mkdtemp(dir)) abort();
		snprintf(out, sizeof out, "%s/out", dir);
		mkdir(out, 0700);
		atexit(cleanup);
	}
	if (size < 1) return 0;
	clear(dir);
	int mode = data[0] % 3;
	const uint8_t *s = data + 1;
	size_t n = size - 1;
	if (mode == 0) put("tokenizer.json", s, n);
	else if (mode == 1) put("vocab.txt", s, n);
	else {
		const uint8_t *z = memchr(s, 0, n);
		size_t k = z ? (size_t)(z - s) : n;
		put("vocab.txt", s, k);
		if (z) put("tokenizer_config.json", z + 1, n - k - 1);
	}
	tok_vocab v;
	if (hftok_load_dir(dir, &v, err, sizeof err) != 0) return 0;
	clear(out);
	int saved = hftok_save_dir(out, &v, err, sizeof err) == 0;
	tokenizer t;
	if (tokenizer_init(&t, &v, err, sizeof err) == 0) {
		encode_both(&t, data, size);
		tokenizer_free(&t);
	}
	if (saved && hftok_load_dir(out, &v, err, sizeof err) == 0) vocab_free(&v);
	return 0;
}
