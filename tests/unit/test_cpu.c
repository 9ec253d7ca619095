/* test_cpu.c -- what base/cpu.h says this CPU runs agrees with the kernel's
 * view (/proc/cpuinfo flags), is asked once, and SEQLM_NO_AVX512 turns the
 * AVX-512 kernels off. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/cpu.h"
#include "tap.h"

/* 1 if every flag of the space-separated list is on cpuinfo's first
 * "flags" line; -1 if there is no such line (not Linux on x86) */
static int cpuinfo_has(const char *list)
{
	static char line[8192];
	if (!line[0]) {
		FILE *fp = fopen("/proc/cpuinfo", "r");
		while (fp && fgets(line + 1, sizeof line - 2, fp))
			if (strncmp(line + 1, "flags", 5) == 0) { line[0] = ' '; break; }
		if (fp) fclose(fp);
		if (line[0] != ' ') return -1;
		char *nl = strchr(line, '\n');
		if (nl) strcpy(nl, " ");
	}
	char want[64];
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " ");
		snprintf(want, sizeof want, " %.*s ", (int)n, p);
		if (!strstr(line, want)) return 0;
		p += n + (p[n] == ' ');
	}
	return 1;
}

static int wide_with(const char *env)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (env) setenv("SEQLM_NO_AVX512", env, 1); else unsetenv("SEQLM_NO_AVX512");
		_exit(cpu_wide());
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	static const struct { unsigned bit; const char *flags, *name; } f[] = {
		{CPU_AVX2, "avx2 fma bmi2", "AVX2"},
		{CPU_AVX512, "avx512f avx512bw avx512dq avx512vl", "AVX-512"},
		{CPU_AVX512_BF16, "avx512_bf16", "AVX512-BF16"},
		{CPU_AMX, "amx_tile amx_bf16", "AMX"},
		{CPU_PCLMUL, "pclmulqdq sse4_1", "PCLMUL"},
		{CPU_POPCNT, "popcnt", "POPCNT"},
	};
	/* first, in children that ask afresh (the answer is kept once asked) */
	int w = wide_with(NULL), w1 = wide_with("1"), w0 = wide_with("0");
	unsigned have = cpu_features();
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		int k = cpuinfo_has(f[i].flags);
		if (k < 0) { skip("no flags line in /proc/cpuinfo"); continue; }
		ok(!!(have & f[i].bit) == k, "%s: %s, as /proc/cpuinfo says (%s)", f[i].name, k ? "yes" : "no", f[i].flags);
	}
	ok(cpu_features() == have && cpu_has(have) && !cpu_has(have | (1u << 30)), "asked once: the same answer, cpu_has of it");
	ok(w == cpu_has(CPU_AVX512), "cpu_wide: the AVX-512 kernels exactly where the CPU has AVX-512 (%d)", w);
	ok(w1 == 0, "SEQLM_NO_AVX512=1: no AVX-512 kernels");
	ok(w0 == w, "SEQLM_NO_AVX512=0: as unset");
	return done_testing();
}
