/* peakflops.c -- the CPU's fp32 peak, measured with independent FMA chains
 * (AVX2 8-wide, and AVX-512 16-wide when the CPU has it) on 1 and N
 * threads: the denominator of the GFLOP/s fractions make bench reports.
 * Build: cc -O2 -pthread bench/peakflops.c -o peakflops; run: peakflops [N] */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { CHAINS = 12 };
static long iters = 20000000;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

__attribute__((target("avx2,fma"))) static void *fma256(void *out)
{
	__m256 a[CHAINS], b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
	for (int i = 0; i < CHAINS; i++) a[i] = _mm256_set1_ps((float)i);
	for (long n = 0; n < iters; n++)
#pragma GCC unroll 16                     /* the chains in registers, not in memory */
		for (int i = 0; i < CHAINS; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
	float s = 0;
	for (int i = 0; i < CHAINS; i++) s += a[i][0];
	*(float *)out = s;
	return NULL;
}

__attribute__((target("avx512f"))) static void *fma512(void *out)
{
	__m512 a[CHAINS], b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
	for (int i = 0; i < CHAINS; i++) a[i] = _mm512_set1_ps((float)i);
	for (long n = 0; n < iters; n++)
#pragma GCC unroll 16
		for (int i = 0; i < CHAINS; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
	float s = 0;
	for (int i = 0; i < CHAINS; i++) s += a[i][0];
	*(float *)out = s;
	return NULL;
}

static double run(void *(*fn)(void *), int nt, int width)
{
	pthread_t t[64];
	float out[64];
	double t0 = now();
	for (int i = 0; i < nt; i++) pthread_create(&t[i], NULL, fn, &out[i]);
	for (int i = 0; i < nt; i++) pthread_join(t[i], NULL);
	double s = now() - t0;
	return 2.0 * width * CHAINS * iters * nt / s / 1e9;
}

int main(int argc, char **argv)
{
	int nt = argc > 1 ? atoi(argv[1]) : 2;
	if (nt < 1 || nt > 64) nt = 2;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("fma")) { printf("no FMA\n"); return 1; }
	run(fma256, 1, 8);                      /* warm up the clock */
	printf("avx2_fma_gflops_1t\t%.1f\n", run(fma256, 1, 8));
	printf("avx2_fma_gflops_%dt\t%.1f\n", nt, run(fma256, nt, 8));
	if (__builtin_cpu_supports("avx512f")) {
		printf("avx512_fma_gflops_1t\t%.1f\n", run(fma512, 1, 16));
		printf("avx512_fma_gflops_%dt\t%.1f\n", nt, run(fma512, nt, 16));
	}
	return 0;
}
