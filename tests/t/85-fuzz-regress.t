#!/bin/sh
# Inputs that once broke something (found by the fuzzers, tests/fuzz/regress)
# go through the programs again: a clean success or a clean error, never a
# crash or a sanitizer report.
. "$(dirname "$0")/lib.sh"
clean() { # DESCRIPTION CMD...: exit 0 or 1, no sanitizer report
	_d=$1; shift
	"$@" > "$T/.o" 2> "$T/.e"; _rc=$?
	if { [ $_rc = 0 ] || [ $_rc = 1 ]; } && ! grep -q "runtime error\|Sanitizer\|Segmentation" "$T/.e"; then ok 0 "$_d (exit $_rc)"
	else ok 1 "$_d"; echo "# exit $_rc"; head -5 "$T/.e" | sed 's/^/# /'; fi
}
# the model files here are broken (NaN weights...): a one-line error, exit 1
for f in "$TOP"/tests/fuzz/regress/model-*; do
	fails_with "lmprobe refuses $(basename "$f")" 1 "^lmprobe: error: .*non-finite" lmprobe -i "$DATA/probe/probe_windows.tns" "$f"
	fails_with "fisherflow refuses $(basename "$f")" 1 "^fisherflow: error: .*non-finite" fisherflow -i "$DATA/probe/probe_windows.tns" "$f"
	# after a sound model, with threads: the broken one is named
	fails_with "lmprobe -t 2 names $(basename "$f") after a sound model" 1 "^lmprobe: error: $f: .*non-finite" \
		lmprobe -t 2 -i "$DATA/probe/probe_windows.tns" "$DATA/probe/probe_model.tns" "$f"
done
for f in "$TOP"/tests/fuzz/regress/tns-*; do
	[ -e "$f" ] || continue
	clean "tnsview survives $(basename "$f")" tnsview -c "$f"
done
for f in "$TOP"/tests/fuzz/regress/seq-*; do
	[ -e "$f" ] || continue
	clean "seqtok survives $(basename "$f")" seqtok -o "$T/out.tns" "$f"
done
# tokenizer.json inputs (fuzz_hftok: the first byte 0, then the file):
# seqtok reads the folder and encodes the input itself as one text document
for f in "$TOP"/tests/fuzz/regress/hftok-*; do
	[ -e "$f" ] || continue
	rm -rf "$T/hf"; mkdir "$T/hf"; tail -c +2 "$f" > "$T/hf/tokenizer.json"
	echo '{"pad_token": "[PAD]"}' > "$T/hf/tokenizer_config.json"
	clean "seqtok --vocab survives $(basename "$f")" seqtok --text --binary-ok --para --vocab "$T/hf" -o "$T/out.tns" "$f"
done
done_testing
