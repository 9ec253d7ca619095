#!/bin/sh
# The fault-injection matrix: every program against damaged input and failing
# output.  Expected: exit 1 (2 for usage), one line "prog: error: ...", no
# output file left behind, no sanitizer report.  Prints the matrix as a table.
. "$(dirname "$0")/lib.sh"
MK=$SEQLM_TESTBIN/mktns
MATRIX=$T/matrix.tsv
: > "$MATRIX"

# case PROG CASE WANT_RC OUT CMD...: runs CMD; OUT is an output file that must
# not exist afterwards ("-" for none); checks the exit status, the message
# and the sanitizers
case_() {
	_p=$1 _c=$2 _want=$3 _out=$4; shift 4
	"$@" > "$T/.o" 2> "$T/.e"; _rc=$?
	_why=""
	[ "$_rc" = "$_want" ] || _why="exit $_rc, want $_want"
	if [ -z "$_why" ] && [ "$_want" = 1 ]; then
		[ "$(grep -c . "$T/.e")" = 1 ] && grep -q "^$_p: error: " "$T/.e" || _why="message: $(head -c 200 "$T/.e" | tr '\n' '|')"
	fi
	if [ -z "$_why" ] && [ "$_want" = 2 ]; then   # the error, then "Try 'prog --help'"
		head -1 "$T/.e" | grep -q "^$_p: error: " && [ "$(grep -c . "$T/.e")" -le 2 ] || _why="message: $(head -c 200 "$T/.e" | tr '\n' '|')"
	fi
	grep -q "Sanitizer\|runtime error" "$T/.e" && _why="sanitizer report"
	[ "$_out" != - ] && { [ -e "$_out" ] || [ -e "$_out.tmp" ]; } && _why="left $_out behind"
	if [ -z "$_why" ]; then printf '%s\t%s\tok\n' "$_p" "$_c" >> "$MATRIX"; ok 0 "$_p: $_c"
	else printf '%s\t%s\tFAIL\n' "$_p" "$_c" >> "$MATRIX"; ok 1 "$_p: $_c"; echo "# $_why"; fi
}
# pipe_closed PROG CMD...: output into a pipe closed after 100 bytes: quiet
pipe_closed() {
	_p=$1; shift
	{ "$@" 2> "$T/.e"; } | head -c 100 > /dev/null
	if [ ! -s "$T/.e" ]; then printf '%s\t%s\tok\n' "$_p" "stdout closed early" >> "$MATRIX"; ok 0 "$_p: stdout closed early is quiet"
	else printf '%s\t%s\tFAIL\n' "$_p" "stdout closed early" >> "$MATRIX"; ok 1 "$_p: stdout closed early is quiet"; sed 's/^/# /' "$T/.e" | head -3; fi
}
# damaged copies of a stream: truncated at 12 offsets, 12 single bit flips
truncations() { # SRC: files $T/trunc.N
	_s=$(wc -c < "$1"); _i=0
	for _f in 1 3 7 13 29 41 53 61 71 83 89 97; do
		head -c $((_s * _f / 100)) "$1" > "$T/trunc.$_i"; _i=$((_i + 1))
	done
}
flips() { # SRC: files $T/flip.N, a different bit in a different byte each
	_s=$(wc -c < "$1"); _i=0
	for _f in 2 5 11 17 23 31 37 43 59 67 79 91; do
		cp "$1" "$T/flip.$_i"
		_at=$((_s * _f / 100)); _b=$(od -An -tu1 -j "$_at" -N1 "$1" | tr -d ' ')
		printf "\\$(printf '%03o' $(( (_b ^ (1 << (_i % 8))) )))" | dd of="$T/flip.$_i" bs=1 seek="$_at" conv=notrunc 2>/dev/null
		_i=$((_i + 1))
	done
}
unreadable() { # CMD...: run as an unprivileged user when we are root
	if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi
}
# a stream that declares a 15 GiB tensor (descriptor edited, CRC fixed)
huge_tensor() { # SRC DST
	"$PYTHON" - "$1" "$2" <<'PY' 2>/dev/null || perl -e 'exit 1'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
p = b.find(b"TNSR")
nl = struct.unpack_from("<I", b, p + 36)[0]
d = p + 40 + (nl + 7) // 8 * 8
struct.pack_into("<Q", b, d + 8, 15 << 30)      # dim 0 of the first tensor
flen = struct.unpack_from("<Q", b, p + 8)[0]
struct.pack_into("<I", b, p + 4, zlib.crc32(bytes(b[p + 8:p + flen])))
open(sys.argv[2], "wb").write(b)
PY
}
stream_cases() { # PROG GOOD-STREAM CMD-PREFIX...: the input-side cases for a stream reader; FILE appended
	_p=$1 _g=$2; shift 2
	# the good input must exist and be accepted, or every damaged case below means nothing
	if [ ! -s "$_g" ] || ! "$@" "$_g" > /dev/null 2>&1; then ok 1 "$_p: the undamaged input $_g is accepted"; return; fi
	_o=-; _prev=""; for _a; do [ "$_prev" = -o ] && { rm -f "$_a"; _o=$_a; }; _prev=$_a; done   # the output: never left behind
	truncations "$_g"; flips "$_g"
	_i=0; while [ $_i -lt 12 ]; do case_ "$_p" "truncated input ($_i)" 1 "$_o" "$@" "$T/trunc.$_i"; _i=$((_i + 1)); done
	_i=0; while [ $_i -lt 12 ]; do case_ "$_p" "bit flip ($_i)" 1 "$_o" "$@" "$T/flip.$_i"; _i=$((_i + 1)); done
	: > "$T/zero.tns"
	case_ "$_p" "zero-length file" 1 "$_o" "$@" "$T/zero.tns"
	case_ "$_p" "empty stdin" 1 "$_o" sh -c '"$@" - < /dev/null' sh "$@"
	case_ "$_p" "directory as input" 1 "$_o" "$@" "$T"
	case_ "$_p" "missing file" 1 "$_o" "$@" "$T/missing.tns"
	cp "$_g" "$T/unreadable.tns"; chmod 000 "$T/unreadable.tns"
	case_ "$_p" "unreadable file" 1 "$_o" unreadable "$@" "$T/unreadable.tns"
	if huge_tensor "$_g" "$T/huge.tns"; then case_ "$_p" "15 GiB declared tensor" 1 "$_o" "$@" "$T/huge.tns"
	else skip "$_p: 15 GiB declared tensor (needs python3)"; fi
}

# ---- tnsview ----
$MK -n 4 -o "$T/good.tns"
stream_cases tnsview "$T/good.tns" tnsview -o "$T/out.view"
case_ tnsview "stdout is /dev/full" 1 - sh -c 'tnsview "$1" > /dev/full' sh "$T/good.tns"
case_ tnsview "output in a missing folder" 1 "$T/no/out.tns" tnsview --copy -o "$T/no/out.tns" "$T/good.tns"
case_ tnsview "--copy to /dev/full" 1 - sh -c 'tnsview --copy "$1" > /dev/full' sh "$T/good.tns"
$MK -b 8 -o "$T/big.tns"
pipe_closed tnsview tnsview -n -1 "$T/big.tns"
case_ tnsview "usage error" 2 - tnsview --no-such-option

# ---- seqtok: gzip FASTA input (a plain FASTA cut short is still a FASTA) ----
gzip -c "$DATA/demo/human_chr20_100k.fa" > "$T/good.fa.gz"
SEQ="seqtok -T 64 -o $T/seq.tns"
stream_cases seqtok "$T/good.fa.gz" $SEQ
printf 'no sequence here\n' > "$T/notfa.txt"
case_ seqtok "not a sequence file" 1 "$T/seq.tns" $SEQ "$T/notfa.txt"
case_ seqtok "stdout is /dev/full" 1 - sh -c 'seqtok -T 64 "$1" > /dev/full' sh "$T/good.fa.gz"
case_ seqtok "output in a missing folder" 1 "$T/no/w.tns" seqtok -T 64 -o "$T/no/w.tns" "$T/good.fa.gz"
pipe_closed seqtok seqtok -T 64 -f "$DATA/demo/human_chr20_100k.fa"
case_ seqtok "unknown vocabulary file" 1 "$T/seq.tns" $SEQ --vocab "$T/notfa.txt" "$T/good.fa.gz"
case_ seqtok "usage error" 2 - seqtok -k 0 "$T/good.fa.gz"

# ---- the model programs: a small model and windows of a genome slice ----
W=$DATA/engine/dna_3mer.tns
small="--arch 4M --layers 1 --hidden 16 --heads 2 --ffn 32 --max-pos 64 -b 8"
lmtrain $small --steps 2 -q -o "$T/m.tns" "$W"
lmtrain $small --steps 1 -q -o "$T/eng.tns" "$DATA/engine/english_char.tns"
cp "$W" "$T/w.tns"
# lmtrain
stream_cases lmtrain "$T/w.tns" lmtrain $small --steps 1 -q -o "$T/lm.tns"
case_ lmtrain "windows longer than --max-pos" 1 "$T/lm.tns" lmtrain $small --max-pos 32 --steps 1 -q -o "$T/lm.tns" "$W"
case_ lmtrain "stdout is /dev/full" 1 - sh -c 'lmtrain $1 --steps 1 -q -f "$2" > /dev/full' sh "$small" "$W"
case_ lmtrain "output in a missing folder" 1 "$T/no/m.tns" lmtrain $small --steps 1 -q -o "$T/no/m.tns" "$W"
case_ lmtrain "usage error" 2 - lmtrain --arch 7B "$W"
# lmprobe and fisherflow: the windows damaged, then the model
for P in lmprobe fisherflow; do
	stream_cases $P "$T/w.tns" $P -o "$T/out.$P" "$T/m.tns" -i
	truncations "$T/m.tns"; flips "$T/m.tns"
	for i in 0 3 6 9; do case_ $P "truncated model ($i)" 1 - $P -i "$W" "$T/trunc.$i"; done
	for i in 0 3 6 9; do case_ $P "bit flip in the model ($i)" 1 - $P -i "$W" "$T/flip.$i"; done
	case_ $P "model of another vocabulary" 1 - $P -i "$W" "$T/eng.tns"
	case_ $P "window longer than the model's positions" 1 - $P -i "$DATA/probe/probe_windows_long.tns" "$DATA/probe/probe_model.tns"
	case_ $P "NaN in the model's weights" 1 - $P -i "$DATA/probe/probe_windows.tns" "$TOP/tests/fuzz/regress/model-nan-gelu.tns"
	case_ $P "model is a directory" 1 - $P -i "$W" "$T"
	case_ $P "output in a missing folder" 1 "$T/no/p" $P -i "$W" -o "$T/no/p" "$T/m.tns"
	case_ $P "usage error" 2 - $P --no-such-option "$T/m.tns"
done
case_ lmprobe "stdout is /dev/full" 1 - sh -c 'lmprobe -f -i "$1" "$2" > /dev/full' sh "$W" "$T/m.tns"
case_ fisherflow "stdout is /dev/full" 1 - sh -c 'fisherflow -i "$1" "$2" > /dev/full' sh "$W" "$T/m.tns"
pipe_closed lmprobe lmprobe -f -i "$W" "$T/m.tns"
pipe_closed fisherflow fisherflow --by param -i "$W" "$T/m.tns"

# ---- entropy and disagree: lmprobe output of two models ----
"$SEQLM_TESTBIN/mkprobs" -M 2 -V 50 -P 6 -n 20 -o "$T/probs.tns"
for P in entropy disagree; do
	stream_cases $P "$T/probs.tns" $P -o "$T/out.$P"
	case_ $P "windows instead of probabilities" 1 - $P "$W"
	case_ $P "stdout is /dev/full" 1 - sh -c '"$1" "$2" > /dev/full' sh $P "$T/probs.tns"
	case_ $P "output in a missing folder" 1 "$T/no/x.tsv" $P -o "$T/no/x.tsv" "$T/probs.tns"
	case_ $P "usage error" 2 - $P --no-such-option "$T/probs.tns"
done
"$SEQLM_TESTBIN/mkprobs" -M 1 -V 50 -P 6 -n 5 -o "$T/probs1.tns"
case_ disagree "one model only" 1 - disagree "$T/probs1.tns"
if "$PYTHON" - "$T/probs.tns" "$T/nan.tns" "$TOP/examples" "$TOP/tests/golden" <<'PY' 2>/dev/null
import sys
sys.path[:0] = sys.argv[3:5]
import numpy as np
from tns_io import read_tns, write_tns
h, recs = read_tns(sys.argv[1])
recs[3][1]["probs"] = recs[3][1]["probs"].copy()
recs[3][1]["probs"][1, 2, 7] = np.nan
write_tns(sys.argv[2], h, recs)
PY
then
	case_ entropy "NaN in the probabilities" 1 - entropy "$T/nan.tns"
	case_ disagree "NaN in the probabilities" 1 - disagree "$T/nan.tns"
else skip "NaN in the probabilities (needs NumPy)"; skip "NaN in the probabilities (needs NumPy)"; fi
case_ disagree "--embeddings of models of other sizes" 1 - disagree --embeddings "$T/m.tns" "$T/eng.tns"
pipe_closed entropy entropy --per-position "$T/probs.tns"
pipe_closed disagree disagree --matrix "$T/probs.tns"

# ---- the wrong input: sequences or text where a stream is wanted ----
# hint_case PROG CASE REGEX CMD...: exit 1, one error line matching REGEX
hint_case() {
	_p=$1 _c=$2 _re=$3; shift 3
	"$@" > "$T/.o" 2> "$T/.e"; _rc=$?
	if [ "$_rc" = 1 ] && [ "$(grep -c . "$T/.e")" = 1 ] && grep -Eq -- "^$_p: error: $_re" "$T/.e"; then
		printf '%s\t%s\tok\n' "$_p" "$_c" >> "$MATRIX"; ok 0 "$_p: $_c"
	else printf '%s\t%s\tFAIL\n' "$_p" "$_c" >> "$MATRIX"; ok 1 "$_p: $_c"; echo "# exit $_rc; stderr: $(head -c 300 "$T/.e" | tr '\n' '|')"; fi
}
FA=$DATA/demo/human_chr20_100k.fa
printf '@r1\nACGTACGT\n+\nIIIIIIII\n' > "$T/reads.fq"
gzip -c "$FA" > "$T/genome.fa.gz"
BOOK=$DATA/demo/moby_dick_head.txt
for P in tnsview lmtrain lmprobe fisherflow entropy disagree; do
	case $P in
	lmtrain) run="lmtrain $small --steps 1 -q -o $T/lm.tns" ;;
	lmprobe|fisherflow) run="$P -o $T/out.$P $T/m.tns -i" ;;
	*) run=$P ;;
	esac
	via=""; [ $P = entropy ] && via="lmprobe MODEL.tns \\| "; [ $P = disagree ] && via="lmprobe M1.tns M2.tns \\| "
	hint_case $P "FASTA instead of a stream: says so, names seqtok" "$FA: not a tensor stream: this looks like FASTA; tokenise it first: seqtok $FA \\| $via$P \\.\\.\\.$" $run "$FA"
	hint_case $P "gzip'd FASTA instead of a stream" "$T/genome.fa.gz: not a tensor stream: this looks like gzip-compressed FASTA; tokenise it first: seqtok " $run "$T/genome.fa.gz"
	hint_case $P "FASTQ instead of a stream" ".*reads.fq: not a tensor stream: this looks like FASTQ; tokenise it first: seqtok " $run "$T/reads.fq"
	hint_case $P "BAM instead of a stream" ".*reads.bam: not a tensor stream: this looks like BAM; tokenise it first: seqtok " $run "$DATA/seqtok/reads.bam"
	hint_case $P "text instead of a stream" ".*moby_dick_head.txt: not a tensor stream: this looks like text; tokenise it first: seqtok --text --char " $run "$BOOK"
	hint_case $P "FASTA on standard input" "standard input: not a tensor stream: this looks like FASTA; tokenise it first: seqtok FILE \\| " sh -c "$run - < $FA"
done
for P in lmprobe fisherflow; do
	hint_case $P "FASTA given as the model" "$FA: not a tensor stream: this looks like FASTA" $P -i "$W" "$FA"
done

# ---- a failing program upstream: one clear line downstream, not a second puzzle ----
hint_case entropy "false | entropy: no data, upstream failed" "standard input: no data: no tensor stream arrived \\(the program writing it failed" sh -c 'false | entropy'
seqtok "$T/missing.fa" 2> "$T/up.err" | lmprobe "$T/m.tns" > /dev/null 2> "$T/down.err"
[ "$(cat "$T/up.err")" = "seqtok: error: $T/missing.fa: cannot open: No such file or directory" ] &&
	grep -q '^lmprobe: error: standard input: no data: .*program writing it failed' "$T/down.err" && [ "$(grep -c . "$T/down.err")" = 1 ]
ok $? "seqtok failing into lmprobe: seqtok says why, lmprobe says no data arrived"
cat "$FA" "$FA" "$FA" "$FA" > "$T/big.fa"      # windows enough (2 MB) to pass the writer's 1 MiB buffer
seqtok -T 8 "$T/big.fa" "$T/missing.fa" 2> /dev/null | tnsview --count > /dev/null 2> "$T/down.err"
grep -q '^tnsview: error: standard input: truncated: .*(the program writing it failed or was stopped)$' "$T/down.err"
ok $? "seqtok failing after some windows: the reader says the stream was cut and that its writer failed"

# ---- standard output has one name in every message ----
for P in "seqtok -T 64 $FA" "tnsview $T/good.tns" "tnsview --copy $T/good.tns" "entropy $T/probs.tns" "disagree $T/probs.tns" "lmprobe -f -i $W $T/m.tns"; do
	$P > /dev/full 2> "$T/.e"
	grep -q ': error: standard output: write failed: No space left on device$' "$T/.e"
	ok $? "${P%% *} to /dev/full: 'standard output: write failed'"
done

echo "# fault matrix (program, case, result):"
awk -F'\t' '{printf "#   %-10s %-42s %s\n", $1, $2, $3}' "$MATRIX"
done_testing
