/* evalmask.c -- the seeded analysis mask (see evalmask.h). */
#include "model/evalmask.h"

#include <string.h>
#include "base/rng.h"
#include "tok/vocab.h"

int evalmask_select(const tok_vocab *v, uint64_t seed, const char *record_name, const int32_t *tokens,
                    int T, double q, int32_t *pos)
{
	uint64_t key = rng_fnv1a(record_name, strlen(record_name));
	int P = 0;
	for (int t = 0; t < T; t++) {
		if (vocab_is_special(v, tokens[t])) continue;
		if (rng_u01(rng_hash4(seed, key, (uint64_t)t, 0x6d61736bULL)) < q) pos[P++] = t;
	}
	return P;
}

void evalmask_apply(const tok_vocab *v, const int32_t *tokens, int T, const int32_t *pos, int P,
                    int32_t *masked)
{
	memcpy(masked, tokens, (size_t)T * sizeof *tokens);
	for (int i = 0; i < P; i++) masked[pos[i]] = v->id.mask;
}
