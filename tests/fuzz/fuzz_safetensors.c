/* fuzz_safetensors -- libFuzzer harness for what lmconvert reads: the
 * safetensors parser (header length, JSON header, offsets, dtypes, shapes)
 * with every convertible tensor converted to f32, and the same bytes as a
 * config.json.  Any input must give tensors or a clean error: no crash, no
 * out-of-bounds access, no huge allocation.  Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hfconfig.h"
#include "memfile.h"
#include "safetensors.h"

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
	(void)memfile;
	return 0;
}
