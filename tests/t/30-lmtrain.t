#!/bin/sh
# lmtrain (first version): it learns, it writes a complete model file, the
# same seeds give the same bits at any -t, and bad input is refused.
. "$(dirname "$0")/lib.sh"
E=$DATA/engine/english_char.tns
W=$DATA/engine/dna_3mer.tns
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 --max-pos 64 -b 16"

lmtrain $small --steps 250 --lr 3e-3 --warmup 0.1 -q --log "$T/log.tsv" -o "$T/e.tns" "$E"
ok $? "lmtrain trains on English character windows"
grep -v '^#' "$T/log.tsv" > "$T/rows.tsv"
is "$(head -1 "$T/rows.tsv")" "$(printf 'step\tlr\tloss\tgrad_norm\ttokens_per_s\teval_loss\teval_acc\tbatch_hash\tseed')" "the log has its header"
first=$(awk -F'\t' 'NR >= 2 && NR <= 6 {s += $3; n++} END {print s / n}' "$T/rows.tsv")
last=$(awk -F'\t' '{l[NR] = $3} END {for (i = NR - 19; i <= NR; i++) s += l[i]; print s / 20}' "$T/rows.tsv")
awk -v a="$first" -v b="$last" 'BEGIN {exit !(b < a - 0.5)}'
ok $? "the training loss falls (first 5 steps $first, last 20 of 250 steps $last nats)"
# the unigram entropy of the tokens (in nats) is what a model without context reaches
uni=$(entropy --tokens --order 0 "$E" | awk -F'\t' 'NR == 2 {print $5 * log(2)}')
awk -v b="$last" -v u="$uni" 'BEGIN {exit !(b < u)}'
ok $? "and ends below the unigram entropy of the tokens ($uni nats)"
tnsview --header "$T/e.tns" > "$T/h"
for k in model_type vocab_size hidden_size num_hidden_layers num_attention_heads intermediate_size \
	max_position_embeddings layer_norm_eps pad_token_id mask_token_id seed data_seed step model_hash; do
	grep -q "^@KV	$k	" "$T/h" || { echo "# no @KV $k"; missing=1; }
done
ok "${missing:-0}" "the model header has the HuggingFace config keys, seeds, step and hash"
grep -q '^@TK	' "$T/h" && [ "$(grep -c '^@VO	' "$T/h")" = "$(grep '^@KV	vocab_size	' "$T/h" | cut -f3)" ]
ok $? "and the tokenizer vocabulary"
grep -q "^@PG	ID:lmtrain	.*CL:.*--steps 250" "$T/h"; ok $? "and its command line in a @PG line"
is "$(tnsview -n 0 --no-header "$T/e.tns" | head -1)" "#0	params" "record 0 is params"
tnsview -n 0 --no-header "$T/e.tns" | grep -q '	bert.embeddings.word_embeddings.weight	f32	' ; ok $? "parameters have their HuggingFace names"
lmprobe -i "$E" "$T/e.tns" > /dev/null; ok $? "the model loads in lmprobe"

lmtrain $small --steps 5 --seed 3 -t 1 -q -o "$T/t1.tns" "$W"
lmtrain $small --steps 5 --seed 3 -t 2 -q -o "$T/t2.tns" "$W"
is "$(tnsview -n -1 --no-header "$T/t1.tns" | md5sum)" "$(tnsview -n -1 --no-header "$T/t2.tns" | md5sum)" "-t 1 and -t 2 give bitwise the same parameters"
lmtrain $small --steps 5 --seed 4 -q -o "$T/s4.tns" "$W"
[ "$(tnsview -n -1 --no-header "$T/t1.tns" | md5sum)" != "$(tnsview -n -1 --no-header "$T/s4.tns" | md5sum)" ]
ok $? "another seed gives another model"
cat "$W" | lmtrain $small --steps 5 --seed 3 -q -o "$T/pipe.tns"; ok $? "windows from a pipe train with --steps"

# a pipe without --steps: one pass over what arrives (README's first pipeline)
n=$(tnsview -c "$W" | awk '{print $(NF - 1)}')
cat "$W" | lmtrain $small --seed 3 -q --log "$T/p1.tsv" -o "$T/p1.tns" 2> "$T/p1.err"
ok $? "a pipe without --steps trains (one pass)"
is "$(tnsview --header "$T/p1.tns" | awk -F'\t' '$2 == "step" {print $3}')" "$(( (n + 15) / 16 ))" \
	"a pipe that fits the shuffle buffer: every window once, as a file's epoch ($n windows, batches of 16)"
awk -F'\t' '!/^#/ && $1 > 1 && $1 < 10 && $2 + 0 < 0.0001 {f = 1} END {exit !f}' "$T/p1.tsv"
ok $? "and its learning rate follows the cosine (it is known how many steps there are)"
cat "$W" | lmtrain $small --seed 3 --shuffle-buffer 40 -v --log "$T/p2.tsv" -o "$T/p2.tns" 2> "$T/p2.err"
ok $? "a pipe longer than the shuffle buffer trains to its end"
is "$(tnsview --header "$T/p2.tns" | awk -F'\t' '$2 == "step" {print $3}')" "$(( (n + 15) / 16 ))" "every window once"
is "$(awk -F'\t' '!/^#/ && $1 != "step" {print $2}' "$T/p2.tsv" | sort -u | tr '\n' ' ')" "0 0.0001 " \
	"its learning rate: a warm-up step (0.1 of the 3 steps of one buffer), then constant --lr"
grep -q "lmtrain: step $(( (n + 15) / 16 ))  $n windows  loss" "$T/p2.err" && ! grep -q ETA "$T/p2.err"
ok $? "progress shows the steps and windows done, no ETA"
grep -q "one pass over the pipe (1 warm-up steps, then lr 0.0001)" "$T/p2.err"; ok $? "and says what the schedule is"
cat "$W" | lmtrain $small --seed 3 --shuffle-buffer 40 -t 2 -q -o "$T/p3.tns"
[ -s "$T/p3.tns" ] && [ "$(tnsview -n -1 --no-header "$T/p3.tns" | md5sum)" = "$(tnsview -n -1 --no-header "$T/p2.tns" | md5sum)" ]
ok $? "deterministic: bitwise the same at -t 2"

# the name says when options change the architecture
grep -q "^lmtrain: custom (4M with --layers 2 --hidden 32 --heads 2 --ffn 64): .* 2[0-9]* parameters (0.0[0-9] M)" "$T/p2.err"
ok $? "an overridden architecture is named custom, with its real parameter count"
lmtrain --arch 4M --max-pos 64 -b 2 --steps 1 -o "$T/a4.tns" "$W" 2> "$T/a4.err"
grep -q "^lmtrain: 4M: 6 layers, .* parameters (3\.[0-9][0-9] M)" "$T/a4.err"; ok $? "the named one keeps its name"
rm -f "$T/a4.tns"
fails_with "windows longer than --max-pos are refused" 1 "lmtrain: error: .*exceed the model's 32 positions" lmtrain $small --max-pos 32 --steps 1 -q -o "$T/x.tns" "$W"
"$SEQLM_TESTBIN/mktns" -n 2 -o "$T/novocab.tns"
fails_with "a stream without a vocabulary is refused" 1 "lmtrain: error: .*vocabulary" lmtrain $small --steps 1 -q -o "$T/x.tns" "$T/novocab.tns"
# the window checks are winread's (lmprobe's and fisherflow's): the same words
fails_with "records without windows are refused as lmprobe refuses them" 1 "lmtrain: error: .*probe_model.tns: record 0 \(params\) has no i32\[T\] 'tokens' tensor \(not seqtok output\?\)" lmtrain $small --steps 1 -q -o "$T/x.tns" "$DATA/probe/probe_model.tns"
# the variants of issue 23 (--pos, --ffn-act, --no-bias): they learn, their
# files say what they are and load in lmprobe and fisherflow, -t changes no bit
for v in "rotary swiglu ffn" "alibi geglu attn" "none gelu all"; do
	set -- $v
	lmtrain $small --pos $1 --ffn-act $2 --no-bias $3 --steps 60 --lr 3e-3 -q --log "$T/v.log" -o "$T/v.tns" "$E"
	ok $? "--pos $1 --ffn-act $2 --no-bias $3 trains"
	awk -F'\t' '$1 == 1 { a = $3 } $1 == 60 { b = $3 } END { exit !(a - b > 0.5) }' "$T/v.log"
	ok $? "and learns (loss $(awk -F'\t' '$1 == 1 || $1 == 60 { printf " %s", $3 }' "$T/v.log"))"
	tnsview -n 0 "$T/v.tns" | grep -q "^@KV	position_encoding	$1" && ! tnsview -n 0 --no-header "$T/v.tns" | grep -q position_embeddings
	ok $? "its header says position_encoding $1 and it has no position embeddings"
	lmprobe -i "$E" "$T/v.tns" > "$T/v.probs" && fisherflow -i "$E" "$T/v.tns" > "$T/v.ff"
	ok $? "lmprobe and fisherflow read it"
	lmtrain $small --pos $1 --ffn-act $2 --no-bias $3 --steps 5 --seed 3 -t 1 -q -o "$T/v1.tns" "$W"
	lmtrain $small --pos $1 --ffn-act $2 --no-bias $3 --steps 5 --seed 3 -t 2 -q -o "$T/v2.tns" "$W"
	is "$(tnsview -n -1 --no-header "$T/v1.tns" | md5sum)" "$(tnsview -n -1 --no-header "$T/v2.tns" | md5sum)" "-t 1 and -t 2 give bitwise the same parameters ($1 $2 $3)"
done
fails_with "--pos takes absolute, rotary, alibi or none" 2 "lmtrain: error: --pos sideways" lmtrain $small --pos sideways --steps 1 -o "$T/x.tns" "$W"
fails_with "--ffn-act takes gelu, geglu or swiglu" 2 "lmtrain: error: --ffn-act relu" lmtrain $small --ffn-act relu --steps 1 -o "$T/x.tns" "$W"
fails_with "--pos offset (a model file's value, ESM's, by import only) is refused" 2 "lmtrain: error: --pos offset: not absolute" lmtrain $small --pos offset --steps 1 -o "$T/x.tns" "$W"
# the masking rule: 80/10/10 by default (the same model as asking for it),
# another rule another model; fractions adding up to more than 1 refused
mhash() { tnsview --header "$1" | awk '$2 == "model_hash" {print $3}'; }
lmtrain $small --steps 4 --seed 5 -q -o "$T/r0.tns" "$W"
lmtrain $small --steps 4 --seed 5 -q --mask-replace-prob 0.8 --random-replace-prob 0.1 -o "$T/r1.tns" "$W"
lmtrain $small --steps 4 --seed 5 -q --mask-replace-prob 1 --random-replace-prob 0 -o "$T/r2.tns" "$W"
h0=$(mhash "$T/r0.tns")
[ -n "$h0" ] && [ "$(mhash "$T/r1.tns")" = "$h0" ]; ok $? "--mask-replace-prob 0.8 --random-replace-prob 0.1 is the default model ($h0)"
[ -n "$(mhash "$T/r2.tns")" ] && [ "$(mhash "$T/r2.tns")" != "$h0" ]; ok $? "--mask-replace-prob 1 --random-replace-prob 0 trains another model"
fails_with "replace probabilities over 1 in all are refused" 2 "add up to more than 1" lmtrain $small --mask-replace-prob 0.95 --steps 1 -o "$T/x.tns" "$W"
fails_with "--norm takes post or pre" 2 "lmtrain: error: --norm: post or pre, not 'middle'" lmtrain $small --norm middle --steps 1 -o "$T/x.tns" "$W"
fails_with "--no-bias takes attn, ffn or all" 2 "lmtrain: error: --no-bias qkv" lmtrain $small --no-bias qkv --steps 1 -o "$T/x.tns" "$W"
fails_with "rotary with an odd head size is refused" 2 "rotary position embeddings need an even head size" lmtrain $small --pos rotary --heads 32 --steps 1 -o "$T/x.tns" "$W"
# pre-LN layers and a final LayerNorm (--norm pre --final-ln): it learns at a
# high learning rate, the file says so, the readers run it, any -t the same bits
lmtrain $small --norm pre --final-ln --steps 150 --lr 3e-3 -q --log "$T/pre.tsv" -o "$T/pre.tns" "$E"
ok $? "lmtrain --norm pre --final-ln trains"
pf=$(awk -F'\t' '!/^#/ && $1 != "step" && $1 <= 5 {s += $3; n++} END {print s / n}' "$T/pre.tsv")
pl=$(awk -F'\t' '!/^#/ && $1 != "step" {l[++n] = $3} END {for (i = n - 19; i <= n; i++) s += l[i]; print s / 20}' "$T/pre.tsv")
awk -v a="$pf" -v b="$pl" 'BEGIN {exit !(b < a - 0.5)}'
ok $? "the pre-LN training loss falls (first 5 steps $pf, last 20 of 150 steps $pl nats)"
tnsview --header "$T/pre.tns" > "$T/ph"
grep -q "^@KV	layer_norm_placement	pre$" "$T/ph" && grep -q "^@KV	final_layer_norm	true$" "$T/ph"
ok $? "its header says layer_norm_placement pre, final_layer_norm true"
tnsview -n 0 --no-header "$T/pre.tns" | grep -c 'pre_attention_ln\|post_attention_ln\|last_layer_ln' > "$T/pn"
is "$(cat "$T/pn")" 10 "its LayerNorms under GENA-LM's names (2 per layer and LN, weight and bias; the last)"
lmprobe -i "$E" "$T/pre.tns" > "$T/pre.probe.tns"; ok $? "lmprobe reads the pre-LN model"
lmprobe -i "$E" --emit hidden:2 "$T/pre.tns" > "$T/pre.h.tns"; ok $? "and emits its last hidden state (after the final LN)"
fisherflow -i "$E" "$T/pre.tns" > "$T/pre.fisher.tsv" && grep -q "^[^	]*	head	" "$T/pre.fisher.tsv"
ok $? "fisherflow reads it (a head group)"
lmtrain $small --norm pre --final-ln --steps 5 --seed 3 -t 1 -q -o "$T/pt1.tns" "$W"
lmtrain $small --norm pre --final-ln --steps 5 --seed 3 -t 2 -q -o "$T/pt2.tns" "$W"
is "$(tnsview -n -1 --no-header "$T/pt1.tns" | md5sum)" "$(tnsview -n -1 --no-header "$T/pt2.tns" | md5sum)" "pre-LN: -t 1 and -t 2 give bitwise the same parameters"
[ "$(tnsview -n -1 --no-header "$T/pt1.tns" | md5sum)" != "$(tnsview -n -1 --no-header "$T/t1.tns" | md5sum)" ]
ok $? "and another model than post-LN's"
fails_with "--norm takes post or pre" 2 "lmtrain: .*--norm: post or pre, not 'side'" lmtrain $small --norm side --steps 1 -o "$T/x.tns" "$W"
fails_with "--final-ln without --norm pre is a usage error" 2 "lmtrain: .*--final-ln goes with --norm pre" lmtrain $small --final-ln --steps 1 -o "$T/x.tns" "$W"

v=$(lmtrain --version 2>&1); st=$?
is "$st $(echo "$v" | grep -c '^MPI: ')" "0 1" "--version exits 0 and says whether MPI is built in (its note outlives option parsing: asan=1)"
fails_with "an unknown architecture is a usage error" 2 "arch" lmtrain --arch 7B --steps 1 -o "$T/x.tns" "$W"
lmtrain $small --steps 1 -q -o "$T/none/x.tns" "$W" 2> /dev/null; is "$?" 1 "an unwritable output exits 1"
[ ! -e "$T/x.tns" ] && [ ! -e "$T/x.tns.tmp" ]; ok $? "and no failed run left an output behind"
done_testing
