/* par.c -- fork/join loops and chunked sgemm; see par.h for why. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "par.h"
#include "cli.h"

extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

enum { PAR_MAX_THREADS = 256 };

typedef struct {
	void (*fn)(void *, int);
	void (*rfn)(void *, int, int);
	void *ctx;
	int i0, i1;
} par_job;

static void *par_run(void *arg)
{
	par_job *j = arg;
	if (j->rfn) {
		if (j->i1 > j->i0) j->rfn(j->ctx, j->i0, j->i1);
	} else {
		for (int i = j->i0; i < j->i1; i++) j->fn(j->ctx, i);
	}
	return NULL;
}

static void par_spread(int nthreads, int n, par_job proto)
{
	if (nthreads > n) nthreads = n;
	if (nthreads > PAR_MAX_THREADS) nthreads = PAR_MAX_THREADS;
	if (nthreads <= 1) {
		proto.i0 = 0, proto.i1 = n;
		par_run(&proto);
		return;
	}
	par_job job[PAR_MAX_THREADS];
	pthread_t tid[PAR_MAX_THREADS];
	int started[PAR_MAX_THREADS] = {0};
	for (int k = 0; k < nthreads; k++) {
		job[k] = proto;
		job[k].i0 = (int)((long)n * k / nthreads);
		job[k].i1 = (int)((long)n * (k + 1) / nthreads);
	}
	/* thread 0's slice runs on the caller; if a thread cannot be created
	 * its slice also runs here, which changes nothing but speed */
	for (int k = 1; k < nthreads; k++)
		started[k] = pthread_create(&tid[k], NULL, par_run, &job[k]) == 0;
	par_run(&job[0]);
	for (int k = 1; k < nthreads; k++) {
		if (started[k]) pthread_join(tid[k], NULL);
		else par_run(&job[k]);
	}
}

void par_for(int nthreads, int n, void (*fn)(void *ctx, int i), void *ctx)
{
	par_job p = { fn, NULL, ctx, 0, 0 };
	par_spread(nthreads, n, p);
}

void par_range(int nthreads, int n, void (*fn)(void *ctx, int i0, int i1), void *ctx)
{
	par_job p = { NULL, fn, ctx, 0, 0 };
	par_spread(nthreads, n, p);
}

typedef struct {
	CBLAS_TRANSPOSE ta, tb;
	int M, N, K, chunk, split_m;
	float alpha, beta;
	const float *A, *B;
	float *C;
	int lda, ldb, ldc;
} mm_job;

static void mm_chunk(void *ctx, int c)
{
	const mm_job *j = ctx;
	if (j->split_m) {
		int i0 = c * j->chunk, m = j->M - i0 < j->chunk ? j->M - i0 : j->chunk;
		const float *a = j->ta == CblasNoTrans ? j->A + (size_t)i0 * j->lda : j->A + i0;
		cblas_sgemm(CblasRowMajor, j->ta, j->tb, m, j->N, j->K, j->alpha, a, j->lda,
		            j->B, j->ldb, j->beta, j->C + (size_t)i0 * j->ldc, j->ldc);
	} else {
		int i0 = c * j->chunk, n = j->N - i0 < j->chunk ? j->N - i0 : j->chunk;
		const float *b = j->tb == CblasNoTrans ? j->B + i0 : j->B + (size_t)i0 * j->ldb;
		cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, n, j->K, j->alpha, j->A, j->lda,
		            b, j->ldb, j->beta, j->C + i0, j->ldc);
	}
}

void par_sgemm(int nthreads, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
               int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
	if (M <= 0 || N <= 0) return;
	mm_job j = { ta, tb, M, N, K, 0, M >= N, alpha, beta, A, B, C, lda, ldb, ldc };
	/* chunks of at least 128 rows (or columns), at most 16 of them: a
	 * function of the shape alone, so the bits do not depend on nthreads.
	 * (Each chunk packs the whole other operand again: more chunks cost
	 * packing, fewer balance worse.) */
	int dim = j.split_m ? M : N;
	int chunk = (dim + 15) / 16;
	chunk = (chunk + 15) / 16 * 16;
	if (chunk < 128) chunk = 128;
	j.chunk = chunk;
	par_for(nthreads, (dim + chunk - 1) / chunk, mm_chunk, &j);
}

void par_blas_single(void)
{
	cli_blas_single();
}

void par_blas_prefer_avx512(char **argv)
{
#if defined(__x86_64__) && defined(__linux__)
	if (getenv("OPENBLAS_CORETYPE") || getenv("SEQLM_NO_REEXEC")) return;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
	    !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
		return;
	const char *core = openblas_get_corename();
	if (!core || (strcmp(core, "Haswell") != 0 && strcmp(core, "Zen") != 0)) return;
	if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) != 0) return;
	execv("/proc/self/exe", argv);
	unsetenv("OPENBLAS_CORETYPE");       /* exec failed: go on as we are */
#else
	(void)argv;
#endif
}
