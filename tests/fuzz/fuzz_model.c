/* fuzz_model -- libFuzzer harness for the model-file loader: config keys,
 * vocabulary, parameter tensors (names, shapes, dtypes), optimiser records,
 * model hash.  Any input must load as a model or fail cleanly; a loaded
 * model must run a forward pass.  Build and run: make fuzz. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "memfile.h"
#include "model/bert.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	const char *path;
	memfile(data, size, &path);
	bert_model m;
	adamw opt = {0};
	int has_adam = 0;
	if (model_load(path, &m, NULL, &opt, &has_adam, err, sizeof err) != 0) {
		if (opt.n) adamw_free(&opt);
		return 0;
	}
	/* a model that loads must be usable, within a small size */
	if (m.n < (1u << 22) && m.c.max_pos >= 4) {
		int32_t tok[4] = {2, 5 % m.c.vocab_size, 4, 3};
		bert_acts *a = bert_acts_new(&m, 1, 4, 0);
		int rows[1] = {2};
		float *out = malloc(sizeof(float) * m.c.vocab_size);
		bert_forward(&m, a, tok, 1, 4, NULL);
		bert_head(&m, a, rows, 1, out, 1);
		free(out);
		bert_acts_free(a);
	}
	if (opt.n) adamw_free(&opt);
	bert_free(&m);
	return 0;
}
