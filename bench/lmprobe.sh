#!/bin/sh
# lmprobe next to the same forward pass in PyTorch fp32 (2 threads,
# OMP_WAIT_POLICY=PASSIVE): V=4106 (6-mers of human chr20), L=4, d=256, h=4,
# ffn=1024, T=128, 5 models, q=0.10, probabilities at the masked positions.
# Target: lmprobe >= 2x PyTorch's tokens/s.
. "$(dirname "$0")/lib.sh"
REPS=${REPS:-1}
A="--arch 4M --layers 4 --hidden 256 --heads 4 --ffn 1024 --max-pos 128 -b 32"
seqtok -T 128 tests/data/demo/human_chr20_100k.fa -o "$BENCH_TMP/w.tns"
nwin=$(tnsview --count "$BENCH_TMP/w.tns")
for s in 1 2 3 4 5; do lmtrain $A --steps 1 --seed $s -q -o "$BENCH_TMP/m$s.tns" "$BENCH_TMP/w.tns"; done
for mode in $(blas_modes); do
	E=$(blas_env $mode)
	ours=$(median_time "$E lmprobe -t 2 -i $BENCH_TMP/w.tns $BENCH_TMP/m1.tns $BENCH_TMP/m2.tns $BENCH_TMP/m3.tns $BENCH_TMP/m4.tns $BENCH_TMP/m5.tns -o $BENCH_TMP/p.tns")
	$E "${PYTHON:-/usr/bin/python3}" bench/torch_probe.py 4106 4 256 4 1024 128 "$nwin" 5 2 > "$BENCH_TMP/torch" || exit 1
	peer=$(awk '$1 == "seconds" {print $2}' "$BENCH_TMP/torch")
	awk -v a="$ours" -v b="$peer" -v n="$nwin" -v m="OPENBLAS_CORETYPE=$(blas_label $mode) ($(blas_core $mode))" 'BEGIN {
		tok = n * 128 * 5
		# forward FLOPs per window token: 2 per multiply-add, L=4 layers of d=256, ffn 1024, T=128 attention
		f = 2 * 4 * (4 * 256 * 256 + 2 * 256 * 1024 + 2 * 128 * 256)
		printf "lmprobe 5 models, %d windows x 128, %s   seqlm %.0f tokens/s (%.1f GFLOP/s of the full forward)   PyTorch %.0f tokens/s   ratio %.2fx (target >= 2x)\n", n, m, tok / a, tok * f / a / 1e9, tok / b, b / a }'
done
