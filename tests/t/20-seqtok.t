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
fails_with "a DNA vocabulary cannot encode text" 2 "DNA vocabulary" seqtok --text --vocab dna_bpe300.tns text.txt
fails_with "k-mers of text: usage error" 2 "needs --char" seqtok --text text.txt
fails_with "--overlap not below --max-bp: usage error" 2 "overlap" seqtok --max-bp 10 --overlap 10 ref.fa

# damaged input never crashes: each of 60 copies of a fixture with a few bytes
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
