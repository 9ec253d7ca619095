#!/bin/sh
# lmprobe next to the same forward pass in PyTorch fp32 (2 threads,
# OMP_WAIT_POLICY=PASSIVE): V=4106 (6-mers of human chr20), L=4, d=256, h=4,
# ffn=1024, T=128, 5 models, q=0.10, probabilities at the masked positions.
# Target: lmprobe >= 2x PyTorch's tokens/s.  Then, where bf16 runs here,
# lmprobe --precision bf16 next to PyTorch under torch.autocast("cpu",
# dtype=torch.bfloat16) (target >= 1.5x).
. "$(dirname "$0")/lib.sh"

A="--arch 4M --layers 4 --hidden 256 --heads 4 --ffn 1024 --max-pos 128 -b 32"
seqtok -T 128 tests/data/demo/human_chr20_100k.fa -o "$BENCH_TMP/w.tns"
nwin=$(tnsview --count "$BENCH_TMP/w.tns")
for s in 1 2 3 4 5; do lmtrain $A --steps 1 --seed $s -q -o "$BENCH_TMP/m$s.tns" "$BENCH_TMP/w.tns"; done
: "${LMPROBE_BENCH_ROUNDS:=3}"
models="$BENCH_TMP/m1.tns $BENCH_TMP/m2.tns $BENCH_TMP/m3.tns $BENCH_TMP/m4.tns $BENCH_TMP/m5.tns"
precs=fp32
lmprobe --version | grep -q '^oneDNN.*bf16: yes' && precs="fp32 bf16"
for prec in $precs; do
for mode in $(blas_modes); do
	E=$(blas_env $mode)
	# alternating rounds, lmprobe then PyTorch in each.  Like the peer's
	# timed loop (which leaves out importing torch and building the models),
	# the main figure is lmprobe's own rate over its windows (lmprobe -v:
	# reading, the forward passes, checking and writing the output), after
	# loading the models; its whole run, start-up included, is printed too.
	: > "$BENCH_TMP/ours"; : > "$BENCH_TMP/peer"; : > "$BENCH_TMP/whole"
	r=0
	while [ $r -lt "$LMPROBE_BENCH_ROUNDS" ]; do
		r=$((r + 1))
		t0=$(now)
		$E lmprobe -v -t 2 --precision $prec -i "$BENCH_TMP/w.tns" $models -o "$BENCH_TMP/p.tns" 2> "$BENCH_TMP/log" || { cat "$BENCH_TMP/log" >&2; exit 1; }
		t1=$(now)
		awk -v a="$t0" -v b="$t1" -v n="$nwin" 'BEGIN {printf "%.1f\n", n * 128 * 5 / (b - a)}' >> "$BENCH_TMP/whole"
		awk '/window tokens\/s/ {print $(NF - 2)}' "$BENCH_TMP/log" >> "$BENCH_TMP/ours"
		$E "${PYTHON:-/usr/bin/python3}" bench/torch_probe.py 4106 4 256 4 1024 128 "$nwin" 5 2 $prec > "$BENCH_TMP/torch" || exit 1
		awk '$1 == "tokens_per_s" {print $2}' "$BENCH_TMP/torch" >> "$BENCH_TMP/peer"
	done
	awk -v a="$(median "$BENCH_TMP/ours")" -v b="$(median "$BENCH_TMP/peer")" -v w="$(median "$BENCH_TMP/whole")" -v n="$nwin" \
	    -v ra="$(range "$BENCH_TMP/ours")" -v rb="$(range "$BENCH_TMP/peer")" -v rw="$(range "$BENCH_TMP/whole")" \
	    -v k="$LMPROBE_BENCH_ROUNDS" -v m="OPENBLAS_CORETYPE=$(blas_label $mode) ($(blas_core $mode))" -v p=$prec 'BEGIN {
		# forward FLOPs per window token: 2 per multiply-add, L=4 layers of d=256, ffn 1024, T=128 attention
		f = 2 * 4 * (4 * 256 * 256 + 2 * 256 * 1024 + 2 * 128 * 256)
		printf "lmprobe %s 5 models, %d windows x 128, %s   seqlm %.0f tokens/s (%.1f GFLOP/s of the full forward)   PyTorch %s %.0f tokens/s   ratio %.2fx (target >= %s)\n", p, n, m, a, a * f / 1e9, p == "bf16" ? "autocast bf16" : "fp32", b, a / b, p == "bf16" ? "1.5x" : "2x"
		printf "        medians of %d alternating rounds: seqlm %s, PyTorch %s tokens/s; seqlm whole runs (start-up and model loading too) %.0f tokens/s (%s), %.2fx\n", k, ra, rb, w, rw, w / b }'
done
done
