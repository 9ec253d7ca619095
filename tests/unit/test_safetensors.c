/* test_safetensors.c -- common/safetensors: what the writer lays out (the
 * reference writer's order and padding) reads back exactly; the dtype
 * conversions are exact where the value fits an f32 (BF16, F16 incl.
 * subnormals) and round to nearest from F64; the layout rules of the format
 * (tensor.rs validate()) on hand-made headers; config.json round trip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "model/hfconfig.h"
#include "io/safetensors.h"

/* a file in memory: u64 length, header padded to 8, data */
static size_t make(unsigned char *buf, const char *json, const void *data, size_t dlen)
{
	size_t n = strlen(json), h = (n + 7) / 8 * 8;
	for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
	memcpy(buf + 8, json, n);
	memset(buf + 8 + n, ' ', h - n);
	memcpy(buf + 8 + h, data, dlen);
	return 8 + h + dlen;
}

static int parses(const char *json, size_t dlen, char *err)
{
	static unsigned char buf[4096], data[1024];
	st_file f;
	size_t n = make(buf, json, data, dlen);
	int r = st_parse(&f, buf, n, err, 256);
	if (r == 0) st_close(&f);
	return r == 0;
}

int main(void)
{
	char err[256], path[64];
	/* writer -> reader */
	float a[6] = { 1, -2, 3.5f, 1e-30f, -0.0f, 7 }, b[2] = { 0.25f, -8 };
	st_wtensor wt[2] = { { "z.weight", 2, { 2, 3 }, a }, { "a.bias", 1, { 2 }, b } };
	const char *meta[] = { "format", "pt" };
	snprintf(path, sizeof path, "/tmp/test_safetensors.%d", (int)getpid());
	ok(st_write(path, 2, wt, 1, meta, err, sizeof err) == 0, "st_write writes a file");
	st_file f;
	ok(st_open(&f, path, err, sizeof err) == 0, "and st_open reads it back");
	ok(f.n == 2 && strcmp(f.t[0].name, "a.bias") == 0 && f.t[0].offset == 0 && f.t[1].offset == 8,
	   "tensors laid out by name, contiguous from offset 0");
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--) hl = hl << 8 | f.map[i];
	ok(hl % 8 == 0 && f.map[8] == '{' && strncmp((const char *)f.map + 9, "\"__metadata__\":{\"format\":\"pt\"},", 31) == 0,
	   "header padded to a multiple of 8, __metadata__ first");
	float got[6];
	const st_tensor *t = st_find(&f, "z.weight");
	ok(t && t->ndim == 2 && t->dim[0] == 2 && t->dim[1] == 3 && st_to_f32(t, got) == 0 && memcmp(got, a, sizeof a) == 0,
	   "the values come back bit for bit");
	ok(strcmp(st_meta(&f, "format"), "pt") == 0 && st_meta(&f, "x") == NULL, "metadata readable");
	st_close(&f);
	unlink(path);

	/* conversions */
	unsigned char buf[256];
	uint16_t bf[3] = { 0x3f80, 0xc0a0, 0x0001 };        /* 1, -5, the smallest bf16 subnormal */
	uint16_t hf[3] = { 0x3c00, 0x0001, 0xfbff };        /* 1, 2^-24, -65504 */
	double d[2] = { 0.1, 1e-50 };
	unsigned char data[6 + 6 + 16];
	memcpy(data, bf, 6); memcpy(data + 6, hf, 6); memcpy(data + 12, d, 16);
	size_t n = make(buf, "{\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,6]},"
	                     "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[6,12]},"
	                     "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[12,28]}}", data, sizeof data);
	ok(st_parse(&f, buf, n, err, sizeof err) == 0, "BF16, F16 and F64 tensors parse");
	float x[3];
	st_to_f32(st_find(&f, "b"), x);
	uint32_t u;
	memcpy(&u, &x[2], 4);
	ok(x[0] == 1 && x[1] == -5 && u == 0x00010000, "BF16 is the upper half of an f32, subnormals too");
	st_to_f32(st_find(&f, "h"), x);
	ok(x[0] == 1 && x[1] == ldexpf(1, -24) && x[2] == -65504, "F16 exact, subnormal and largest");
	st_to_f32(st_find(&f, "d"), x);
	ok(x[0] == 0.1f && x[1] == 0, "F64 rounds to the nearest f32");
	st_close(&f);

	/* the layout rules */
	ok(parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, err), "a scalar: shape [] is one element");
	ok(parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]}}", 0, err), "an empty tensor");
	ok(parses("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"a\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]},"
	          "\"c\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 16, err), "entries in any order, any known dtype");
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, err) && strstr(err, "cover 4 bytes"),
	   "data left over after the last tensor: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, err) && strstr(err, "F32 x shape is 8"),
	   "offsets that disagree with dtype x shape: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, err) && strstr(err, "before begin"),
	   "end before begin: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, err) && strstr(err, "other than a size"),
	   "a negative dimension: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4, err) && strstr(err, "overflows"),
	   "2^62 x 4 elements overflow: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", 4, err) && strstr(err, "overflows"),
	   "2^62 F32 elements: the byte size overflows: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, err) && strstr(err, "after its JSON"),
	   "bytes after the JSON object (other than padding): %s", err);
	ok(!parses("[1,2]", 0, err) && strstr(err, "not a JSON object"), "a header that is not an object: %s", err);
	ok(!parses("{\"__metadata__\":{\"a\":1}}", 0, err) && strstr(err, "not a string"), "non-string metadata: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, err) && strstr(err, "dimensions"),
	   "more than 8 dimensions: %s", err);
	ok(!parses("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}", 4, err) && strstr(err, "whole bytes"),
	   "sub-byte dtypes must fill whole bytes: %s", err);
	memset(buf, 0xff, 8);
	ok(st_parse(&f, buf, 16, err, sizeof err) != 0 && strstr(err, "limit"), "a header length over 100 MB: %s", err);

	/* config.json: what hfcfg_format writes reads back the same */
	hf_config h, back;
	const char *cfg = "{\"model_type\":\"bert\",\"vocab_size\":4101,\"hidden_size\":768,\"layer_norm_eps\":1e-12,"
	                  "\"hidden_dropout_prob\":0.1,\"pad_token_id\":0}";
	ok(hfcfg_parse(&h, cfg, strlen(cfg), err, sizeof err) == 0 && h.c.layers == 12 && h.c.type_vocab == 2 && h.c.ffn == 3072,
	   "absent keys take BertConfig's defaults (12 layers, type_vocab_size 2, intermediate 3072)");
	char *s = hfcfg_format(&h);
	ok(hfcfg_parse(&back, s, strlen(s), err, sizeof err) == 0 && memcmp(&back.c, &h.c, sizeof h.c) == 0 &&
	   strstr(s, "\"layer_norm_eps\": 1e-12,") && strstr(s, "\"hidden_dropout_prob\": 0.1,"),
	   "the written config reads back the same, floats as Python writes them");
	free(s);
	const char *bad = "{\"model_type\":\"bert\",\"hidden_act\":\"relu\"}";
	ok(hfcfg_parse(&h, bad, strlen(bad), err, sizeof err) != 0 && strstr(err, "relu"), "hidden_act relu refused: %s", err);
	bad = "{\"architectures\":[\"RobertaForMaskedLM\"]}";
	ok(hfcfg_parse(&h, bad, strlen(bad), err, sizeof err) != 0, "no model_type and no Bert architecture: refused");
	bad = "{\"architectures\":[\"BertForMaskedLM\"],\"num_attention_heads\":5}";
	ok(hfcfg_parse(&h, bad, strlen(bad), err, sizeof err) != 0 && strstr(err, "multiple"), "heads must divide hidden: %s", err);
	return done_testing();
}
