#!/bin/sh
# entropy and disagree on a synthetic 5-model f32 probs stream (V = 4096,
# about 300 MB, made by tests/helpers/mkprobs), next to cat of the same file
# in the same run; disagree's default 11-value top-p sweep against its own
# -p 1 pass on the same stream (target: sweep/p1 throughput >= 0.5), also on
# a flat stream like a 6-mer DNA model's (about 11.8 of 12 bits, where every
# nucleus is large), in wall and in CPU seconds (user + system: on a loaded
# machine the wall ratio swings with the load, the CPU ratio much less);
# then disagree --embeddings on five 4096 x 768 matrices.
. "$(dirname "$0")/lib.sh"
MK=${SEQLM_TESTBIN:-build/tests}/mkprobs
[ -x "$MK" ] || { echo "bench/analyses.sh: $MK missing (make bench builds it)" >&2; exit 1; }
: "${BENCH_RECORDS:=180}"
"$MK" -M 5 -V 4096 -P 20 -n "$BENCH_RECORDS" -o "$BENCH_TMP/probs.tns" || exit 1
f=$BENCH_TMP/probs.tns
bytes=$(wc -c < "$f")
echo "stream: $bytes bytes, 5 models, V 4096, $((BENCH_RECORDS * 20)) positions; nproc $(nproc); $(lscpu | grep 'Model name' | sed 's/  */ /g'); load $(cut -d' ' -f1 /proc/loadavg)"
cat "$f" > /dev/null
peer=$(median_time "cat $f > /dev/null")
ours=$(median_time "entropy -b 0 $f")
report "entropy -b 0 (1 thread)" "$ours" "cat" "$peer" "$bytes"
ours=$(median_time "entropy $f")
report "entropy, 1000 bootstraps (1 thread)" "$ours" "cat" "$peer" "$bytes"
ours=$(median_time "disagree -p 1 $f")
report "disagree -p 1 (1 thread)" "$ours" "cat" "$peer" "$bytes"
ours=$(median_time "disagree -t 2 -p 1 $f")
report "disagree -p 1 -t 2" "$ours" "cat" "$peer" "$bytes"
p1=$(median_time "disagree -p 1 $f")
ours=$(median_time "disagree $f")
report "disagree, 11 top-p values (1 thread)" "$ours" "cat" "$peer" "$bytes"
report "disagree sweep vs its -p 1 (1 thread)" "$ours" "disagree -p 1" "$p1" "$bytes"
report "  the same, CPU seconds" "$(cpu_time "disagree $f")" "disagree -p 1" "$(cpu_time "disagree -p 1 $f")" "$bytes"
ours=$(median_time "disagree -t 2 $f")
report "disagree, 11 top-p values, -t 2" "$ours" "cat" "$peer" "$bytes"
"$MK" -M 5 -V 4096 -P 20 -n "$BENCH_RECORDS" -T 0.5,0.5 -o "$BENCH_TMP/flat.tns" || exit 1
p1=$(median_time "disagree -p 1 $BENCH_TMP/flat.tns")
ours=$(median_time "disagree $BENCH_TMP/flat.tns")
report "disagree sweep vs -p 1, flat rows" "$ours" "disagree -p 1" "$p1" "$bytes"
report "  the same, CPU seconds" "$(cpu_time "disagree $BENCH_TMP/flat.tns")" "disagree -p 1" \
	"$(cpu_time "disagree -p 1 $BENCH_TMP/flat.tns")" "$bytes"
rm -f "$BENCH_TMP/flat.tns"
"$MK" -M 5 -V 4096 -P 20 -n "$BENCH_RECORDS" -h -o "$BENCH_TMP/probs16.tns" || exit 1
b16=$(wc -c < "$BENCH_TMP/probs16.tns")
cat "$BENCH_TMP/probs16.tns" > /dev/null
peer=$(median_time "cat $BENCH_TMP/probs16.tns > /dev/null")
ours=$(median_time "entropy -b 0 $BENCH_TMP/probs16.tns")
report "entropy -b 0, f16 probs" "$ours" "cat" "$peer" "$b16"
rm -f "$f" "$BENCH_TMP/probs16.tns"

for i in 1 2 3 4 5; do "$MK" -E -V 4096 -d 768 -s $i -o "$BENCH_TMP/m$i.tns" || exit 1; done
REPS=1
emb="disagree --embeddings -t 2 $BENCH_TMP/m1.tns $BENCH_TMP/m2.tns $BENCH_TMP/m3.tns $BENCH_TMP/m4.tns $BENCH_TMP/m5.tns"
t=$(median_time "$emb")
cpu=
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "%U %S" -o "$BENCH_TMP/cpu" sh -c "$emb > /dev/null" && cpu=$(cat "$BENCH_TMP/cpu")
fi
awk -v t="$t" -v cpu="$cpu" 'BEGIN { split(cpu, c, " ");
	printf "%-34s seqlm %7.3f s   (target: under 5 s on 2 threads)", "disagree --embeddings 5x 4096x768", t
	if (cpu != "") printf "; a second run: %.2f s user + %.2f s system CPU", c[1], c[2]
	printf "\n" }'
