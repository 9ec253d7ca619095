#!/bin/sh
# lmtrain complete: held-out evaluation and the best model, checkpoints that
# survive kill -9, bitwise-exact resume, ensembles in one process, gradient
# accumulation, Fisher during training, and bad input.
. "$(dirname "$0")/lib.sh"
FA=$DATA/demo/human_chr20_100k.fa
seqtok -k 3 -T 64 --split train --eval-frac 0.1 "$FA" > "$T/tr.tns"
seqtok -k 3 -T 64 --split eval --eval-frac 0.1 "$FA" > "$T/ev.tns"
seqtok -k 3 -T 64 --split train --eval-frac 0.1 --split-seed 7 "$FA" > "$T/tr7.tns"
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 --max-pos 64 -b 16"
run="$small --steps 24 --lr 2e-3 --eval $T/ev.tns --eval-every 4 --checkpoint-every 3"
mh() { tnsview --header "$1" | awk -F'\t' '$2 == "model_hash" {print $3}'; }
kv() { tnsview --header "$1" | awk -F'\t' -v k="$2" '$2 == k {print $3}'; }

# --- evaluation and the best model ------------------------------------------
lmtrain $run -q --log "$T/log.tsv" --fisher-every 12 -o "$T/full.tns" "$T/tr.tns"
ok $? "training with --eval, --checkpoint-every, --fisher-every runs"
grep -q '^# lmtrain .*CL:.*--eval-every 4' "$T/log.tsv" && grep -q '^# seeds: 1  data_seed: 42' "$T/log.tsv"
ok $? "the log's header records the command line and the seeds"
is "$(grep -v '^#' "$T/log.tsv" | head -1)" "$(printf 'step\tlr\tloss\tgrad_norm\ttokens_per_s\teval_loss\teval_acc\tbatch_hash\tseed')" "the log's columns"
is "$(awk -F'\t' '!/^#/ && NR > 3 && $6 != "NA" {printf "%s ", $1}' "$T/log.tsv")" "4 8 12 16 20 24 " "eval every 4 steps and at the end"
best=$(awk -F'\t' '!/^#/ && NR > 3 && $6 != "NA" && (b == "" || $6 < b) {b = $6; s = $1} END {print s}' "$T/log.tsv")
is "$(kv "$T/full.tns" step)" "$best" "-o holds the model of the best eval loss (step $best)"
is "$(kv "$T/full.tns.ckpt" step)" 24 "the checkpoint (OUTPUT.ckpt) holds the last state"
tnsview --no-header -n 0 "$T/full.tns.ckpt" | grep -c '^#' | grep -qx 5; ok $? "checkpoint records: params adam_m adam_v state best_params"
lmprobe -i "$T/ev.tns" "$T/full.tns" > /dev/null; ok $? "the best model loads in lmprobe"
is "$(awk -F'\t' '!/^#/ && $1 != "step" {print $1}' "$T/full.tns.fisher.tsv" | sort -u | tr '\n' ' ')" "12 24 " "Fisher rows at steps 12 and 24"
is "$(awk -F'\t' '$1 == 12 {s += $4} END {printf "%.3f", s}' "$T/full.tns.fisher.tsv")" 1.000 "Fisher shares sum to 1"
fisherflow -i "$T/ev.tns" "$T/full.tns" > "$T/ff.tsv"
# the same implementation: fisherflow on the best model equals the row lmtrain logged at that step
if [ "$best" = 12 ] || [ "$best" = 24 ]; then
	a=$(awk -F'\t' -v s="$best" '$1 == s && $2 == "embeddings" {print $3}' "$T/full.tns.fisher.tsv")
	b=$(awk -F'\t' '$2 == "embeddings" {print $3}' "$T/ff.tsv")
	awk -v a="$a" -v b="$b" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 1e-6 * b)}'
	ok $? "lmtrain's Fisher equals fisherflow's on the same model ($a vs $b)"
else
	awk -F'\t' '$2 == "embeddings" && $3 > 0 {f = 1} END {exit !f}' "$T/ff.tsv"; ok $? "fisherflow reads the best model"
fi

# --- resume: bitwise as if never stopped --------------------------------------
# the reference run has --fisher-every: so must its resumed copies (a checkpoint records it)
run="$run --fisher-every 12"
for trial in 1 2 3; do
	rm -f "$T"/k.*
	lmtrain $run -q -o "$T/k.tns" --checkpoint "$T/k.ckpt" --log "$T/k.log" "$T/tr.tns" 2>/dev/null &
	pid=$!
	sleep "$(awk -v s="$trial$$" 'BEGIN {srand(s); printf "%.2f", 0.05 + rand() * 0.4}')"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	if [ -e "$T/k.ckpt" ]; then
		tnsview -c "$T/k.ckpt" > /dev/null 2>&1; ok $? "trial $trial: after kill -9 the checkpoint is whole (step $(kv "$T/k.ckpt" step))"
		lmtrain $run -t $((trial % 2 + 1)) -q -o "$T/k.tns" --checkpoint "$T/k.ckpt" --log "$T/k.log" --resume "$T/k.ckpt" "$T/tr.tns"
		ok $? "trial $trial: resume runs (-t $((trial % 2 + 1)))"
	else
		ok 0 "trial $trial: killed before the first checkpoint (nothing to check)"
		lmtrain $run -q -o "$T/k.tns" --checkpoint "$T/k.ckpt" --log "$T/k.log" "$T/tr.tns"
		ok $? "trial $trial: a fresh run"
	fi
	is "$(mh "$T/k.tns")" "$(mh "$T/full.tns")" "trial $trial: the best model is bitwise the uninterrupted run's"
	is "$(tnsview -n -1 --no-header "$T/k.ckpt" | sed '/^#3/,$d' | md5sum)" "$(tnsview -n -1 --no-header "$T/full.tns.ckpt" | sed '/^#3/,$d' | md5sum)" \
		"trial $trial: final parameters and AdamW moments bitwise equal"
	is "$(grep -v '^#' "$T/k.log" | cut -f1-4,6-9 | md5sum)" "$(grep -v '^#' "$T/log.tsv" | cut -f1-4,6-9 | md5sum)" \
		"trial $trial: the resumed log has every step, values equal"
	is "$(grep -v '^#' "$T/k.tns.fisher.tsv" | md5sum)" "$(grep -v '^#' "$T/full.tns.fisher.tsv" | md5sum)" "trial $trial: so has the Fisher log"
done
lmtrain $run -q -o "$T/h.tns" --checkpoint "$T/h.ckpt" "$T/tr.tns"
ls "$T"/h.ckpt.new* > /dev/null 2>&1; is $? 2 "no temporary checkpoint files are left"

# --- incompatible resumes -----------------------------------------------------
cp "$T/full.tns.ckpt" "$T/c.ckpt"
fails_with "another architecture is refused, naming it" 1 "lmtrain: error: .*c.ckpt: hidden_size is 32 in the checkpoint, 16 in this run" \
	lmtrain $run --hidden 16 -q -o "$T/x.tns" --resume "$T/c.ckpt" "$T/tr.tns"
fails_with "another learning rate is refused, naming it" 1 "train_lr is 0.002.* in the checkpoint, 0.001 in this run" \
	lmtrain $run --lr 1e-3 -q -o "$T/x.tns" --resume "$T/c.ckpt" "$T/tr.tns"
fails_with "another masking rule is refused, naming it" 1 "train_mask_replace_prob is missing in the checkpoint, 1 in this run" \
	lmtrain $run --mask-replace-prob 1 --random-replace-prob 0 -q -o "$T/x.tns" --resume "$T/c.ckpt" "$T/tr.tns"
fails_with "another data seed is refused" 1 "data_seed is 42 in the checkpoint, 7 in this run" \
	lmtrain $run --data-seed 7 -q -o "$T/x.tns" --resume "$T/c.ckpt" "$T/tr.tns"
fails_with "other windows (same vocabulary) are refused" 1 "not the data the checkpoint" \
	lmtrain $run -q -o "$T/x.tns" --resume "$T/c.ckpt" "$T/tr7.tns"
fails_with "another vocabulary is refused" 1 "lmtrain: error: .*(vocab|vocabulary)" \
	lmtrain $small --steps 24 --lr 2e-3 --eval-every 4 --checkpoint-every 3 -q -o "$T/x.tns" --resume "$T/c.ckpt" "$DATA/engine/english_char.tns"
fails_with "a model is not a checkpoint" 1 "not a checkpoint" \
	lmtrain $run -q -o "$T/x.tns" --resume "$T/full.tns" "$T/tr.tns"
head -c 20000 "$T/c.ckpt" > "$T/trunc.ckpt"
fails_with "a truncated checkpoint is refused" 1 "lmtrain: error: .*trunc.ckpt" \
	lmtrain $run -q -o "$T/x.tns" --resume "$T/trunc.ckpt" "$T/tr.tns"
cmp -s "$T/c.ckpt" "$T/full.tns.ckpt"; ok $? "the checkpoint resumed from is untouched by failed runs"

# --- bad input and failing outputs ----------------------------------------------
fails_with "an eval stream with another vocabulary is refused" 1 "lmtrain: error: .*english_char.tns: the eval windows have another vocabulary" \
	lmtrain $small --steps 2 --eval "$DATA/engine/english_char.tns" -q -o "$T/x.tns" "$T/tr.tns"
fails_with "an unwritable output folder: exit 1" 1 "lmtrain: error: .*none/x.tns" \
	lmtrain $run -q -o "$T/none/x.tns" "$T/tr.tns"
fails_with "a full disk (/dev/full) for the checkpoint: exit 1" 1 "lmtrain: error: /dev/full: .*(space|write)" \
	lmtrain $run -q -o "$T/x.tns" --checkpoint /dev/full "$T/tr.tns"
mkdir "$T/c.ckpt.new"
fails_with "a checkpoint that cannot be replaced: exit 1, the previous intact" 1 "the previous checkpoint, from before this run, is intact" \
	lmtrain $run -q -o "$T/x.tns" --checkpoint "$T/c.ckpt" "$T/tr.tns"
cmp -s "$T/c.ckpt" "$T/full.tns.ckpt"; ok $? "and it is"
fails_with "--epochs 2 from a pipe is a usage error" 2 "epochs 2 needs a file" \
	sh -c 'cat "$1" | lmtrain --steps 3 --epochs 2 -q -o "$2"' sh "$T/tr.tns" "$T/x.tns"
fails_with "--seeds needs {seed} in -o" 2 "\\{seed\\}" lmtrain $small --steps 2 --seeds 1-2 -q -o "$T/x.tns" "$T/tr.tns"

# --- ensembles in one process --------------------------------------------------
lmtrain $small --steps 6 --seeds 1-3 -q --log "$T/ens.tsv" -o "$T/m{seed}.tns" "$T/tr.tns"
ok $? "--seeds 1-3 trains three members in one command"
is "$(awk -F'\t' '!/^#/ && $1 != "step" {print $1, $8}' "$T/ens.tsv" | sort -u | wc -l)" 6 "members saw identical batches (one batch hash per step)"
is "$(awk -F'\t' '!/^#/ && $1 != "step" {print $9}' "$T/ens.tsv" | sort -u | tr '\n' ' ')" "1 2 3 " "the log has a row per member and step"
[ "$(mh "$T/m1.tns")" != "$(mh "$T/m2.tns")" ] && [ "$(mh "$T/m2.tns")" != "$(mh "$T/m3.tns")" ]; ok $? "members differ"
lmtrain $small --steps 6 --seed 2 -q -o "$T/solo2.tns" "$T/tr.tns"
is "$(mh "$T/m2.tns")" "$(mh "$T/solo2.tns")" "member 2 is bitwise the model of a lone run with --seed 2"
grep -q "SD:3" <<EOS
$(tnsview --header "$T/m3.tns" | grep '^@PG')
EOS
ok $? "each member's header records its seed"

# --- gradient accumulation ------------------------------------------------------
lmtrain $small --steps 6 -q --log "$T/a1.tsv" -o "$T/a1.tns" "$T/tr.tns"
lmtrain $small --steps 6 --accum 4 -q --log "$T/a4.tsv" -o "$T/a4.tns" "$T/tr.tns"
paste "$T/a1.tsv" "$T/a4.tsv" | awk -F'\t' '!/^#/ && $1 != "step" {d = $3 - $12; if (d < 0) d = -d; if (d > m) m = d} END {print "# max loss difference", m + 0; exit !(m < 1e-4)}'
ok $? "--accum 4 follows the full batch (losses within 1e-4)"
# --- progress: a bar with ETA on a terminal only -------------------------------
lmtrain $small --steps 3 -o "$T/p.tns" "$T/tr.tns" 2> "$T/p.err"
! grep -q 'ETA' "$T/p.err" && ! grep -q "$(printf '\r')" "$T/p.err"; ok $? "no progress bar when stderr is not a terminal"
lmtrain $small --steps 3 -v -o "$T/p.tns" "$T/tr.tns" 2> "$T/p.err"
grep -q 'lmtrain: \[#*\.*\] step 3/3 .*ETA 0:00' "$T/p.err"; ok $? "-v prints progress lines with the bar and ETA"
done_testing
