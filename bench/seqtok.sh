#!/bin/sh
# bench/seqtok.sh -- seqtok against its peers, measured in the same run:
#   6-mer tokenisation of uncompressed human chr20 (one 63 Mb record) vs
#   `seqkit seq -s`; BPE training (vocabulary 4096) on DNA and on English
#   vs `spm_train --model_type=bpe`; BPE encoding vs `spm_encode`.
# Environment: SEQLM_BIN (programs), SEQLM_CORPORA (human_chr20.fa.gz,
# dmel_chr2R.fa, english_core.txt; default examples/data), SEQTOK_BENCH_MB
# (MB of DNA and of text for BPE, default 20), SEQTOK_BENCH_REPS (best of,
# default 3).  Times are wall-clock seconds; one thread for seqtok.
# spm_train needs minutes for 20 MB of DNA (about 5 on 2 slow cores);
# SEQTOK_BENCH_MB=2 gives a quick run.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${SEQLM_BIN:=$TOP/bin}"
C=${SEQLM_CORPORA:-examples/data}
MB=${SEQTOK_BENCH_MB:-20}
REPS=${SEQTOK_BENCH_REPS:-3}
SEQTOK=$SEQLM_BIN/seqtok
W=$(mktemp -d "${TMPDIR:-/tmp}/seqtok-bench.XXXXXX"); trap 'rm -rf "$W"' EXIT

now() { date +%s.%N; }
# best wall time of REPS runs of a command (stdout to /dev/null)
best() {
	_b=
	for _i in $(seq "$REPS"); do
		_s=$(now); "$@" > /dev/null 2> "$W/err" || { sed 's/^/  /' "$W/err" >&2; echo "bench: failed: $*" >&2; return 1; }
		_e=$(now)
		_b=$(awk -v s="$_s" -v e="$_e" -v b="$_b" 'BEGIN { t = e - s; if (b == "" || t < b) b = t; printf "%.3f", b }')
	done
	echo "$_b"
}
have() { command -v "$1" > /dev/null 2>&1; }
# report WHAT BYTES OURS PEER PEERNAME: seconds, MB/s, and the ratio
report() {
	awk -v w="$1" -v n="$2" -v a="$3" -v b="$4" -v p="$5" 'BEGIN {
		printf "%-34s seqtok %7.3f s %8.1f MB/s", w, a, n / a / 1e6
		if (b != "") printf " | %s %7.3f s %8.1f MB/s | ratio %.2fx", p, b, n / b / 1e6, b / a
		else printf " | %s not installed", p
		printf "\n" }'
}
size() { wc -c < "$1" | tr -d ' '; }

echo "seqtok bench: nproc $(nproc), $(uname -m), corpora $C, ${MB} MB for BPE, best of $REPS"

# ---- 6-mers of chr20 ----
gzip -dc "$C/human_chr20.fa.gz" > "$W/chr20.fa"
N=$(size "$W/chr20.fa")
a=$(best "$SEQTOK" "$W/chr20.fa")
b=; have seqkit && b=$(best seqkit seq -s "$W/chr20.fa")
report "6-mer tokens, chr20 (uncompressed)" "$N" "$a" "$b" "seqkit seq -s"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "%M KB, CPU %U s user + %S s sys" -o "$W/rss" "$SEQTOK" "$W/chr20.fa" > /dev/null
	echo "  seqtok on chr20: peak memory $(cat "$W/rss") (one thread)"
	if have seqkit; then
		/usr/bin/time -f "%M KB, CPU %U s user + %S s sys" -o "$W/rss" seqkit seq -s "$W/chr20.fa" > /dev/null
		echo "  seqkit on chr20: peak memory $(cat "$W/rss") (Go: may use every core)"
	fi
fi

# ---- BPE on DNA and text: the same bytes for both tools ----
BYTES=$((MB * 1000000))
# DNA: 2000-base lines (seqtok's default pieces; one sentence each for spm)
awk 'NR > 1 { printf "%s", toupper($0) }' "$C/dmel_chr2R.fa" | head -c "$BYTES" | fold -w 2000 > "$W/dna.txt"
{ echo ">dna"; cat "$W/dna.txt"; } > "$W/dna.fa"
# text: English, one document a line
cat "$C/english_core.txt" "$C/english_core.txt" | head -c "$BYTES" > "$W/en.txt"
SPM="--vocab_size=4096 --model_type=bpe --character_coverage=1.0 --max_sentence_length=1000000 --num_threads=$(nproc) --minloglevel=2"
for kind in dna en; do
	if [ $kind = dna ]; then in=$W/dna.fa; opt=; else in=$W/en.txt; opt=--text; fi
	N=$(size "$W/$kind.txt")
	a=$(REPS=1 best "$SEQTOK" $opt --train-bpe 4096 --max-train-bytes "$BYTES" -o "$W/$kind.vocab.tns" "$in")
	b=; have spm_train && b=$(REPS=1 best spm_train --input="$W/$kind.txt" --model_prefix="$W/$kind" $SPM)
	report "BPE train 4096, $kind $MB MB" "$N" "$a" "$b" "spm_train"
	a=$(best "$SEQTOK" --vocab "$W/$kind.vocab.tns" "$in")
	b=; have spm_encode && [ -e "$W/$kind.model" ] && b=$(best spm_encode --model="$W/$kind.model" "$W/$kind.txt")
	report "BPE encode, $kind $MB MB" "$N" "$a" "$b" "spm_encode"
done
