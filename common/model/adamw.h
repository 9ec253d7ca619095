/* adamw.h -- AdamW exactly as torch.optim.AdamW (decoupled weight decay,
 * bias-corrected moments), global gradient-norm clipping as
 * torch.nn.utils.clip_grad_norm_, and the HF cosine schedule with linear
 * warm-up.  Works on flat buffers, so it serves any model and, later, an
 * all-reduced gradient buffer. */
#ifndef SEQLM_ADAMW_H
#define SEQLM_ADAMW_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t n;
	float *m, *v;                 /* first and second moments */
	int64_t t;                    /* steps taken */
	float beta1, beta2, eps, weight_decay;
	uint8_t *decay;               /* per-tensor flags via ranges; NULL = decay all */
	int nthreads;
} adamw;

void adamw_init(adamw *o, size_t n);          /* beta 0.9/0.999, eps 1e-8, wd 0 */
void adamw_free(adamw *o);
/* exempt [off, off+len) from weight decay (HF Trainer: biases, LayerNorm) */
void adamw_no_decay(adamw *o, size_t off, size_t len);
/* one step at learning rate lr: p -= lr*wd*p; moments; p -= lr*mhat/(sqrt(vhat)+eps) */
void adamw_step(adamw *o, float *params, const float *grads, float lr);

/* global L2 norm of g (double accumulation, fixed order); if above
 * max_norm (> 0), scales g by max_norm/(norm+1e-6).  Returns the norm
 * before clipping. */
double grad_clip(float *g, size_t n, double max_norm);

/* HF get_cosine_schedule_with_warmup: step/warmup during warm-up (so step 0
 * has lr 0 when warmup > 0), then 0.5(1+cos(pi*progress)); scaled into
 * [min_lr, base].  total 0 (the length is not known): base after the
 * warm-up, no decay, as get_constant_schedule_with_warmup */
double lr_at(int64_t step, int64_t total, int64_t warmup, double base, double min_lr);

#endif
