/* bert.c -- BERT masked LM forward and backward (HF BertForMaskedLM); see
 * bert.h.  Matrix products go through par_sgemm (chunked, thread-count
 * independent), or after bert_set_single() one BLAS call each; attention
 * runs one task per (record, head) with single-threaded sgemm inside;
 * element-wise work is split by rows and every reduction over rows runs in
 * row order, so the bits never depend on the number of threads. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "model/bert.h"
#include "base/par.h"
#include "base/rng.h"
#include "base/util.h"
#include "base/mm.h"
#include "base/cpu.h"

/* BERT_INVARIANT(cond, fmt, ...): a condition bert.h makes the caller's
 * duty, not input to check: batch shapes within bert_acts_new's capacity,
 * tokens and labels below vocab_size (winread checks a stream's tokens
 * against the model where they enter; mlm labels are tokens), training
 * activations for bert_backward, and only the variants bert_config_check
 * accepts (bert_init refuses the others, so a kernel never meets one).
 * Broken, it is a bug in the program: reported as one and aborted, not
 * returned as an error. */
#define BERT_INVARIANT(cond, ...) do { if (!(cond)) bert_broken(__func__, __VA_ARGS__); } while (0)

static void bert_broken(const char *fn, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void bert_broken(const char *fn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: internal error: %s: ", cli_prog ? cli_prog : "seqlm", fn);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

int bert_init_table(bert_model *m, const bert_config *c)
{
	memset(m, 0, sizeof *m);
	if (bert_config_check(c)) return -1;
	m->c = *c;
	bert_build_table(m);
	return 0;
}

int bert_init(bert_model *m, const bert_config *c)
{
	memset(m, 0, sizeof *m);
	if (bert_config_check(c)) return -1;
	m->c = *c;
	bert_build_table(m);
	m->params = xaligned(m->n * sizeof(float));
	memset(m->params, 0, m->n * sizeof(float));
	bert_bind(m, m->params, &m->w);
	m->nthreads = 1;
	par_blas_single();
	return 0;
}

void bert_free(bert_model *m)
{
	free(m->p);
	free(m->params);
	free(m->grads);
	free(m->w.layer);
	free(m->g.layer);
	free(m->wbf);
	memset(m, 0, sizeof *m);
}

void bert_alloc_grads(bert_model *m)
{
	if (!m->grads) {
		m->grads = xaligned(m->n * sizeof(float));
		bert_bind(m, m->grads, &m->g);
	}
	bert_zero_grads(m);
}

void bert_zero_grads(bert_model *m)
{
	memset(m->grads, 0, m->n * sizeof(float));
}

void bert_set_threads(bert_model *m, int nthreads)
{
	m->nthreads = nthreads < 1 ? 1 : nthreads;
	m->whole = 0;
	par_blas_single();
}

void bert_set_single(bert_model *m)
{
	bert_set_threads(m, 1);
	m->whole = 1;
}

typedef struct { const float *x; uint16_t *y; int cols; } cvjob;

static void cv_rows(void *ctx, int r0, int r1)
{
	cvjob *j = ctx;
	mm_to_bf16(j->x + (size_t)r0 * j->cols, j->y + (size_t)r0 * j->cols, (size_t)(r1 - r0) * j->cols);
}

/* y[rows, cols] = bfloat16 of x, split by rows over m's threads */
static void bf16_rows(const bert_model *m, const float *x, uint16_t *y, int rows, int cols)
{
	cvjob j = { x, y, cols };
	par_range(m->nthreads, rows, cv_rows, &j);
}

/* x[rows, d] -> y[H][rows][dh] rounded to bfloat16: the attention's
 * operands with each head's rows dense, as oneDNN's fast (brgemm) kernels
 * want them (strided ones go to a slower path) */
typedef struct { const float *x; uint16_t *y; int rows, d, H; } hjob;

static void heads_rows(void *ctx, int r0, int r1)
{
	hjob *j = ctx;
	int dh = j->d / j->H;
	for (int r = r0; r < r1; r++)
		for (int h = 0; h < j->H; h++)
			mm_to_bf16(j->x + (size_t)r * j->d + (size_t)h * dh, j->y + ((size_t)h * j->rows + r) * dh, dh);
}

static void bf16_heads(const bert_model *m, const float *x, uint16_t *y, int rows)
{
	hjob j = { x, y, rows, m->c.hidden, m->c.heads };
	par_range(m->nthreads, rows, heads_rows, &j);
}

/* a head's dense [rows, dh] result into its columns of dst [., ld] */
static void put_head(float *dst, int ld, const float *src, int rows, int dh)
{
	for (int r = 0; r < rows; r++) memcpy(dst + (size_t)r * ld, src + (size_t)r * dh, dh * sizeof *src);
}

const char *bert_set_precision(bert_model *m, int bf16)
{
	if (bf16) {
		const char *why = mm_bf16_unavailable();
		if (why) return why;
	}
	m->bf16 = bf16;
	free(m->wbf);
	m->wbf = bf16 ? xaligned(m->n * sizeof *m->wbf) : NULL;
	bert_params_changed(m);
	return NULL;
}

void bert_params_changed(bert_model *m)
{
	/* all of them, in rows of 4096: the few vectors among them cost nothing */
	if (m->bf16) bf16_rows(m, m->params, m->wbf, (int)(m->n / 4096), 4096);
	if (m->bf16 && m->n % 4096) mm_to_bf16(m->params + m->n / 4096 * 4096, m->wbf + m->n / 4096 * 4096, m->n % 4096);
}

/* by each tensor's init kind in the table (bert_table.c); here, not
 * there, because it rounds the bf16 copy (bert_table.c uses nothing of
 * this file) */
void bert_init_weights(bert_model *m, uint64_t seed)
{
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		float *x = m->params + p->off;
		bert_init_kind k = bert_specs[p->spec].init;
		if (k == BERT_INIT_ONE) {
			for (size_t j = 0; j < p->n; j++) x[j] = 1.0f;
		} else if (k == BERT_INIT_ZERO) {
			memset(x, 0, p->n * sizeof *x);
		} else {
			rng_t r;
			rng_seed(&r, seed, (uint64_t)i);  /* each tensor its own stream */
			for (size_t j = 0; j < p->n; j++) x[j] = (float)(0.02 * rng_normal(&r));
		}
		if (k == BERT_INIT_EMBED && m->c.pad_id >= 0)   /* nn.Embedding padding_idx */
			memset(x + (size_t)m->c.pad_id * p->dim[1], 0, p->dim[1] * sizeof *x);
	}
	bert_params_changed(m);
}

uint64_t bert_hash(const bert_model *m)
{
	return rng_fnv1a(m->params, (uint64_t)m->n * sizeof(float));
}

/* The element-wise loops are vectorised for the CPU found at run time
 * (AVX-512, AVX2 or the x86-64 baseline); as scalar code the GELU alone was
 * a third of a training step.  Sums run in LANES partial sums added up in
 * a fixed order, so they vectorise without depending on the thread count. */
#define VEC_CLONES CPU_CLONES       /* base/cpu.h */
enum { LANES = 16 };

static inline float lanes_total(const float *acc)
{
	float s = 0;
	for (int l = 0; l < LANES; l++) s += acc[l];
	return s;
}

/* ---- dropout ----------------------------------------------------------- */

/* the 16 bits element e of a slab draws */
static inline uint32_t drop_bits(uint64_t base, uint64_t e)
{
	return (uint32_t)(rng_mix(base + 0x9e3779b97f4a7c15ULL * ((e >> 2) + 1)) >> (16 * (e & 3))) & 0xffff;
}

/* the flags of ng whole groups of 4 elements from group g0: one draw per
 * group, the groups side by side (vectorised) */
VEC_CLONES static void drop_groups(uint64_t base, uint64_t g0, size_t ng, uint32_t thr, uint8_t *restrict keep)
{
	for (size_t g = 0; g < ng; g++) {
		uint64_t w = rng_mix(base + 0x9e3779b97f4a7c15ULL * (g0 + g + 1));
		for (int k = 0; k < 4; k++) keep[4 * g + k] = ((w >> (16 * k)) & 0xffff) >= thr;
	}
}

void bert_drop_mask(uint64_t seed, uint64_t step, uint64_t record, int site,
                    uint64_t e0, size_t n, float p, uint8_t *keep)
{
	uint64_t base = rng_hash4(seed, step, record, (uint64_t)site);
	uint32_t thr = bert_drop_threshold(p);
	size_t i = 0;
	for (; i < n && ((e0 + i) & 3); i++) keep[i] = drop_bits(base, e0 + i) >= thr;
	size_t ng = (n - i) / 4;
	drop_groups(base, (e0 + i) >> 2, ng, thr, keep + i);
	for (i += 4 * ng; i < n; i++) keep[i] = drop_bits(base, e0 + i) >= thr;
}

/* out = keep ? in * s : 0 (in place when out == in) */
VEC_CLONES static void drop_apply(const float *in, const uint8_t *keep, float s, float *out, size_t n)
{
	for (size_t i = 0; i < n; i++) out[i] = keep[i] ? in[i] * s : 0.0f;
}

/* ---- element-wise kernels ---------------------------------------------- */

/* exp for the GELU: Cephes-style range reduction (rounding by the 1.5*2^23
 * trick) and polynomial, branch free so loops over it vectorise; relative
 * error ~2 ulp on [-87, 88] */
static inline __attribute__((always_inline)) float fexp(float x)
{
	x = x < -87.0f ? -87.0f : x;
	x = x > 88.0f ? 88.0f : x;
	float t = x * 1.44269504088896341f + 12582912.0f;
	float n = t - 12582912.0f;
	/* unsigned integer arithmetic: wraps instead of overflowing on NaN input */
	union { float f; uint32_t u; } ti = { .f = t };
	uint32_t ni = ti.u - 0x4B400000u;
	float r = x - n * 0.693359375f + n * 2.12194440e-4f;
	float p = 1.9875691500E-4f;
	p = p * r + 1.3981999507E-3f;
	p = p * r + 8.3334519073E-3f;
	p = p * r + 4.1665795894E-2f;
	p = p * r + 1.6666665459E-1f;
	p = p * r + 5.0000001201E-1f;
	p = p * r * r + r + 1.0f;
	union { float f; uint32_t u; } u = { .f = p };
	u.u += ni << 23;                        /* scale by 2^n */
	return u.f;
}

/* Phi(x) = 0.5 erfc(-x/sqrt 2) from the Chebyshev fit of Numerical Recipes
 * (erfc relative error < 1.2e-7 everywhere), so GELU keeps its relative
 * accuracy in the far negative tail where 1+erf(x) is tiny */
static inline __attribute__((always_inline)) float phi_cdf(float x)
{
	float z = (x < 0 ? -x : x) * 0.70710678118654752f;
	float t = 1.0f / (1.0f + 0.5f * z);
	float q = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
	          t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
	          t * (-0.82215223f + t * 0.17087277f))))))));
	float half = 0.5f * t * fexp(q);          /* 0.5 erfc(|x|/sqrt 2) */
	return x >= 0 ? 1.0f - half : half;
}


/* f += bias; g = f Phi(f) over n values (bias repeats every cols) */
VEC_CLONES static void gelu_fwd_vec(float *restrict f, float *restrict g, const float *restrict bias, int n)
{
	for (int i = 0; i < n; i++) {
		float x = f[i] + bias[i];
		f[i] = x;
		g[i] = x * phi_cdf(x);
	}
}

/* g = f Phi(f) (GELU without a bias) */
VEC_CLONES static void gelu_vec(const float *restrict f, float *restrict g, int n)
{
	for (int i = 0; i < n; i++) g[i] = f[i] * phi_cdf(f[i]);
}

/* SiLU's sigmoid, x / (1 + e^-x) = x sigmoid(x) */
static inline __attribute__((always_inline)) float sigm(float x) { return 1.0f / (1.0f + fexp(-x)); }

/* gated: g = act(f[i]) f[F + i], act GELU (GeGLU) or SiLU (SwiGLU) */
VEC_CLONES static void glu_fwd_vec(const float *restrict f, float *restrict g, int F, int silu)
{
	if (silu)
		for (int i = 0; i < F; i++) g[i] = f[i] * sigm(f[i]) * f[F + i];
	else
		for (int i = 0; i < F; i++) g[i] = f[i] * phi_cdf(f[i]) * f[F + i];
}

/* back through the gate: dh (d g) -> df[2F] = (dh * up * act'(gate), dh * act(gate)) */
VEC_CLONES static void glu_bwd_vec(const float *restrict f, const float *restrict dh, float *restrict df,
                                   int F, int silu)
{
	if (silu)
		for (int i = 0; i < F; i++) {
			float x = f[i], s = sigm(x);
			df[i] = dh[i] * f[F + i] * (s + x * s * (1.0f - s));
			df[F + i] = dh[i] * x * s;
		}
	else
		for (int i = 0; i < F; i++) {
			float x = f[i], pdf = 0.39894228040143268f * fexp(-0.5f * x * x);
			df[i] = dh[i] * f[F + i] * (phi_cdf(x) + x * pdf);
			df[F + i] = dh[i] * x * phi_cdf(x);
		}
}

/* d *= Phi(f) + f phi(f) */
VEC_CLONES static void gelu_bwd_vec(const float *restrict f, float *restrict d, int n)
{
	for (int i = 0; i < n; i++) {
		float x = f[i];
		float pdf = 0.39894228040143268f * fexp(-0.5f * x * x);
		d[i] *= phi_cdf(x) + x * pdf;
	}
}

/* softmax over the unmasked keys (not the padding token pad) of one score
 * row, in place */
VEC_CLONES static void softmax_row(float *restrict s, const int32_t *restrict tok, int T, int32_t pad)
{
	float mx = -INFINITY, acc[LANES] = {0};
	for (int j = 0; j < T; j++) if (tok[j] != pad && s[j] > mx) mx = s[j];
	for (int j = 0; j < T; j++) s[j] = tok[j] != pad ? fexp(s[j] - mx) : 0.0f;
	int n = T / LANES * LANES;
	for (int j = 0; j < n; j += LANES)
		for (int l = 0; l < LANES; l++) acc[l] += s[j + l];
	float sum = lanes_total(acc);
	for (int j = n; j < T; j++) sum += s[j];
	float inv = 1.0f / sum;
	for (int j = 0; j < T; j++) s[j] *= inv;
}

/* ALiBi's bias on the scores of query position i: s[j] -= slope |i - j|
 * (MosaicBERT: slopes times -|i - j| in float32, added to the scaled
 * scores) */
VEC_CLONES static void alibi_row(float *restrict s, int i, int T, float slope)
{
	for (int j = 0; j < T; j++) s[j] += slope * (float)-(i > j ? i - j : j - i);
}

/* back through the softmax of one row: g = P (g - P.g) sc */
VEC_CLONES static void softmax_bwd_row(const float *restrict pr, float *restrict g, int T, float sc)
{
	float acc[LANES] = {0};
	int n = T / LANES * LANES;
	for (int u = 0; u < n; u += LANES)
		for (int l = 0; l < LANES; l++) acc[l] += pr[u + l] * g[u + l];
	float dot = lanes_total(acc);
	for (int u = n; u < T; u++) dot += pr[u] * g[u];
	for (int u = 0; u < T; u++) g[u] = pr[u] * (g[u] - dot) * sc;
}

/* z = exp(z - mx) over n values (the head's softmax) */
VEC_CLONES static void exp_shift_vec(float *restrict z, float mx, int n)
{
	for (int i = 0; i < n; i++) z[i] = fexp(z[i] - mx);
}

/* ---- activations ------------------------------------------------------- */

typedef struct {
	float *q, *k, *v, *ctx;        /* [N,d] */
	float *att;                    /* [B,h,T,T] softmax probabilities */
	uint8_t *att_keep;             /* [B,h,T,T] dropout keep flags */
	float *r1, *mean1, *rstd1, *a1; uint8_t *keep1;
	float *f, *g;                  /* [N,FI] dense (gated: gate | up), [N,ffn] activation */
	float *r2, *mean2, *rstd2; uint8_t *keep2;
	uint16_t *qb, *kb, *vb;        /* bf16: q, k, v rounded, [N,d] */
	float *hn;                     /* pre-LN: LN1(x), the attention's input [N,d] */
} layer_acts;

/* Which buffer holds what, by norm placement (layer_tail, layer_backward):
 *          post-LN (BERT)                 pre-LN
 *   hn     -                              LN1(x), stats mean1/rstd1
 *   r1     x + drop(attn), LN1's input    a = x + drop(attn), LN2's input
 *   a1     LN1(r1), the FFN's input       LN2(a), the FFN's input, stats mean2/rstd2
 *   r2     a1 + drop(ffn), LN2's input    - (bert_forward_rows: scratch)
 *   out    LN2(r2)                        a + drop(ffn) */

struct bert_acts {
	int B, T, train;               /* capacity */
	int L, d, h, F, V;
	int nb, nt;                    /* current batch */
	int32_t *tokens;
	int drop_on; bert_drop drop;
	float *emb, *emb_mean, *emb_rstd; uint8_t *emb_keep;
	int *pos;                      /* [B*T] position ids (learned positions) */
	float *tds;                    /* [B] token dropout: each record's scale */
	float *fin, *fmean, *frstd;    /* final_ln: x[L] before it [B*T,d], its stats */
	float **x;                     /* L+1 hidden states */
	layer_acts *l;
	/* MLM head at nm masked rows */
	int nm, mcap;
	int *mrow, *mstart; int32_t *mlab;
	float *hx, *ht, *hg, *hmean, *hrstd, *hy, *prob, *dlog, *mloss;
	float *dhx, *dhy, *dht;
	/* backward scratch */
	float *dres, *dtmp, *dctx, *dq, *dk, *dv, *dffn;   /* dffn [N,FI] */
	float *dglu;                   /* gated FFNs: d activation [N,ffn] */
	/* position tables, for the capacity T: rotary cos and sin of t *
	 * inv_freq[i], [T, dh/2]; ALiBi slopes [h] */
	float *rcos, *rsin, *slope;
	/* bf16: operands rounded for the products (grown as needed) */
	uint16_t *cb[3]; size_t cbn[3];
	int xb_layer;                  /* slot 1 holds x[xb_layer] rounded (-1: nothing) */
};

static float *falloc(size_t n) { float *p = xaligned((n ? n : 1) * sizeof(float)); memset(p, 0, (n ? n : 1) * sizeof(float)); return p; }

/* Rotary position embeddings (NT v2 / ESM-2, GPT-NeoX style halves): the
 * pair (x[i], x[i + dh/2]) of a head at position t turns by the angle
 * t * inv_freq[i], inv_freq[i] = 1 / 10000^(2i/dh) in float32 as
 * RotaryEmbedding.__init__ makes it (t from 0 whatever the padding).  The
 * angle and its cosine and sine in double, rounded once. */
static void rotary_tables(const bert_config *c, int T, float **cs, float **sn)
{
	int half = c->hidden / c->heads / 2;
	*cs = falloc((size_t)T * half), *sn = falloc((size_t)T * half);
	for (int i = 0; i < half; i++) {
		float e = (float)(2 * i) / (float)(2 * half);
		float inv = 1.0f / powf(10000.0f, e);
		for (int t = 0; t < T; t++) {
			double ang = (double)t * inv;
			(*cs)[(size_t)t * half + i] = (float)cos(ang);
			(*sn)[(size_t)t * half + i] = (float)sin(ang);
		}
	}
}

void bert_alibi_slopes(int n, float *slope)
{
	/* MosaicBERT's _get_alibi_head_slopes: for n a power of two,
	 * start = 2^(-2^-(log2 n - 3)) and slope_h = start * start^h; else
	 * the p = 2^floor(log2 n) slopes of p heads, then every other slope of
	 * 2p heads, the first n - p of them.  In double as Python computes
	 * them, then float32 (torch.Tensor) */
	int p = 1;
	while (p * 2 <= n) p *= 2;
	double start = pow(2.0, -pow(2.0, -(log2((double)p) - 3.0)));
	for (int h = 0; h < p; h++) slope[h] = (float)(start * pow(start, h));
	if (p == n) return;
	double s2 = pow(2.0, -pow(2.0, -(log2(2.0 * p) - 3.0)));
	for (int h = 0; h < n - p; h++) slope[p + h] = (float)(s2 * pow(s2, 2 * h));
}

bert_acts *bert_acts_new(const bert_model *m, int B, int T, int train)
{
	const bert_config *c = &m->c;
	bert_acts *a = xcalloc(1, sizeof *a);
	size_t N = (size_t)B * T, d = c->hidden, F = c->ffn, att = (size_t)B * c->heads * T * T;
	size_t FI = c->ffn_kind == BERT_FFN_GELU ? F : 2 * F;     /* the FFN's first product */
	int L = c->layers, nl = train ? L : 1;
	a->B = B, a->T = T, a->train = train;
	a->xb_layer = -1;
	a->L = L, a->d = (int)d, a->h = c->heads, a->F = (int)F, a->V = c->vocab_size;
	a->tokens = xcalloc(N, sizeof *a->tokens);
	a->emb = falloc(N * d), a->emb_mean = falloc(N), a->emb_rstd = falloc(N);
	a->pos = xcalloc(N, sizeof *a->pos), a->tds = falloc(B);
	if (c->final_ln) a->fin = falloc(N * d), a->fmean = falloc(N), a->frstd = falloc(N);
	a->x = xcalloc(L + 1, sizeof *a->x);
	for (int l = 0; l <= L; l++) a->x[l] = falloc(N * d);
	a->l = xcalloc(L, sizeof *a->l);
	for (int l = 0; l < nl; l++) {
		layer_acts *y = &a->l[l];
		y->q = falloc(N * d), y->k = falloc(N * d), y->v = falloc(N * d), y->ctx = falloc(N * d);
		y->att = falloc(att);
		y->r1 = falloc(N * d), y->mean1 = falloc(N), y->rstd1 = falloc(N), y->a1 = falloc(N * d);
		y->f = falloc(N * FI), y->g = falloc(N * F);
		y->r2 = falloc(N * d), y->mean2 = falloc(N), y->rstd2 = falloc(N);
		if (c->norm == BERT_NORM_PRE) y->hn = falloc(N * d);
		if (m->bf16) {
			y->qb = xaligned(N * d * 2), y->kb = xaligned(N * d * 2), y->vb = xaligned(N * d * 2);
		}
		if (train) {
			y->att_keep = xcalloc(att, 1);
			y->keep1 = xcalloc(N * d, 1), y->keep2 = xcalloc(N * d, 1);
		}
	}
	for (int l = nl; l < L; l++) a->l[l] = a->l[0];
	if (train) {
		a->emb_keep = xcalloc(N * d, 1);
		a->dres = falloc(N * d), a->dtmp = falloc(N * d), a->dctx = falloc(N * d);
		a->dq = falloc(N * d), a->dk = falloc(N * d), a->dv = falloc(N * d);
		a->dffn = falloc(N * FI);
		if (FI != F) a->dglu = falloc(N * F);
	}
	if (c->pos == BERT_POS_ROTARY) rotary_tables(c, T, &a->rcos, &a->rsin);
	if (c->pos == BERT_POS_ALIBI) {
		a->slope = falloc(c->heads);
		bert_alibi_slopes(c->heads, a->slope);
	}
	a->mrow = xcalloc(N + 1, sizeof *a->mrow);
	a->mlab = xcalloc(N + 1, sizeof *a->mlab);
	a->mstart = xcalloc(B + 1, sizeof *a->mstart);
	return a;
}

static void head_free(bert_acts *a)
{
	free(a->hx); free(a->ht); free(a->hg); free(a->hmean); free(a->hrstd); free(a->hy);
	free(a->prob); free(a->dlog); free(a->mloss); free(a->dhx); free(a->dhy); free(a->dht);
}

void bert_acts_free(bert_acts *a)
{
	if (!a) return;
	free(a->tokens); free(a->emb); free(a->emb_mean); free(a->emb_rstd); free(a->emb_keep);
	free(a->pos); free(a->tds); free(a->fin); free(a->fmean); free(a->frstd);
	for (int l = 0; l < (a->train ? a->L : 1); l++) {   /* !train: layers alias the first */
		layer_acts *y = &a->l[l];
		free(y->q); free(y->k); free(y->v); free(y->ctx); free(y->att); free(y->att_keep);
		free(y->r1); free(y->mean1); free(y->rstd1); free(y->a1); free(y->keep1);
		free(y->f); free(y->g); free(y->r2); free(y->mean2); free(y->rstd2); free(y->keep2);
		free(y->qb); free(y->kb); free(y->vb); free(y->hn);
	}
	for (int i = 0; i < 3; i++) free(a->cb[i]);
	for (int l = 0; l <= a->L; l++) free(a->x[l]);
	free(a->l);
	free(a->x);
	head_free(a);
	free(a->dres); free(a->dtmp); free(a->dctx); free(a->dq); free(a->dk); free(a->dv);
	free(a->dffn); free(a->dglu); free(a->rcos); free(a->rsin); free(a->slope);
	free(a->mrow); free(a->mlab); free(a->mstart);
	free(a);
}

const float *bert_hidden(const bert_acts *a, int l) { return a->x[l]; }

int bert_nmasked(const bert_acts *a, int b0, int nb)
{
	return a->mstart[b0 + nb] - a->mstart[b0];
}

/* ---- forward kernels --------------------------------------------------- */

/* LayerNorm of one row; mean and 1/std are kept for the backward */
VEC_CLONES static void ln_row(const float *restrict x, const float *restrict w, const float *restrict b,
                              float eps, int d, float *restrict y, float *mean, float *rstd)
{
	float a1[LANES] = {0}, a2[LANES] = {0};
	int n = d / LANES * LANES;
	for (int i = 0; i < n; i += LANES)
		for (int l = 0; l < LANES; l++) a1[l] += x[i + l];
	float s = lanes_total(a1);
	for (int i = n; i < d; i++) s += x[i];
	float mu = s / d;
	for (int i = 0; i < n; i += LANES)
		for (int l = 0; l < LANES; l++) { float t = x[i + l] - mu; a2[l] += t * t; }
	float v = lanes_total(a2);
	for (int i = n; i < d; i++) { float t = x[i] - mu; v += t * t; }
	float rs = 1.0f / sqrtf(v / d + eps);
	for (int i = 0; i < d; i++) y[i] = (x[i] - mu) * rs * w[i] + b[i];
	*mean = mu, *rstd = rs;
}

/* row ops share one context */
typedef struct {
	const bert_model *m;
	bert_acts *a;
	int l, site;
	const float *bias, *res, *lnw, *lnb;
	float *io, *out, *mean, *rstd;
	uint8_t *keep;
	int cols;
	float p;
	uint16_t *outb;               /* bf16: out rounded too (NULL: not wanted) */
	int nrows;
	const int *rws;               /* final_ln_rows: the listed rows (NULL: all); qkv_rows:
	                               * row i is row rws[i] of the batch (NULL: i) */
	int rot;                      /* qkv_rows: rotary on these rows (q and k) */
} rowop;

static void dropout_row(const bert_acts *a, int site, int r, int d, float p, float *x, uint8_t *keep)
{
	int b = r / a->nt, t = r % a->nt;
	bert_drop_mask(a->drop.seed, a->drop.step, (uint64_t)(a->drop.rec0 + b), site,
	               (uint64_t)t * d, d, p, keep);
	drop_apply(x, keep, 1.0f / (1.0f - p), x, d);
}

/* x += y over n values (element-wise: the same bits vectorised or not) */
VEC_CLONES static void add_vec(float *restrict x, const float *restrict y, int n)
{
	for (int i = 0; i < n; i++) x[i] += y[i];
}

/* ESM's embeddings (lm_head ESM, see bert.h): times the attention mask,
 * no dropout */
static int emb_esm(const bert_config *c) { return c->lm_head == BERT_LMHEAD_ESM; }

/* whether the embedding output is dropped out (its keep flags set) */
static int emb_dropped(const bert_model *m, const bert_acts *a)
{
	return a->drop_on && m->c.hidden_drop > 0 && !emb_esm(&m->c);
}

/* token dropout's factor of row r's word embedding (1 without) */
static float emb_scale(const bert_model *m, const bert_acts *a, int r)
{
	if (!m->c.token_dropout) return 1.0f;
	return a->tokens[r] == m->c.mask_id ? 0.0f : a->tds[r / a->nt];
}

/* x[0] = the embeddings (bert.h): word (times emb_scale) + type 0 +
 * position, LayerNorm, ESM's attention mask, dropout */
static void emb_fwd_rows(void *ctx, int r0, int r1)
{
	rowop *o = ctx;
	const bert_model *m = o->m;
	const bert_config *c = &m->c;
	bert_acts *a = o->a;
	int d = c->hidden;
	for (int r = r0; r < r1; r++) {
		int tok = a->tokens[r];
		float *e = a->emb + (size_t)r * d, *y = a->x[0] + (size_t)r * d;
		const float *we = m->w.wte + (size_t)tok * d, *wt = m->w.wtt;
		const float *wp = m->w.wpe ? m->w.wpe + (size_t)a->pos[r] * d : NULL;
		if (wt && wp && !c->token_dropout) {      /* BERT */
			for (int i = 0; i < d; i++) e[i] = (we[i] + wt[i]) + wp[i];
		} else {
			float s = emb_scale(m, a, r);
			for (int i = 0; i < d; i++) e[i] = we[i] * s;
			if (wt) add_vec(e, wt, d);
			if (wp) add_vec(e, wp, d);
		}
		if (c->emb_noln) memcpy(y, e, d * sizeof *y);
		else ln_row(e, m->w.eln_w, m->w.eln_b, c->ln_eps, d, y, a->emb_mean + r, a->emb_rstd + r);
		if (emb_esm(c) && tok == c->pad_id) memset(y, 0, d * sizeof *y);   /* times attention_mask */
		if (emb_dropped(m, a))
			dropout_row(a, BERT_SITE_EMB, r, d, c->hidden_drop, y, a->emb_keep + (size_t)r * d);
		if (o->outb) mm_to_bf16(y, o->outb + (size_t)r * d, d);
	}
}

/* out = LayerNorm(res) (pre-LN's LN1; bf16: outb gets out rounded) */
static void ln_rows(void *ctx, int r0, int r1)
{
	rowop *o = ctx;
	int d = o->cols;
	for (int r = r0; r < r1; r++) {
		ln_row(o->res + (size_t)r * d, o->lnw, o->lnb, o->m->c.ln_eps, d, o->out + (size_t)r * d, o->mean + r, o->rstd + r);
		if (o->outb) mm_to_bf16(o->out + (size_t)r * d, o->outb + (size_t)r * d, d);
	}
}

/* io = dropout(io + bias) + res (pre-LN's residual add, no LayerNorm) */
static void add_rows(void *ctx, int r0, int r1)
{
	rowop *o = ctx;
	const bert_acts *a = o->a;
	int d = o->cols;
	for (int r = r0; r < r1; r++) {
		float *x = o->io + (size_t)r * d;
		if (o->bias) add_vec(x, o->bias, d);
		if (a->drop_on && o->p > 0)
			dropout_row(a, o->site, r, d, o->p, x, o->keep + (size_t)r * d);
		add_vec(x, o->res + (size_t)r * d, d);
	}
}

/* the final LayerNorm: x[L] = LN(x[L]) at every row (rws NULL) or the
 * listed ones, its input kept in fin */
static void final_ln_rows(void *ctx, int i0, int i1)
{
	rowop *o = ctx;
	const bert_model *m = o->m;
	bert_acts *a = o->a;
	int d = a->d;
	for (int i = i0; i < i1; i++) {
		size_t r = o->rws ? (size_t)o->rws[i] : (size_t)i;
		float *x = a->x[a->L] + r * d, *f = a->fin + r * d;
		memcpy(f, x, d * sizeof *f);
		ln_row(f, m->w.fln_w, m->w.fln_b, m->c.ln_eps, d, x, a->fmean + r, a->frstd + r);
	}
}

/* the rotation of one head's values x[2 half] at a position whose table
 * rows are c, s: (x1, x2) -> (x1 c - x2 s, x2 c + x1 s), i.e.
 * x cos + rotate_half(x) sin with rotate_half(x) = (-x2, x1); sg = -1 turns
 * back (the transpose, for the backward) */
VEC_CLONES static void rope_vec(float *restrict x, const float *restrict c, const float *restrict s,
                                int half, float sg)
{
	for (int i = 0; i < half; i++) {
		float x1 = x[i], x2 = x[half + i], si = sg * s[i];
		x[i] = x1 * c[i] - x2 * si;
		x[half + i] = x2 * c[i] + x1 * si;
	}
}

/* every head of the row of batch row r (position r % T) turned, sg as rope_vec */
static void rope_row(const bert_acts *a, float *x, int r, int H, int dh, float sg)
{
	int half = dh / 2;
	size_t t = (size_t)(r % a->nt) * half;
	for (int h = 0; h < H; h++) rope_vec(x + (size_t)h * dh, a->rcos + t, a->rsin + t, half, sg);
}

/* q, k or v rows: io += bias (when the layer has one); rotary at each
 * row's position (q and k, when rot); bf16: the rows rounded head-major
 * into outb (the attention's operands), in the same pass */
static void qkv_rows(void *ctx, int r0, int r1)
{
	rowop *o = ctx;
	int d = o->cols, H = o->m->c.heads, dh = d / H;
	for (int r = r0; r < r1; r++) {
		float *x = o->io + (size_t)r * d;
		if (o->bias) add_vec(x, o->bias, d);
		if (o->rot) rope_row(o->a, x, o->rws ? o->rws[r] : r, H, dh, 1.0f);
		if (o->outb)
			for (int h = 0; h < H; h++)
				mm_to_bf16(x + (size_t)h * dh, o->outb + ((size_t)h * o->nrows + r) * dh, dh);
	}
}

static void bias_gelu_rows(void *ctx, int r0, int r1)
{
	rowop *o = ctx;
	for (int r = r0; r < r1; r++) {
		gelu_fwd_vec(o->io + (size_t)r * o->cols, o->out + (size_t)r * o->cols, o->bias, o->cols);
		if (o->outb) mm_to_bf16(o->out + (size_t)r * o->cols, o->outb + (size_t)r * o->cols, o->cols);
	}
}

/* the FFN's first product's columns, FI of the table */
static int ffn_in(const bert_config *c) { return c->ffn_kind == BERT_FFN_GELU ? c->ffn : 2 * c->ffn; }

/* the FFN's activation of rows of f (FI columns) into g (F = cols columns)
 * for the kinds bias_gelu_rows does not do: GELU without a bias; GeGLU
 * and SwiGLU, g = act(f[:F]) * f[F:] after f += bias (if any) */
static void ffn_act_rows(void *ctx, int r0, int r1)
{
	rowop *o = ctx;
	int F = o->cols, kind = o->m->c.ffn_kind, FI = kind == BERT_FFN_GELU ? F : 2 * F;
	for (int r = r0; r < r1; r++) {
		float *f = o->io + (size_t)r * FI, *g = o->out + (size_t)r * F;
		if (o->bias) add_vec(f, o->bias, FI);
		if (kind == BERT_FFN_GELU) gelu_vec(f, g, F);
		else glu_fwd_vec(f, g, F, kind == BERT_FFN_SWIGLU);
		if (o->outb) mm_to_bf16(g, o->outb + (size_t)r * F, F);
	}
}

/* io = dropout(io + bias) + res; out = LayerNorm(io) */
static void add_ln_rows(void *ctx, int r0, int r1)
{
	rowop *o = ctx;
	const bert_acts *a = o->a;
	int d = o->cols;
	for (int r = r0; r < r1; r++) {
		float *x = o->io + (size_t)r * d;
		if (o->bias) add_vec(x, o->bias, d);     /* NULL: a layer without biases */
		if (a->drop_on && o->p > 0)
			dropout_row(a, o->site, r, d, o->p, x, o->keep + (size_t)r * d);
		add_vec(x, o->res + (size_t)r * d, d);
		ln_row(x, o->lnw, o->lnb, o->m->c.ln_eps, d, o->out + (size_t)r * d, o->mean + r, o->rstd + r);
		if (o->outb) mm_to_bf16(o->out + (size_t)r * d, o->outb + (size_t)r * d, d);
	}
}

static void rows(const bert_model *m, int nrows, void (*fn)(void *, int, int), rowop *o)
{
	par_range(m->nthreads, nrows, fn, o);
}

/* ---- bf16 products ------------------------------------------------------ */

/* the bfloat16 copy of a weight */
static const uint16_t *wbf(const bert_model *m, const float *w)
{
	return m->wbf + (w - m->params);
}

/* a's bf16 scratch slot (0-2), at least n values */
static uint16_t *bf_slot(bert_acts *a, int slot, size_t n)
{
	if (n > a->cbn[slot]) {
		free(a->cb[slot]);
		a->cb[slot] = xaligned((n ? n : 1) * sizeof *a->cb[slot]);
		a->cbn[slot] = n;
	}
	return a->cb[slot];
}

/* x[rows, cols] rounded to bfloat16 into a's scratch slot */
static const uint16_t *to_bf16(const bert_model *m, bert_acts *a, int slot, const float *x, int rows, int cols)
{
	uint16_t *y = bf_slot(a, slot, (size_t)rows * cols);
	bf16_rows(m, x, y, rows, cols);
	return y;
}

/* C = alpha op(A) op(B) + beta C with bfloat16 A and B, cut as par_sgemm
 * cuts (or one call after bert_set_single) */
static void gemm_bf16(const bert_model *m, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K,
                      float alpha, const uint16_t *A, int lda, const uint16_t *B, int ldb,
                      float beta, float *C, int ldc)
{
	if (m->whole)
		mm_gemm_bf16(ta != CblasNoTrans, tb != CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
	else
		par_gemm_bf16(m->nthreads, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* y[N,out] = x[N,in] W^T (+ bias later, fused into the next row op); bf16:
 * x rounded here unless xb holds it rounded already */
static void matmul_fwd(const bert_model *m, bert_acts *a, float *y, const float *x, const uint16_t *xb,
                       const float *w, int N, int in, int out)
{
	if (m->bf16) {
		if (!xb) xb = to_bf16(m, a, 0, x, N, in);
		gemm_bf16(m, CblasNoTrans, CblasTrans, N, out, in, 1.0f, xb, in, wbf(m, w), in, 0.0f, y, out);
	} else if (m->whole)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
	else
		par_sgemm(m->nthreads, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
}

/* one attention pass over (record, head) tasks.  Forward: the query rows
 * are a row set (rowset below); backward: records [b0, b0 + R/T) */
typedef struct {
	const bert_model *m;
	bert_acts *a;
	layer_acts *y;
	int l, b0;
	const float *q;                /* forward: the query rows [nq, d] */
	const int *qs;                 /* forward: record b's queries are rows qs[b]..qs[b+1]-1
	                                * of q (NULL: all T rows of each record, q[b*T..]) */
	int nq;                        /* forward: rows of q (bf16: of y->qb, head-major) */
	const int *rws;                /* forward with qs: the batch row of each row of q */
	const uint16_t *xb;            /* bf16 backward: dctx rounded, head-major */
	int R;                         /* its rows */
} attjob;

/* Pd = P * keep / (1-p) for one (record, head) */
static void att_dropped(const bert_acts *a, const layer_acts *y, size_t off, int TT, float p, float *pd)
{
	drop_apply(y->att + off, y->att_keep + off, 1.0f / (1.0f - p), pd, TT);
	(void)a;
}

/* one head's context: ctx[rows, dh] (row stride d) = P[rows, T] V, V the
 * head's values (v, row stride d; bf16: vb, the head's block, row stride
 * dh; NULL in fp32, where there are no bf16 copies); pb and ct are scratch
 * for the bf16 path */
static void att_context(const bert_model *m, const float *P, int rows, int T, int dh, const uint16_t *vb,
                        const float *v, float *ctx, uint16_t *pb, float *ct)
{
	int d = m->c.hidden;
	if (m->bf16) {
		mm_to_bf16(P, pb, (size_t)rows * T);
		mm_gemm_bf16(0, 0, rows, dh, T, 1.0f, pb, T, vb, dh, 0.0f, ct, dh);
		put_head(ctx, d, ct, rows, dh);
	} else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, dh, T, 1.0f, P, T, v, d, 0.0f, ctx, d);
}

/* The attention forward of the (record, head) tasks i0..i1: the scores of
 * the record's query rows against all its keys, softmax over the keys that
 * are not padding, dropout on the probabilities when training, and the
 * context at the query rows.  Training and bert_forward take every row
 * (qs NULL); bert_forward_rows the listed ones of the last layer, whose
 * query rows sit gathered in q (no dropout there: inference only). */
static void att_fwd_range(void *ctx, int i0, int i1)
{
	attjob *j = ctx;
	const bert_model *m = j->m;
	bert_acts *a = j->a;
	layer_acts *y = j->y;
	int T = a->nt, d = m->c.hidden, H = m->c.heads, dh = d / H;
	float p = m->c.attn_drop, sc = 1.0f / sqrtf((float)dh);
	int drop = a->drop_on && p > 0 && !j->qs;
	float *pd = drop ? xaligned((size_t)T * T * sizeof(float)) : NULL;
	uint16_t *pb = m->bf16 ? xaligned((size_t)T * T * sizeof *pb) : NULL;
	float *ct = m->bf16 ? xaligned((size_t)T * dh * sizeof *ct) : NULL;
	for (int i = i0; i < i1; i++) {
		int b = i / H, h = i % H;
		int q0 = j->qs ? j->qs[b] : b * T, c = j->qs ? j->qs[b + 1] - q0 : T;
		if (!c) continue;
		size_t off = (size_t)i * T * T;
		size_t ko = (size_t)b * T * d + (size_t)h * dh, qo = (size_t)q0 * d + (size_t)h * dh;
		/* bf16, head-major: q [H, nq, dh], k and v [H, nb*T, dh] */
		size_t qh = ((size_t)h * j->nq + q0) * dh, kh = ((size_t)h * a->nb * T + (size_t)b * T) * dh;
		float *S = y->att + off;
		const int32_t *tok = a->tokens + (size_t)b * T;
		if (m->bf16)
			mm_gemm_bf16(0, 1, c, T, dh, sc, y->qb + qh, dh, y->kb + kh, dh, 0.0f, S, T);
		else
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c, T, dh, sc,
			            j->q + qo, d, y->k + ko, d, 0.0f, S, T);
		if (a->slope)                       /* ALiBi: scores - slope_h |i - j| */
			for (int t = 0; t < c; t++)
				alibi_row(S + (size_t)t * T, j->qs ? j->rws[q0 + t] - b * T : t, T, a->slope[h]);
		for (int t = 0; t < c; t++) softmax_row(S + (size_t)t * T, tok, T, m->c.pad_id);
		const float *P = S;
		if (drop) {
			bert_drop_mask(a->drop.seed, a->drop.step, (uint64_t)(a->drop.rec0 + b),
			               bert_site_attn(j->l), (uint64_t)h * T * T, (size_t)T * T, p,
			               y->att_keep + off);
			att_dropped(a, y, off, T * T, p, pd);
			P = pd;
		}
		att_context(m, P, c, T, dh, m->bf16 ? y->vb + kh : NULL, y->v + ko, y->ctx + qo, pb, ct);
	}
	free(pd);
	free(pb);
	free(ct);
}

/* the FFN of layer l over n rows: y->a1 (bf16: its rounded copy a1b) ->
 * y->f (dense + bias) -> y->g (activation); returns g's bf16 copy (NULL in
 * fp32).  The one place of the FFN kind. */
static const uint16_t *ffn_forward(bert_model *m, bert_acts *a, int l, int n, const uint16_t *a1b)
{
	const bert_layer_w *w = &m->w.layer[l];
	layer_acts *y = &a->l[l];
	int d = m->c.hidden, F = m->c.ffn, FI = ffn_in(&m->c);
	/* gated (GeGLU, SwiGLU): one product makes the gate's and the linear
	 * part's rows side by side, f [n, 2F] */
	matmul_fwd(m, a, y->f, y->a1, a1b, w->iw, n, d, FI);
	rowop g = { .m = m, .a = a, .io = y->f, .out = y->g, .bias = w->ib, .cols = F };
	g.outb = m->bf16 ? bf_slot(a, 0, (size_t)n * F) : NULL;
	if (m->c.ffn_kind == BERT_FFN_GELU && w->ib) rows(m, n, bias_gelu_rows, &g);
	else rows(m, n, ffn_act_rows, &g);
	return g.outb;
}

/* the rest of layer l after the attention context y->ctx of n rows: output
 * projection, residual res, and the FFN with its residual into out (dropout
 * at the two residuals when training).  Post-LN (BERT): a1 = LN1(res +
 * attn), out = LN2(a1 + ffn(a1)).  Pre-LN (bert.h): r1 = res + attn, a1 =
 * LN2(r1), out = r1 + ffn(a1), no LayerNorm on out (layer_forward made
 * LN1 before the attention).  bf16: the row ops that make a product's input
 * round it as they go, and outb (if not NULL; post-LN only) gets out
 * rounded */
static void layer_tail(bert_model *m, bert_acts *a, int l, int n, const float *res, float *out, uint16_t *outb)
{
	const bert_layer_w *w = &m->w.layer[l];
	layer_acts *y = &a->l[l];
	int d = m->c.hidden, F = m->c.ffn, pre = m->c.norm == BERT_NORM_PRE;
	rowop o = { .m = m, .a = a, .l = l, .cols = d };

	matmul_fwd(m, a, y->r1, y->ctx, NULL, w->ow, n, d, d);
	o.io = y->r1, o.bias = w->ob, o.res = res, o.out = y->a1, o.keep = y->keep1;
	o.lnw = pre ? w->ln2w : w->ln1w, o.lnb = pre ? w->ln2b : w->ln1b;
	o.mean = pre ? y->mean2 : y->mean1, o.rstd = pre ? y->rstd2 : y->rstd1;
	o.site = bert_site_attn_out(l), o.p = m->c.hidden_drop;
	o.outb = m->bf16 ? bf_slot(a, 2, (size_t)n * d) : NULL;
	rows(m, n, add_ln_rows, &o);

	const uint16_t *gb = ffn_forward(m, a, l, n, o.outb);

	o.site = bert_site_ffn_out(l), o.keep = y->keep2, o.bias = w->fb;
	if (pre) {
		BERT_INVARIANT(!outb, "pre-LN layers round no output");
		matmul_fwd(m, a, out, y->g, gb, w->fw, n, F, d);
		o.io = out, o.res = y->r1, o.outb = NULL;
		rows(m, n, add_rows, &o);
		return;
	}
	matmul_fwd(m, a, y->r2, y->g, gb, w->fw, n, F, d);
	o.io = y->r2, o.res = y->a1, o.lnw = w->ln2w, o.lnb = w->ln2b;
	o.out = out, o.mean = y->mean2, o.rstd = y->rstd2;
	o.outb = outb;
	rows(m, n, add_ln_rows, &o);
}

/* q, k or v of n rows: x W^T + bias (bias NULL: none), turned by the
 * rotary embedding when rot (q and k of a rotary model) at the positions
 * of the rows (row i is batch row rws[i], or i when rws is NULL); bf16:
 * rounded head-major into outb */
static void qkv_proj(bert_model *m, bert_acts *a, float *out, uint16_t *outb, const float *x,
                     const uint16_t *xb, const float *w, const float *bias, int n, const int *rws, int rot)
{
	int d = m->c.hidden;
	matmul_fwd(m, a, out, x, xb, w, n, d, d);
	rowop o = { .m = m, .a = a, .cols = d, .io = out, .bias = bias, .outb = outb, .nrows = n,
	            .rws = rws, .rot = rot && m->c.pos == BERT_POS_ROTARY };
	if (o.bias || o.rot || o.outb) rows(m, n, qkv_rows, &o);
}

/* the listed rows rws[nr] of x gathered into xr, and a->mstart their
 * prefix counts by record (the row set of att_fwd_range) */
static void gather_listed(bert_acts *a, const float *x, float *xr, const int *rws, int nr)
{
	int d = a->d, T = a->nt;
	memset(a->mstart, 0, (a->nb + 1) * sizeof *a->mstart);
	for (int i = 0; i < nr; i++) {
		memcpy(xr + (size_t)i * d, x + (size_t)rws[i] * d, d * sizeof(float));
		a->mstart[rws[i] / T + 1]++;
	}
	for (int b = 0; b < a->nb; b++) a->mstart[b + 1] += a->mstart[b];
}

/* Layer l forward.  rws NULL: every row, into x[l + 1].  Else (the last
 * layer of bert_forward_rows) keys and values at every row, the rest at
 * the nr listed rows (ascending) only, whose results go to those rows of
 * x[l + 1]. */
static void layer_forward(bert_model *m, bert_acts *a, int l, const int *rws, int nr)
{
	const bert_layer_w *w = &m->w.layer[l];
	layer_acts *y = &a->l[l];
	int N = a->nb * a->nt, d = m->c.hidden, pre = m->c.norm == BERT_NORM_PRE;
	const float *x = a->x[l], *h = x;             /* the attention's input */
	const uint16_t *xb;                           /* bf16: h rounded */
	if (pre) {                                    /* h = LN1(x) */
		rowop o = { .m = m, .a = a, .cols = d, .res = x, .out = y->hn, .lnw = w->ln1w, .lnb = w->ln1b,
		            .mean = y->mean1, .rstd = y->rstd1 };
		o.outb = m->bf16 ? bf_slot(a, 1, (size_t)N * d) : NULL;
		rows(m, N, ln_rows, &o);
		h = y->hn, xb = o.outb;
	} else
		xb = !m->bf16 ? NULL : a->xb_layer == l ? a->cb[1] : to_bf16(m, a, 1, x, N, d);
	float *xq = rws ? a->x[l + 1] : (float *)h;   /* the query rows (listed: gathered first) */
	int nq = rws ? nr : N;

	if (rws) gather_listed(a, h, xq, rws, nr);
	qkv_proj(m, a, y->q, y->qb, xq, rws ? NULL : xb, w->qw, w->qb, nq, rws, 1);
	qkv_proj(m, a, y->k, y->kb, h, xb, w->kw, w->kb, N, NULL, 1);
	qkv_proj(m, a, y->v, y->vb, h, xb, w->vw, w->vb, N, NULL, 0);
	a->xb_layer = -1;

	attjob aj = { .m = m, .a = a, .y = y, .l = l, .q = y->q, .qs = rws ? a->mstart : NULL, .nq = nq, .rws = rws };
	par_range(m->nthreads, a->nb * m->c.heads, att_fwd_range, &aj);

	if (rws) {
		/* the residual: x's listed rows (post-LN: the gathered queries);
		 * pre-LN gathers them into r2, free until the tail's output */
		const float *res = xq;
		float *out = y->r1;
		if (pre) {
			for (int i = 0; i < nr; i++) memcpy(y->r2 + (size_t)i * d, x + (size_t)rws[i] * d, d * sizeof(float));
			res = out = y->r2;
		}
		layer_tail(m, a, l, nr, res, out, NULL);
		for (int i = 0; i < nr; i++) memcpy(xq + (size_t)rws[i] * d, out + (size_t)i * d, d * sizeof(float));
		memset(a->mstart, 0, (a->nb + 1) * sizeof *a->mstart);
		return;
	}
	/* bf16, post-LN: the next layer's input rounded into slot 1 (x[l] there is used up) */
	uint16_t *nb = m->bf16 && !pre && l + 1 < m->c.layers ? bf_slot(a, 1, (size_t)N * d) : NULL;
	layer_tail(m, a, l, N, x, a->x[l + 1], nb);
	a->xb_layer = nb ? l + 1 : -1;
}

/* position ids (a->pos) and token dropout's scales (a->tds) of the batch
 * in a->tokens (bert.h) */
static void emb_prepare(const bert_model *m, bert_acts *a)
{
	const bert_config *c = &m->c;
	int T = a->nt;
	for (int b = 0; b < a->nb; b++) {
		const int32_t *tk = a->tokens + (size_t)b * T;
		int *pos = a->pos + (size_t)b * T, real = 0, masks = 0;
		for (int t = 0; t < T; t++) {
			int ok = tk[t] != c->pad_id;
			/* create_position_ids_from_input_ids: cumsum(ids != pad) * (ids != pad) + pad */
			pos[t] = c->pos != BERT_POS_OFFSET ? t : ok ? c->pos_offset + real : c->pos_offset - 1;
			real += ok, masks += tk[t] == c->mask_id;
		}
		/* EsmEmbeddings: (1 - 0.15 * 0.8) / (1 - masks / attention_mask.sum());
		 * a record of pads or masks only (0/0, x/0 there) keeps 0.88 */
		a->tds[b] = real > masks ? (float)((1 - 0.15 * 0.8) / (1.0 - (double)masks / real)) : 0.88f;
	}
}

static void forward_begin(bert_model *m, bert_acts *a, const int32_t *tokens, int B, int T,
                          const bert_drop *drop)
{
	BERT_INVARIANT(B <= a->B && T <= a->T && T <= bert_max_tokens(&m->c),
	               "batch %dx%d exceeds capacity %dx%d or max positions %d", B, T, a->B, a->T, bert_max_tokens(&m->c));
	BERT_INVARIANT(!m->bf16 || a->l[0].qb, "activations made before bert_set_precision");
	a->nb = B, a->nt = T;
	a->nm = 0;
	memset(a->mstart, 0, (B + 1) * sizeof *a->mstart);
	memcpy(a->tokens, tokens, (size_t)B * T * sizeof *tokens);
	a->drop_on = drop != NULL && a->train;
	if (drop) a->drop = *drop;
	for (size_t i = 0; i < (size_t)B * T; i++)
		BERT_INVARIANT(tokens[i] >= 0 && tokens[i] < m->c.vocab_size, "token %d out of range", tokens[i]);
	rowop o = { .m = m, .a = a };
	/* bf16, post-LN: layer 0's input rounded (pre-LN layers round LN1's output) */
	o.outb = m->bf16 && m->c.norm == BERT_NORM_POST ? bf_slot(a, 1, (size_t)B * T * m->c.hidden) : NULL;
	/* learned positions (absolute or offset) here, by a->pos; rotary and
	 * ALiBi act inside the attention, so these add none (no wpe) */
	emb_prepare(m, a);
	rows(m, B * T, emb_fwd_rows, &o);
	a->xb_layer = o.outb ? 0 : -1;
}

void bert_forward(bert_model *m, bert_acts *a, const int32_t *tokens, int B, int T,
                  const bert_drop *drop)
{
	forward_begin(m, a, tokens, B, T, drop);
	for (int l = 0; l < m->c.layers; l++) layer_forward(m, a, l, NULL, 0);
	if (m->c.final_ln) {                  /* ESM's emb_layer_norm_after, GENA's last_layer_ln */
		rowop o = { .m = m, .a = a };
		rows(m, B * T, final_ln_rows, &o);
	}
}

void bert_forward_rows(bert_model *m, bert_acts *a, const int32_t *tokens, int B, int T,
                       const int *rws, int nr)
{
	int L = m->c.layers, ok = L > 0 && nr > 0 && !a->train;
	for (int i = 0; ok && i < nr; i++)
		if (rws[i] < 0 || rws[i] >= B * T || (i && rws[i] <= rws[i - 1])) ok = 0;
	if (!ok) { bert_forward(m, a, tokens, B, T, NULL); return; }
	forward_begin(m, a, tokens, B, T, NULL);
	for (int l = 0; l < L - 1; l++) layer_forward(m, a, l, NULL, 0);
	layer_forward(m, a, L - 1, rws, nr);
	if (m->c.final_ln) {
		rowop o = { .m = m, .a = a, .rws = rws };
		rows(m, nr, final_ln_rows, &o);
	}
}

/* ---- MLM head ---------------------------------------------------------- */

static void head_reserve(bert_acts *a, int n)
{
	if (n <= a->mcap) return;
	int cap = n > 2 * a->mcap ? n : 2 * a->mcap;
	size_t d = a->d, V = a->V;
	head_free(a);
	a->hx = falloc(cap * d), a->ht = falloc(cap * d), a->hg = falloc(cap * d), a->hy = falloc(cap * d);
	a->hmean = falloc(cap), a->hrstd = falloc(cap), a->mloss = falloc(cap);
	a->prob = falloc(cap * V);
	if (a->train) {
		a->dlog = falloc(cap * V);
		a->dhx = falloc(cap * d), a->dhy = falloc(cap * d), a->dht = falloc(cap * d);
	}
	a->mcap = cap;
}

static void gather_rows(void *ctx, int i0, int i1)
{
	rowop *o = ctx;
	bert_acts *a = o->a;
	int d = a->d;
	for (int i = i0; i < i1; i++)
		memcpy(a->hx + (size_t)i * d, a->x[a->L] + (size_t)a->mrow[i] * d, d * sizeof(float));
}

static void head_ln_rows(void *ctx, int i0, int i1)
{
	rowop *o = ctx;
	bert_acts *a = o->a;
	const bert_model *m = o->m;
	int d = a->d;
	for (int i = i0; i < i1; i++)
		ln_row(a->hg + (size_t)i * d, m->w.tln_w, m->w.tln_b, m->c.ln_eps, d,
		       a->hy + (size_t)i * d, a->hmean + i, a->hrstd + i);
}

/* logits + bias -> softmax probabilities in place; loss at the label */
static void softmax_ce_rows(void *ctx, int i0, int i1)
{
	rowop *o = ctx;
	bert_acts *a = o->a;
	const float *bias = o->m->w.cls_bias;
	int V = a->V;
	for (int i = i0; i < i1; i++) {
		float *z = a->prob + (size_t)i * V;
		float mx = -INFINITY;
		for (int v = 0; v < V; v++) { z[v] += bias[v]; if (z[v] > mx) mx = z[v]; }
		if (!o->p) continue;                 /* logits wanted */
		double sum = 0;
		exp_shift_vec(z, mx, V);
		for (int v = 0; v < V; v++) sum += z[v];
		float inv = (float)(1.0 / sum);
		int lab = a->mlab[i];
		if (lab >= 0) a->mloss[i] = (float)(log(sum) - log((double)z[lab]));
		for (int v = 0; v < V; v++) z[v] *= inv;
	}
}

/* the head over the nm rows listed in a->mrow: prob[nm,V] */
static void head_forward(bert_model *m, bert_acts *a, int nm, int probs)
{
	/* BERT's transform + decoder (tied: the word embeddings); ESM's head
	 * is the same (bert.h) */
	int d = m->c.hidden, V = m->c.vocab_size;
	rowop o = { .m = m, .a = a, .p = (float)probs };
	if (nm == 0) return;
	rows(m, nm, gather_rows, &o);
	matmul_fwd(m, a, a->ht, a->hx, NULL, m->w.tw, nm, d, d);
	rowop g = { .m = m, .a = a, .io = a->ht, .out = a->hg, .bias = m->w.tb, .cols = d };
	rows(m, nm, bias_gelu_rows, &g);
	rows(m, nm, head_ln_rows, &o);
	matmul_fwd(m, a, a->prob, a->hy, NULL, m->w.dec_w ? m->w.dec_w : m->w.wte, nm, d, V);
	rows(m, nm, softmax_ce_rows, &o);
}

float bert_mlm_loss(bert_model *m, bert_acts *a, const int32_t *labels)
{
	int T = a->nt, nm = 0;
	for (int b = 0; b < a->nb; b++) {
		a->mstart[b] = nm;
		for (int t = 0; t < T; t++) {
			int r = b * T + t;
			if (labels[r] < 0) continue;
			BERT_INVARIANT(labels[r] < m->c.vocab_size, "label %d out of range", labels[r]);
			a->mrow[nm] = r, a->mlab[nm] = labels[r], nm++;
		}
	}
	a->mstart[a->nb] = nm;
	a->nm = nm;
	head_reserve(a, nm);
	head_forward(m, a, nm, 1);
	double s = 0;
	for (int i = 0; i < nm; i++) s += a->mloss[i];
	return nm ? (float)(s / nm) : 0.0f;
}

const float *bert_head(bert_model *m, bert_acts *a, const int *rws, int nrows, float *out, int probs)
{
	head_reserve(a, nrows);
	for (int i = 0; i < nrows; i++) a->mrow[i] = rws[i], a->mlab[i] = -1;
	a->nm = 0;                            /* not a training head: no backward */
	head_forward(m, a, nrows, probs);
	if (out) memcpy(out, a->prob, (size_t)nrows * m->c.vocab_size * sizeof(float));
	return a->prob;
}

/* ---- backward kernels -------------------------------------------------- */

typedef struct {
	const float *x, *mean, *rstd, *w;      /* LayerNorm input, stats, weight */
	float *dy, *dw, *db;                   /* dy: d out, replaced by d in */
	int d, n;
} lnbjob;

/* pass 1, by columns: dw += sum_r dy*xhat, db += sum_r dy, each column
 * summing its rows in order (in double); the rows are walked in order and
 * the columns of a row side by side, so the loop vectorises */
VEC_CLONES static void ln_bwd_cols_sum(const float *restrict dy, const float *restrict x, float mu, float rs,
                                       double *restrict sw, double *restrict sb, int n)
{
	for (int c = 0; c < n; c++) {
		float g = dy[c];
		sw[c] += g * ((x[c] - mu) * rs);
		sb[c] += g;
	}
}

static void ln_bwd_cols(void *ctx, int c0, int c1)
{
	lnbjob *j = ctx;
	int d = j->d, n = c1 - c0;
	double *sw = xcalloc(2 * (size_t)n, sizeof *sw), *sb = sw + n;
	for (int r = 0; r < j->n; r++)
		ln_bwd_cols_sum(j->dy + (size_t)r * d + c0, j->x + (size_t)r * d + c0, j->mean[r], j->rstd[r], sw, sb, n);
	for (int c = 0; c < n; c++) j->dw[c0 + c] += (float)sw[c], j->db[c0 + c] += (float)sb[c];
	free(sw);
}

/* pass 2, by rows, in place: dx = rstd (dnorm - mean(dnorm) - xhat mean(dnorm xhat)) */
VEC_CLONES static void ln_bwd_row(const float *restrict x, const float *restrict w, float *restrict g,
                                  float mu, float rs, int d)
{
	float a1[LANES] = {0}, a2[LANES] = {0};
	int n = d / LANES * LANES;
	for (int i = 0; i < n; i += LANES)
		for (int l = 0; l < LANES; l++) {
			float dn = g[i + l] * w[i + l];
			a1[l] += dn, a2[l] += dn * (x[i + l] - mu) * rs;
		}
	float s1 = lanes_total(a1), s2 = lanes_total(a2);
	for (int i = n; i < d; i++) {
		float dn = g[i] * w[i];
		s1 += dn, s2 += dn * (x[i] - mu) * rs;
	}
	s1 /= d, s2 /= d;
	for (int i = 0; i < d; i++)
		g[i] = rs * (g[i] * w[i] - s1 - (x[i] - mu) * rs * s2);
}

static void ln_bwd_rows(void *ctx, int r0, int r1)
{
	lnbjob *j = ctx;
	int d = j->d;
	for (int r = r0; r < r1; r++)
		ln_bwd_row(j->x + (size_t)r * d, j->w, j->dy + (size_t)r * d, j->mean[r], j->rstd[r], d);
}

static void ln_backward(const bert_model *m, const float *x, const float *mean, const float *rstd,
                        const float *w, float *dy, float *dw, float *db, int n, int d)
{
	lnbjob j = { x, mean, rstd, w, dy, dw, db, d, n };
	par_range(m->nthreads, d, ln_bwd_cols, &j);
	par_range(m->nthreads, n, ln_bwd_rows, &j);
}

typedef struct {
	const float *in, *f;
	float *out;
	const uint8_t *keep;
	float s;
	int cols;
} ewjob;

static void dropout_bwd_rows(void *ctx, int r0, int r1)
{
	ewjob *j = ctx;
	size_t i0 = (size_t)r0 * j->cols;
	drop_apply(j->in + i0, j->keep + i0, j->s, j->out + i0, (size_t)(r1 - r0) * j->cols);
}

/* d pre-activation = d GELU(x) * (Phi(x) + x phi(x)), in place */
static void gelu_bwd_rows(void *ctx, int r0, int r1)
{
	ewjob *j = ctx;
	for (int r = r0; r < r1; r++)
		gelu_bwd_vec(j->f + (size_t)r * j->cols, j->out + (size_t)r * j->cols, j->cols);
}

/* dY (n rows) after dropout with keep flags: returns dY itself or tmp */
static float *dropout_backward(const bert_model *m, const bert_acts *a, float *dy,
                               const uint8_t *keep, float p, float *tmp, int n, int d)
{
	if (!a->drop_on || p <= 0) return dy;
	ewjob j = { dy, NULL, tmp, keep, 1.0f / (1.0f - p), d };
	par_range(m->nthreads, n, dropout_bwd_rows, &j);
	return tmp;
}

/* gb[c] += sum of column c of dy[n, cols] over the rows in order (double) */
typedef struct {
	const float *dy;
	float *gb;
	int n, cols;
} colsum_job;

VEC_CLONES static void add_row_d(double *restrict acc, const float *restrict x, int n)
{
	for (int c = 0; c < n; c++) acc[c] += x[c];
}

static void colsum_cols(void *ctx, int c0, int c1)
{
	colsum_job *j = ctx;
	int n = c1 - c0;
	double *acc = xcalloc((size_t)n, sizeof *acc);
	for (int r = 0; r < j->n; r++) add_row_d(acc, j->dy + (size_t)r * j->cols + c0, n);
	for (int c = 0; c < n; c++) j->gb[c0 + c] += (float)acc[c];
	free(acc);
}

/* linear y = x W^T + b, backward: gW += dy^T x, gb += dy^T 1 (gb NULL: no
 * bias), dx (+)= dy W;
 * bf16: dy and x rounded (x here unless xb holds it rounded already) */
static void linear_backward(const bert_model *m, bert_acts *a, const float *dy, const float *x,
                            const uint16_t *xb, const float *w, float *gw, float *gb, float *dx,
                            float beta, int n, int in, int out)
{
	const uint16_t *dyb = NULL;
	if (m->bf16) {
		dyb = to_bf16(m, a, 0, dy, n, out);
		if (!xb) xb = to_bf16(m, a, 2, x, n, in);
		par_gemm_bf16(m->nthreads, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dyb, out, xb, in, 1.0f, gw, in);
	} else
		par_sgemm(m->nthreads, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 1.0f, gw, in);
	colsum_job cj = { dy, gb, n, out };
	if (gb) par_range(m->nthreads, out, colsum_cols, &cj);   /* NULL: no bias */
	if (dx && m->bf16)
		par_gemm_bf16(m->nthreads, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dyb, out, wbf(m, w), in, beta, dx, in);
	else if (dx)
		par_sgemm(m->nthreads, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w, in, beta, dx, in);
}

static void att_bwd_range(void *ctx, int i0, int i1)
{
	attjob *j = ctx;
	const bert_model *m = j->m;
	bert_acts *a = j->a;
	layer_acts *y = j->y;
	int T = a->nt, d = m->c.hidden, H = m->c.heads, dh = d / H, TT = T * T;
	float p = m->c.attn_drop, sc = 1.0f / sqrtf((float)dh);
	int drop = a->drop_on && p > 0;
	float *pd = xaligned((size_t)TT * sizeof(float)), *dp = xaligned((size_t)TT * sizeof(float));
	uint16_t *pb = m->bf16 ? xaligned((size_t)TT * sizeof *pb) : NULL;
	float *ct = m->bf16 ? xaligned((size_t)T * dh * sizeof *ct) : NULL;
	for (int i = i0; i < i1; i++) {
		int b = j->b0 + i / H, h = i % H;
		size_t off = ((size_t)b * H + h) * TT, ro = (size_t)b * T * d + (size_t)h * dh;
		/* bf16, head-major: q, k, v [H, nb*T, dh] of the forward; dctx
		 * [H, R, dh] of these records */
		size_t ho = ((size_t)h * a->nb * T + (size_t)b * T) * dh;
		size_t dho = ((size_t)h * j->R + (size_t)(b - j->b0) * T) * dh;
		const float *P = y->att + off, *Pd = P;
		if (drop) { att_dropped(a, y, off, TT, p, pd); Pd = pd; }
		/* dV = Pd^T dctx, dPd = dctx V^T */
		if (m->bf16) {
			mm_to_bf16(Pd, pb, (size_t)TT);
			mm_gemm_bf16(1, 0, T, dh, T, 1.0f, pb, T, j->xb + dho, dh, 0.0f, ct, dh);
			put_head(a->dv + ro, d, ct, T, dh);
			mm_gemm_bf16(0, 1, T, T, dh, 1.0f, j->xb + dho, dh, y->vb + ho, dh, 0.0f, dp, T);
		} else {
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f,
			            Pd, T, a->dctx + ro, d, 0.0f, a->dv + ro, d);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh, 1.0f,
			            a->dctx + ro, d, y->v + ro, d, 0.0f, dp, T);
		}
		/* through dropout and softmax: dS = P (dP - sum_j P dP) / sqrt(dh) */
		float s = drop ? 1.0f / (1.0f - p) : 1.0f;
		const uint8_t *kp = drop ? y->att_keep + off : NULL;
		for (int t = 0; t < T; t++) {
			float *g = dp + (size_t)t * T;
			const float *pr = P + (size_t)t * T;
			if (kp) drop_apply(g, kp + (size_t)t * T, s, g, T);
			softmax_bwd_row(pr, g, T, sc);
		}
		/* dQ = dS K, dK = dS^T Q (the bias of ALiBi is a constant) */
		if (m->bf16) {
			mm_to_bf16(dp, pb, (size_t)TT);
			mm_gemm_bf16(0, 0, T, dh, T, 1.0f, pb, T, y->kb + ho, dh, 0.0f, ct, dh);
			put_head(a->dq + ro, d, ct, T, dh);
			mm_gemm_bf16(1, 0, T, dh, T, 1.0f, pb, T, y->qb + ho, dh, 0.0f, ct, dh);
			put_head(a->dk + ro, d, ct, T, dh);
		} else {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T, 1.0f,
			            dp, T, y->k + ro, d, 0.0f, a->dq + ro, d);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T, 1.0f,
			            dp, T, y->q + ro, d, 0.0f, a->dk + ro, d);
		}
		/* rotary: q and k were turned after the projection; the gradient
		 * turns back (the rotation's transpose) */
		if (a->rcos)
			for (int t = 0; t < T; t++) {
				rope_row(a, a->dq + ro + (size_t)t * d, t, 1, dh, -1.0f);
				rope_row(a, a->dk + ro + (size_t)t * d, t, 1, dh, -1.0f);
			}
	}
	free(pd);
	free(dp);
	free(pb);
	free(ct);
}

static void add_bwd_rows(void *ctx, int r0, int r1)
{
	ewjob *j = ctx;
	for (int r = r0; r < r1; r++) add_vec(j->out + (size_t)r * j->cols, j->in + (size_t)r * j->cols, j->cols);
}

/* dy[n, d] += dx (a sublayer's input gradient joins the residual's) */
static void add_backward(const bert_model *m, float *dy, const float *dx, int n, int d)
{
	ewjob j = { dx, NULL, dy, NULL, 0, d };
	par_range(m->nthreads, n, add_bwd_rows, &j);
}

/* gated FFNs: d f [., 2F] from d g and the pre-activations f */
static void glu_bwd_rows(void *ctx, int r0, int r1)
{
	ewjob *j = ctx;
	int F = j->cols, silu = j->s != 0;
	for (int r = r0; r < r1; r++)
		glu_bwd_vec(j->f + (size_t)r * 2 * F, j->in + (size_t)r * F, j->out + (size_t)r * 2 * F, F, silu);
}

/* The reverse of ffn_forward for records [b0, b0 + nb): dout, the gradient
 * of the FFN's output (before its bias), gives the FFN's weight and bias
 * gradients, and dx, the gradient of its input y->a1, gets (beta 1: is
 * added) the input's. */
static void ffn_backward(bert_model *m, bert_acts *a, int l, int b0, int nb, const float *dout, float *dx,
                         float beta)
{
	const bert_layer_w *w = &m->w.layer[l];
	bert_layer_w *g = &m->g.layer[l];
	layer_acts *y = &a->l[l];
	int T = a->nt, d = m->c.hidden, F = m->c.ffn, FI = ffn_in(&m->c), R = nb * T;
	size_t r0 = (size_t)b0 * T, od = r0 * d;
	float *dffn = a->dffn + r0 * FI, *f = y->f + r0 * FI;
	if (m->c.ffn_kind == BERT_FFN_GELU) {
		linear_backward(m, a, dout, y->g + r0 * F, NULL, w->fw, g->fw, g->fb, dffn, 0.0f, R, F, d);
		ewjob gj = { NULL, f, dffn, NULL, 0, F };
		par_range(m->nthreads, R, gelu_bwd_rows, &gj);
	} else {
		float *dglu = a->dglu + r0 * F;
		linear_backward(m, a, dout, y->g + r0 * F, NULL, w->fw, g->fw, g->fb, dglu, 0.0f, R, F, d);
		ewjob gj = { dglu, f, dffn, NULL, m->c.ffn_kind == BERT_FFN_SWIGLU, F };
		par_range(m->nthreads, R, glu_bwd_rows, &gj);
	}
	linear_backward(m, a, dffn, y->a1 + od, NULL, w->iw, g->iw, g->ib, dx, beta, R, d, FI);
}

/* dres: d out of layer l on entry, d x[l] on return (records [b0, b0+nb)).
 * Post-LN, the reverse of layer_tail: out = LN2(r2), r2 = a1 + drop(ffn(a1)),
 * a1 = LN1(r1), r1 = x + drop(attn(x)).  Pre-LN: out = r1 + drop(ffn(a1)),
 * a1 = LN2(r1), r1 = x + drop(attn(hn)), hn = LN1(x): the residual's
 * gradient passes each sublayer unchanged, and each sublayer's input
 * gradient goes back through its LayerNorm (in dtmp) and is added to it. */
static void layer_backward(bert_model *m, bert_acts *a, int l, int b0, int nb)
{
	const bert_layer_w *w = &m->w.layer[l];
	bert_layer_w *g = &m->g.layer[l];
	layer_acts *y = &a->l[l];
	int T = a->nt, d = m->c.hidden, R = nb * T, pre = m->c.norm == BERT_NORM_PRE;
	size_t r0 = (size_t)b0 * T, od = r0 * d;
	float *dres = a->dres + od, *dtmp = a->dtmp + od;
	float p = m->c.hidden_drop;

	/* output LayerNorm (post-LN), FFN, its residual */
	if (!pre) ln_backward(m, y->r2 + od, y->mean2 + r0, y->rstd2 + r0, w->ln2w, dres, g->ln2w, g->ln2b, R, d);
	float *dout = dropout_backward(m, a, dres, y->keep2 ? y->keep2 + od : NULL, p, dtmp, R, d);
	float *da1 = pre ? dtmp : dres;       /* pre-LN: d a1 alone, then through LN2 */
	ffn_backward(m, a, l, b0, nb, dout, da1, pre ? 0.0f : 1.0f);
	if (pre) {
		ln_backward(m, y->r1 + od, y->mean2 + r0, y->rstd2 + r0, w->ln2w, dtmp, g->ln2w, g->ln2b, R, d);
		add_backward(m, dres, dtmp, R, d);
	}

	/* attention-output LayerNorm (post-LN), dense, residual */
	if (!pre) ln_backward(m, y->r1 + od, y->mean1 + r0, y->rstd1 + r0, w->ln1w, dres, g->ln1w, g->ln1b, R, d);
	dout = dropout_backward(m, a, dres, y->keep1 ? y->keep1 + od : NULL, p, dtmp, R, d);
	linear_backward(m, a, dout, y->ctx + od, NULL, w->ow, g->ow, g->ob, a->dctx + od, 0.0f, R, d, d);

	/* bf16: dctx of these records rounded once for the attention's
	 * products, head-major */
	uint16_t *dcb = m->bf16 ? bf_slot(a, 1, (size_t)R * d) : NULL;
	if (dcb) bf16_heads(m, a->dctx + od, dcb, R);
	attjob aj = { .m = m, .a = a, .y = y, .l = l, .b0 = b0, .xb = dcb, .R = R };
	par_range(m->nthreads, nb * m->c.heads, att_bwd_range, &aj);

	/* q, k, v of the attention's input: x (post-LN) or hn (pre-LN) */
	const float *x = (pre ? y->hn : a->x[l]) + od;
	const uint16_t *xb = m->bf16 ? to_bf16(m, a, 1, x, R, d) : NULL;
	float *dh = pre ? dtmp : dres;
	linear_backward(m, a, a->dq + od, x, xb, w->qw, g->qw, g->qb, dh, pre ? 0.0f : 1.0f, R, d, d);
	linear_backward(m, a, a->dk + od, x, xb, w->kw, g->kw, g->kb, dh, 1.0f, R, d, d);
	linear_backward(m, a, a->dv + od, x, xb, w->vw, g->vw, g->vb, dh, 1.0f, R, d, d);
	if (pre) {
		ln_backward(m, a->x[l] + od, y->mean1 + r0, y->rstd1 + r0, w->ln1w, dtmp, g->ln1w, g->ln1b, R, d);
		add_backward(m, dres, dtmp, R, d);
	}
}

typedef struct {
	const bert_model *m;
	bert_acts *a;
	int r0, n;
} embjob;

/* scatter-add by columns so each gradient entry sums its rows in order;
 * <PAD> rows add nothing to the word embeddings (nn.Embedding padding_idx),
 * nor, with offset ids, to the position embeddings (ESM's padding_idx
 * there); token dropout scales the word embeddings' gradient as it scaled
 * them */
static void emb_bwd_cols(void *ctx, int c0, int c1)
{
	embjob *j = ctx;
	const bert_model *m = j->m;
	const bert_acts *a = j->a;
	int d = m->c.hidden, pad = m->c.pad_id, off = m->c.pos == BERT_POS_OFFSET;
	for (int r = j->r0; r < j->r0 + j->n; r++) {
		const float *g = a->dres + (size_t)r * d;
		int tok = a->tokens[r];
		float s = emb_scale(m, a, r);
		float *we = tok != pad && s != 0.0f ? m->g.wte + (size_t)tok * d : NULL;
		float *wp = m->g.wpe && !(off && tok == pad) ? m->g.wpe + (size_t)a->pos[r] * d : NULL, *wt = m->g.wtt;
		for (int c = c0; c < c1; c++) {
			if (we) we[c] += g[c] * s;
			if (wp) wp[c] += g[c];
			if (wt) wt[c] += g[c];
		}
	}
}

/* ESM's attention mask on the embeddings, backward: <PAD> rows get none */
static void emb_mask_bwd_rows(void *ctx, int r0, int r1)
{
	embjob *j = ctx;
	int d = j->m->c.hidden;
	for (int r = j->r0 + r0; r < j->r0 + r1; r++)
		if (j->a->tokens[r] == j->m->c.pad_id) memset(j->a->dres + (size_t)r * d, 0, d * sizeof(float));
}

static void head_dlogits_rows(void *ctx, int i0, int i1)
{
	rowop *o = ctx;
	bert_acts *a = o->a;
	int V = a->V;
	for (int i = i0 + o->l; i < i1 + o->l; i++) {      /* o->l: first masked row */
		const float *pr = a->prob + (size_t)i * V;
		float *g = a->dlog + (size_t)i * V;
		for (int v = 0; v < V; v++) g[v] = pr[v] * o->p;
		g[a->mlab[i]] -= o->p;
	}
}

static void scatter_rows(void *ctx, int i0, int i1)
{
	rowop *o = ctx;
	bert_acts *a = o->a;
	int d = a->d;
	for (int i = i0 + o->l; i < i1 + o->l; i++)
		memcpy(a->dres + (size_t)a->mrow[i] * d, a->dhx + (size_t)i * d, d * sizeof(float));
}

void bert_backward(bert_model *m, bert_acts *a, int b0, int nb, float scale)
{
	int T = a->nt, d = m->c.hidden, V = m->c.vocab_size, R = nb * T;
	size_t r0 = (size_t)b0 * T;
	int m0 = a->mstart[b0], nmk = a->mstart[b0 + nb] - m0;
	BERT_INVARIANT(a->train && m->grads, "activations not kept for training or no gradients");
	a->xb_layer = -1;                     /* slot 1 is scratch from here on */
	memset(a->dres + r0 * d, 0, (size_t)R * d * sizeof(float));
	if (nmk > 0) {
		rowop o = { .m = m, .a = a, .p = scale, .l = m0 };
		par_range(m->nthreads, nmk, head_dlogits_rows, &o);
		size_t md = (size_t)m0 * d;
		float *dlog = a->dlog + (size_t)m0 * V;
		/* decoder: d E += dlogits^T hy; bias; d hy = dlogits E (E: the word
		 * embeddings when tied) */
		const float *dec = m->w.dec_w ? m->w.dec_w : m->w.wte;
		float *gdec = m->g.dec_w ? m->g.dec_w : m->g.wte;
		linear_backward(m, a, dlog, a->hy + md, NULL, dec, gdec, m->g.cls_bias, a->dhy + md, 0.0f, nmk, d, V);
		ln_backward(m, a->hg + md, a->hmean + m0, a->hrstd + m0, m->w.tln_w, a->dhy + md,
		            m->g.tln_w, m->g.tln_b, nmk, d);
		ewjob gj = { NULL, a->ht + md, a->dhy + md, NULL, 0, d };
		par_range(m->nthreads, nmk, gelu_bwd_rows, &gj);
		linear_backward(m, a, a->dhy + md, a->hx + md, NULL, m->w.tw, m->g.tw, m->g.tb, a->dhx + md, 0.0f, nmk, d, d);
		o.l = m0;
		par_range(m->nthreads, nmk, scatter_rows, &o);
	}
	float *dres = a->dres + r0 * d;
	if (m->c.final_ln)
		ln_backward(m, a->fin + r0 * d, a->fmean + r0, a->frstd + r0, m->w.fln_w, dres,
		            m->g.fln_w, m->g.fln_b, R, d);
	for (int l = m->c.layers - 1; l >= 0; l--) layer_backward(m, a, l, b0, nb);

	embjob ej = { m, a, (int)r0, R };
	if (emb_esm(&m->c)) par_range(m->nthreads, R, emb_mask_bwd_rows, &ej);
	if (emb_dropped(m, a)) {
		float *dx = dropout_backward(m, a, dres, a->emb_keep + r0 * d, m->c.hidden_drop, a->dtmp + r0 * d, R, d);
		if (dx != dres) memcpy(dres, dx, (size_t)R * d * sizeof(float));
	}
	if (!m->c.emb_noln)
		ln_backward(m, a->emb + r0 * d, a->emb_mean + r0, a->emb_rstd + r0, m->w.eln_w, dres,
		            m->g.eln_w, m->g.eln_b, R, d);
	par_range(m->nthreads, d, emb_bwd_cols, &ej);
}

double bert_train_flops_per_token(const bert_config *c, int T, double mask_frac)
{
	double d = c->hidden, F = c->ffn, V = c->vocab_size, L = c->layers;
	double ffn = c->ffn_kind == BERT_FFN_GELU ? 2 : 3;     /* gated: two d x F products in */
	double fwd = L * (4 * d * d + ffn * d * F) * 2 + L * 2.0 * T * d * 2 + mask_frac * (d * d + d * V) * 2;
	return 3 * fwd;
}
