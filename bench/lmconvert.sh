#!/bin/sh
# lmconvert --from-hf of a 90M-size BertForMaskedLM (random, made here:
# bench/make_hf.py, F32, 356 MB) next to cat reading the same bytes (to
# /dev/null) and copying them (to a file: what lmconvert must at least do),
# in the same run, from the page cache; then lmconvert's peak resident
# memory (GNU time) against the size of the model it writes (goal: <= 1.2x).
# Its CPU time is mostly the model_hash (FNV-1a, one byte at a time) and the
# CRC; the rest of the wall time is the kernel writing 356 MB, as for cat:
# on a shared disk that varies from run to run, so only same-run ratios
# mean anything.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
echo "nproc=$(nproc), CPU:$(lscpu | grep 'Model name' | cut -d: -f2 | sed 's/  */ /g')"
"$PY" bench/make_hf.py "$BENCH_TMP/hf" F32 || exit 1
M=$BENCH_TMP/hf/model.safetensors
bytes=$(wc -c < "$M")
cat "$M" > /dev/null
# every run writes a new file (rename() over an old one makes ext4 flush)
ours=$(median_time "rm -f $BENCH_TMP/m.tns; lmconvert --from-hf $BENCH_TMP/hf -o $BENCH_TMP/m.tns")
peer=$(median_time "cat $M > /dev/null")
peer2=$(median_time "rm -f $BENCH_TMP/copy; cat $M > $BENCH_TMP/copy")
report "lmconvert --from-hf 90M F32" "$ours" "cat >/dev/null" "$peer" "$bytes"
report "lmconvert --from-hf 90M F32" "$ours" "cat > file" "$peer2" "$bytes"
ours=$(cpu_time "rm -f $BENCH_TMP/m.tns; lmconvert --from-hf $BENCH_TMP/hf -o $BENCH_TMP/m.tns")
peer2=$(cpu_time "rm -f $BENCH_TMP/copy; cat $M > $BENCH_TMP/copy")
report "  the same, CPU seconds" "$ours" "cat > file" "$peer2" "$bytes"
out=$(wc -c < "$BENCH_TMP/m.tns")
rm -f "$BENCH_TMP/m.tns"
/usr/bin/time -v lmconvert --from-hf "$BENCH_TMP/hf" -o "$BENCH_TMP/m.tns" 2> "$BENCH_TMP/time" || exit 1
rss=$(awk -F': ' '/Maximum resident/ {print $2 * 1024}' "$BENCH_TMP/time")
awk -v r="$rss" -v o="$out" 'BEGIN {printf "%-34s peak RSS %.0f MB, model %.0f MB: %.2fx the model (goal <= 1.2x)\n", "lmconvert --from-hf 90M F32", r/1e6, o/1e6, r/o; exit !(r <= 1.2 * o)}'
