#!/bin/sh
# families.sh -- issue 23's bench: lmprobe (fp32, its default analysis mask,
# 2 threads) next to the PyTorch reference forward of the same family
# (tests/golden/families/torch_forward.py: float32, 2 threads,
# OMP_WAIT_POLICY=PASSIVE, flush-denormal, after a warm-up batch, the LM head
# and softmax at the same masked positions), on the same random HF folder
# (bench/make_family.py: hidden 256, 4 layers, 4 heads, intermediate 1024,
# the family's vocabulary of about 4k tokens) and the same windows (256 of
# 128 tokens), in alternating rounds; prints the medians' tokens/s, the
# ratio (target >= 1.5x) and whether the probabilities agree (1e-4).
#
# Usage: sh bench/families.sh [FAMILY...]     (default: bert nt1 nt2 gena dnabert2)
#   nt1       NT v1: ESM pre-LN, positions offset by pad + 1, GELU, tied
#   nt2       NT v2: rotary, SwiGLU without FFN biases, untied decoder
#   gena      GENA-LM: pre-LN BERT with the last LayerNorm
#   dnabert2  DNABERT-2: ALiBi, fused Wqkv, GeGLU, post-LN
#   bert      GENA's code with pre_layer_norm false: plain BERT (the smoke case)
# Environment: FAMILIES_BENCH_ROUNDS (3), FAMILIES_BENCH_WINDOWS (256),
# FAMILIES_BENCH_THREADS (2: both sides; 1 is steadier on a loaded machine),
# SEQLM_BIN, SEQLM_TESTBIN (tnscmp), PYTHON (/usr/bin/python3).
# Exit status 1 when a family cannot be converted or run, or lmprobe's
# probabilities differ from the reference's; a ratio below the target is
# printed, not an error.  Only ratios of the same run mean anything on a
# shared machine.
case ${1:-} in -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;; esac
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
CMP=${SEQLM_TESTBIN:-build/tests}/tnscmp
: "${FAMILIES_BENCH_ROUNDS:=3}" "${FAMILIES_BENCH_WINDOWS:=256}" "${FAMILIES_BENCH_THREADS:=2}"
for f in "$@"; do
	case $f in nt1|nt2|gena|dnabert2|bert) ;; *) echo "families.sh: error: unknown family '$f' (nt1 nt2 gena dnabert2 bert)" >&2; exit 2 ;; esac
done
[ $# -gt 0 ] || set -- bert nt1 nt2 gena dnabert2
[ -x "$CMP" ] || { echo "families.sh: error: $CMP is missing (make $CMP)" >&2; exit 1; }
E=$(blas_env env)
echo "nproc=$(nproc), CPU:$(lscpu | grep 'Model name' | cut -d: -f2 | sed 's/  */ /g'), flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma|amx|f16c)' | tr '\n' ' ')"
echo "OpenBLAS kernels for both: $E; $FAMILIES_BENCH_WINDOWS windows x 128, $FAMILIES_BENCH_ROUNDS alternating rounds, $FAMILIES_BENCH_THREADS threads each"
rc=0
for f in "$@"; do
	D=$BENCH_TMP/$f
	"$PY" bench/make_family.py "$f" "$D" "$D.windows.json" "$FAMILIES_BENCH_WINDOWS" || { rc=1; continue; }
	if ! lmconvert --from-hf "$D" -o "$D.tns" 2> "$D.err"; then
		echo "$f: NOT MEASURABLE: lmconvert cannot convert it yet: $(head -n 1 "$D.err")"
		rc=1; continue
	fi
	"$PY" tests/golden/hf_windows.py "$D.windows.json" "$D.tns" "$D.win.tns" || { rc=1; continue; }
	: > "$D.ours"; : > "$D.peer"; : > "$D.whole"
	r=0 ok=1 agree=
	while [ $r -lt "$FAMILIES_BENCH_ROUNDS" ]; do
		r=$((r + 1))
		t0=$(now)
		if ! $E lmprobe -v -t "$FAMILIES_BENCH_THREADS" -i "$D.win.tns" "$D.tns" -o "$D.p.tns" 2> "$D.log"; then
			echo "$f: NOT MEASURABLE: lmprobe fails: $(grep -m1 error "$D.log")"; ok=0; break
		fi
		t1=$(now)
		awk -v a="$t0" -v b="$t1" -v n="$FAMILIES_BENCH_WINDOWS" 'BEGIN {printf "%.1f\n", n * 128 / (b - a)}' >> "$D.whole"
		awk '/window tokens\/s/ {print $(NF - 2)}' "$D.log" >> "$D.ours"
		out=; [ $r = 1 ] && out="-o $D.want.tns"
		$E OPENBLAS_NUM_THREADS="$FAMILIES_BENCH_THREADS" "$PY" tests/golden/families/torch_forward.py "$D" --windows "$D.windows.json" --threads "$FAMILIES_BENCH_THREADS" $out > "$D.torch" ||
			{ echo "$f: the PyTorch reference fails"; ok=0; break; }
		awk '$1 == "tokens_per_s" {print $2}' "$D.torch" >> "$D.peer"
		if [ $r = 1 ]; then
			if agree=$("$CMP" -a 1e-4 "$D.p.tns" "$D.want.tns" 2>&1); then agree="agree ${agree#*values equal }"
			else echo "$f: WRONG: lmprobe's probabilities differ from the reference's: $agree"; ok=0; break
			fi
			rm -f "$D.want.tns"
		fi
	done
	[ $ok = 1 ] || { rc=1; continue; }
	awk -v f="$f" -v a="$(median "$D.ours")" -v b="$(median "$D.peer")" -v w="$(median "$D.whole")" \
	    -v ra="$(range "$D.ours")" -v rb="$(range "$D.peer")" -v rw="$(range "$D.whole")" -v agree="$agree" 'BEGIN {
		printf "%-9s lmprobe fp32 %6.0f tokens/s   PyTorch fp32 %6.0f tokens/s   ratio %.2fx (target >= 1.5x%s)\n", f, a, b, a / b, a / b < 1.5 ? ", NOT MET" : ""
		printf "          rounds: lmprobe %s, PyTorch %s; lmprobe whole runs (start-up too) %.0f (%s), %.2fx; probabilities %s\n", ra, rb, w, rw, w / b, agree }'
	rm -f "$D.p.tns"
done
exit $rc
