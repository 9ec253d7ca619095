#!/bin/sh
# fisherflow: the tool around common/model/fisher.c (whose numbers are checked
# against PyTorch in test_fisher_golden): output, options, determinism, and
# bad input.
. "$(dirname "$0")/lib.sh"
W=$DATA/engine/dna_3mer.tns
E=$DATA/engine/english_char.tns
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 -b 16 --max-pos 64"
lmtrain $small --steps 6 --seed 1 -o "$T/m1.tns" "$W" 2>/dev/null
lmtrain $small --steps 12 --seed 2 -o "$T/m2.tns" "$W" 2>/dev/null
lmtrain $small --steps 2 --seed 1 -o "$T/eng.tns" "$E" 2>/dev/null

run_ok "fisherflow runs on one model" fisherflow -i "$W" "$T/m1.tns"
cp "$T/.out" "$T/one.tsv"
is "$(head -1 "$T/one.tsv")" "$(printf 'model\tgroup\tfisher\tshare\tn_tokens\testimator\tn_windows\tn_params')" "the TSV header names the columns"
is "$(cut -f2 "$T/one.tsv" | tail -n +2 | tr '\n' ' ')" "embeddings encoder.0 encoder.1 head " "groups: embeddings, one per encoder layer, head"
is "$(awk -F'\t' 'NR > 1 {s += $4} END {printf "%.6f", s}' "$T/one.tsv")" "1.000000" "shares add up to 1"
is "$(awk -F'\t' 'NR > 1 {print $6}' "$T/one.tsv" | sort -u)" "window" "the default estimator is the per-window one"
is "$(awk -F'\t' 'NR > 1 {s += $8} END {print s}' "$T/one.tsv")" "$(awk -F'\t' 'NR > 1 {print $8}' "$T/one.tsv" | paste -sd+ | bc)" "n_params adds up"

fisherflow -t 2 -i "$W" "$T/m1.tns" > "$T/t2.tsv"
cmp -s "$T/one.tsv" "$T/t2.tsv"; ok $? "-t 2 gives the same bytes as -t 1"
fisherflow -b 5 -i "$W" "$T/m1.tns" > "$T/b5.tsv"
awk -F'\t' 'NR == FNR {a[$2] = $3; next} FNR > 1 {d = $3 - a[$2]; if (d < 0) d = -d; if (d > 1e-5 * a[$2]) bad = 1} END {exit bad}' "$T/one.tsv" "$T/b5.tsv"
ok $? "the window estimate does not depend on -b (to float precision)"

cat "$W" | fisherflow "$T/m1.tns" "$T/m2.tns" > "$T/two.tsv"
is "$(awk -F'\t' 'NR > 1 {print $1}' "$T/two.tsv" | uniq | wc -l)" 2 "two models from a pipe: one block each, in order"
is "$(grep -F "$T/m1.tns" "$T/two.tsv")" "$(grep -F "$T/m1.tns" "$T/one.tsv")" "the first model's rows from a pipe equal those from a file"
is "$(fisherflow -m "$T/m1.tns" -i "$W" | md5sum)" "$(md5sum < "$T/one.tsv")" "-m FILE is the same as a positional model"

fisherflow --estimator batch -b 16 -i "$W" "$T/m1.tns" > "$T/batch.tsv"; ok $? "--estimator batch runs"
is "$(awk -F'\t' 'NR == 2 {print $6}' "$T/batch.tsv")" "batch" "and says so"
fisherflow --estimator token -n 4 -i "$W" "$T/m1.tns" > "$T/token.tsv"; ok $? "--estimator token runs"
awk -F'\t' 'NR > 1 && $7 != 4 {exit 1}' "$T/token.tsv"; ok $? "-n 4 uses four windows"
fisherflow --by layer-part -i "$W" "$T/m1.tns" > "$T/lp.tsv"
is "$(cut -f2 "$T/lp.tsv" | tail -n +2 | tr '\n' ' ')" "embeddings encoder.0.attention encoder.0.layernorm encoder.0.ffn encoder.1.attention encoder.1.layernorm encoder.1.ffn head " "--by layer-part splits each layer in attention, layernorm, ffn"
is "$(awk -F'\t' 'NR > 1 {s += $3} END {printf "%.5g", s}' "$T/lp.tsv")" "$(awk -F'\t' 'NR > 1 {s += $3} END {printf "%.5g", s}' "$T/one.tsv")" "and its parts add up to the same total"
fisherflow --by param -i "$W" "$T/m1.tns" > "$T/pa.tsv"
is "$(tail -n +2 "$T/pa.tsv" | wc -l)" 42 "--by param has one row per parameter tensor (5 + 2 x 16 + 5)"
awk -F'\t' '$2 ~ /key.bias/ && $4 > 1e-12 {bad = 1} END {exit bad}' "$T/pa.tsv"
ok $? "the key bias has no Fisher (zero up to float rounding: softmax ignores it)"
fisherflow --normalize params -i "$W" "$T/m1.tns" > "$T/np.tsv"
awk -F'\t' 'NR == FNR && FNR > 1 {a[$2] = $3 / $8; next} FNR > 1 {d = $3 - a[$2]; if (d < 0) d = -d; if (d > 1e-6 * a[$2]) bad = 1} END {exit bad}' "$T/one.tsv" "$T/np.tsv"
ok $? "--normalize params divides each group by its parameter count"
fisherflow --mask-prob 0.3 --mask-seed 5 -i "$W" "$T/m1.tns" > "$T/q3.tsv"
[ "$(awk -F'\t' 'NR == 2 {print $5}' "$T/q3.tsv")" -gt "$(awk -F'\t' 'NR == 2 {print $5}' "$T/one.tsv")" ]
ok $? "--mask-prob 0.3 masks more tokens than the default 0.15"

# bad input
fails_with "a model of another tokenizer is refused, naming the model" 1 "fisherflow: error: $T/eng.tns: the model's vocabulary .* another tokenizer" fisherflow -i "$W" "$T/eng.tns"
fails_with "windows longer than the model's positions are refused" 1 "exceed the model's 16 positions" fisherflow -i "$DATA/probe/probe_windows_long.tns" "$DATA/probe/probe_model.tns"
head -c 2000 "$W" > "$T/cut.tns"
fails_with "a truncated window stream is an error" 1 "fisherflow: error: .*cut.tns: truncated" fisherflow -i "$T/cut.tns" "$T/m1.tns"
head -c 3000 "$T/m1.tns" > "$T/cutm.tns"
fails_with "a corrupt model is an error naming it" 1 "fisherflow: error: $T/cutm.tns: " fisherflow -i "$W" "$T/cutm.tns"
tnsview --header "$W" > /dev/null
"$SEQLM_TESTBIN/mktns" -n 0 -o "$T/novocab.tns"
fails_with "a stream without a vocabulary is an error" 1 "no tokenizer vocabulary" fisherflow -i "$T/novocab.tns" "$T/m1.tns"
fails_with "no model is a usage error" 2 "Usage: fisherflow" fisherflow -i "$W"
fails_with "a missing model with an empty stdin is named, not stdin" 1 "^fisherflow: error: $T/missing.tns: No such file" sh -c 'fisherflow "$1" < /dev/null' sh "$T/missing.tns"
fails_with "every model file is checked before the windows are read" 1 "^fisherflow: error: $T/missing.tns: No such file" sh -c 'fisherflow "$1" "$2" < /dev/null' sh "$T/m1.tns" "$T/missing.tns"
fails_with "the message for windows too long names the seqtok -T that fits" 1 "windows of 24 tokens .*: make the windows with seqtok -T 16" fisherflow -i "$DATA/probe/probe_windows_long.tns" "$DATA/probe/probe_model.tns"
# no output at all on an error, not even the header, also on stdout
fisherflow -i "$W" "$T/m1.tns" "$T/missing.tns" > "$T/hdr.tsv" 2>/dev/null
is "$?:$(wc -c < "$T/hdr.tsv")" "1:0" "a missing second model: exit 1 and not a byte on stdout"
fisherflow -i "$W" "$T/m1.tns" "$T/cutm.tns" > "$T/hdr.tsv" 2>/dev/null
is "$?:$(wc -c < "$T/hdr.tsv")" "1:0" "a corrupt second model (found after the first is done): exit 1 and not a byte on stdout"
fisherflow -i "$W" "$T/m1.tns" "$T/eng.tns" > "$T/hdr.tsv" 2>/dev/null
is "$?:$(wc -c < "$T/hdr.tsv")" "1:0" "a second model of another tokenizer: exit 1 and not a byte on stdout"
# -q is --quiet, as in every program; the mask probability is --mask-prob
fisherflow -q -v -i "$W" "$T/m1.tns" > "$T/qq.tsv" 2> "$T/qq.err"
cmp -s "$T/qq.tsv" "$T/one.tsv" && [ ! -s "$T/qq.err" ]; ok $? "-q is quiet: the same TSV, nothing on stderr"
fails_with "the old -q 0.15 is answered with --mask-prob 0.15" 2 "fisherflow: error: 0.15: no such model file; did you mean --mask-prob 0.15\\?" fisherflow -q 0.15 -i "$W" "$T/m1.tns"
# progress: on a terminal a live line (windows done, ETA), off one nothing
fisherflow -i "$W" "$T/m1.tns" > /dev/null 2> "$T/p.err"
[ ! -s "$T/p.err" ]; ok $? "no progress line when stderr is not a terminal"
if script -qec true /dev/null > /dev/null 2>&1; then
	script -qec "fisherflow -i '$W' '$T/m1.tns' '$T/m2.tns' > '$T/tty.tsv'" /dev/null > "$T/tty.txt" 2>&1
	grep -q "fisherflow: \[#*\.*\] windows [0-9]*/194 .*ETA [0-9]*:[0-9][0-9]" "$T/tty.txt"; ok $? "on a terminal: a progress line with windows done of 2 x 97 and the ETA"
	cmp -s "$T/tty.tsv" "$T/two.tsv"; ok $? "and the same TSV"
	script -qec "fisherflow -q -i '$W' '$T/m1.tns' > /dev/null" /dev/null > "$T/ttyq.txt" 2>&1
	! grep -q "windows" "$T/ttyq.txt"; ok $? "-q: no progress line on a terminal"
	script -qec "cat '$W' | fisherflow '$T/m1.tns' > /dev/null" /dev/null > "$T/ttyp.txt" 2>&1
	grep -q "fisherflow: windows 97 " "$T/ttyp.txt" && ! grep -q ETA "$T/ttyp.txt"; ok $? "from a pipe read once: windows done, no bar, no ETA"
	script -qec "fisherflow -i '$W' '$T/m1.tns' '$T/cutm.tns' > /dev/null" /dev/null > "$T/ttye.txt" 2>&1
	tr -d '\r' < "$T/ttye.txt" | grep -q "^fisherflow: error: $T/cutm.tns: truncated"; ok $? "an error after the progress line starts a line of its own"
else
	skip "script(1) cannot make a terminal here"; skip "script(1)"; skip "script(1)"; skip "script(1)"; skip "script(1)"
fi
fails_with "a bad estimator is a usage error" 2 "estimator" fisherflow --estimator median -i "$W" "$T/m1.tns"
fisherflow -i "$W" -o "$T/no/such/dir.tsv" "$T/m1.tns" 2> "$T/err"; is "$?" 1 "an unwritable output exits 1"
fisherflow -i "$W" -o "$T/f.tsv" "$T/m1.tns" "$T/cutm.tns" 2> /dev/null
[ ! -e "$T/f.tsv" ] && [ ! -e "$T/f.tsv.tmp" ]; ok $? "-o: an error leaves no file, no temporary file"
done_testing
