/* bertcheck.h -- checks of a BERT that several unit tests make: the
 * analytic gradients of the MLM loss against finite differences, the
 * per-window backward slices against the whole batch's, and
 * bert_forward_rows against bert_forward.
 *
 * The engine computes in float32 only, so the difference quotient is taken
 * on a loss whose rounding is about 1e-7 relative: a central difference
 * with step h and one Richardson step, (4 D(h/2) - D(h)) / 3, makes the
 * truncation error O(h^4) and keeps the rounding error near 1e-5 of the
 * gradient scale; the tolerance is 2e-3 of the tensor's largest gradient
 * plus 2e-3 relative, plus a floor the caller picks.  (A wrong gradient is
 * off by O(1).)  Dropout may be on: its masks are fixed by the key, so the
 * loss is a smooth function of the weights. */
#ifndef SEQLM_BERTCHECK_H
#define SEQLM_BERTCHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "model/bert.h"

/* a model with gradients and a batch of it, B x T tokens and labels */
typedef struct {
	bert_model *m;
	bert_acts *a;                 /* bert_acts_new(m, B, T, 1) */
	const int32_t *tok, *lab;
	int B, T;
	bert_drop dr;
} fd_batch;

/* the mean masked loss, dropout keyed by x->dr */
static inline double fd_loss(const fd_batch *x)
{
	bert_forward(x->m, x->a, x->tok, x->B, x->T, &x->dr);
	return bert_mlm_loss(x->m, x->a, x->lab);
}

/* the central difference of the loss at *w, step h (the steps as float
 * rounds them) */
static inline double fd_diff(const fd_batch *x, float *w, double h)
{
	float w0 = *w;
	*w = w0 + (float)h; double lp = fd_loss(x);
	*w = w0 - (float)h; double lm = fd_loss(x);
	double hp = (double)(w0 + (float)h) - w0, hm = (double)w0 - (float)(w0 - (float)h);
	*w = w0;
	return (lp - lm) / (hp + hm);
}

/* the loss and its backward over the whole batch; a copy of the gradient
 * (free it), and in *nm the number of masked rows */
static inline float *fd_grad(const fd_batch *x, int *nm)
{
	fd_loss(x);
	*nm = bert_nmasked(x->a, 0, x->B);
	bert_backward(x->m, x->a, 0, x->B, 1.0f / *nm);
	float *grad = malloc(x->m->n * sizeof(float));
	memcpy(grad, x->m->grads, x->m->n * sizeof(float));
	return grad;
}

/* one checked entry: index in its tensor, analytic gradient, finite
 * difference, tolerance */
typedef struct {
	size_t j;
	double an, num, tol;
} fd_entry;

static inline int fd_entry_ok(const fd_entry *e)
{
	return fabs(e->num - e->an) <= e->tol;
}

/* two entries of tensor p, the largest gradient and another, against
 * Richardson-extrapolated central differences with steps h and h/2 */
static inline void fd_tensor(const fd_batch *x, const bert_param *p, const float *grad, double h, double floor,
                             fd_entry e[2])
{
	size_t jmax = 0;
	double gmax = 0;
	for (size_t j = 0; j < p->n; j++)
		if (fabs(grad[p->off + j]) > gmax) gmax = fabs(grad[p->off + j]), jmax = j;
	size_t js[2] = { jmax, (jmax * 7 + p->n / 3) % p->n };
	for (int q = 0; q < 2; q++) {
		float *w = x->m->params + p->off + js[q];
		double d1 = fd_diff(x, w, h), d2 = fd_diff(x, w, h / 2);
		e[q].j = js[q];
		e[q].num = (4 * d2 - d1) / 3, e[q].an = grad[p->off + js[q]];
		e[q].tol = 2e-3 * gmax + 2e-3 * fabs(e[q].an) + floor;
	}
}

/* fd_tensor for every tensor of the model; returns the failures (each
 * named in a diag line starting with what), *n the entries checked */
static inline int fd_all_tensors(const fd_batch *x, const float *grad, double h, double floor, const char *what, int *n)
{
	int bad = 0;
	*n = 0;
	for (int i = 0; i < x->m->np; i++) {
		fd_entry e[2];
		fd_tensor(x, &x->m->p[i], grad, h, floor, e);
		for (int q = 0; q < 2; q++) {
			++*n;
			if (!fd_entry_ok(&e[q])) {
				bad++;
				diag("%s: %s[%zu]: analytic %.6g, finite difference %.6g", what, x->m->p[i].name, e[q].j,
				     e[q].an, e[q].num);
			}
		}
	}
	return bad;
}

/* the backward of each record alone (as the window Fisher runs it), summed,
 * against the whole batch's gradient grad (fd_grad's, nm masked rows):
 * the norm-wise relative difference */
static inline double fd_slices(const fd_batch *x, const float *grad, int nm)
{
	bert_zero_grads(x->m);
	fd_loss(x);
	for (int b = 0; b < x->B; b++) bert_backward(x->m, x->a, b, 1, 1.0f / nm);
	double se = 0, sr = 0;
	for (size_t i = 0; i < x->m->n; i++) {
		double e = (double)x->m->grads[i] - grad[i];
		se += e * e, sr += (double)grad[i] * grad[i];
	}
	return sr > 0 ? sqrt(se / sr) : INFINITY;
}

/* bert_forward_rows vs bert_forward (no dropout): the head's probabilities
 * at rows rws; the largest |difference|, INFINITY if the rows' are NaN */
static inline double rows_vs_full_diff(bert_model *m, bert_acts *a, const int32_t *tok, int B, int T,
                                       const int *rws, int nr)
{
	int V = m->c.vocab_size;
	float *p1 = malloc(sizeof(float) * nr * V), *p2 = malloc(sizeof(float) * nr * V);
	bert_forward(m, a, tok, B, T, NULL);
	bert_head(m, a, rws, nr, p1, 1);
	bert_forward_rows(m, a, tok, B, T, rws, nr);
	bert_head(m, a, rws, nr, p2, 1);
	double mx = 0;
	for (int i = 0; i < nr * V; i++) mx = isnan(p2[i]) ? INFINITY : fmax(mx, fabs(p1[i] - p2[i]));
	free(p1), free(p2);
	return mx;
}

#endif
