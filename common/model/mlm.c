/* mlm.c -- training masks; see mlm.h */
#include "model/mlm.h"
#include "base/rng.h"
#include "tok/vocab.h"

/* salt so mask draws never coincide with dropout draws keyed by the same
 * seed and step (bert_drop_mask keys on small site numbers) */
#define MLM_SALT 0x6d6c6d2d6d61736bULL

/* the r-th non-special id of v: a contiguous block in seqlm's vocabularies */
static int32_t nth_content(const tok_vocab *v, uint32_t r)
{
	if (vocab_is_native(v)) return TOK_NSPECIAL + (int32_t)r;
	for (int i = 0; i < v->n; i++)
		if (!v->special[i] && r-- == 0) return i;
	return v->id.mask;             /* not reached: r < vocab_ncontent */
}

int mlm_mask(const tok_vocab *v, const int32_t *tok, int T, uint64_t seed, uint64_t step,
             uint64_t record, const mlm_rule *r, int32_t *in, int32_t *labels)
{
	uint32_t ncontent = (uint32_t)vocab_ncontent(v);
	uint64_t s = rng_mix(seed ^ MLM_SALT);
	int n = 0;
	for (int t = 0; t < T; t++) {
		int32_t x = tok[t];
		labels[t] = -1;
		in[t] = x;
		if (vocab_is_special(v, x)) continue;
		uint64_t h = rng_hash4(s, step, record, (uint64_t)t);
		if (rng_u01(h) >= r->prob) continue;
		labels[t] = x;
		n++;
		uint64_t h2 = rng_mix(h ^ 0x243f6a8885a308d3ULL);
		double u = rng_u01(h2);
		if (u < r->mask)           /* BERT's 0.8 and 0.8 + 0.1 == 0.9 exactly: the draws of before */
			in[t] = v->id.mask;
		else if (u < r->mask + r->random)
			in[t] = nth_content(v, rng_below(rng_mix(h2 + 1), ncontent));
	}
	return n;
}
