/* mmshapes.c -- the matrix products of one training step of the bench
 * config (L4 d256 h4 ffn1024 T128 B32, V 4106, 15% masked), each in the
 * pieces par.c cuts it into, on one thread: OpenBLAS sgemm, oneDNN f32 and
 * oneDNN bf16 (inputs bf16, fp32 accumulation), GFLOP/s of each and the
 * implementation oneDNN picked.  Run by bench/lmtrain.sh; decides whether
 * oneDNN's f32 matmul would be worth using in place of OpenBLAS. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/cli.h"
#include "base/mm.h"

static double run(int kind, int ta, int tb, int M, int N, int K, int lda, int ldb, int ldc,
                  const float *A, const float *B, const uint16_t *Ab, const uint16_t *Bb, float *C)
{
	int reps = 1;
	for (;;) {
		double t0 = cli_now();
		for (int r = 0; r < reps; r++) {
			if (kind == 0)
				cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
				            M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
			else if (kind == 1)
				mm_gemm_f32(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
			else
				mm_gemm_bf16(ta, tb, M, N, K, 1.0f, Ab, lda, Bb, ldb, 0.0f, C, ldc);
		}
		double t = cli_now() - t0;
		if (t > 0.2) return 2.0 * M * N * K * reps / t / 1e9;
		reps *= 2;
	}
}

int main(int argc, char **argv)
{
	cli_opts co;
	cli_init(&co, argc, argv);
	const char *why = mm_bf16_unavailable();
	if (why) { printf("mmshapes: %s\n", why); return 0; }
	static const struct { const char *what; int ta, tb, M, N, K, lda, ldb, ldc; } s[] = {
		{ "QKV/out fwd, a 256-row piece", 0, 1, 256, 256, 256, 256, 256, 256 },
		{ "FFN in fwd, a 256-row piece", 0, 1, 256, 1024, 256, 256, 256, 1024 },
		{ "FFN out fwd, a 256-row piece", 0, 1, 256, 256, 1024, 1024, 1024, 256 },
		{ "QKV/out dW = dY^T X, a 128-row piece", 1, 0, 128, 256, 4096, 256, 256, 256 },
		{ "FFN in dW, a 128-row piece", 1, 0, 128, 256, 4096, 1024, 256, 256 },
		{ "QKV/out dX = dY W, a 256-row piece", 0, 0, 256, 256, 256, 256, 256, 256 },
		{ "attention scores Q K^T, one head", 0, 1, 128, 128, 64, 256, 256, 128 },
		{ "attention context P V, one head", 0, 0, 128, 64, 128, 128, 256, 256 },
		{ "head decoder, a 272-column piece", 0, 1, 614, 272, 256, 256, 256, 4106 },
	};
	size_t big = 4096 * 4106;
	float *A = xaligned(big * 4), *B = xaligned(big * 4), *C = xaligned(big * 4);
	uint16_t *Ab = xaligned(big * 2), *Bb = xaligned(big * 2);
	for (size_t i = 0; i < big; i++) A[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f, B[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
	mm_to_bf16(A, Ab, big);
	mm_to_bf16(B, Bb, big);
	printf("%s, one thread, GFLOP/s\n", mm_backend());
	printf("%-40s %9s %9s %9s  %s\n", "product (M N K)", "OpenBLAS", "oneDNN32", "oneDNNbf16", "oneDNN impl f32 / bf16");
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		double g[3];
		for (int k = 0; k < 3; k++)
			g[k] = run(k, s[i].ta, s[i].tb, s[i].M, s[i].N, s[i].K, s[i].lda, s[i].ldb, s[i].ldc, A, B, Ab, Bb, C);
		printf("%-40s %9.1f %9.1f %9.1f  %s / %s   (%d %d %d)\n", s[i].what, g[0], g[1], g[2],
		       mm_impl(0, s[i].ta, s[i].tb, s[i].M, s[i].N, s[i].K, s[i].lda, s[i].ldb, s[i].ldc),
		       mm_impl(1, s[i].ta, s[i].tb, s[i].M, s[i].N, s[i].K, s[i].lda, s[i].ldb, s[i].ldc),
		       s[i].M, s[i].N, s[i].K);
	}
	return 0;
}
