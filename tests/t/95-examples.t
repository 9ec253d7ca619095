#!/bin/sh
# The examples run: quick.sh (the README's main job) at a tiny number of
# steps, end to end, and prints its summary of the four findings.
. "$(dirname "$0")/lib.sh"
QUICK_STEPS=4 QUICK_THREADS=1 sh "$TOP/examples/quick.sh" "$T/quick" > "$T/quick.out" 2> "$T/quick.err"
ok $? "examples/quick.sh runs"
for what in "entropy of the prediction" "JS distance between members" "top-10 Jaccard" "Fisher share of the embeddings"; do
	grep "$what" "$T/quick.out" | grep -Eq '[0-9]\.[0-9]{3} +[0-9]\.[0-9]{3}$'
	ok $? "its summary has a number per condition for: $what"
done

# reproduce.sh at its tiny scale, on the demo fixtures under the corpus names
mkdir -p "$T/data"
cp "$DATA/demo/moby_dick_head.txt" "$T/data/english_core.txt"
cp "$DATA/demo/dmel_chr2R_50k.fa" "$T/data/dmel_chr2R.fa"
gzip -c "$DATA/demo/human_chr20_100k.fa" > "$T/data/celegans_chrX.fa.gz"
head -n 300 "$DATA/demo/human_chr20_100k.fa" | gzip -c > "$T/data/umaydis.fa.gz"
sh "$TOP/examples/reproduce.sh" --scale tiny --data "$T/data" --out "$T/repro" -t 1 > "$T/repro.out" 2> "$T/repro.err"
ok $? "examples/reproduce.sh --scale tiny runs"
[ $? = 0 ] || tail -5 "$T/repro.err" | sed 's/^/# /'
for c in text-bpe dna-bpe dna-6mer dna-char; do
	n=0
	for f in m1.tns m5.tns entropy.tsv rank.tsv disagree.tsv embed.tsv fisher_window.tsv fisher_batch.tsv data_entropy.tsv; do
		[ -s "$T/repro/$c/$f" ] && n=$((n + 1))
	done
	is "$n" 9 "$c: models and every analysis written"
done
for h in "(a) Predictions" "(b) Ensemble" "(c) Static" "(d) The Fisher"; do
	grep -q "^## $h" "$T/repro/REPORT.md"; ok $? "REPORT.md has the section $h"
done
grep -q "At this scale: \*\*" "$T/repro/REPORT.md"; ok $? "REPORT.md states whether each claim reproduced"
cp "$T/repro/REPORT.md" "$T/report1.md"
rm -rf "$T/repro/text-bpe/disagree.tsv" "$T/repro/REPORT.md"
sh "$TOP/examples/reproduce.sh" --scale tiny --data "$T/data" --out "$T/repro" -t 2 > /dev/null 2>&1
sed 's/seconds=[0-9]*//; s/threads=[0-9]*//' "$T/report1.md" > "$T/r1"; sed 's/seconds=[0-9]*//; s/threads=[0-9]*//' "$T/repro/REPORT.md" > "$T/r2"
cmp -s "$T/r1" "$T/r2"; ok $? "a rerun (resuming, at another -t) gives the same numbers"
done_testing
