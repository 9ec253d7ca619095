/* cpu.c -- the CPU's instruction sets, asked once (see cpu.h). */
#include "base/cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static unsigned feat;
static int wide;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void ask(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("x86-64-v3") > 0) feat |= CPU_AVX2;
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		feat |= CPU_AVX512;
	if (__builtin_cpu_supports("avx512bf16")) feat |= CPU_AVX512_BF16;
	if (__builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16")) feat |= CPU_AMX;
	if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) feat |= CPU_PCLMUL;
	if (__builtin_cpu_supports("popcnt")) feat |= CPU_POPCNT;
	const char *e = getenv("SEQLM_NO_AVX512");
	wide = __builtin_cpu_supports("x86-64-v4") > 0 && !(e && *e && strcmp(e, "0") != 0);
#endif
}

unsigned cpu_features(void) { pthread_once(&once, ask); return feat; }
int cpu_wide(void) { pthread_once(&once, ask); return wide; }
