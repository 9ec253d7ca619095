/* test_par.c -- threads (par.h): every task run once, slices that do not
 * depend on the thread count, matrix products with the same bits for any
 * -t, and the shared-counter loop for tasks of unequal cost. */
#include <stdlib.h>
#include <string.h>
#include "base/par.h"
#include "base/rng.h"
#include "tap.h"

typedef struct { int *hits; } for_ctx;
static void count_hit(void *arg, int i) { __atomic_fetch_add(&((for_ctx *)arg)->hits[i], 1, __ATOMIC_RELAXED); }

typedef struct { int *hits; int bad; } range_ctx;
static void count_range(void *arg, int i0, int i1)
{
	range_ctx *c = arg;
	if (i0 > i1) __atomic_fetch_add(&c->bad, 1, __ATOMIC_RELAXED);
	for (int i = i0; i < i1; i++) __atomic_fetch_add(&c->hits[i], 1, __ATOMIC_RELAXED);
}

static int all_once(const int *hits, int n)
{
	for (int i = 0; i < n; i++) if (hits[i] != 1) return 0;
	return 1;
}

static void test_for(void)
{
	static const int ns[] = {0, 1, 3, 7, 1000};
	for (int t = 1; t <= 8; t *= 2)
		for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
			int n = ns[k], *h = calloc(n + 1, sizeof *h);
			for_ctx c = {h};
			par_for(t, n, count_hit, &c);
			ok(all_once(h, n), "par_for -t %d, %d tasks: each task once", t, n);
			memset(h, 0, (n + 1) * sizeof *h);
			range_ctx r = {h, 0};
			par_range(t, n, count_range, &r);
			ok(all_once(h, n) && !r.bad, "par_range -t %d, %d tasks: slices cover each task once", t, n);
			free(h);
		}
}

typedef struct { int *hits, *tid_bad, nthreads, first_runs, first_tid_ok; } dyn_ctx;
static void dyn_hit(void *arg, int i, int tid)
{
	dyn_ctx *c = arg;
	__atomic_fetch_add(&c->hits[i], 1, __ATOMIC_RELAXED);
	if (tid < 0 || tid >= c->nthreads) __atomic_fetch_add(c->tid_bad, 1, __ATOMIC_RELAXED);
}
static void dyn_first(void *arg) { ((dyn_ctx *)arg)->first_runs++; }

static void test_dynamic(void)
{
	for (int t = 1; t <= 4; t++) {
		int n = 513, *h = calloc(n, sizeof *h), bad = 0;
		dyn_ctx c = {h, &bad, t, 0, 0};
		par_dynamic(t, n, dyn_hit, &c);
		ok(all_once(h, n) && bad == 0, "par_dynamic -t %d: each i once, tid in [0,t)", t);
		memset(h, 0, n * sizeof *h);
		par_dynamic_first(t, n, dyn_hit, &c, dyn_first, &c);
		ok(all_once(h, n) && c.first_runs == 1, "par_dynamic_first -t %d: first runs once, each i once", t);
		free(h);
	}
	int bad = 0;
	dyn_ctx c = {NULL, &bad, 1, 0, 0};
	par_dynamic(3, 0, dyn_hit, &c);
	ok(bad == 0, "par_dynamic with no tasks calls nothing");
}

/* C = A B^T (+ C) for odd shapes: the bits do not depend on -t, and they
 * are a matrix product */
static void test_sgemm(void)
{
	const int M = 67, N = 131, K = 45;
	float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K);
	float *C1 = malloc(sizeof(float) * M * N), *Ct = malloc(sizeof(float) * M * N);
	rng_t r;
	rng_seed(&r, 7, 0);
	for (int i = 0; i < M * K; i++) A[i] = (float)rng_uniform(&r) - 0.5f;
	for (int i = 0; i < N * K; i++) B[i] = (float)rng_uniform(&r) - 0.5f;
	for (int i = 0; i < M * N; i++) C1[i] = (float)i / (M * N);
	memcpy(Ct, C1, sizeof(float) * M * N);
	par_sgemm(1, CblasNoTrans, CblasTrans, M, N, K, 0.5f, A, K, B, K, 1.0f, C1, N);
	double worst = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double s = 0;
			for (int k = 0; k < K; k++) s += (double)A[i * K + k] * B[j * K + k];
			double want = 0.5 * s + (double)(i * N + j) / (M * N), d = C1[i * N + j] - want;
			if (d < 0) d = -d;
			if (d > worst) worst = d;
		}
	ok(worst < 1e-5, "par_sgemm -t 1 is C = 0.5 A B^T + C (worst error %.2g)", worst);
	float *C0 = malloc(sizeof(float) * M * N);
	for (int t = 2; t <= 8; t *= 2) {
		memcpy(C0, Ct, sizeof(float) * M * N);
		par_sgemm(t, CblasNoTrans, CblasTrans, M, N, K, 0.5f, A, K, B, K, 1.0f, C0, N);
		ok(memcmp(C0, C1, sizeof(float) * M * N) == 0, "par_sgemm -t %d: the same bits as -t 1", t);
	}
	free(A); free(B); free(C0); free(C1); free(Ct);
}

int main(void)
{
	par_blas_single();
	test_for();
	test_dynamic();
	test_sgemm();
	return done_testing();
}
