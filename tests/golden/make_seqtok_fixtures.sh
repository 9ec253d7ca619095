#!/bin/sh
# make_seqtok_fixtures.sh -- how tests/data/seqtok/ was made.
#   sh tests/golden/make_seqtok_fixtures.sh CACHE_DIR    # all (needs samtools, bgzip, seqtok)
#   sh tests/golden/make_seqtok_fixtures.sh              # only the *.expected files
# The inputs are cut from the real corpora (shared/data/fetch-corpora.sh);
# the *.expected files are what the Python reference (seqtok_ref.py) says
# `seqtok OPTIONS | tnsview --decode` must print.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
D=$TOP/tests/data/seqtok
REF="${PYTHON:-/usr/bin/python3} $TOP/tests/golden/seqtok_ref.py"
SEQTOK=${SEQLM_BIN:-$TOP/bin}/seqtok
if [ $# -ge 1 ]; then
	C=$1 W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
	cp "$C/human_chr20.fa.gz" "$W/c20.fa.gz"; samtools faidx "$W/c20.fa.gz"
	{
		samtools faidx "$W/c20.fa.gz" 20:59001-62000 20:26318001-26320000 | sed 's/^>20:\([0-9]*\)-\([0-9]*\)/>chr20_\1_\2/'
		samtools faidx "$C/dmel_chr2R.fa" chr2R:3001-4600 | sed 's/^>chr2R:3001-4600/>dmel2R_3001_4600 soft-masked D. melanogaster/'
		printf '>iupac_mix synthetic: IUPAC codes, U, gaps, CRLF\r\nACGTRYKMSWBDHVNacgtrykmswbdhvnUu-*ACGTACGTACnnnnACG\r\nTACGTAC\r\n\r\n>empty_record\n>short\nACG\n'
	} > "$D/ref.fa"
	bgzip -c "$D/ref.fa" > "$D/ref.fa.gz"; gzip -nc "$D/ref.fa" > "$D/ref_gzip.fa.gz"
	samtools faidx "$D/ref.fa.gz"; samtools faidx "$D/ref.fa"
	# 200 reads of rand3.cram (both strands) and two secondary copies
	samtools view -h "$C/rand3.cram" | head -n 400 | grep -v '^@PG' > "$W/r.sam"
	grep -v '^@' "$W/r.sam" | head -2 | awk 'BEGIN{OFS="\t"} {$2 = $2 + 256; print}' > "$W/sec.sam"
	{ grep '^@' "$W/r.sam"; cat "$W/sec.sam"; grep -v '^@' "$W/r.sam" | head -200; } > "$W/reads.sam"
	samtools sort --no-PG -o "$D/reads.bam" "$W/reads.sam"; samtools index "$D/reads.bam"
	samtools view --no-PG --output-fmt-option no_ref=1 -C -o "$D/reads.cram" "$D/reads.bam"
	samtools fastq "$D/reads.bam" > "$D/reads.fq" 2>/dev/null
	# a CRAM that cannot be decoded without its reference (no UR: in @SQ)
	"${PYTHON:-/usr/bin/python3}" - "$D/ref.fa" > "$W/needref.sam" <<'PY'
import sys
rec = open(sys.argv[1]).read().split(">")[1]
seq = "".join(rec.split("\n")[1:])
print("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr20_59001_62000\tLN:3000")
for i, p in enumerate(range(1100, 1700, 100)):
    print(f"read{i}\t{16 if i % 2 else 0}\tchr20_59001_62000\t{p + 1}\t60\t60M\t*\t0\t0\t{seq[p:p + 60]}\t*")
PY
	REF_PATH=/nonexistent samtools view --no-PG -C -T "$D/ref.fa" -o "$D/needref.cram" "$W/needref.sam"
	samtools view -H --no-PG "$D/needref.cram" | sed 's/\tUR:[^\t]*//' > "$W/h.sam"
	samtools reheader --no-PG -i "$W/h.sam" "$D/needref.cram"
	samtools fastq "$W/needref.sam" > "$D/needref.fq" 2>/dev/null
	{ sed -n 60,100p "$C/sherlock.txt"; sed -n 1138,1142p "$C/sherlock.txt"; sed -n 1372,1376p "$C/sherlock.txt"
	  printf 'Numbers 1895, 221B and 3.14159; tabs\there  and   spaces.\n'; } > "$D/text.txt"
	# BPE vocabularies learned by seqtok itself; the check is that encoding
	# with them equals applying their merges in order (the reference)
	(cd "$D" && "$SEQTOK" -q --train-bpe 300 --max-bp 500 -o dna_bpe300.tns ref.fa &&
	 "$SEQTOK" -q --text --train-bpe 400 -o text_bpe400.tns text.txt)
fi
cd "$D"
$REF kmer ref.fa > ref.k6.expected
$REF kmer --max-bp 500 --overlap 50 --window 64 ref.fa > ref.k6.small.expected
$REF char --max-bp 300 --window 128 ref.fa > ref.char.expected
$REF kmer --k 3 --stride 1 --max-bp 200 --window 100 ref.fa > ref.k3s1.expected
$REF kmer --split eval --eval-frac 0.3 --max-bp 200 --window 64 ref.fa > ref.eval.expected
$REF kmer --split train --eval-frac 0.3 --max-bp 200 --window 64 ref.fa > ref.train.expected
$REF kmer --skip-n 0.5 --max-bp 200 --window 64 ref.fa > ref.skipn.expected
$REF kmer --window 40 reads.fq > reads.k6.expected
$REF char --text --window 64 text.txt > text.char.expected
H=$(mktemp); trap 'rm -f "$H"' EXIT
"${SEQLM_BIN:-$TOP/bin}/tnsview" --header dna_bpe300.tns > "$H"
$REF bpe --merges "$H" --max-bp 500 --window 64 ref.fa > ref.bpe.expected
"${SEQLM_BIN:-$TOP/bin}/tnsview" --header text_bpe400.tns > "$H"
$REF bpe --text --merges "$H" --window 64 text.txt > text.bpe.expected
