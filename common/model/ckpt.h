/* ckpt.h -- lmtrain checkpoints: a model file (model.h) whose record 0
 * "params" is followed by "adam_m", "adam_v" and "state" (the step, the
 * optimiser's step count, the data position and hash, the eval history and
 * the text of the logs so far) and, with --eval, "best_params" (the model of
 * the best eval loss so far, which lmtrain writes to -o only when training
 * ends), so that a resumed run ends bitwise where an uninterrupted one would.
 *
 * Crash safety: a checkpoint is written to PATH.new (itself via
 * PATH.new.tmp + rename by tns_create), fsync'ed, then renamed over PATH and
 * the folder fsync'ed; until that rename the previous PATH is untouched, so
 * a kill -9 at any moment leaves either the old or the new checkpoint; both
 * temporary names are registered with cli.h, so an error or a signal
 * removes them. */
#ifndef SEQLM_CKPT_H
#define SEQLM_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include "model/adamw.h"
#include "model/bert.h"
#include "io/tns.h"

typedef struct {
	int64_t step;                 /* optimiser steps done */
	int64_t adam_t;
	int64_t windows;              /* training windows consumed */
	uint64_t data_hash;           /* chain of the batch hashes of those steps */
	double best_loss;             /* best eval loss so far (INFINITY: none) */
	int64_t best_step;
	int neval;                    /* eval history */
	int64_t *eval_step;
	double *eval_loss, *eval_acc;
	char *log, *flog;             /* training log and Fisher log text so far */
	size_t loglen, floglen;
} ckpt_state;

void ckpt_state_init(ckpt_state *s);
void ckpt_state_free(ckpt_state *s);
void ckpt_state_add_eval(ckpt_state *s, int64_t step, double loss, double acc);

/* writes h + params + moments + state (+ best, unless NULL) crash-safely
 * (see above); 0 ok, -1 with a message in err (whatever was at path before
 * is intact) */
int ckpt_write(const char *path, const tns_header *h, const bert_model *m, const adamw *o,
               const ckpt_state *s, const float *best, char *err, size_t errlen);
/* the best_params record of a checkpoint into best[m->n]; 0 ok, -1 with a
 * message (-2: there is none) */
int ckpt_read_best(const char *path, const bert_model *m, float *best, char *err, size_t errlen);
/* the state record of a checkpoint; 0 ok, -1 with a message (-2: the file
 * has no state record: a model, not a checkpoint) */
int ckpt_read_state(const char *path, ckpt_state *s, char *err, size_t errlen);

#endif
