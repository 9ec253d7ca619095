#!/bin/sh
# fisherflow's per-window (textbook) Fisher next to a plain training step on
# the same tokens: V=4106 (6-mers), L=4, d=256, h=4, ffn=1024, T=128, B=32,
# 2 threads.  Target: at most 2.5x the training step's cost per token.
. "$(dirname "$0")/lib.sh"
REPS=${REPS:-1}
A="--arch 4M --layers 4 --hidden 256 --heads 4 --ffn 1024 --max-pos 128 -b 32 -t 2"
seqtok -T 128 tests/data/demo/human_chr20_100k.fa -o "$BENCH_TMP/w.tns"
nwin=$(tnsview --count "$BENCH_TMP/w.tns")
steps=$(( (nwin + 31) / 32 ))
lmtrain $A --steps 1 -o "$BENCH_TMP/m.tns" "$BENCH_TMP/w.tns" 2>/dev/null
train=$(median_time "lmtrain $A --steps $steps -o $BENCH_TMP/m2.tns $BENCH_TMP/w.tns")
fisher=$(median_time "fisherflow -t 2 -b 32 -i $BENCH_TMP/w.tns $BENCH_TMP/m.tns")
batch=$(median_time "fisherflow -t 2 -b 32 --estimator batch -i $BENCH_TMP/w.tns $BENCH_TMP/m.tns")
awk -v t="$train" -v f="$fisher" -v b="$batch" -v n="$nwin" -v s="$steps" 'BEGIN {
	tt = t / (s * 32); ft = f / n; bt = b / n
	printf "fisherflow window estimator     %.1f ms/window   lmtrain step %.1f ms/window   cost ratio %.2fx (target <= 2.5x)\n", 1000 * ft, 1000 * tt, ft / tt
	printf "fisherflow batch estimator      %.1f ms/window   lmtrain step %.1f ms/window   cost ratio %.2fx\n", 1000 * bt, 1000 * tt, bt / tt }'
