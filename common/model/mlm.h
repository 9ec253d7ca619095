/* mlm.h -- masked-language-model masking for training (BERT's recipe, as
 * the paper): each non-special position is selected with probability prob
 * (0.15); a selected position becomes <MASK> with probability 0.8, a random
 * non-special token with 0.1, and stays unchanged with 0.1; its label is the
 * original token (-1 elsewhere).  Which ids are special, and the mask id,
 * come from the vocabulary.  Every draw is a pure function of
 * (seed, step, record, position), so the masks do not depend on threads,
 * batch order or how a batch is cut into micro-batches. */
#ifndef SEQLM_MLM_H
#define SEQLM_MLM_H

#include <stdint.h>

#include "tok/vocab.h"
/* tok[T] -> in[T] (the model input) and labels[T]; returns the number of
 * selected positions.  Random tokens are drawn uniformly from v's
 * non-special ids (seqlm's own vocabularies: 5..V-1).  v must have a mask
 * token.  in may equal tok. */
int mlm_mask(const tok_vocab *v, const int32_t *tok, int T, uint64_t seed, uint64_t step,
             uint64_t record, double prob, int32_t *in, int32_t *labels);

#endif
