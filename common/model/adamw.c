/* adamw.c -- AdamW, clipping, schedule; see adamw.h */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/adamw.h"
#include "base/util.h"
#include "base/par.h"

void adamw_init(adamw *o, size_t n)
{
	memset(o, 0, sizeof *o);
	o->n = n;
	o->m = xaligned((n ? n : 1) * sizeof(float));
	o->v = xaligned((n ? n : 1) * sizeof(float));
	memset(o->m, 0, n * sizeof(float));
	memset(o->v, 0, n * sizeof(float));
	o->beta1 = 0.9f, o->beta2 = 0.999f, o->eps = 1e-8f;
	o->nthreads = 1;
}

void adamw_free(adamw *o)
{
	free(o->m);
	free(o->v);
	free(o->decay);
	memset(o, 0, sizeof *o);
}

void adamw_no_decay(adamw *o, size_t off, size_t len)
{
	if (!o->decay) {
		o->decay = xmalloc(o->n ? o->n : 1);
		memset(o->decay, 1, o->n);
	}
	memset(o->decay + off, 0, len);
}

typedef struct {
	adamw *o;
	float *p;
	const float *g;
	float lr, bc1, bc2s;
} stepjob;

static void step_range(void *ctx, int c0, int c1)
{
	stepjob *j = ctx;
	adamw *o = j->o;
	size_t chunk = (o->n + 1023) / 1024;
	size_t i0 = (size_t)c0 * chunk, i1 = (size_t)c1 * chunk;
	if (i1 > o->n) i1 = o->n;
	float b1 = o->beta1, b2 = o->beta2, wd = o->weight_decay * j->lr;
	float step = j->lr / j->bc1;
	for (size_t i = i0; i < i1; i++) {
		float g = j->g[i];
		if (wd != 0 && (!o->decay || o->decay[i])) j->p[i] -= wd * j->p[i];
		float m = o->m[i] = b1 * o->m[i] + (1 - b1) * g;
		float v = o->v[i] = b2 * o->v[i] + (1 - b2) * g * g;
		j->p[i] -= step * m / (sqrtf(v) / j->bc2s + o->eps);
	}
}

void adamw_step(adamw *o, float *params, const float *grads, float lr)
{
	o->t++;
	stepjob j = { o, params, grads, lr,
	              (float)(1.0 - pow(o->beta1, (double)o->t)),
	              (float)sqrt(1.0 - pow(o->beta2, (double)o->t)) };
	par_range(o->nthreads, 1024, step_range, &j);
}

double grad_clip(float *g, size_t n, double max_norm)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
	double norm = sqrt(s);
	if (max_norm > 0) {
		double coef = max_norm / (norm + 1e-6);
		if (coef < 1) {
			float c = (float)coef;
			for (size_t i = 0; i < n; i++) g[i] *= c;
		}
	}
	return norm;
}

double lr_at(int64_t step, int64_t total, int64_t warmup, double base, double min_lr)
{
	double f;
	if (step < warmup) {
		f = (double)step / (double)(warmup > 1 ? warmup : 1);
	} else if (total <= 0) {
		return base;            /* an open-ended run (a pipe of unknown length) */
	} else {
		int64_t span = total - warmup;
		double prog = (double)(step - warmup) / (double)(span > 1 ? span : 1);
		f = 0.5 * (1.0 + cos(M_PI * prog));
		if (f < 0) f = 0;
		return min_lr + (base - min_lr) * f;
	}
	return base * f;
}
