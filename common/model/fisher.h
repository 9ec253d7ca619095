/* fisher.h -- the empirical Fisher information diagonal of a BERT masked LM,
 * with true labels, and its sums over parameter groups: where a model keeps
 * its Fisher information (docs/METHODS.md (d)).  One implementation serves
 * fisherflow and lmtrain --fisher-every.
 *
 * Three estimators, all sums of squared gradients of a mean masked-LM loss,
 * divided by the number of examples:
 *   batch   the paper's: one gradient per batch of windows (the batch-mean
 *           loss), summed over batches, divided by the masked tokens.  A
 *           biased estimator: squares of sums, not sums of squares.
 *   window  (default) each window one example: the gradient of the window's
 *           mean loss, squared, summed over windows, divided by the windows.
 *   token   each masked token one example: one backward per masked token.
 * Windows without a masked position contribute nothing and are not counted.
 * The model runs in evaluation mode (no dropout). */
#ifndef SEQLM_FISHER_H
#define SEQLM_FISHER_H

#include <stddef.h>
#include <stdint.h>
#include "model/bert.h"

typedef enum { FISHER_BATCH = 0, FISHER_WINDOW, FISHER_TOKEN } fisher_estimator;

typedef struct {
	fisher_estimator est;
	size_t n;                     /* parameters */
	double *sum;                  /* sum of squared gradients, n */
	long ntokens;                 /* masked tokens seen */
	long nwindows;                /* windows with at least one masked token */
	long nbatches;
	int32_t *lab1;                /* scratch for the token estimator */
	size_t lab1_n;
} fisher_acc;

const char *fisher_estimator_name(fisher_estimator e);
int fisher_estimator_parse(const char *s);            /* -1 if unknown */

void fisher_init(fisher_acc *f, const bert_model *m, fisher_estimator e);
void fisher_free(fisher_acc *f);
/* One batch of B windows of T tokens: in[B*T] is the model input (analysis
 * mask applied), labels[B*T] the true token at masked positions, -1
 * elsewhere.  a must have been made with train = 1 for at least B records;
 * m must have gradients (bert_alloc_grads); they are overwritten. */
/* Returns 0, or -1 if the loss is not finite (a corrupt or diverged model):
 * nothing is added then. */
int fisher_add_batch(fisher_acc *f, bert_model *m, bert_acts *a,
                     const int32_t *in, const int32_t *labels, int B, int T);
/* the number of examples the sums are divided by */
double fisher_denominator(const fisher_acc *f);

/* grouping of the parameter tensors */
typedef enum { FISHER_BY_GROUP = 0, FISHER_BY_PARAM, FISHER_BY_LAYER_PART } fisher_by;
typedef struct {
	char name[96];
	double fisher;                /* sum over the group's entries of the estimate */
	size_t nparams;
} fisher_group;

/* the group of parameter tensor name under by ("embeddings", "encoder.3",
 * "head"; "encoder.3.attention" ...; or the name itself) into buf */
const char *fisher_group_of(const char *name, fisher_by by, char *buf, size_t len);
/* groups in model order, each the sum of the estimate over its entries;
 * returns their count, *out malloc'd */
int fisher_groups(const fisher_acc *f, const bert_model *m, fisher_by by, fisher_group **out);

#endif
