/* mlm.h -- masked-language-model masking for training (BERT's recipe, as
 * the paper, by default): each non-special position is selected with
 * probability prob (0.15); a selected position becomes <MASK> with
 * probability mask (0.8), a random non-special token with random (0.1),
 * and stays unchanged otherwise (HF's DataCollatorForLanguageModeling:
 * mlm_probability, mask_replace_prob, random_replace_prob); its label is the
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
typedef struct {
	double prob;                  /* selection probability */
	double mask, random;          /* of the selected: <MASK>, a random token (mask + random <= 1) */
} mlm_rule;
#define MLM_RULE_BERT(prob) ((mlm_rule){ (prob), 0.8, 0.1 })
int mlm_mask(const tok_vocab *v, const int32_t *tok, int T, uint64_t seed, uint64_t step,
             uint64_t record, const mlm_rule *r, int32_t *in, int32_t *labels);

#endif
