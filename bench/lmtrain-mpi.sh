#!/bin/sh
# lmtrain under MPI on this machine: the bench config (V=4106 6-mers of
# human chr20, L=4, d=256, h=4, ffn=1024, T=128, B=32) as one rank with
# 2 threads and as 2 ranks with 1 thread each (mpirun -np 2), in
# LMTRAIN_BENCH_ROUNDS (3) alternating rounds of LMTRAIN_BENCH_STEPS (8)
# timed steps after 2 untimed ones; steps/s of both, their ratio, and the
# bytes rank 0 sends per step for the gradient sums.  Skipped (with the
# reason) when lmtrain was built without MPI or mpirun is missing.
. "$(dirname "$0")/lib.sh"
STEPS=${LMTRAIN_BENCH_STEPS:-8}
ROUNDS=${LMTRAIN_BENCH_ROUNDS:-3}
if ! lmtrain --version | grep -q '^MPI: Open MPI' || ! command -v mpirun > /dev/null 2>&1; then
	echo "lmtrain-mpi: skipped: lmtrain built without MPI or no mpirun (Debian libopenmpi-dev openmpi-bin)"
	exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
seqtok -T 128 tests/data/demo/human_chr20_100k.fa -o "$BENCH_TMP/w128.tns"
E=$(blas_env "$(blas_modes | head -n 1)")
cfg="--arch 4M --layers 4 --hidden 256 --heads 4 --ffn 1024 --max-pos 128 -b 32 --steps $((STEPS + 2))"
# tokens/s over the timed steps, from the log's cumulative tokens/s
rate() {
	awk -F'\t' -v n=$((32 * 128)) -v last=$((STEPS + 2)) '$1 == 2 {t2 = 2 * n / $5} $1 == last {tl = last * n / $5}
		END {printf "%.1f\n", (last - 2) * n / (tl - t2)}' "$1"
}
: > "$BENCH_TMP/one"; : > "$BENCH_TMP/two"
r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	$E lmtrain $cfg -t 2 -q --log "$BENCH_TMP/l1.tsv" -o "$BENCH_TMP/m1.tns" "$BENCH_TMP/w128.tns" || exit 1
	rate "$BENCH_TMP/l1.tsv" >> "$BENCH_TMP/one"
	$E mpirun -np 2 -x OPENBLAS_CORETYPE lmtrain $cfg -t 1 --log "$BENCH_TMP/l2.tsv" -o "$BENCH_TMP/m2.tns" \
		"$BENCH_TMP/w128.tns" 2> "$BENCH_TMP/err2" || { cat "$BENCH_TMP/err2" >&2; exit 1; }
	rate "$BENCH_TMP/l2.tsv" >> "$BENCH_TMP/two"
done
mb=$(sed -n 's/.*MPI: \([0-9.]*\) MB sent per step.*/\1/p' "$BENCH_TMP/err2")
awk -v a="$(median "$BENCH_TMP/one")" -v b="$(median "$BENCH_TMP/two")" -v mb="$mb" -v k="$ROUNDS" \
    -v ra="$(range "$BENCH_TMP/one")" -v rb="$(range "$BENCH_TMP/two")" 'BEGIN {
	printf "lmtrain L4-d256-T128-B32: 1 rank x 2 threads %.3f steps/s (%.0f tok/s)   2 ranks x 1 thread (mpirun) %.3f steps/s (%.0f tok/s)   ratio %.2fx   rank 0 sends %s MB a step\n", a / 4096, a, b / 4096, b, b / a, mb
	printf "        medians of %d alternating rounds: 1x2 %s, 2x1 %s tok/s\n", k, ra, rb }'
