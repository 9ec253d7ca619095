/* mm.h -- matrix products outside OpenBLAS: bfloat16 inputs with float32
 * accumulation through oneDNN's matmul primitive (the library PyTorch's
 * bf16 path uses).  oneDNN is optional at build time (SEQLM_DNNL); without
 * it every mm_gemm_* call is a bug and aborts, and mm_bf16_unavailable()
 * says why bf16 cannot run.
 *
 * Every call runs on the calling thread alone (oneDNN's OpenMP is set to one
 * thread per caller), so the caller's fixed partition of the work decides
 * the bits, as par_sgemm's does for OpenBLAS, and the products run under
 * the caller's FTZ/DAZ.  A primitive is created once per shape (the first
 * call with it) and kept for the life of the process. */
#ifndef SEQLM_MM_H
#define SEQLM_MM_H

#include <stddef.h>
#include <stdint.h>

/* NULL if bf16 products can run here; else why not ("built without
 * oneDNN", or the instruction set this CPU lacks: bf16 is never emulated) */
const char *mm_bf16_unavailable(void);
/* what was built in, for --version: "oneDNN 2.6.3" or "no oneDNN" */
const char *mm_backend(void);

/* round to nearest even, as PyTorch's float -> bfloat16 (NaN stays NaN) */
static inline uint16_t mm_bf16_of(float x)
{
	union { float f; uint32_t u; } v = { .f = x };
	if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40);
	return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1)) >> 16);
}
static inline float mm_float_of(uint16_t b)
{
	union { uint32_t u; float f; } v = { .u = (uint32_t)b << 16 };
	return v.f;
}
/* y[i] = bf16(x[i]) for n values */
void mm_to_bf16(const float *x, uint16_t *y, size_t n);

/* Row-major C[M,N] = alpha op(A) op(B) + beta C, as cblas_sgemm (ta, tb:
 * 1 = transposed), A and B bfloat16, C float32; on the calling thread. */
void mm_gemm_bf16(int ta, int tb, int M, int N, int K, float alpha,
                  const uint16_t *A, int lda, const uint16_t *B, int ldb,
                  float beta, float *C, int ldc);
/* the same in float32 through oneDNN (measured against OpenBLAS by
 * bench/mmshapes; not used by the engine, see bert.c) */
void mm_gemm_f32(int ta, int tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);
/* the implementation oneDNN picked for a shape (e.g. "brg:avx512_core_amx"),
 * for the benchmark's report; bf16 != 0 for the bf16 product */
const char *mm_impl(int bf16, int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc);

#endif
