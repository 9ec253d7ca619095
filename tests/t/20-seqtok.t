#!/bin/sh
# seqtok: tokens against the Python reference (tests/golden/seqtok_ref.py),
# every input format, the split, BPE, and clean failure on bad input.
. "$(dirname "$0")/lib.sh"
S=$DATA/seqtok
cd "$S" || exit 1

# golden: seqtok OPTIONS INPUT | tnsview --decode == EXPECTED
golden() { # golden DESCRIPTION EXPECTED SEQTOK-ARGS...
	_d=$1 _e=$2; shift 2
	if seqtok "$@" > "$T/g.tns" 2> "$T/g.err" && tnsview --decode "$T/g.tns" > "$T/g.txt" &&
	   cmp -s "$T/g.txt" "$_e"; then ok 0 "$_d"
	else ok 1 "$_d"; sed 's/^/# /' "$T/g.err" | head -5; diff "$T/g.txt" "$_e" | head -6 | sed 's/^/# /'; fi
}

golden "6-mers of a real FASTA (chr20 with N runs, soft-masked dmel, IUPAC) match the reference" ref.k6.expected ref.fa
golden "6-mers with --max-bp 500 --overlap 50 -T 64 (several windows per piece)" ref.k6.small.expected --max-bp 500 --overlap 50 -T 64 ref.fa
golden "--char: one token per nucleotide" ref.char.expected --char --max-bp 300 -T 128 ref.fa
golden "overlapping k-mers (--kmer 3 --stride 1)" ref.k3s1.expected --kmer 3 --stride 1 --max-bp 200 -T 100 ref.fa
golden "--split eval keeps the reference's held-out windows" ref.eval.expected --split eval --eval-frac 0.3 --max-bp 200 -T 64 ref.fa
golden "--split train keeps the rest" ref.train.expected --split train --eval-frac 0.3 --max-bp 200 -T 64 ref.fa
golden "--skip-n 0.5 drops windows that are mostly N" ref.skipn.expected --skip-n=0.5 --max-bp 200 -T 64 ref.fa
golden "BGZF input gives the same tokens" ref.k6.expected ref.fa.gz
golden "gzip input gives the same tokens" ref.k6.expected ref_gzip.fa.gz
golden "-t 2 (threaded BGZF) gives the same windows" ref.k6.expected -t 2 -z ref.fa.gz
golden "FASTQ input (samtools fastq of reads.bam)" reads.k6.expected -T 40 reads.fq
golden "BAM: reads on the reverse strand come back reverse-complemented, secondaries skipped" reads.k6.expected -T 40 reads.bam
golden "CRAM without a reference decodes where the file allows it" reads.k6.expected -T 40 reads.cram
golden "text, one byte a token" text.char.expected --text --char -T 64 text.txt
golden "DNA BPE encoding equals applying the merges in order" ref.bpe.expected --vocab dna_bpe300.tns --max-bp 500 -T 64 ref.fa
golden "text BPE encoding equals applying the merges in order (pre-split)" text.bpe.expected --vocab text_bpe400.tns -T 64 text.txt

seqtok < ref.fa > "$T/stdin.tns" 2>/dev/null && tnsview --decode "$T/stdin.tns" | cmp -s - ref.k6.expected
ok $? "standard input"
printf '>x lower case\nacgtNNacgtac\nrykm\n' > "$T/low.fa"
is "$(seqtok "$T/low.fa" | tnsview --decode)" "x:1-16	<CLS> A C G T N N ACGTAC N N N N <SEP>" "lowercase is upper-cased, IUPAC codes are N, N restarts the 6-mer frame"
is "$(seqtok -T 5 "$T/low.fa" | tnsview --decode | head -2 | tr '\n' '|')" "x:1-3	<CLS> A C G <SEP>|x:4-6	<CLS> T N N <SEP>|" "-T 5: three tokens a window, named by their bases"
is "$(seqtok -T 8 "$T/low.fa" | tnsview -n 8 | grep -c 'tokens	i32	8	2 ')" 2 "windows are <CLS> tokens <SEP> <PAD>... of length T"
is "$(seqtok -n 3 --max-bp 100 ref.fa | tnsview --count)" 3 "-n 3 stops after three windows"

# regions
seqtok --max-bp 600 ref.fa | tnsview --decode | grep '^chr20_59001_62000:1201-1800	' > "$T/want"
is "$(seqtok --max-bp 600 -r chr20_59001_62000:1201-1800 ref.fa.gz | tnsview --decode)" "$(cat "$T/want")" "-r on an indexed BGZF FASTA: same tokens, names in chromosome coordinates"
is "$(seqtok -T 40 -r 1:10000-10100 reads.bam | tnsview --count)" 32 "-r on an indexed BAM: the 32 primary reads there"

# CRAM that needs its reference
REF_PATH=/nonexistent REF_CACHE=/nonexistent; export REF_PATH REF_CACHE
fails_with "CRAM that needs its reference: a clear error" 1 "^seqtok: error: .*needref.cram: .*reference" seqtok -o "$T/x.tns" needref.cram
ok "$(test ! -e "$T/x.tns" && test ! -e "$T/x.tns.tmp"; echo $?)" "  ... and no output file"
seqtok --reference ref.fa needref.cram | tnsview --decode > "$T/a" && seqtok needref.fq | tnsview --decode | cmp -s - "$T/a"
ok $? "CRAM with --reference: the reads' tokens"

# the split
seqtok --split eval --eval-frac 0.2 --max-bp 200 ref.fa reads.fq | tnsview --decode | sort > "$T/e1"
seqtok --split eval --eval-frac 0.2 --max-bp 200 reads.fq ref.fa | tnsview --decode | sort > "$T/e2"
cmp -s "$T/e1" "$T/e2" && test -s "$T/e1"
ok $? "the eval split does not depend on the order of the input files"
seqtok --split train --eval-frac 0.2 --max-bp 200 reads.fq ref.fa | tnsview --decode | sort > "$T/t1"
seqtok --max-bp 200 reads.fq ref.fa | tnsview --decode | sort > "$T/all"
is "$(sort "$T/e1" "$T/t1" | cmp - "$T/all" && comm -12 "$T/e1" "$T/t1" | wc -l)" 0 "train and eval are disjoint and together all windows"
is "$(seqtok --split eval --split-seed 7 --eval-frac 0.2 --max-bp 200 ref.fa reads.fq | tnsview --decode | sort | cmp -s - "$T/e1"; echo $?)" 1 "--split-seed changes the split"

# BPE training
seqtok -q --train-bpe 300 --max-bp 500 -o "$T/v.tns" ref.fa
is "$(tnsview --header "$T/v.tns" | grep '^@TK')" "$(tnsview --header dna_bpe300.tns | grep '^@TK')" "DNA BPE training is deterministic (same vocabulary hash as the committed one)"
seqtok -q --text --train-bpe 400 -o "$T/t.tns" text.txt
is "$(tnsview --header "$T/t.tns" | grep '^@TK')" "$(tnsview --header text_bpe400.tns | grep '^@TK')" "text BPE training is deterministic"
is "$(tnsview --count "$T/v.tns")" 0 "a vocabulary file is a header-only stream"
seqtok --kmer 4 -o "$T/k4.tns" ref.fa && seqtok --vocab "$T/k4.tns" ref.fa | tnsview --decode | cmp -s - "$(seqtok --kmer 4 ref.fa | tnsview --decode > "$T/k4.txt"; echo "$T/k4.txt")"
ok $? "--vocab takes the tokenizer of any stream's header (a 4-mer window stream)"
seqtok -z -o "$T/z.tns" ref.fa && tnsview --check "$T/z.tns" > /dev/null && tnsview --decode "$T/z.tns" | cmp -s - ref.k6.expected
ok $? "-z writes a BGZF stream with the same windows"
is "$(seqtok --text --para --char -T 2000 text.txt | tnsview --decode | cut -f1 | tr '\n' ' ')" "text.txt:1:1-2 text.txt:3:1-1146 text.txt:23:1-1203 text.txt:43:1-119 text.txt:46:1-127 text.txt:49:1-250 " "--para: one document per blank-line paragraph"

# --pack: documents one after another, each followed by <SEP>, no padding but
# in the last window; the same tokens as one window a document
seqtok --text --char -T 64 --pack text.txt | tnsview --decode > "$T/pk.txt"
is "$(sed '$d' "$T/pk.txt" | grep -c '<PAD>')" 0 "--pack: only the last window is padded"
is "$(head -n 1 "$T/pk.txt" | cut -f1)" "text.txt:1:1-2+1" "--pack: a window is named after its first document, +N more (an empty line is no document)"
is "$(head -n 1 "$T/pk.txt" | cut -f2 | cut -c 1-30)" "<CLS> I . <SEP> T o   S h e r " "--pack: <SEP> after each document"
# without the framing and the separators, the packed windows hold exactly
# the documents' tokens, in order
nosep() { sed 's/^[^\t]*\t<CLS> //; s/\( <PAD>\)*$//; s/ <SEP>$//; s/ <SEP> / /g'; }
nosep < "$T/pk.txt" | awk 'NR > 1 {printf " "} {printf "%s", $0} END {print ""}' > "$T/pk.cat"
seqtok --text --char -T 4096 text.txt | tnsview --decode | nosep | awk 'NR > 1 {printf " "} {printf "%s", $0} END {print ""}' > "$T/doc.cat"
cmp -s "$T/pk.cat" "$T/doc.cat"; ok $? "--pack: the windows hold every document's tokens, in order"
a=$(seqtok --text --char -T 64 --pack text.txt | tnsview --count)
b=$(seqtok --text --char -T 64 text.txt | tnsview --count)
ok "$(test "$a" -lt "$b"; echo $?)" "--pack: fewer windows than one document a window ($a < $b)"
for p in train eval; do seqtok --text --char -T 64 --pack --split $p --eval-frac 0.3 text.txt | tnsview --decode | nosep | tr -d ' \n' | wc -c; done > "$T/pk.n"
is "$(awk "{s += \$1} END {print s}" "$T/pk.n")" "$(nosep < "$T/pk.txt" | tr -d ' \n' | wc -c)" "--pack --split: train and eval together hold every document"
ok "$(test "$(sed -n 2p "$T/pk.n")" -gt 0 && test "$(sed -n 1p "$T/pk.n")" -gt "$(sed -n 2p "$T/pk.n")"; echo $?)" "--pack --split: documents in both parts, most in train"
fails_with "--pack without --text is a usage error" 2 "^seqtok: error: --pack goes with --text" seqtok --pack ref.fa

# bad input: an error naming the file, exit 1, no output left behind
bad() { # bad DESCRIPTION REGEX SEQTOK-ARGS...
	_d=$1 _re=$2; shift 2
	fails_with "$_d" 1 "^seqtok: error: $_re" seqtok -o "$T/bad.tns" "$@"
	ok "$(test ! -e "$T/bad.tns" && test ! -e "$T/bad.tns.tmp"; echo $?)" "  ... and no output file"
}
: > "$T/empty.fa"
printf '>a\n>b\n\n' > "$T/noseq.fa"
head -c 1200 ref_gzip.fa.gz > "$T/trunc.fa.gz"
head -c 1200 ref.fa.gz > "$T/trunc.bgz.fa.gz"
printf '@r1\nACGT\n+\nII\n' > "$T/trunc.fq"
head -c 20000 reads.bam > "$T/trunc.bam"
printf '@HD\tVN:1.6\n@SQ\tSN:c\tLN:9\nr1\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n' > "$T/noseq.sam"
bad "not a sequence file" ".*text.txt: not a sequence file" text.txt
bad "  ... text: the message says to use --text" ".*text.txt: not a sequence file .*detected text.*use --text" text.txt
bad "a binary non-sequence file" ".*dna_bpe300.tns: not a sequence file" dna_bpe300.tns
bad "empty file" ".*empty.fa: empty file" "$T/empty.fa"
bad "truncated gzip" ".*trunc.fa.gz: .*truncated" "$T/trunc.fa.gz"
bad "truncated BGZF" ".*trunc.bgz.fa.gz: .*truncated" "$T/trunc.bgz.fa.gz"
bad "truncated FASTQ" ".*trunc.fq: .*truncated" "$T/trunc.fq"
gzip -c text.txt | head -c 1500 > "$T/trunc.txt.gz"
bad "truncated gzip text" ".*trunc.txt.gz: .*truncated" --text --char "$T/trunc.txt.gz"
bad "truncated BAM" ".*trunc.bam: .*truncated" "$T/trunc.bam"
bad "BAM without any read sequence" ".*noseq.sam: no sequence" "$T/noseq.sam"
bad "FASTA with no sequence" ".*noseq.fa: no sequence" "$T/noseq.fa"
bad "a good file then a bad one: still no output" ".*empty.fa: empty file" ref.fa "$T/empty.fa"
bad "unknown vocabulary file" ".*text.txt: not a vocabulary file" --vocab text.txt ref.fa
"$SEQLM_TESTBIN/mktns" -n 1 -o "$T/novocab.tns"
bad "a stream without a vocabulary" ".*novocab.tns: no tokenizer vocabulary" --vocab "$T/novocab.tns" ref.fa
bad "missing input file" ".*nonexistent.fa: cannot open" nonexistent.fa

# --text takes text: binary data is refused, not tokenised byte by byte
printf '\211PNG\r\n\032\n\0\0\0\rIHDR\0\0\0\001' > "$T/image.png"
head -c 5000 /dev/urandom > "$T/random.bin"
printf 'Call me Ishmael.\0 Some years ago\n' > "$T/nul.txt"
printf 'caf\351 latin-1\n' > "$T/latin1.txt"
bad "--text: an image is not text" ".*image.png: not text: invalid UTF-8 at byte 0" --text --char "$T/image.png"
bad "--text: random bytes are not text" ".*random.bin: not text: (invalid UTF-8|a NUL byte) at byte [0-9]+ .*--binary-ok" --text --char "$T/random.bin"
bad "--text: a NUL byte is not text" ".*nul.txt: not text: a NUL byte at byte 16" --text --char "$T/nul.txt"
bad "--text: invalid UTF-8 (Latin-1) is not text" ".*latin1.txt: not text: invalid UTF-8 at byte 3" --text --char "$T/latin1.txt"
gzip -c "$T/random.bin" > "$T/random.bin.gz"
bad "--text: gzip'd binary is checked after decompression" ".*random.bin.gz: not text" --text --char "$T/random.bin.gz"
is "$(seqtok --text --char --binary-ok -T 16 "$T/latin1.txt" | tnsview --decode)" 'latin1.txt:1:1-12	<CLS> c a f \xe9   l a t i n - 1 <SEP>' "--binary-ok tokenises it anyway"
printf 'na\303\257ve caf\303\251 \342\202\254 \360\237\247\254\n' > "$T/utf8.txt"
is "$(seqtok --text --char -T 64 "$T/utf8.txt" | tnsview --count)" 1 "UTF-8 text of 2-, 3- and 4-byte characters is text"
# the check against Python's UTF-8 decoder (strict, RFC 3629) on 200
# random near-UTF-8 byte strings: seqtok takes exactly those it decodes
mkdir "$T/u"
if "$PYTHON" - "$T/u" > "$T/u.want" <<'PY'
import random, sys
rnd = random.Random(17)
pieces = [b"a", b" ", b"\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\xa7\xac", b"\x80", b"\xbf", b"\xc0", b"\xc2",
          b"\xe0", b"\xe0\xa0", b"\xed", b"\xed\xa0\x80", b"\xef", b"\xf0", b"\xf4\x8f", b"\xf4\x90", b"\xf5", b"\xff", b"\x00"]
for i in range(200):
    b = b"x" + b"".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 6))) + b"\n"
    open(f"{sys.argv[1]}/{i}", "wb").write(b)
    try:
        ok = b"\x00" not in b and bool(b.decode("utf-8", "strict"))
    except UnicodeDecodeError:
        ok = False
    print(i, "text" if ok else "binary")
PY
then
	i=0; : > "$T/u.got"
	while [ $i -lt 200 ]; do
		if seqtok --text --char -o "$T/u.tns" "$T/u/$i" 2>/dev/null; then echo "$i text"; else echo "$i binary"; fi >> "$T/u.got"
		i=$((i + 1))
	done
	cmp -s "$T/u.got" "$T/u.want"
	ok $? "text or not: the same verdict as Python's strict UTF-8 decoder on 200 random byte strings ($(grep -c binary "$T/u.want") not text)"
	[ $? = 0 ] || diff "$T/u.got" "$T/u.want" | head -5 | sed 's/^/# /'
else skip "needs $PYTHON"; fi
fails_with "--binary-ok without --text: usage error" 2 "binary-ok goes with --text" seqtok --binary-ok ref.fa

# every window dropped: an error with the counts, not an empty stream
printf '>gap1\n%s\n>gap2\n%s\n' "$(head -c 700 /dev/zero | tr '\0' N)" "$(head -c 90 /dev/zero | tr '\0' N)" > "$T/allN.fa"
bad "--skip-n on an all-N FASTA: no windows" ".*allN.fa: no windows: every window was skipped by --skip-n \\(3 of 3 had more than 0.5 N\\)" --skip-n "$T/allN.fa"
bad "--skip-n on an all-N FASTA (-T 64: more windows)" ".*allN.fa: no windows: every window was skipped by --skip-n \\(14 of 14 " --skip-n -T 64 "$T/allN.fa"
fails_with "  ... into a pipe: the reader says no data, not a second puzzle" 1 "^tnsview: error: standard input: no data: " sh -c 'seqtok --skip-n "$1" | tnsview --count' sh "$T/allN.fa"
printf '>one\nACGTACGTACGT\n' > "$T/one.fa"
bad "--split eval that keeps nothing: no windows, and why" ".*one.fa: no windows: all 1 windows fall in the train part of the split" --split eval "$T/one.fa"
bad "--train-bpe --skip-n on an all-N FASTA: no training data" "no training data: every piece was skipped by --skip-n" --train-bpe 40 --skip-n "$T/allN.fa"
is "$(seqtok -n 0 ref.fa | tnsview --count)" 0 "-n 0 asks for no window: a header-only stream, not an error"

fails_with "a DNA vocabulary cannot encode text" 2 "DNA vocabulary" seqtok --text --vocab dna_bpe300.tns text.txt
fails_with "k-mers of text: usage error" 2 "needs --char" seqtok --text text.txt
fails_with "--overlap not below --max-bp: usage error" 2 "overlap" seqtok --max-bp 10 --overlap 10 ref.fa

# record names: the first word of the header line, white space after the
# '>' or '@' skipped, as htslib's FASTA index (faidx) reads it
printf '>  foo\nACGTAC\n> bar description\nACGTAC\n>\tbaz\tx\nACGTAC\n>qux\r\nACGTAC\n' > "$T/ws.fa"
seqtok -T 8 "$T/ws.fa" | tnsview --decode | cut -f1 | cut -d: -f1 > "$T/ours"
is "$(tr '\n' ' ' < "$T/ours")" "foo bar baz qux " "names skip the white space after '>': >  foo is foo, > bar description is bar"
seqtok -T 8 -r qux "$T/ws.fa" > /dev/null          # builds ws.fa.fai with htslib's faidx
is "$(cut -f1 "$T/ws.fa.fai" | tr '\n' ' ')" "$(tr '\n' ' ' < "$T/ours")" "  ... the names of htslib's own index of the file (the .fai -r builds)"
printf '@  r1 extra\nACGTAC\n+\nIIIIII\n' > "$T/ws.fq"
is "$(seqtok -T 8 "$T/ws.fq" | tnsview --decode | cut -f1)" "r1:1-6" "  ... FASTQ the same"
printf '>\nACGTAC\n>   \nACGTAC\n>named\nACGTAC\n> \t\nACGTAC\n' > "$T/noname.fa"
is "$(seqtok -T 8 "$T/noname.fa" | tnsview --decode | cut -f1 | tr '\n' ' ')" "unnamed1:1-6 unnamed2:1-6 named:1-6 unnamed4:1-6 " "a header without a name: unnamed<N>, N the record's number in the file"
"$PYTHON" - "$T/many.fa" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(200):
        f.write(">  \n" + "ACGT" * 10 + "\n")
PY
ne=$(seqtok -T 64 --split eval --eval-frac 0.5 "$T/many.fa" | tnsview --count)
nt=$(seqtok -T 64 --split train --eval-frac 0.5 "$T/many.fa" | tnsview --count)
[ "$ne" -gt 50 ] && [ "$nt" -gt 50 ] && [ $((ne + nt)) = 200 ]
ok $? "200 unnamed records split by name fall on both sides (eval $ne, train $nt), not all on one"
: each of 60 copies of a fixture with a few bytes
# overwritten either tokenises or fails with one error line
crash=0
for f in ref.fa reads.fq reads.bam reads.cram ref.fa.gz ref_gzip.fa.gz; do
	sz=$(wc -c < "$f")
	for i in 1 2 3 4 5 6 7 8 9 10; do
		cp "$f" "$T/m"
		for off in $(awk -v s="$sz" -v r="$i$sz" 'BEGIN { srand(r); for (k = 0; k < 3; k++) print int(rand() * s) }'); do
			printf '\377' | dd of="$T/m" bs=1 seek="$off" conv=notrunc 2>/dev/null
		done
		seqtok "$T/m" > /dev/null 2> "$T/m.err"; rc=$?
		if [ $rc -gt 1 ] || grep -q 'Sanitizer\|runtime error' "$T/m.err" || { [ $rc = 1 ] && ! grep -q '^seqtok: error: ' "$T/m.err"; }; then
			crash=$((crash + 1)); echo "# $f damaged at $off: exit $rc"; head -3 "$T/m.err" | sed 's/^/#   /'
		fi
	done
done
ok $crash "damaged inputs (60): a clean exit or 'seqtok: error:', never a crash"

done_testing
