#!/bin/sh
# entropy and disagree on real lmprobe output and model files: seqtok ->
# lmtrain (two tiny models, a few steps) -> lmprobe -> the analyses.
. "$(dirname "$0")/lib.sh"
for p in seqtok lmtrain lmprobe; do
	command -v $p >/dev/null || { skip "$p is not built"; done_testing; exit; }
done
seqtok -k 3 -T 64 "$DATA/demo/human_chr20_100k.fa" > "$T/win.tns"
for s in 1 2; do
	lmtrain --layers 2 --hidden 32 --heads 2 --ffn 64 --steps 10 -b 16 --seed $s --quiet -o "$T/m$s.tns" "$T/win.tns"
done
run_ok "lmprobe of two models" lmprobe -o "$T/p.tns" -i "$T/win.tns" "$T/m1.tns" "$T/m2.tns"
run_ok "entropy reads lmprobe output" entropy -o "$T/e.tsv" "$T/p.tns"
is "$(awk -F'\t' 'NR > 1 && $2 > 0 && $3 > 0 && $3 <= log(74)/log(2) + 1e-6 { n++ } END { print n }' "$T/e.tsv")" 2 \
   "one row per model, entropies within [0, log2 V]"
run_ok "disagree reads lmprobe output" disagree -o "$T/d.tsv" "$T/p.tns"
is "$(awk -F'\t' '$1 == "*" { n++ } END { print n }' "$T/d.tsv")" 11 "a summary row per default top-p value"
lmprobe --half -i "$T/win.tns" "$T/m1.tns" "$T/m2.tns" | entropy -b 0 > "$T/e16.tsv"
ok $? "entropy reads lmprobe --half"
is "$(paste "$T/e.tsv" "$T/e16.tsv" | awk -F'\t' 'NR > 1 { d = $3 - $23; if (d < 0) d = -d; if (d > 1e-3) print "far" }')" "" \
   "f16 and f32 entropies agree"
lmprobe --top 4 -i "$T/win.tns" "$T/m1.tns" "$T/m2.tns" | entropy -b 0 > "$T/etk.tsv" 2>/dev/null
is "$(cut -f 15 "$T/etk.tsv")" "$(entropy -b 0 "$T/p.tns" | cut -f 15)" "top-K gives the same accuracy as full probs"
lmprobe -i "$T/win.tns" "$T/m1.tns" "$T/m1.tns" | disagree -p 0.5,1 > "$T/same.tsv"
is "$(awk -F'\t' 'NR > 1 && ($4 != 0 || $6 != 1) { print "bad" }' "$T/same.tsv")" "" \
   "a model against itself through lmprobe: JS 0, agreement 1"
entropy --stream "$T/p.tns" | disagree -p 1 > "$T/sd.tsv"
is "$(cut -f 4 "$T/sd.tsv")" "$(disagree -p 1 "$T/p.tns" | cut -f 4)" "entropy --stream | disagree gives disagree's numbers"
run_ok "disagree --embeddings on lmtrain model files" disagree --embeddings -k 1,5,20 -o "$T/emb.tsv" "$T/m1.tns" "$T/m2.tns"
is "$(awk -F'\t' -v m="$T/m1.tns" '$1 == m { n++ } END { print n }' "$T/emb.tsv")" 10 "jaccard and spearman for 3 k, and 4 global metrics"
# one model column: the files as given to lmprobe, in entropy, disagree and fisherflow alike
is "$(awk -F'\t' 'NR > 1 { printf "%s ", $1 }' "$T/e.tsv")" "$T/m1.tns $T/m2.tns " "entropy names the models by the files given to lmprobe"
is "$(awk -F'\t' 'NR == 2 { print $1 " " $2 }' "$T/d.tsv")" "$T/m1.tns $T/m2.tns" "disagree names them the same way"
if command -v fisherflow > /dev/null; then
	fisherflow -n 4 -i "$T/win.tns" "$T/m1.tns" "$T/m2.tns" > "$T/f.tsv"
	is "$(awk -F'\t' 'NR > 1 { print $1 }' "$T/f.tsv" | uniq | tr '\n' ' ')" "$T/m1.tns $T/m2.tns " "and fisherflow too"
fi
seqtok -k 4 -T 64 "$DATA/demo/human_chr20_100k.fa" > "$T/win4.tns"
lmtrain --layers 1 --hidden 16 --heads 2 --ffn 32 --steps 2 -b 8 --quiet -o "$T/k4.tns" "$T/win4.tns"
fails_with "models with different vocabularies" 1 "embeddings are|vocabulary" disagree --embeddings "$T/m1.tns" "$T/k4.tns"
run_ok "entropy --tokens on seqtok output" entropy --tokens -o "$T/tok.tsv" "$T/win.tns"
done_testing
