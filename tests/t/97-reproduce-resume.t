#!/bin/sh
# examples/reproduce.sh after Ctrl-C during "training model 1": the model
# is not taken as done, and a re-run resumes lmtrain from its checkpoint
# (the model then bitwise the one an uninterrupted training gives); a model
# without its done-marker (an older, interrupted run's) is trained again.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/data"
cp "$DATA/demo/moby_dick_head.txt" "$T/data/english_core.txt"
cp "$DATA/demo/dmel_chr2R_50k.fa" "$T/data/dmel_chr2R.fa"
gzip -c "$DATA/demo/human_chr20_100k.fa" > "$T/data/celegans_chrX.fa.gz"
head -n 300 "$DATA/demo/human_chr20_100k.fa" | gzip -c > "$T/data/umaydis.fa.gz"
repro() { sh "$TOP/examples/reproduce.sh" --scale tiny --steps 150 --data "$T/data" --out "$T/r" -t 1 "$@"; }
d=$T/r/text-bpe
mh() { tnsview --header "$1" | awk -F'\t' '$2 == "model_hash" {print $3}'; }

# Ctrl-C reaches the script and its lmtrain (one process group, as a terminal does it)
if ! command -v setsid > /dev/null || ! env --default-signal=INT true 2> /dev/null; then
	skip "setsid or env --default-signal missing (util-linux, coreutils >= 8.31)"
	done_testing; exit
fi
setsid env --default-signal=INT sh "$TOP/examples/reproduce.sh" --scale tiny --steps 150 --data "$T/data" --out "$T/r" -t 1 > /dev/null 2> "$T/r1.err" &
pid=$!
i=0; while [ "$(cat "$d/train1.tsv.tmp" 2> /dev/null | wc -l)" -lt 8 ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i + 1)); done
kill -INT -$pid
wait $pid 2> /dev/null
[ $? != 0 ]; ok $? "Ctrl-C during training model 1 stops the script"
[ ! -e "$d/m1.tns" ] && [ ! -e "$d/m1.done" ] && [ -s "$d/m1.tns.ckpt" ]
ok $? "it leaves no model 1 and no done-marker, but lmtrain's checkpoint"
repro > /dev/null 2> "$T/r2.err"
ok $? "the re-run completes"
grep -q "text-bpe: training model 1, resumed from m1.tns.ckpt" "$T/r2.err"; ok $? "it resumed model 1 from the checkpoint"
grep -q "^# resumed from .*m1.tns.ckpt at step [1-9]" "$d/train1.tsv"; ok $? "(the training log says where)"
[ -s "$d/m1.tns" ] && [ "$(cat "$d/m1.done")" = "150 steps" ] && [ ! -e "$d/m1.tns.ckpt" ]; ok $? "model 1 is done, its checkpoint gone"
h=$(mh "$d/m1.tns")
rm "$d/m1.done"
repro > /dev/null 2> "$T/r3.err"
grep -q "text-bpe: training model 1$" "$T/r3.err" && ! grep -q "training model 2" "$T/r3.err"
ok $? "a model without its done-marker is trained again, the others not"
is "$(mh "$d/m1.tns")" "$h" "the resumed model is bitwise the uninterrupted one"
done_testing
