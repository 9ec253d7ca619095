#!/bin/sh
# lmtrain and signals: Ctrl-C (SIGINT), SIGTERM and SIGHUP end the step
# under way, write the checkpoint, remove every temporary file, leave no
# model (-o appears only when training ends) and say so in one line; the
# same command plus --resume then ends bitwise where an uninterrupted run
# does.  Also: exit 1 leaves no new output, and the checkpoint's failure
# message says "intact" only of a checkpoint that is there.
. "$(dirname "$0")/lib.sh"
FA=$DATA/demo/human_chr20_100k.fa
seqtok -k 3 -T 64 --split train --eval-frac 0.1 "$FA" > "$T/tr.tns"
seqtok -k 3 -T 64 --split eval --eval-frac 0.1 "$FA" > "$T/ev.tns"
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 --max-pos 64 -b 16"
run="$small --steps 120 --lr 2e-3 --eval $T/ev.tns --eval-every 20 --fisher-every 40"
mh() { tnsview --header "$1" | awk -F'\t' '$2 == "model_hash" {print $3}'; }
kv() { tnsview --header "$1" | awk -F'\t' -v k="$2" '$2 == k {print $3}'; }
# until FILE has N lines (at most 20 s)
wait_lines() { _i=0; while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $_i -lt 1000 ]; do sleep 0.02; _i=$((_i + 1)); done; }
# a shell runs background commands with SIGINT ignored: give them the default back
if env --default-signal=INT true 2>/dev/null; then with_signals() { exec env --default-signal=INT,TERM,HUP "$@"; }
else with_signals() { exec "$@"; }; fi

lmtrain $run -q --log "$T/full.tsv" -o "$T/full.tns" "$T/tr.tns"
ok $? "the uninterrupted reference run"

for sig in INT TERM HUP; do
	case $sig in INT) code=130 t=1 ;; TERM) code=143 t=2 ;; HUP) code=129 t=1 ;; esac
	rm -f "$T"/k.*
	with_signals lmtrain $run -q --log "$T/k.tsv" -o "$T/k.tns" "$T/tr.tns" 2> "$T/k.err" &
	pid=$!
	wait_lines "$T/k.tsv.tmp" 30           # the log, flushed at every step, is open
	ls "$T"/k.tsv.tmp > /dev/null 2>&1; okopen=$?
	kill -$sig $pid
	wait $pid 2> /dev/null
	is "$?" $code "SIG$sig during training: exit $code"
	ok $okopen "  (the log was being written when the signal came)"
	is "$(ls "$T" | grep -c '\.tmp$\|\.new')" 0 "SIG$sig: no temporary file is left (log, Fisher log, checkpoint)"
	[ ! -e "$T/k.tns" ]; ok $? "SIG$sig: no model: -o appears only when training ends"
	tnsview -c "$T/k.tns.ckpt" > /dev/null 2>&1; ok $? "SIG$sig: the checkpoint (OUTPUT.ckpt, though no --checkpoint* option was given) is whole"
	step=$(kv "$T/k.tns.ckpt" step)
	is "$(wc -l < "$T/k.err" | tr -d ' ')" 1 "SIG$sig: one line on stderr"
	grep -q "^lmtrain: interrupted by SIG$sig: no model .*kept the checkpoint $T/k.tns.ckpt at step $step (to go on, add --resume $T/k.tns.ckpt to the same command); removed the unfinished $T/k.tsv.tmp" "$T/k.err"
	ok $? "SIG$sig: it says what was kept (step $step) and how to go on"
	lmtrain $run -t $t -q --log "$T/k.tsv" -o "$T/k.tns" --resume "$T/k.tns.ckpt" "$T/tr.tns"
	ok $? "SIG$sig: the same command plus --resume runs (-t $t)"
	is "$(mh "$T/k.tns")" "$(mh "$T/full.tns")" "SIG$sig: the best model is bitwise the uninterrupted run's"
	is "$(kv "$T/k.tns" step)" "$(kv "$T/full.tns" step)" "SIG$sig: of the same step"
	is "$(tnsview -n -1 --no-header "$T/k.tns.ckpt" | sed '/^#3/,$d' | md5sum)" "$(tnsview -n -1 --no-header "$T/full.tns.ckpt" | sed '/^#3/,$d' | md5sum)" \
		"SIG$sig: final parameters and AdamW moments bitwise equal"
	is "$(grep -v '^#' "$T/k.tsv" | cut -f1-4,6-9 | md5sum)" "$(grep -v '^#' "$T/full.tsv" | cut -f1-4,6-9 | md5sum)" \
		"SIG$sig: the log has every step once, values equal"
	is "$(grep -v '^#' "$T/k.tns.fisher.tsv" | md5sum)" "$(grep -v '^#' "$T/full.tns.fisher.tsv" | md5sum)" "SIG$sig: so has the Fisher log"
done

# the best model so far lives in the checkpoint, not in -o
is "$(tnsview --no-header -n 0 "$T/full.tns.ckpt" | grep '^#' | cut -f2 | tr '\n' ' ')" "params adam_m adam_v state best_params " \
	"with --eval the checkpoint holds the best model so far (best_params)"
rm -f "$T"/k.*
lmtrain $run -q -o "$T/k.tns" "$T/tr.tns" 2> /dev/null &
pid=$!
wait_lines "$T/k.tns.fisher.tsv.tmp" 4      # the Fisher log has rows: step 40 is done, -o has improved
kill -9 $pid; wait $pid 2> /dev/null
[ ! -e "$T/k.tns" ] && [ ! -e "$T/k.tns.tmp" ]; ok $? "kill -9 in the middle of --eval training leaves no model that looks finished"

# a second signal during a step stops at once (steps of a second or more)
rm -f "$T"/k.*
with_signals lmtrain --layers 2 --hidden 256 --heads 8 --ffn 512 --max-pos 64 -b 256 --steps 50 -q \
	--log "$T/k.tsv" -o "$T/k.tns" "$T/tr.tns" 2> "$T/k.err" &
pid=$!
wait_lines "$T/k.tsv.tmp" 3                # the log's header: training starts
sleep 0.3
kill -INT $pid; sleep 0.2; kill -INT $pid
wait $pid 2> /dev/null
is "$?" 130 "two SIGINTs: exit 130"
is "$(ls "$T" | grep -c '\.tmp$\|\.new')" 0 "no temporary file is left"
is "$(cat "$T/k.err")" "lmtrain: interrupted again by SIGINT: nothing kept; removed the unfinished $T/k.tsv.tmp" \
	"one line says it stopped at once, in the first step: nothing kept"
[ ! -e "$T/k.tns" ] && [ ! -e "$T/k.tns.ckpt" ]; ok $? "no model, no checkpoint"

# a pipe: the upstream seqtok is interrupted too (Ctrl-C reaches the whole pipeline)
rm -f "$T"/k.*
mkfifo "$T/fifo"
with_signals lmtrain $small --lr 2e-3 --shuffle-buffer 32 -q --log "$T/k.tsv" -o "$T/k.tns" "$T/fifo" 2> "$T/k.err" &
pid=$!
exec 3> "$T/fifo"
head -c 30000 "$T/tr.tns" >&3              # part of a stream, and the writer stays
wait_lines "$T/k.tsv.tmp" 4
kill -INT $pid
exec 3>&-                                  # the upstream dies: lmtrain reads a truncated stream
wait $pid 2> /dev/null
is "$?" 130 "SIGINT with a pipe that then breaks: exit 130, not a truncation error"
grep -q "kept the checkpoint $T/k.tns.ckpt at step" "$T/k.err" && tnsview -c "$T/k.tns.ckpt" > /dev/null 2>&1
ok $? "and the checkpoint of the steps done is written"
is "$(ls "$T" | grep -c '\.tmp$\|\.new')" 0 "no temporary file is left"

# exit 1 means no new output file
rm -f "$T"/y.*
fails_with "a log on a full disk: exit 1" 1 "lmtrain: error: /dev/full: write failed" \
	lmtrain $small --steps 5 -q --log /dev/full -o "$T/y.tns" "$T/tr.tns"
is "$(ls "$T" | grep -c '^y\.')" 0 "and no model, checkpoint or temporary file"
fails_with "a first checkpoint on a full disk does not claim a previous one" 1 "/dev/full: .*\(no checkpoint was written\)" \
	lmtrain $small --steps 5 -q --checkpoint /dev/full -o "$T/y.tns" "$T/tr.tns"
! grep -q intact "$T/.err"; ok $? "  (no 'intact')"
is "$(ls "$T" | grep -c '^y\.')" 0 "and no model"
lmtrain --help > "$T/help"
grep -q "A pipe without --steps is read once" "$T/help" && grep -q "Ctrl-C (SIGINT), SIGTERM or SIGHUP ends the step under way, writes the" "$T/help"
ok $? "--help says what a pipe without --steps and a signal do"
done_testing
