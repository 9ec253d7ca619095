#!/bin/sh
# tnsview: views, unpacking, checks, and its behaviour on bad input
. "$(dirname "$0")/lib.sh"
MK=$SEQLM_TESTBIN/mktns

$MK -n 3 -o "$T/s.tns"
$MK -n 3 -z -o "$T/s.tns.gz"

run_ok "views a stream" tnsview "$T/s.tns"
grep -q '^@HD	VN:1$' "$T/.out" && grep -q '^#2	rec2:1-12$' "$T/.out" && grep -q '	f32	f32	2x2x2x3	-1 -0.75' "$T/.out"
ok $? "the view shows header, record names, dtypes, shapes and values"
is "$(tnsview --header "$T/s.tns" | cut -f1 | tr '\n' ' ')" "@HD @KV @PG " "--header prints only the header lines"
is "$(tnsview --count "$T/s.tns")" "3" "--count counts records"
is "$(tnsview --count "$T/s.tns.gz")" "3" "BGZF input is read transparently"
is "$(tnsview -n -1 --no-header "$T/s.tns")" "$(tnsview -n -1 --no-header "$T/s.tns.gz")" "BGZF and plain give the same records"
is "$(tnsview -c "$T/s.tns")" "$T/s.tns: OK: 3 records" "--check passes an intact stream"
tnsview --copy -z "$T/s.tns" > "$T/c.tns.gz"
is "$(tnsview -n -1 --no-header "$T/c.tns.gz")" "$(tnsview -n -1 --no-header "$T/s.tns")" "--copy -z round-trips through BGZF"
tnsview --copy "$T/s.tns" | tnsview --header - | grep -q '^@PG	ID:tnsview	PN:tnsview	PP:mktns'
ok $? "--copy appends its own @PG line after the previous program's"
cat "$T/s.tns" | tnsview -o "$T/view.txt" -
is "$(head -1 "$T/view.txt")" "@HD	VN:1" "-o writes the text to a file, stdin as -"

# the vocabulary: thousands of @VO lines in the header, one line in the view
printf '>chr1\nACGTACGTAAACCCGGGTTTACGT\n' > "$T/w.fa"
seqtok -T 8 "$T/w.fa" > "$T/w.tns"
tnsview "$T/w.tns" > "$T/wview.txt"
is "$(grep '^@VO' "$T/wview.txt")" "@VO	(4106 tokens; tnsview --header lists them)" "the view shows the vocabulary as one @VO line with its size"
is "$(grep -v '^@VO' "$T/wview.txt" | grep -c '^@')" "$(tnsview --header "$T/w.tns" | grep -vc '^@VO')" "  ... and every other header line"
is "$(grep -m1 -n '^#0	' "$T/wview.txt" | cut -d: -f1)" "$(( $(tnsview --header "$T/w.tns" | grep -vc '^@VO') + 2 ))" "  ... then the records, right after the header"
is "$(tnsview --header "$T/w.tns" | grep -c '^@VO')" 4106 "--header lists every token's @VO line"
is "$(tnsview -n 0 "$T/s.tns" | grep -c '^@VO')" 0 "a stream without a vocabulary: no @VO line at all"

# damage
size=$(wc -c < "$T/s.tns")
head -c $((size - 64)) "$T/s.tns" > "$T/cut.tns"
fails_with "a stream without its end frame is an error" 1 "tnsview: error: .*cut.tns: truncated: stream ends after 3 records" tnsview -c "$T/cut.tns"
grep -q "BAD: truncated" "$T/.out"; ok $? "--check prints BAD and the reason on stdout"
head -c 1000 "$T/s.tns" > "$T/cut2.tns"
fails_with "a stream cut inside a record names the record and byte" 1 "truncated: record 0 at byte 192 is" tnsview "$T/cut2.tns"
cp "$T/s.tns" "$T/flip.tns"
printf '\377' | dd of="$T/flip.tns" bs=1 seek=1500 conv=notrunc 2>/dev/null
fails_with "a flipped byte is a CRC error naming the record" 1 "record 1 at byte [0-9]+: CRC mismatch" tnsview -c "$T/flip.tns"
: > "$T/empty.tns"
fails_with "an empty file is an error" 1 "empty.tns: empty file" tnsview "$T/empty.tns"
fails_with "an empty pipe: no data, the program writing it failed" 1 "^tnsview: error: standard input: no data: .*program writing it failed" sh -c 'false | tnsview'
printf '>chr1\nACGT\n' > "$T/x.fa"
fails_with "a FASTA file is not a stream: it says so, and how to make one" 1 "x.fa: not a tensor stream: this looks like FASTA; tokenise it first: seqtok $T/x.fa \\| tnsview" tnsview "$T/x.fa"
gzip -c "$T/x.fa" > "$T/x.fa.gz"
fails_with "  ... gzip'd FASTA too" 1 "x.fa.gz: not a tensor stream: this looks like gzip-compressed FASTA; tokenise it first: seqtok" tnsview "$T/x.fa.gz"
printf '@r1\nACGT\n+\nIIII\n' > "$T/x.fq"
fails_with "  ... FASTQ" 1 "this looks like FASTQ; tokenise it first" tnsview "$T/x.fq"
S=$DATA/seqtok
for f in reads.bam:BAM reads.cram:CRAM; do
	fails_with "  ... ${f#*:}" 1 "${f%:*}: not a tensor stream: this looks like ${f#*:}; tokenise it first: seqtok" tnsview "$S/${f%:*}"
done
printf '@HD\tVN:1.6\n@SQ\tSN:c\tLN:9\n' > "$T/x.sam"
fails_with "  ... SAM" 1 "this looks like SAM; tokenise it first" tnsview "$T/x.sam"
printf 'Call me Ishmael.\n' > "$T/book.txt"
fails_with "  ... text: seqtok --text --char" 1 "book.txt: not a tensor stream: this looks like text; tokenise it first: seqtok --text --char .*book.txt \\| tnsview" tnsview "$T/book.txt"
head -c 300 /dev/zero | tr '\0' '\1' > "$T/bin"
fails_with "  ... unknown binary data: bad magic" 1 "bin: not a tensor stream \\(bad magic\\)$" tnsview "$T/bin"
fails_with "a missing file is an error" 1 "tnsview: error: $T/nope.tns: No such file" tnsview "$T/nope.tns"
fails_with "a directory is an error" 1 "tnsview: error: $T: " tnsview "$T"
zsize=$(wc -c < "$T/s.tns.gz")
head -c $((zsize / 2)) "$T/s.tns.gz" > "$T/cut.tns.gz"
fails_with "a truncated BGZF stream is an error" 1 "cut.tns.gz: (truncated|read error)" tnsview -c "$T/cut.tns.gz"
fails_with "an unknown option is a usage error" 2 "Try 'tnsview --help'" tnsview --frobnicate "$T/s.tns"
fails_with "two inputs are a usage error" 2 "one input file" tnsview "$T/s.tns" "$T/s.tns"
tnsview --help > "$T/help" 2>&1; ok $? "--help exits 0"
grep -q '^Usage: tnsview' "$T/help"; ok $? "--help prints the usage on stdout"
tnsview --version | grep -q '^htslib 1\.' && tnsview --version | grep -q '^OpenBLAS [0-9]'
ok $? "--version names the htslib and OpenBLAS versions"
is "$(tnsview --version | grep -c 'OpenBLAS.*OpenBLAS')" 0 "--version says OpenBLAS once"

# output errors
tnsview "$T/s.tns" > /dev/full 2> "$T/full.err"; rc=$?
is "$rc" 1 "text output to /dev/full exits 1"
grep -q "tnsview: error: standard output: .*No space left" "$T/full.err"; ok $? "and says why"
tnsview --copy "$T/s.tns" > /dev/full 2> "$T/full.err"; rc=$?
is "$rc:$(grep -c '^tnsview: error: standard output: write failed: No space left' "$T/full.err")" "1:1" "stream output to /dev/full exits 1 with a message naming standard output"
tnsview --copy -o "$T/d/out.tns" "$T/s.tns" 2> "$T/dir.err"; rc=$?
is "$rc" 1 "an output in a missing directory exits 1"
ls "$T/d" 2>/dev/null | grep -q . ; is "$?" 1 "and leaves nothing behind"
$MK -b 64 -o "$T/big.tns"
(tnsview -n -1 "$T/big.tns"; echo $? > "$T/rc") 2> "$T/pipe.err" | head -1 > /dev/null
is "$(cat "$T/pipe.err")" "" "a closed pipe (tnsview | head -1) ends tnsview quietly"

# a FIFO (or a device such as /dev/null) as -o is written in place, never
# replaced by a regular file through NAME.tmp + rename
mkfifo "$T/fifo"
cat "$T/fifo" > "$T/from-fifo.tns" & pid=$!
tnsview --copy -o "$T/fifo" "$T/s.tns"; wait $pid
[ -p "$T/fifo" ] && [ ! -e "$T/fifo.tmp" ] && tnsview -c "$T/from-fifo.tns" > /dev/null
ok $? "a stream written to -o FIFO goes through the FIFO, which stays a FIFO"
cat "$T/fifo" > "$T/from-fifo.txt" & pid=$!
tnsview -o "$T/fifo" "$T/s.tns"; wait $pid
[ -p "$T/fifo" ] && grep -q '^@HD' "$T/from-fifo.txt"
ok $? "so is a text output"

# --npy
tnsview --npy "$T/npy" "$T/s.tns"
ok $? "--npy unpacks the stream"
[ -f "$T/npy/r2/f32_4.npy" ] || [ -f "$T/npy/r2/f32.npy" ]; ok $? "one .npy per tensor under r<record>/"
is "$(cat "$T/npy/records.tsv" | tr '\t\n' ',;')" "record,name;0,rec0:1-10;1,rec1:1-11;2,rec2:1-12;" "records.tsv lists record numbers and names"
cmp -s "$T/npy/header.txt" "$(tnsview --header "$T/s.tns" > "$T/h.txt"; echo "$T/h.txt")"; ok $? "header.txt holds the header"
if have_python_numpy; then
	"$PYTHON" - "$T/npy" "$T/s.tns" "$TOP/examples" <<'PY'
import sys, numpy as np
sys.path.insert(0, sys.argv[3])
from tns_read import read_tns
d = sys.argv[1]
hdr, recs = read_tns(sys.argv[2])
assert len(recs) == 3, recs
for i, (name, ts) in enumerate(recs):
    for k, v in ts.items():
        a = np.load(f"{d}/r{i}/{k}.npy")
        assert a.dtype == v.dtype and a.shape == v.shape and np.array_equal(a, v, equal_nan=True), k
f32 = np.load(f"{d}/r0/f32.npy")
assert f32.shape == (2, 2, 2, 3) and f32.dtype == np.float32 and f32.flat[1] == -0.75
assert np.load(f"{d}/r0/f16.npy").tolist() == [[1.0, -2.0], [65504.0, 2.0**-24]]
assert np.load(f"{d}/r0/f64.npy").shape == ()
PY
	ok $? "the .npy files load in NumPy and equal what examples/tns_read.py reads"
	"$PYTHON" "$TOP/examples/tns_read.py" "$T/s.tns.gz" > /dev/null; ok $? "examples/tns_read.py reads BGZF streams"
	"$PYTHON" "$TOP/examples/tns_read.py" "$T/cut.tns" > /dev/null 2>&1; is "$?" 1 "examples/tns_read.py refuses a truncated stream"
else
	skip "NumPy not available at $PYTHON: .npy loading not checked"
	skip "NumPy not available: examples/tns_read.py not run"
	skip "NumPy not available: examples/tns_read.py not run"
fi
done_testing
