/* embed.c -- neighbour, Procrustes and CKA comparisons of embedding
 * matrices (see embed.h for the definitions). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "base/cli.h"
#include "analysis/embed.h"
#include "analysis/metrics.h"
#include "base/par.h"

/* LAPACK from OpenBLAS (Debian ships it inside libopenblas; no lapacke.h) */
extern void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda,
                    float *s, float *u, const int *ldu, float *vt, const int *ldvt,
                    float *work, const int *lwork, int *iwork, int *info);

#define EMB_MAX_V 32768           /* V x V matrices: 4 GiB at this size; ids fit 16 bits */

/* V x V buffers: 2 MiB aligned and on huge pages where the kernel allows,
 * because 4 KiB page faults on 64 MiB matrices cost as much as the maths
 * in a virtual machine */
static void *big_alloc(size_t n)
{
	void *p = NULL;
	size_t huge = (size_t)2 << 20;
	if (posix_memalign(&p, huge, (n + huge - 1) / huge * huge)) die("out of memory (%zu bytes)", n);
#ifdef MADV_HUGEPAGE
	madvise(p, (n + huge - 1) / huge * huge, MADV_HUGEPAGE);
#endif
	return p;
}

/* -v -v: the time of each step, for profiling */
static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}
#define STEP(what) do { if (cli_verbose > 1) { double t_ = cli_now(), c_ = cpu_now(); \
	info("  %-24s %.3f s (cpu %.3f s)", what, t_ - t_step, c_ - c_step); t_step = t_; c_step = c_; } } while (0)

/* ---- one model ----------------------------------------------------------- */
enum { COS_TILE = 256 };
typedef struct { int n, d, nt; const float *xn; float *g; } cos_ctx;

/* tile t of the upper triangle, in row-major order of the tile grid */
static void cos_tile(void *arg, int t, int tid)
{
	(void)tid;
	cos_ctx *c = arg;
	int bi = 0;
	while (t >= c->nt - bi) { t -= c->nt - bi; bi++; }
	int bj = bi + t, i0 = bi * COS_TILE, j0 = bj * COS_TILE, n = c->n, d = c->d;
	int mi = n - i0 < COS_TILE ? n - i0 : COS_TILE, mj = n - j0 < COS_TILE ? n - j0 : COS_TILE;
	if (bi == bj)
		cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, mi, d, 1, c->xn + (size_t)i0 * d, d, 0,
		            c->g + (size_t)i0 * n + i0, n);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mi, mj, d, 1, c->xn + (size_t)i0 * d, d,
		            c->xn + (size_t)j0 * d, d, 0, c->g + (size_t)i0 * n + j0, n);
}

typedef struct {
	int V;
	float *cos;                   /* V x V */
	uint16_t *order;              /* V x V, self last */
	uint32_t **scratch;           /* per thread, 4V */
	int32_t **tmp;                /* per thread, V */
} sort_ctx;

static void sort_row(void *arg, int i, int tid)
{
	sort_ctx *c = arg;
	int V = c->V;
	float *row = c->cos + (size_t)i * V;
	row[i] = -INFINITY;           /* self last: excluded */
	int32_t *o = c->tmp[tid];
	uint16_t *dst = c->order + (size_t)i * V;
	met_argsort_desc(row, V, o, c->scratch[tid]);
	for (int j = 0; j < V; j++) dst[j] = (uint16_t)o[j];
}

typedef struct {
	int V;
	float *g;                     /* V x V: cosines in, RBF Gram out */
	const double *n2;             /* squared row norms */
	const double *nrm;            /* row norms */
	double inv2s2;
	double *rowmean;
	double grand;
	double *rowsq;
} rbf_ctx;

/* squared distances from cosines and norms; the diagonal is exactly 0 and
 * rounding below 0 is clamped */
static void rbf_dist_row(void *arg, int i, int tid)
{
	(void)tid;
	rbf_ctx *c = arg;
	float *r = c->g + (size_t)i * c->V;
	for (int j = 0; j < c->V; j++) {
		double d = c->n2[i] + c->n2[j] - 2 * c->nrm[i] * c->nrm[j] * r[j];
		r[j] = j == i || d < 0 ? 0 : (float)d;
	}
}

static void rbf_exp_row(void *arg, int i, int tid)
{
	(void)tid;
	rbf_ctx *c = arg;
	float *r = c->g + (size_t)i * c->V;
	double s = 0;
	for (int j = 0; j < c->V; j++) { r[j] = expf((float)(-r[j] * c->inv2s2)); s += r[j]; }
	c->rowmean[i] = s / c->V;
}

static void rbf_centre_row(void *arg, int i, int tid)
{
	(void)tid;
	rbf_ctx *c = arg;
	float *r = c->g + (size_t)i * c->V;
	double s = 0, a = c->grand - c->rowmean[i];
	for (int j = 0; j < c->V; j++) {
		float v = (float)(r[j] + a - c->rowmean[j]);
		r[j] = v;
		s += (double)v * v;
	}
	c->rowsq[i] = s;
}

/* the element of rank (n-1)/2 (0-based, ascending) of non-negative floats:
 * two histogram passes on the bit patterns, which order like the values */
static float lower_median(const float *x, size_t n)
{
	uint64_t want = (n - 1) / 2;
	uint32_t *h = xcalloc(65536, sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) { uint32_t b; memcpy(&b, x + i, 4); h[b >> 16]++; }
	uint32_t hi = 0;
	for (uint64_t cum = 0; hi < 65536; hi++) {
		if (cum + h[hi] > want) { want -= cum; break; }
		cum += h[hi];
	}
	memset(h, 0, 65536 * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) { uint32_t b; memcpy(&b, x + i, 4); if (b >> 16 == hi) h[b & 0xffff]++; }
	uint32_t lo = 0;
	for (uint64_t cum = 0; lo < 65536; lo++) {
		if (cum + h[lo] > want) break;
		cum += h[lo];
	}
	free(h);
	uint32_t b = hi << 16 | lo;
	float v;
	memcpy(&v, &b, 4);
	return v;
}

static double sum_d(const double *x, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++) s += x[i];
	return s;
}

int emb_model_init(emb_model *m, const float *E, int V, int d, int first, int flags,
                   int threads, char *err, int errlen)
{
	memset(m, 0, sizeof *m);
	double t_step = cli_now(), c_step = cpu_now();
	int n = V - first;
	if (n < 3 || d < 1) { snprintf(err, errlen, "need at least 3 rows and 1 column, have %d x %d", n, d); return -1; }
	if (n > EMB_MAX_V) { snprintf(err, errlen, "%d rows: more than the %d the V x V analyses allow", n, EMB_MAX_V); return -1; }
	const float *x = E + (size_t)first * d;
	for (size_t i = 0; i < (size_t)n * d; i++)
		if (!isfinite(x[i])) { snprintf(err, errlen, "embedding row %zu holds NaN or Inf", i / d + first); return -1; }
	m->V = n; m->d = d;

	/* row norms and the row-normalised copy */
	double *n2 = xmalloc(sizeof(double) * n), *nrm = xmalloc(sizeof(double) * n);
	float *xn = xaligned(sizeof(float) * (size_t)n * d);
	for (int i = 0; i < n; i++) {
		double s = 0;
		for (int j = 0; j < d; j++) s += (double)x[(size_t)i * d + j] * x[(size_t)i * d + j];
		n2[i] = s; nrm[i] = sqrt(s);
		float w = s > 0 ? (float)(1 / nrm[i]) : 0;
		for (int j = 0; j < d; j++) xn[(size_t)i * d + j] = x[(size_t)i * d + j] * w;
	}
	/* every cosine at once: the normalised matrix times its transpose, in
	 * tiles of COS_TILE rows, the upper triangle only (ssyrk on the
	 * diagonal tiles, sgemm off it), the tiles spread over the threads:
	 * each tile is one single-threaded BLAS call of a shape fixed by n, so
	 * the bits do not depend on -t */
	float *g = big_alloc(sizeof(float) * (size_t)n * n);
	int nt = (n + COS_TILE - 1) / COS_TILE;
	cos_ctx cc = {n, d, nt, xn, g};
	par_dynamic(threads, nt * (nt + 1) / 2, cos_tile, &cc);
	STEP("cosines (tiles)");
	free(xn);
	for (int bi = 0; bi < n; bi += 64)       /* mirror, in tiles for the cache */
		for (int bj = 0; bj <= bi; bj += 64)
			for (int i = bi; i < bi + 64 && i < n; i++)
				for (int j = bj; j < bj + 64 && j < i; j++) g[(size_t)i * n + j] = g[(size_t)j * n + i];

	/* neighbour order per row */
	m->order = big_alloc(sizeof(uint16_t) * (size_t)n * n);
	if (threads < 1) threads = 1;
	sort_ctx sc = {n, g, m->order, xmalloc(sizeof(uint32_t *) * threads), xmalloc(sizeof(int32_t *) * threads)};
	for (int t = 0; t < threads; t++) {
		sc.scratch[t] = xmalloc(sizeof(uint32_t) * 4 * n);
		sc.tmp[t] = xmalloc(sizeof(int32_t) * n);
	}
	par_dynamic(threads, n, sort_row, &sc);
	STEP("neighbour sort");
	for (int t = 0; t < threads; t++) { free(sc.scratch[t]); free(sc.tmp[t]); }
	free(sc.scratch); free(sc.tmp);

	/* the RBF Gram matrix, centred, in g's memory */
	if (!(flags & EMB_NO_RBF)) {
		rbf_ctx rc = {n, g, n2, nrm, 0, xmalloc(sizeof(double) * n), 0, xmalloc(sizeof(double) * n)};
		par_dynamic(threads, n, rbf_dist_row, &rc);
		m->sigma2 = lower_median(g, (size_t)n * n);
		STEP("distances, median");
		if (!(m->sigma2 > 0)) {
			snprintf(err, errlen, "RBF bandwidth is 0 (most rows are identical)");
			free(rc.rowmean); free(rc.rowsq); free(g); free(n2); free(nrm);
			emb_model_free(m);
			return -1;
		}
		rc.inv2s2 = 1 / (2 * m->sigma2);
		par_dynamic(threads, n, rbf_exp_row, &rc);
		STEP("exp");
		rc.grand = sum_d(rc.rowmean, n) / n;
		par_dynamic(threads, n, rbf_centre_row, &rc);
		STEP("centre");
		m->kc_norm = sqrt(sum_d(rc.rowsq, n));
		m->kc = g;
		free(rc.rowmean); free(rc.rowsq);
	} else free(g);
	free(n2); free(nrm);

	/* centred columns, their norm and Gram norm (linear CKA, Procrustes) */
	m->xc = big_alloc(sizeof(float) * (size_t)n * d);
	double *mu = xcalloc(d, sizeof(double)), s = 0;
	for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mu[j] += x[(size_t)i * d + j];
	for (int j = 0; j < d; j++) mu[j] /= n;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < d; j++) {
			float v = (float)(x[(size_t)i * d + j] - mu[j]);
			m->xc[(size_t)i * d + j] = v;
			s += (double)v * v;
		}
	free(mu);
	m->xc_norm = sqrt(s);
	float *gg = xaligned(sizeof(float) * (size_t)d * d);
	par_sgemm(threads, CblasTrans, CblasNoTrans, d, d, n, 1, m->xc, d, m->xc, d, 0, gg, d);
	s = 0;
	for (size_t i = 0; i < (size_t)d * d; i++) s += (double)gg[i] * gg[i];
	m->gram_norm = sqrt(s);
	STEP("centred copy, Gram");
	free(gg);
	return 0;
}

void emb_model_free(emb_model *m)
{
	free(m->order); free(m->xc); free(m->kc);
	memset(m, 0, sizeof *m);
}

/* ---- a pair -------------------------------------------------------------- */
typedef struct {
	const emb_model *a, *b;
	int nk, kmax, one_sided;
	const int *ks;                /* ascending */
	double *jac, *spear;          /* nk x V, per row */
	uint16_t **posa, **posb, **stampa, **stampb; /* 16 bits: the per-row tables stay in L1 */
	uint64_t **bits;
	int **wcnt;
	uint16_t **P;
} pair_ctx;

/* Spearman of the cosines to the first k of order `oa` as seen by the
 * model whose neighbour positions are `pos`: walk oa, mark pos in a
 * bitmap, and at each k count the marks below each position (word
 * prefix counts + popcount).  rank_a(t) = t; rank_b = marks below. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("popcnt", "default")))
#endif
static void spearman_walk(const uint16_t *oa, const uint16_t *pos, int V, const int *ks, int nk,
                          uint64_t *bits, int *wcnt, uint16_t *P, double *out, int row, int Vrows)
{
	int nw = (V + 63) / 64, c = 0;
	memset(bits, 0, sizeof(uint64_t) * nw);
	for (int t = 0; c < nk; t++) {
		int p = P[t] = pos[oa[t]];
		bits[p >> 6] |= 1ULL << (p & 63);
		while (c < nk && t + 1 == ks[c]) {
			int k = ks[c];
			if (k < 2) { out[(size_t)c * Vrows + row] += NAN; c++; continue; }
			int acc = 0;
			for (int w = 0; w < nw; w++) { wcnt[w] = acc; acc += __builtin_popcountll(bits[w]); }
			double d2 = 0;
			for (int u = 0; u < k; u++) {
				int q = P[u];
				int below = wcnt[q >> 6] + __builtin_popcountll(bits[q >> 6] & ((1ULL << (q & 63)) - 1));
				d2 += (double)(u - below) * (u - below);
			}
			out[(size_t)c * Vrows + row] += 1 - 6 * d2 / ((double)k * ((double)k * k - 1));
			c++;
		}
	}
}

static void pair_row(void *arg, int i, int tid)
{
	pair_ctx *c = arg;
	int V = c->a->V, n1 = V - 1;
	const uint16_t *oa = c->a->order + (size_t)i * V, *ob = c->b->order + (size_t)i * V;
	uint16_t *sa = c->stampa[tid], *sb = c->stampb[tid], *pa = c->posa[tid], *pb = c->posb[tid];
	uint16_t st = (uint16_t)(i + 1);
	/* Jaccard: a token joins the intersection when the second side adds it */
	int inter = 0, k = 0;
	for (int t = 0; k < c->nk; t++) {
		int x = oa[t], y = ob[t];
		sa[x] = st;
		inter += sb[x] == st;
		sb[y] = st;
		inter += sa[y] == st;
		while (k < c->nk && t + 1 == c->ks[k]) {
			c->jac[(size_t)k * V + i] = (double)inter / (2.0 * c->ks[k] - inter);
			k++;
		}
	}
	/* positions of every token in each order (self excluded: never looked up) */
	for (int t = 0; t < n1; t++) { pa[oa[t]] = (uint16_t)t; pb[ob[t]] = (uint16_t)t; }
	for (int j = 0; j < c->nk; j++) c->spear[(size_t)j * V + i] = 0;
	spearman_walk(oa, pb, n1, c->ks, c->nk, c->bits[tid], c->wcnt[tid], c->P[tid], c->spear, i, V);
	if (!c->one_sided) {
		spearman_walk(ob, pa, n1, c->ks, c->nk, c->bits[tid], c->wcnt[tid], c->P[tid], c->spear, i, V);
		for (int j = 0; j < c->nk; j++) c->spear[(size_t)j * V + i] *= 0.5;
	}
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* Procrustes as scipy.spatial.procrustes, from C = A'B of the centred
 * matrices: M = C / (|A| |B|) = U S V'; disparity 1 - (sum S)^2, R = U V',
 * and B is mapped to B R'.  The SVD is LAPACK's sgesdd (single precision:
 * half the time of dgesdd; the sum of the singular values is good to
 * about 1e-6, as is C itself, a float product). */
static int procrustes(const emb_model *a, const emb_model *b, const float *C, emb_pair *out,
                      char *err, int errlen)
{
	int d = a->d, V = a->V, info = 0, lwork = -1;
	float *M = xmalloc(sizeof(float) * d * d), *S = xmalloc(sizeof(float) * d);
	float *U = xmalloc(sizeof(float) * d * d), *VT = xmalloc(sizeof(float) * d * d), wq;
	int *iw = xmalloc(sizeof(int) * 8 * d);
	double w = 1 / (a->xc_norm * b->xc_norm);
	for (int i = 0; i < d * d; i++) M[i] = (float)(C[i] * w);
	/* LAPACK is column-major: it sees M' = U1 S VT1, so M = VT1' S U1' and
	 * R' = (U V')' = U1 VT1, which read row-major is R. */
	sgesdd_("A", &d, &d, M, &d, S, U, &d, VT, &d, &wq, &lwork, iw, &info);
	lwork = (int)wq;
	float *work = xmalloc(sizeof(float) * (lwork > 1 ? lwork : 1));
	if (!info) sgesdd_("A", &d, &d, M, &d, S, U, &d, VT, &d, work, &lwork, iw, &info);
	free(work); free(iw); free(M);
	if (info) {
		snprintf(err, errlen, "SVD failed (LAPACK sgesdd info %d)", info);
		free(S); free(U); free(VT);
		return -1;
	}
	double s = 0;
	for (int i = 0; i < d; i++) s += S[i];
	out->disparity = 1 - s * s;
	if (out->disparity < 0) out->disparity = 0;
	/* B R' in blocks of rows: fresh memory is slow to fault in, keep it small */
	enum { YB = 256 };
	float *R = xmalloc(sizeof(float) * d * d), *Y = xmalloc(sizeof(float) * (size_t)YB * d);
	cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1, U, d, VT, d, 0, R, d);
	double cs = 0;
	for (int i = 0; i < V; i++) {
		if (i % YB == 0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, V - i < YB ? V - i : YB, d, d, 1,
			            b->xc + (size_t)i * d, d, R, d, 0, Y, d);
		const float *x = a->xc + (size_t)i * d, *y = Y + (size_t)(i % YB) * d;
		double xy = 0, xx = 0, yy = 0;
		for (int j = 0; j < d; j++) { xy += (double)x[j] * y[j]; xx += (double)x[j] * x[j]; yy += (double)y[j] * y[j]; }
		if (xx > 0 && yy > 0) cs += xy / sqrt(xx * yy);
	}
	out->procrustes_cos = cs / V;
	free(R); free(Y); free(S); free(U); free(VT);
	return 0;
}

typedef struct {
	const emb_model *a, *b;
	const float *C;
	emb_pair *out;
	char *err;
	int errlen, rc;
} proc_job;

static void proc_run(void *arg)
{
	proc_job *j = arg;
	j->rc = procrustes(j->a, j->b, j->C, j->out, j->err, j->errlen);
}

typedef struct { const float *x, *y; size_t n; double *part; int nparts; } dot_ctx;

static void dot_part(void *arg, int i, int tid)
{
	(void)tid;
	dot_ctx *c = arg;
	size_t b = c->n * i / c->nparts, e = c->n * (i + 1) / c->nparts;
	double s = 0;
	for (size_t j = b; j < e; j++) s += (double)c->x[j] * c->y[j];
	c->part[i] = s;
}

int emb_compare(const emb_model *a, const emb_model *b, int nk, const int *k, int one_sided,
                int threads, double *jac, double *spear, emb_pair *out, char *err, int errlen)
{
	int V = a->V, d = a->d;
	double t_step = cli_now(), c_step = cpu_now();
	if (b->V != V || b->d != d) {
		snprintf(err, errlen, "embedding shapes differ: %d x %d and %d x %d", V, d, b->V, b->d);
		return -1;
	}
	for (int i = 0; i < nk; i++)
		if (k[i] < 1 || k[i] > V - 1) {
			snprintf(err, errlen, "k = %d: need 1 <= k < %d (rows used)", k[i], V);
			return -1;
		}
	if (threads < 1) threads = 1;
	/* neighbours: sort the k list, map results back */
	int *ks = xmalloc(sizeof(int) * (nk ? nk : 1)), *idx = xmalloc(sizeof(int) * (nk ? nk : 1));
	memcpy(ks, k, sizeof(int) * nk);
	qsort(ks, nk, sizeof(int), cmp_int);
	int nu = 0;
	for (int i = 0; i < nk; i++) if (!nu || ks[nu - 1] != ks[i]) ks[nu++] = ks[i];
	pair_ctx pc = {a, b, nu, nu ? ks[nu - 1] : 0, one_sided, ks,
	               xmalloc(sizeof(double) * (nu ? nu : 1) * V), xmalloc(sizeof(double) * (nu ? nu : 1) * V),
	               xmalloc(sizeof(void *) * threads), xmalloc(sizeof(void *) * threads),
	               xmalloc(sizeof(void *) * threads), xmalloc(sizeof(void *) * threads),
	               xmalloc(sizeof(void *) * threads), xmalloc(sizeof(void *) * threads),
	               xmalloc(sizeof(void *) * threads)};
	for (int t = 0; t < threads; t++) {
		pc.P[t] = xmalloc(sizeof(uint16_t) * V);
		pc.posa[t] = xmalloc(sizeof(uint16_t) * V);
		pc.posb[t] = xmalloc(sizeof(uint16_t) * V);
		pc.stampa[t] = xcalloc(V, sizeof(uint16_t));
		pc.stampb[t] = xcalloc(V, sizeof(uint16_t));
		pc.bits[t] = xmalloc(sizeof(uint64_t) * ((V + 63) / 64));
		pc.wcnt[t] = xmalloc(sizeof(int) * ((V + 63) / 64));
	}
	/* Procrustes (an SVD, mostly serial) runs beside the row work, which
	 * still gets every thread: the two share the cores */
	float *C = xaligned(sizeof(float) * d * d);
	par_sgemm(threads, CblasTrans, CblasNoTrans, d, d, V, 1, a->xc, d, b->xc, d, 0, C, d);
	STEP("C = A'B");
	proc_job pj = {a, b, C, out, err, errlen, 0};
	par_dynamic_first(threads, nu ? V : 0, pair_row, &pc, proc_run, &pj);
	STEP("rows; SVD joined");
	for (int i = 0; i < nk; i++) {
		int u = 0;
		while (ks[u] != k[i]) u++;
		idx[i] = u;
		jac[i] = sum_d(pc.jac + (size_t)u * V, V) / V;
		spear[i] = sum_d(pc.spear + (size_t)u * V, V) / V;
	}
	for (int t = 0; t < threads; t++) {
		free(pc.posa[t]); free(pc.posb[t]); free(pc.stampa[t]); free(pc.stampb[t]);
		free(pc.bits[t]); free(pc.wcnt[t]); free(pc.P[t]);
	}
	free(pc.posa); free(pc.posb); free(pc.stampa); free(pc.stampb); free(pc.bits); free(pc.wcnt); free(pc.P);
	free(pc.jac); free(pc.spear); free(ks); free(idx);

	/* C = A'B: linear CKA (and Procrustes above) */
	double c2 = 0;
	for (int i = 0; i < d * d; i++) c2 += (double)C[i] * C[i];
	out->cka_linear = a->gram_norm > 0 && b->gram_norm > 0 ? c2 / (a->gram_norm * b->gram_norm) : NAN;
	free(C);
	if (pj.rc < 0) return -1;

	out->cka_rbf = NAN;
	if (a->kc && b->kc) {
		int np = 64;
		double part[64];
		dot_ctx dc = {a->kc, b->kc, (size_t)V * V, part, np};
		par_dynamic(threads, np, dot_part, &dc);
		STEP("RBF dot");
		out->cka_rbf = sum_d(part, np) / (a->kc_norm * b->kc_norm);
	}
	return 0;
}
