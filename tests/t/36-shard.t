#!/bin/sh
# Sharded analysis: lmprobe --shard K/N on N machines, tnsview --cat to
# merge, and the merged stream is the unsharded run's records, so entropy
# and disagree give the same bytes.
. "$(dirname "$0")/lib.sh"
FA=$DATA/demo/human_chr20_100k.fa
seqtok -T 64 "$FA" > "$T/w.tns"
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 --max-pos 64 -b 16"
for s in 1 2 3; do lmtrain $small --steps 3 --seed $s -q -o "$T/m$s.tns" "$T/w.tns"; done
recs() { tnsview -n -1 --no-header "$1" | md5sum; }
lmprobe -i "$T/w.tns" "$T"/m?.tns > "$T/all.tns"
n=$(tnsview --count "$T/all.tns")
for N in 2 3 7; do
	k=1; files=""
	while [ $k -le $N ]; do lmprobe --shard $k/$N -t 2 -i "$T/w.tns" "$T"/m?.tns > "$T/s$k.tns"; files="$T/s$k.tns $files"; k=$((k + 1)); done
	tnsview --cat $files > "$T/cat$N.tns"
	ok $? "$N shards given to --cat in reverse order merge"
	is "$(recs "$T/cat$N.tns")" "$(recs "$T/all.tns")" "$N shards merged: the unsharded run's $n records, bitwise"
	is "$(entropy "$T/cat$N.tns" | md5sum)" "$(entropy "$T/all.tns" | md5sum)" "$N shards: entropy's TSV is the unsharded one"
	is "$(disagree "$T/cat$N.tns" | md5sum)" "$(disagree "$T/all.tns" | md5sum)" "$N shards: disagree's TSV is the unsharded one"
done
is "$(tnsview --count "$T/s1.tns")" 48 "a shard holds whole blocks of 1024/T windows (7 shards of 302 windows: shard 1 has blocks 0, 7, 14 of 16)"
tnsview --header "$T/s2.tns" | grep -q '^@KV	shard	2/7$' && tnsview --header "$T/s2.tns" | grep -q '^@KV	shard_block	16$'
ok $? "a shard's header says which it is and its block size"
tnsview --header "$T/cat7.tns" | grep -q '^@KV	shard'; ok $((! $?)) "the merged header has no shard keys"
# plain streams follow each other
tnsview --cat "$T/w.tns" "$T/w.tns" > "$T/ww.tns"
is "$(tnsview --count "$T/ww.tns")" "$(( $(tnsview --count "$T/w.tns") * 2 ))" "--cat joins whole streams in the order given"
# refusals
fails_with "a missing shard is refused" 1 "tnsview: error: .*s1.tns: shard 1 of 7, but 6 streams given" \
	tnsview --cat "$T"/s[1-6].tns -o "$T/x.tns"
[ ! -e "$T/x.tns" ]; ok $? "and no output is left"
fails_with "a shard given twice is refused" 1 "shard 2/7 again" tnsview --cat "$T"/s[1-6].tns "$T/s2.tns" -o "$T/x.tns"
fails_with "shards mixed with a whole stream are refused" 1 "s1.tns: a shard among whole streams" \
	tnsview --cat "$T/all.tns" "$T/s1.tns" -o "$T/x.tns"
lmprobe --mask-seed 9 -i "$T/w.tns" "$T"/m?.tns > "$T/other.tns"
fails_with "streams with other headers are refused" 1 "tnsview: error: .*other.tns: its header differs from .*all.tns" \
	tnsview --cat "$T/all.tns" "$T/other.tns" -o "$T/x.tns"
head -c 3000 "$T/s3.tns" > "$T/cut.tns"
fails_with "a truncated shard is an error, naming it" 1 "tnsview: error: .*cut.tns: " \
	tnsview --cat "$T/s1.tns" "$T/s2.tns" "$T/cut.tns" "$T"/s[4-7].tns -o "$T/x.tns"
[ ! -e "$T/x.tns" ]; ok $? "and no output is left"
fails_with "a bad --shard is a usage error" 2 "lmprobe: error: --shard: K/N" lmprobe --shard 3/2 -i "$T/w.tns" "$T/m1.tns"
fails_with "--cat with nothing to join is a usage error" 2 "--cat: give the streams" tnsview --cat
done_testing
