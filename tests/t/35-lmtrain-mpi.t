#!/bin/sh
# lmtrain under MPI (mpirun -np N): the same training as one process with
# --accum N, bitwise repeatable, members of --seeds on their own ranks,
# resume after kill -9, one error line and no output on a failure.
. "$(dirname "$0")/lib.sh"
if ! lmtrain --version | grep -q '^MPI: Open MPI'; then
	skip "lmtrain built without MPI (no mpicc: scripts/install-deps.sh installs libopenmpi-dev)"
	done_testing; exit
fi
if ! command -v mpirun > /dev/null 2>&1; then
	skip "no mpirun (Debian openmpi-bin)"
	done_testing; exit
fi
# as root in CI; more ranks than cores.  Under make check asan=1, what Open
# MPI allocates in MPI_Init and keeps is not ours: LeakSanitizer suppresses
# stacks through its libraries, which it can only see with full unwinding
# and with Open MPI's plugins left loaded at exit (mca_base_component_
# disable_dlclose, Open MPI's switch for memory checkers)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mca_base_component_disable_dlclose=1
export LSAN_OPTIONS="suppressions=$TOP/tests/lsan-mpi.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
mpi() { mpirun -np "$@"; }

for n in 2 3; do
	mpi $n "$SEQLM_TESTBIN/test_dist" > "$T/dist$n.out" 2>&1 && ! grep -q '^not ok' "$T/dist$n.out"
	ok $? "the fixed-order sums are the rank-order sums on $n ranks ($(grep -c '^ok' "$T/dist$n.out") checks)"
done

FA=$DATA/demo/human_chr20_100k.fa
seqtok -k 3 -T 64 --split train --eval-frac 0.1 "$FA" > "$T/tr.tns"
seqtok -k 3 -T 64 --split eval --eval-frac 0.1 "$FA" > "$T/ev.tns"
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 --max-pos 64 -b 16 --lr 1e-3"
run="$small --steps 24 --eval $T/ev.tns --eval-every 4 --fisher-every 12"
# parameters and AdamW moments (a checkpoint's records 0-2; its state record
# holds the log, whose tokens/s differ from run to run)
params() { tnsview -n -1 --no-header "$1" | sed '/^#3/,$d' | md5sum; }
kv() { tnsview --header "$1" | awk -F'\t' -v k="$2" '$2 == k {print $3}'; }
# the log's loss, grad_norm, eval_loss and eval_acc columns (3 4 6 7) of two
# runs agree to 1e-6 relative, or to one unit of the 6th printed decimal
logs_close() {
	paste "$1" "$2" | awk -F'\t' '!/^#/ && $1 != "step" {
		n = NF / 2; rows++
		for (i = 3; i <= 7; i++) if (i != 5 && $i != "NA") {
			d = $i - $(i + n); if (d < 0) d = -d; a = $i < 0 ? -$i : $i
			if (d > 1e-6 * a && d > 1.0000001e-6) { print "# step " $1 " column " i ": " $i " vs " $(i + n); bad = 1 }
		}
		if ($1 != $(1 + n) || $2 != $(2 + n) || $8 != $(8 + n)) { print "# step/lr/batch differ at " $1; bad = 1 }
	} END { exit bad || !rows }'
}
fisher_close() {
	paste "$1" "$2" | awk -F'\t' '!/^#/ && $1 != "step" {
		n = NF / 2; rows++
		d = $3 - $(3 + n); if (d < 0) d = -d
		if (d > 1e-6 * $3 || $2 != $(2 + n) || $5 != $(5 + n)) { print "# " $0; bad = 1 }
	} END { exit bad || !rows }'
}

# --- N ranks = one process with --accum N ---------------------------------------
for n in 2 3; do
	lmtrain $run --accum $n -q --log "$T/a$n.tsv" -o "$T/a$n.tns" "$T/tr.tns"
	mpi $n lmtrain $run -q --log "$T/m$n.tsv" -o "$T/m$n.tns" "$T/tr.tns"
	ok $? "mpirun -np $n lmtrain trains (with --eval and --fisher-every)"
	logs_close "$T/a$n.tsv" "$T/m$n.tsv"; ok $? "-np $n: loss, grad_norm and eval columns equal --accum $n's to 1e-6"
	fisher_close "$T/a$n.tns.fisher.tsv" "$T/m$n.tns.fisher.tsv"; ok $? "-np $n: the Fisher log equals --accum $n's to 1e-6"
	r=$("$PYTHON" "$TOP/tests/golden/cmp_params.py" "$T/a$n.tns.ckpt" "$T/m$n.tns.ckpt" 1e-6)
	ok $? "-np $n: the parameters after 24 steps equal --accum $n's to 1e-6 relative (largest: $r)"
	is "$(kv "$T/m$n.tns.ckpt" train_ranks)" "$n" \
		"-np $n: the checkpoint records its $n ranks"
done
"$PYTHON" "$TOP/tests/golden/cmp_params.py" "$T/a2.tns.ckpt" "$T/a3.tns.ckpt" 1e-12 > /dev/null
ok $((! $?)) "(and --accum 2 and 3 differ, so the comparison can fail)"
mpi 2 lmtrain $run -t 2 -q --log "$T/r2.tsv" -o "$T/r2.tns" "$T/tr.tns"
is "$(params "$T/r2.tns.ckpt")" "$(params "$T/m2.tns.ckpt")" "two -np 2 runs (-t 1, -t 2) give bitwise the same parameters and moments"
is "$(grep -v '^#' "$T/r2.tsv" | cut -f1-4,6- | md5sum)" "$(grep -v '^#' "$T/m2.tsv" | cut -f1-4,6- | md5sum)" "and the same log"
ls "$T" | grep -q '\.tmp' ; ok $((! $?)) "no temporary files are left"

# --- ensembles: members on their own ranks -------------------------------------
lmtrain $run --seeds 1-2 -q --log "$T/s.tsv" -o "$T/s{seed}.tns" "$T/tr.tns"
mpi 2 lmtrain $run --seeds 1-2 -q --log "$T/p.tsv" -o "$T/p{seed}.tns" "$T/tr.tns"
ok $? "mpirun -np 2 lmtrain --seeds 1-2 trains a member on each rank"
is "$(params "$T/p1.tns"; params "$T/p2.tns")" "$(params "$T/s1.tns"; params "$T/s2.tns")" "each member is bitwise the one-process member"
is "$(grep -v '^#' "$T/p.tsv" | cut -f1-4,6- | md5sum)" "$(grep -v '^#' "$T/s.tsv" | cut -f1-4,6- | md5sum)" \
	"one log, every member's rows in the one-process order"
lmtrain $run --seeds 1-2 --accum 2 -q --log "$T/sa.tsv" -o "$T/sa{seed}.tns" "$T/tr.tns"
mpi 4 lmtrain $run --seeds 1-2 -q --log "$T/pa.tsv" -o "$T/pa{seed}.tns" "$T/tr.tns"
ok $? "mpirun -np 4 lmtrain --seeds 1-2: each member on 2 ranks"
logs_close "$T/sa.tsv" "$T/pa.tsv"; ok $? "-np 4, 2 members: the log equals --accum 2's to 1e-6"
"$PYTHON" "$TOP/tests/golden/cmp_params.py" "$T/sa2.tns.ckpt" "$T/pa2.tns.ckpt" 1e-6 > /dev/null
ok $? "-np 4, 2 members: member 2's parameters equal --accum 2's to 1e-6"
fails_with "members that do not divide the ranks are refused" 2 "lmtrain: error: .*--seeds has 3 members: under MPI the ranks \(2\)" \
	mpi 2 lmtrain $run --seeds 1-3 -q -o "$T/x{seed}.tns" "$T/tr.tns"

# --- resume after kill -9 --------------------------------------------------------
ck="$small --steps 48 --checkpoint-every 2"
mpi 2 lmtrain $ck -q --log "$T/full.tsv" -o "$T/full.tns" "$T/tr.tns"
for victim in rank mpirun; do
	rm -f "$T"/k.*
	mpi 2 lmtrain $ck -q --log "$T/k.log" -o "$T/k.tns" "$T/tr.tns" 2>/dev/null &
	job=$!
	for i in $(seq 1 200); do   # until a first checkpoint
		[ -e "$T/k.tns.ckpt" ] && break; sleep 0.05
	done
	if [ $victim = rank ]; then pkill -9 -f "lmtrain .*$T/k.tns" ; else kill -9 $job 2>/dev/null; pkill -9 -f "lmtrain .*$T/k.tns"; fi
	wait $job 2>/dev/null
	sleep 0.2
	if [ -e "$T/k.tns" ]; then
		ok 0 "kill -9 of a $victim came after the run ended (a loaded machine was slow to kill): nothing to check"
		ok 0 "(no interrupted run)"; ok 0 "(no resume)"
	elif [ -e "$T/k.tns.ckpt" ]; then
		tnsview -c "$T/k.tns.ckpt" > /dev/null 2>&1
		ok $? "kill -9 of a $victim: the checkpoint is whole (step $(kv "$T/k.tns.ckpt" step)), no model file"
		[ "$(kv "$T/k.tns.ckpt" step)" -lt 48 ]; ok $? "kill -9 of a $victim: it stopped the run before its end"
		mpi 2 lmtrain $ck -q --log "$T/k.log" -o "$T/k.tns" --resume "$T/k.tns.ckpt" "$T/tr.tns"
		ok $? "kill -9 of a $victim: mpirun -np 2 resumes"
	else
		ok 0 "kill -9 of a $victim before the first checkpoint (nothing to check)"; ok 0 "(no checkpoint)"
		mpi 2 lmtrain $ck -q --log "$T/k.log" -o "$T/k.tns" "$T/tr.tns"; ok $? "a fresh run"
	fi
	is "$(params "$T/k.tns.ckpt")" "$(params "$T/full.tns.ckpt")" "kill -9 of a $victim: after resuming, bitwise the uninterrupted run"
	is "$(grep -v '^#' "$T/k.log" | cut -f1-4,6- | md5sum)" "$(grep -v '^#' "$T/full.tsv" | cut -f1-4,6- | md5sum)" \
		"kill -9 of a $victim: the resumed log has every step, values equal"
done
# SIGTERM to mpirun (as a batch system's cancel): the checkpoint is whole
# and said once, by the rank that wrote it
rm -f "$T"/s.*
mpirun -np 2 lmtrain $small --steps 100000 --checkpoint-every 20 -q -o "$T/s.tns" "$T/tr.tns" 2> "$T/s.err" &   # $!: mpirun itself
job=$!
for i in $(seq 1 600); do [ -e "$T/s.tns.ckpt" ] && break; sleep 0.05; done
kill -TERM $job; wait $job
tnsview -c "$T/s.tns.ckpt" > /dev/null 2>&1 && [ ! -e "$T/s.tns" ]; ok $? "SIGTERM to mpirun: the checkpoint is whole, no model"
# (mpirun gives its ranks a moment before SIGKILL: on a loaded machine the
# line may not get out, so at most one, never one per rank)
n=$(grep -c 'interrupted by SIGTERM' "$T/s.err"); m=$(grep -c 'kept the checkpoint .*s.tns.ckpt at step' "$T/s.err")
[ "$n" -le 1 ] && [ "$n" = "$m" ]; ok $? "and at most one line says so, from the rank that wrote it ($n)"
fails_with "resuming with another number of ranks is refused" 1 "lmtrain: error: rank 0: .*full.tns.ckpt: written by 2 MPI ranks per member, resumed with 3" \
	mpi 3 lmtrain $ck -q -o "$T/y.tns" --resume "$T/full.tns.ckpt" "$T/tr.tns"
fails_with "and a one-process resume of it" 1 "written by 2 MPI ranks per member, resumed with 1" \
	lmtrain $ck -q -o "$T/y.tns" --resume "$T/full.tns.ckpt" "$T/tr.tns"

# --- failures: every rank stops, one error line, nothing left -----------------------
errors() { grep -c '^lmtrain: error:' "$T/.err"; }
fails_with "a full disk under rank 0's log stops every rank" 1 "lmtrain: error: rank 0: /dev/full: write failed" \
	mpi 2 lmtrain $small --steps 4 -q --log /dev/full -o "$T/full-disk.tns" "$T/tr.tns"
is "$(errors)" 1 "with one error line"
[ ! -e "$T/full-disk.tns" ] && [ ! -e "$T/full-disk.tns.ckpt" ]; ok $? "and no output"
fails_with "a bad input read by every rank is reported once, by rank 0" 1 "lmtrain: error: rank 0: .*human_chr20_100k.fa: " \
	mpi 2 lmtrain $small --steps 4 -q -o "$T/bad.tns" "$FA"
is "$(errors)" 1 "with one error line"
[ ! -e "$T/bad.tns" ]; ok $? "and no output"
fails_with "a missing eval set is reported by rank 0" 1 "lmtrain: error: rank 0: .*none.tns: " \
	mpi 2 lmtrain $small --steps 4 -q --eval "$T/none.tns" -o "$T/ne.tns" "$T/tr.tns"
is "$(errors) $(grep -c 'interrupted by' "$T/.err")" "1 0" "with one error line, and none from the rank Open MPI ends after it"
mkdir "$T/d1"   # member 2's folder is missing: an error of rank 1 alone
fails_with "an error of one rank other than 0 is reported by that rank" 1 "lmtrain: error: rank 1: .*d2/m.tns: cannot be written" \
	mpi 2 lmtrain $small --steps 4 --seeds 1-2 -q -o "$T/d{seed}/m.tns" "$T/tr.tns"
is "$(errors)" 1 "with one error line"
[ -z "$(ls "$T/d1")" ]; ok $? "and no output from the other member"
fails_with "a pipe is refused under MPI (every rank reads the file itself)" 2 "every rank reads the windows itself" \
	mpi 2 lmtrain $small --steps 4 -q -o "$T/pipe.tns" -
done_testing
