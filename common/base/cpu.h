/* cpu.h -- what this CPU can run, asked once, for every choice of code by
 * instruction set: the kernels compiled twice (metrics.c's 16- and 8-float
 * vectors), the element-wise loops compiled per x86-64 level (CPU_CLONES:
 * bert.c, mm_dnnl.c), CRC32 with carry-less multiply (crc.c), and OpenBLAS
 * re-executed with its AVX-512 kernels (par.c).
 *
 * SEQLM_NO_AVX512 set (and not "0") makes cpu_wide() false: the code that
 * asks it then gives the numbers an AVX2 machine gives, bit for bit. */
#ifndef SEQLM_CPU_H
#define SEQLM_CPU_H

enum {
	CPU_AVX2 = 1 << 0,            /* with FMA, BMI2...: x86-64-v3 */
	CPU_AVX512 = 1 << 1,          /* F, BW, DQ, VL: x86-64-v4 */
	CPU_AVX512_BF16 = 1 << 2,
	CPU_AMX = 1 << 3,             /* AMX-TILE and AMX-BF16 */
	CPU_PCLMUL = 1 << 4,          /* with SSE4.1 */
	CPU_POPCNT = 1 << 5
};

/* the CPU_* bits this CPU has (0 off x86-64) */
unsigned cpu_features(void);
static inline int cpu_has(unsigned f) { return (cpu_features() & f) == f; }
/* AVX-512 kernels chosen: CPU_AVX512 and SEQLM_NO_AVX512 unset or "0" */
int cpu_wide(void);

/* a function compiled for x86-64-v4, v3 and the baseline, the loader
 * picking one for the CPU (GCC's target_clones, from the same CPUID bits);
 * O3 for the vectoriser.  Clang (the fuzzing builds) and the sanitiser
 * builds get one plain version. */
#if defined(__clang__)
#define CPU_CLONES
#elif defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define CPU_CLONES __attribute__((optimize("O3"), target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CPU_CLONES __attribute__((optimize("O3")))
#endif

#endif
