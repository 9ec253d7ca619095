# lib.sh -- helpers for the benchmarks (sourced).  Every benchmark runs our
# tool and its peer in the same run and prints both and the ratio.
# They name their fixtures and helper scripts from the repository root, so
# they run there (make bench does): refuse anywhere else at once, not after
# an hour of training (precision.sh's comparison did, run from elsewhere).
[ -f bench/lib.sh ] && [ -d tests/data ] || { echo "bench: run from the repository root (make bench, or sh bench/NAME.sh there)" >&2; exit 2; }
: "${SEQLM_BIN:=$(cd "$(dirname "$0")/.." && pwd)/bin}"
PATH=$SEQLM_BIN:$PATH; export PATH
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqlm-bench.XXXXXX"); trap 'rm -rf "$BENCH_TMP"' EXIT
: "${REPS:=3}"
now() { date +%s.%N; }
# median_time CMD...: median wall seconds over $REPS runs of sh -c "CMD"
median_time() {
	i=0; : > "$BENCH_TMP/times"
	while [ $i -lt "$REPS" ]; do
		t0=$(now); sh -c "$1" >/dev/null 2>"$BENCH_TMP/err" || { echo "bench: failed: $1" >&2; cat "$BENCH_TMP/err" >&2; return 1; }
		t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}' >> "$BENCH_TMP/times"; i=$((i + 1))
	done
	sort -g "$BENCH_TMP/times" | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}
# cpu_time CMD...: median CPU seconds (user + system) over $REPS runs of
# sh -c "CMD", which other processes on a loaded machine disturb less than
# the wall time
cpu_time() {
	i=0; : > "$BENCH_TMP/cpu"
	while [ $i -lt "$REPS" ]; do
		/usr/bin/time -f "%U %S" -o "$BENCH_TMP/t1" sh -c "$1" > /dev/null 2>&1 || return 1
		awk '{printf "%.3f\n", $1 + $2}' "$BENCH_TMP/t1" >> "$BENCH_TMP/cpu"; i=$((i + 1))
	done
	sort -g "$BENCH_TMP/cpu" | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}
# median FILE / range FILE: the median / "min-max" of a file of numbers
median() { sort -g "$1" | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}'; }
range() { sort -g "$1" | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.0f-%.0f", lo, hi}'; }
# report NAME OURS_S PEER_NAME PEER_S BYTES_OR_EMPTY
report() {
	awk -v n="$1" -v a="$2" -v pn="$3" -v b="$4" -v bytes="${5:-0}" 'BEGIN {
		if (bytes > 0) printf "%-34s seqlm %7.3f s (%6.2f GB/s)   %-14s %7.3f s (%6.2f GB/s)   ratio %.2fx\n", n, a, bytes/a/1e9, pn, b, bytes/b/1e9, b/a;
		else printf "%-34s seqlm %7.3f s   %-14s %7.3f s   ratio %.2fx\n", n, a, pn, b, b/a }'
}
# OpenBLAS kernels: both seqlm and PyTorch (Debian's links OpenBLAS for its
# fp32 matrix products) take them from OPENBLAS_CORETYPE when it is set.
# blas_modes prints "env" (the environment as it is) and, when the
# environment pins a core, "auto" too (unset: OpenBLAS detects the CPU, and
# seqlm re-executes itself with AVX-512 kernels where OpenBLAS picks weaker
# ones for an AVX-512 CPU it does not know: Haswell on AMD Zen 4/5, SSE3
# Prescott on Emerald Rapids); blas_core MODE prints the kernels seqlm then
# uses, and blas_env MODE the command prefix that gives seqlm and its peer
# those same kernels, so the peer is never left on the weaker ones.
blas_modes() { echo env; [ -n "${OPENBLAS_CORETYPE:-}" ] && echo auto; return 0; }
blas_core() {
	if [ "$1" = auto ]; then env -u OPENBLAS_CORETYPE lmprobe --version; else lmprobe --version; fi 2>/dev/null |
		awk '/^OpenBLAS/ {print $(NF - 1)}'
}
blas_env() { echo "env OPENBLAS_CORETYPE=$(blas_core "$1")"; }
blas_label() { if [ "$1" = auto ]; then echo unset; else echo "${OPENBLAS_CORETYPE:-unset}"; fi; }
