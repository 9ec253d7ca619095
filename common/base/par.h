/* par.h -- the one way seqlm code runs work on several threads: a fork/join
 * loop over tasks with a fixed split, and matrix products cut into chunks
 * whose shapes depend only on the problem, never on the thread count.
 *
 * Why not OpenBLAS's own threads: a product computed by one sgemm call of a
 * given shape gives the same bits whichever thread runs it, so cutting every
 * product into the same chunks at -t 1 and -t 8 makes training bitwise
 * reproducible across thread counts by construction (OpenBLAS itself is run
 * single-threaded; cli_init and par_blas_single set that).  It also lets attention's many small
 * per-head products run in parallel, which OpenBLAS does not do.
 *
 * The threads are started by the first call and kept for the next ones
 * (they wait spinning briefly, then asleep); a call made from inside a task
 * runs its slices on the calling thread, with the same result. */
#ifndef SEQLM_PAR_H
#define SEQLM_PAR_H

#include <cblas.h>
#include <stdint.h>

/* Runs fn(ctx, i) for i in [0,n) on nthreads threads (the caller is one of
 * them); thread k takes the k-th contiguous slice of tasks. */
void par_for(int nthreads, int n, void (*fn)(void *ctx, int i), void *ctx);

/* Like par_for, but fn gets a whole slice [i0,i1) at once (fewer calls). */
void par_range(int nthreads, int n, void (*fn)(void *ctx, int i0, int i1), void *ctx);

/* Runs fn(ctx, i, tid) for i in [0,n) on nthreads threads, each taking
 * the next i from a shared counter (for tasks of unequal cost); tid in
 * [0,nthreads) indexes per-thread scratch.  Which thread runs which i
 * varies, so fn must write only i's own results.  par_dynamic_first runs
 * first(first_ctx) on thread 0 before it takes any i (a serial job that
 * overlaps the loop; NULL for none). */
void par_dynamic(int nthreads, int n, void (*fn)(void *ctx, int i, int tid), void *ctx);
void par_dynamic_first(int nthreads, int n, void (*fn)(void *ctx, int i, int tid), void *ctx,
                       void (*first)(void *), void *first_ctx);

/* Row-major C[M,N] = alpha op(A) op(B) + beta C, as cblas_sgemm, cut into
 * chunks along M or N (whichever is larger; chunk size from the shape only)
 * and the chunks spread over nthreads. */
void par_sgemm(int nthreads, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
               int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc);

/* the same with bfloat16 A and B (fp32 accumulation, fp32 C) through
 * oneDNN (mm.h), cut into the same chunks */
void par_gemm_bf16(int nthreads, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb,
                   int M, int N, int K, float alpha, const uint16_t *A, int lda,
                   const uint16_t *B, int ldb, float beta, float *C, int ldc);

/* OpenBLAS to one thread: every sgemm in seqlm goes through par_sgemm or is
 * called from inside a par_for task. */
void par_blas_single(void);

/* OpenBLAS 0.3.21 does not know AVX-512 AMD CPUs (Zen 4/5) and runs its
 * AVX2 "Haswell" kernels there, at half the sgemm speed its "SkylakeX"
 * kernels reach on them; Intel models newer than it (Emerald Rapids, family
 * 6 model 207) get its SSE3 "Prescott" kernels, at a fifth.  Call first in
 * main(): on a CPU with AVX-512 where OpenBLAS chose a core without it, unless
 * OPENBLAS_CORETYPE (or SEQLM_NO_REEXEC) is set, this sets
 * OPENBLAS_CORETYPE=SkylakeX -- OpenBLAS's documented switch, read when the
 * library loads -- and re-executes the program with the same arguments
 * (nothing has been read or written yet).  Returns if there is nothing to
 * do or the exec fails. */
void par_blas_prefer_avx512(char **argv);

#endif
