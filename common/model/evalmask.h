/* evalmask.h -- the analysis mask: which positions of a window are masked
 * when a model is probed (lmprobe), its Fisher measured (fisherflow) or a
 * held-out set evaluated (lmtrain --eval).
 *
 * Each non-special, non-pad position is chosen independently with
 * probability q, by a counter-based draw keyed by (seed, record name,
 * position), so every model of an ensemble sees the same mask, in any order,
 * at any thread count and batch size.  All chosen positions become <MASK>
 * at once (the paper's protocol). */
#ifndef SEQLM_EVALMASK_H
#define SEQLM_EVALMASK_H

#include <stdint.h>

#include "tok/vocab.h"
/* positions chosen in tokens[0..T), ascending, into pos[]; returns their
 * count.  v says which ids are special (never chosen). */
int evalmask_select(const tok_vocab *v, uint64_t seed, const char *record_name, const int32_t *tokens,
                    int T, double q, int32_t *pos);
/* copies tokens to masked with v's mask token at pos[0..P) (v must have one) */
void evalmask_apply(const tok_vocab *v, const int32_t *tokens, int T, const int32_t *pos, int P,
                    int32_t *masked);

#endif
