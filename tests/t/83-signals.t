#!/bin/sh
# Every program that writes a file, interrupted by SIGINT, SIGTERM or SIGHUP
# while the file is open (its input a FIFO that has delivered part of a
# stream), removes its temporary file, says in one line what it kept, and
# ends by the signal (exit 128+N); a signal ignored at start (nohup) stays
# ignored.  lmtrain's own behaviour is in 32-lmtrain-interrupt.t.
. "$(dirname "$0")/lib.sh"
FA=$DATA/demo/human_chr20_100k.fa
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 --max-pos 64 -b 16"
seqtok -k 3 -T 64 -n 64 -q -o "$T/w.tns" "$FA"
lmtrain $small --steps 2 --seeds 1-2 -q -o "$T/m{seed}.tns" "$T/w.tns"
lmprobe -i "$T/w.tns" "$T/m1.tns" "$T/m2.tns" -o "$T/probs.tns"
if env --default-signal=INT true 2>/dev/null; then with_signals() { exec env --default-signal=INT,TERM,HUP "$@"; }
else with_signals() { exec "$@"; }; fi

# interrupted SIG NAME OUT IN CMD...: CMD reads the FIFO $T/fifo, fed the
# first 3000 bytes of IN; once OUT.tmp exists, SIG
interrupted() {
	_sig=$1 _name=$2 _out=$3 _in=$4; shift 4
	rm -f "$T/fifo" "$_out" "$_out.tmp"; mkfifo "$T/fifo"
	with_signals "$@" 2> "$T/sig.err" &
	_pid=$!
	exec 3> "$T/fifo"
	head -c 3000 "$_in" >&3
	_i=0; while [ ! -e "$_out.tmp" ] && [ $_i -lt 500 ]; do sleep 0.02; _i=$((_i + 1)); done
	[ -e "$_out.tmp" ]; ok $? "$_name: writing $(basename "$_out").tmp"
	kill -$_sig $_pid
	wait $_pid 2> /dev/null; _rc=$?
	exec 3>&-
	case $_sig in INT) _c=130 ;; TERM) _c=143 ;; HUP) _c=129 ;; esac
	is "$_rc" "$_c" "$_name: SIG$_sig ends it with exit $_c"
	[ ! -e "$_out.tmp" ] && [ ! -e "$_out" ]; ok $? "$_name: no partial output is left"
	grep -qx "$_name: interrupted by SIG$_sig: nothing kept; removed the unfinished $_out.tmp" "$T/sig.err" && [ "$(wc -l < "$T/sig.err")" = 1 ]
	ok $? "$_name: one line says what was kept and removed"
}

interrupted INT seqtok "$T/o.tns" "$FA" seqtok -k 3 -T 64 -o "$T/o.tns" "$T/fifo"
interrupted TERM lmprobe "$T/o.tns" "$T/w.tns" lmprobe -i "$T/fifo" -o "$T/o.tns" "$T/m1.tns"
interrupted HUP entropy "$T/o.tsv" "$T/probs.tns" entropy -o "$T/o.tsv" "$T/fifo"
interrupted INT disagree "$T/o.tsv" "$T/probs.tns" disagree -o "$T/o.tsv" "$T/fifo"
interrupted TERM tnsview "$T/o.txt" "$T/probs.tns" tnsview -o "$T/o.txt" "$T/fifo"
interrupted HUP fisherflow "$T/o.tsv" "$T/w.tns" fisherflow -i "$T/fifo" -o "$T/o.tsv" "$T/m1.tns"

# tnsview --npy: a folder of files, each written whole; records.tsv, last, marks it complete
rm -rf "$T/npy" "$T/fifo"; mkfifo "$T/fifo"
with_signals tnsview --npy "$T/npy" "$T/fifo" 2> "$T/sig.err" &
pid=$!
exec 3> "$T/fifo"
head -c 20000 "$T/probs.tns" >&3
i=0; while [ ! -e "$T/npy/r0/probs.npy" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
kill -INT $pid
wait $pid 2> /dev/null; rc=$?
exec 3>&-
is "$rc" 130 "tnsview --npy: SIGINT ends it with exit 130"
is "$(find "$T/npy" -name '*.tmp' | wc -l | tr -d ' ')" 0 "tnsview --npy: no partial file is left"
[ ! -e "$T/npy/records.tsv" ] && [ -s "$T/npy/header.txt" ]; ok $? "tnsview --npy: the finished files are kept, records.tsv is not there"
grep -q "^tnsview: interrupted by SIGINT: kept $T/npy/header.txt, $T/npy/r0/.*; removed the unfinished $T/npy/records.tsv.tmp" "$T/sig.err"
ok $? "tnsview --npy: one line says what was kept and removed"

# nohup: an ignored SIGHUP stays ignored, and the program finishes its work
rm -f "$T/fifo" "$T/o.tsv"; mkfifo "$T/fifo"
(trap '' HUP; exec entropy -o "$T/o.tsv" "$T/fifo") 2> "$T/sig.err" &
pid=$!
exec 3> "$T/fifo"
head -c 3000 "$T/probs.tns" >&3
i=0; while [ ! -e "$T/o.tsv.tmp" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
kill -HUP $pid
tail -c +3001 "$T/probs.tns" >&3
exec 3>&-
wait $pid 2> /dev/null
is "$?" 0 "a SIGHUP ignored at start (nohup) stays ignored: the program ends its work"
[ -s "$T/o.tsv" ]; ok $? "and writes its output"
done_testing
