/* cpu.c -- the CPU's instruction sets, asked once (see cpu.h). */
#include "base/cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static unsigned feat;
static int wide;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
/* GCC names the x86-64 levels; clang (the fuzzing builds) knows only the
 * features, and neither's builtin knows AMX: CPUID leaf 7, EDX bits 24
 * (AMX-TILE) and 22 (AMX-BF16) */
#ifdef __clang__
#define HAS_V3() (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))
#define HAS_V4() (HAS_V3() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && \
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
#else
#define HAS_V3() (__builtin_cpu_supports("x86-64-v3") > 0)
#define HAS_V4() (__builtin_cpu_supports("x86-64-v4") > 0)
#endif
static int has_amx(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
	return (d >> 24 & 1) && (d >> 22 & 1);
}
#endif

static void ask(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (HAS_V3()) feat |= CPU_AVX2;
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		feat |= CPU_AVX512;
	if (__builtin_cpu_supports("avx512bf16")) feat |= CPU_AVX512_BF16;
	if (has_amx()) feat |= CPU_AMX;
	if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) feat |= CPU_PCLMUL;
	if (__builtin_cpu_supports("popcnt")) feat |= CPU_POPCNT;
	const char *e = getenv("SEQLM_NO_AVX512");
	wide = HAS_V4() && !(e && *e && strcmp(e, "0") != 0);
#endif
}

unsigned cpu_features(void) { pthread_once(&once, ask); return feat; }
int cpu_wide(void) { pthread_once(&once, ask); return wide; }
