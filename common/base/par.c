/* par.c -- fork/join loops and chunked sgemm; see par.h for why. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "base/par.h"
#include "base/cli.h"
#include "base/mm.h"
#include "base/cpu.h"

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

/* The workers are started once and kept: a training step makes some 150
 * fork/join calls, and creating and joining threads for each cost about 2%
 * of the step.  Worker k runs slice k of the current call; they wait for
 * the next call spinning briefly, then asleep.  A call made from inside a
 * slice (or from a second thread while one is running) runs its slices
 * here, one after the other: the slices are the same, so is the result. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	pthread_t tid[PAR_MAX_THREADS];
	int nworkers;                  /* started so far; worker k runs job[k] */
	par_job job[PAR_MAX_THREADS];
	int njobs;
	unsigned long gen;             /* bumped by every call */
	int left;                      /* workers still running this call */
	int sleepers;                  /* workers waiting on wake */
	atomic_int busy;               /* a call is in progress */
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static __thread int in_worker;

enum { SPIN = 1 << 14 };

static inline void pool_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *pool_worker(void *arg)
{
	int k = (int)(intptr_t)arg;
	unsigned long seen = 0;
	in_worker = 1;
	for (;;) {
		for (int s = 0; s < SPIN && __atomic_load_n(&pool.gen, __ATOMIC_ACQUIRE) == seen; s++)
			pool_pause();
		pthread_mutex_lock(&pool.mu);
		while (pool.gen == seen) {
			pool.sleepers++;
			pthread_cond_wait(&pool.wake, &pool.mu);
			pool.sleepers--;
		}
		seen = pool.gen;
		int run = k < pool.njobs;
		pthread_mutex_unlock(&pool.mu);
		if (run) par_run(&pool.job[k]);
		pthread_mutex_lock(&pool.mu);
		if (__atomic_sub_fetch(&pool.left, 1, __ATOMIC_RELEASE) == 0) pthread_cond_signal(&pool.done);
		pthread_mutex_unlock(&pool.mu);
	}
	return NULL;
}

/* runs job[0..n) with the pool; 0 if the pool is in use (then the caller
 * runs them itself) */
static int pool_run(par_job *job, int n)
{
	int idle = 0;
	if (in_worker || !atomic_compare_exchange_strong(&pool.busy, &idle, 1)) return 0;
	pthread_mutex_lock(&pool.mu);
	while (pool.nworkers < n - 1) {
		int k = pool.nworkers + 1;
		if (pthread_create(&pool.tid[k], NULL, pool_worker, (void *)(intptr_t)k) != 0) break;
		pthread_detach(pool.tid[k]);
		pool.nworkers = k;
	}
	memcpy(pool.job, job, (size_t)n * sizeof *job);
	pool.njobs = n;
	pool.left = pool.nworkers;
	__atomic_add_fetch(&pool.gen, 1, __ATOMIC_RELEASE);
	if (pool.sleepers) pthread_cond_broadcast(&pool.wake);
	int nw = pool.nworkers;
	pthread_mutex_unlock(&pool.mu);
	par_run(&job[0]);
	for (int k = nw + 1; k < n; k++) par_run(&job[k]);  /* workers that could not start */
	for (int s = 0; s < SPIN && __atomic_load_n(&pool.left, __ATOMIC_ACQUIRE); s++) pool_pause();
	pthread_mutex_lock(&pool.mu);
	while (pool.left) pthread_cond_wait(&pool.done, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
	atomic_store(&pool.busy, 0);
	return 1;
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
	for (int k = 0; k < nthreads; k++) {
		job[k] = proto;
		job[k].i0 = (int)((long)n * k / nthreads);
		job[k].i1 = (int)((long)n * (k + 1) / nthreads);
	}
	if (!pool_run(job, nthreads))
		for (int k = 0; k < nthreads; k++) par_run(&job[k]);
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
	int M, N, K, chunk, split_m, bf16;
	float alpha, beta;
	const void *A, *B;              /* float, or uint16_t bfloat16 if bf16 */
	float *C;
	int lda, ldb, ldc;
} mm_job;

static void mm_chunk(void *ctx, int c)
{
	const mm_job *j = ctx;
	int m = j->M, n = j->N, i0 = c * j->chunk;
	size_t ao = 0, bo = 0, co;
	if (j->split_m) {
		m = j->M - i0 < j->chunk ? j->M - i0 : j->chunk;
		ao = j->ta == CblasNoTrans ? (size_t)i0 * j->lda : (size_t)i0;
		co = (size_t)i0 * j->ldc;
	} else {
		n = j->N - i0 < j->chunk ? j->N - i0 : j->chunk;
		bo = j->tb == CblasNoTrans ? (size_t)i0 : (size_t)i0 * j->ldb;
		co = (size_t)i0;
	}
	if (j->bf16)
		mm_gemm_bf16(j->ta != CblasNoTrans, j->tb != CblasNoTrans, m, n, j->K, j->alpha,
		             (const uint16_t *)j->A + ao, j->lda, (const uint16_t *)j->B + bo, j->ldb,
		             j->beta, j->C + co, j->ldc);
	else
		cblas_sgemm(CblasRowMajor, j->ta, j->tb, m, n, j->K, j->alpha, (const float *)j->A + ao, j->lda,
		            (const float *)j->B + bo, j->ldb, j->beta, j->C + co, j->ldc);
}

static void par_gemm(int nthreads, mm_job j)
{
	if (j.M <= 0 || j.N <= 0) return;
	j.split_m = j.M >= j.N;
	/* chunks of at least 128 rows (or columns), at most 16 of them: a
	 * function of the shape alone, so the bits do not depend on nthreads.
	 * (Each chunk packs the whole other operand again: more chunks cost
	 * packing, fewer balance worse.) */
	int dim = j.split_m ? j.M : j.N;
	int chunk = (dim + 15) / 16;
	chunk = (chunk + 15) / 16 * 16;
	if (chunk < 128) chunk = 128;
	j.chunk = chunk;
	par_for(nthreads, (dim + chunk - 1) / chunk, mm_chunk, &j);
}

void par_sgemm(int nthreads, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
               int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
	mm_job j = { ta, tb, M, N, K, 0, 0, 0, alpha, beta, A, B, C, lda, ldb, ldc };
	par_gemm(nthreads, j);
}

void par_gemm_bf16(int nthreads, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
                   int M, int N, int K, float alpha, const uint16_t *A, int lda,
                   const uint16_t *B, int ldb, float beta, float *C, int ldc)
{
	mm_job j = { ta, tb, M, N, K, 0, 0, 1, alpha, beta, A, B, C, lda, ldb, ldc };
	par_gemm(nthreads, j);
}

void par_blas_single(void)
{
	cli_blas_single();
}

void par_blas_prefer_avx512(char **argv)
{
#if defined(__x86_64__) && defined(__linux__)
	if (getenv("OPENBLAS_CORETYPE") || getenv("SEQLM_NO_REEXEC")) return;
	if (!cpu_has(CPU_AVX512)) return;
	/* whatever OpenBLAS picked for a CPU it does not know (Haswell or Zen
	 * for AMD's AVX-512 parts, Prescott -- SSE3 -- for Intel models newer
	 * than it, e.g. Emerald Rapids), unless it is an AVX-512 core already */
	const char *core = openblas_get_corename();
	if (!core || strcasecmp(core, "SkylakeX") == 0 || strcasecmp(core, "Cooperlake") == 0 ||
	    strcasecmp(core, "SapphireRapids") == 0)
		return;
	if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) != 0) return;
	execv("/proc/self/exe", argv);
	unsetenv("OPENBLAS_CORETYPE");       /* exec failed: go on as we are */
#else
	(void)argv;
#endif
}

/* ---- tasks of unequal cost: one par_for task per thread, each taking i
 * from a shared counter --------------------------------------------------- */
typedef struct {
	void (*fn)(void *, int, int);
	void *ctx;
	int n;
	int next;                     /* atomic */
	void (*first)(void *);        /* task 0 runs this before taking rows */
	void *first_ctx;
} dyn_job;

static void dyn_task(void *arg, int tid)
{
	dyn_job *j = arg;
	if (tid == 0 && j->first) j->first(j->first_ctx);
	for (;;) {
		int i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
		if (i >= j->n) break;
		j->fn(j->ctx, i, tid);
	}
}

void par_dynamic_first(int nthreads, int n, void (*fn)(void *ctx, int i, int tid), void *ctx,
                       void (*first)(void *), void *first_ctx)
{
	if (nthreads < 1) nthreads = 1;
	dyn_job j = {fn, ctx, n, 0, first, first_ctx};
	par_for(nthreads, nthreads, dyn_task, &j);
}

void par_dynamic(int nthreads, int n, void (*fn)(void *ctx, int i, int tid), void *ctx)
{
	par_dynamic_first(nthreads, n, fn, ctx, NULL, NULL);
}
