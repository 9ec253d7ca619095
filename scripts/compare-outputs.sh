#!/bin/sh
# compare-outputs.sh OLD_BIN NEW_BIN -- does a change keep every program's
# output bytes?  Runs the same pipelines on the committed fixtures with the
# programs of OLD_BIN and of NEW_BIN (two builds: a base commit's bin/ and
# this tree's), each in its own scratch folder under the same relative
# names, at -t 1 and -t 2, and compares every output file byte for byte
# (lmtrain's logs without their timing column).  Prints one line per output
# and "same: N of N" or the files that differ; exit 0 only if all are the
# same.  For refactorings that must not change behaviour (docs/HACKING.md).
#
#   git worktree add /tmp/base main && make -C /tmp/base -j2
#   sh scripts/compare-outputs.sh /tmp/base/bin bin
set -u
usage() { echo "usage: sh scripts/compare-outputs.sh OLD_BIN NEW_BIN"; sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
case ${1:-} in -h|--help) usage; exit 0 ;; esac
[ $# -eq 2 ] || { usage >&2; exit 2; }
TOP=$(cd "$(dirname "$0")/.." && pwd)
OLD=$(cd "$1" && pwd) NEW=$(cd "$2" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/seqlm-compare.XXXXXX"); trap 'rm -rf "$W"' EXIT
D=$TOP/tests/data

# the pipelines, run in the current folder with the programs on PATH; every
# file they leave is compared
pipelines() {
	set -e
	t=$1
	seqtok -t "$t" -T 64 "$D/demo/human_chr20_100k.fa" -o k6.tns
	seqtok -t "$t" -T 64 --split eval --eval-frac 0.3 "$D/demo/human_chr20_100k.fa" -o k6ev.tns
	seqtok -t "$t" -c -T 64 --split eval --eval-frac 0.2 "$D/demo/dmel_chr2R_50k.fa" -o char.tns
	seqtok -t "$t" -z -k 3 --stride 1 -T 32 -n 50 "$D/demo/dmel_chr2R_50k.fa" -o k3.tns
	seqtok -q --text --train-bpe 300 -o bpe.tns "$D/demo/moby_dick_head.txt"
	seqtok -t "$t" --text --vocab bpe.tns -T 64 "$D/demo/moby_dick_head.txt" -o text.tns
	seqtok -t "$t" --text --para -c -T 128 "$D/demo/moby_dick_head.txt" -o para.tns
	seqtok -t "$t" --text --pack -c -T 64 "$D/demo/moby_dick_head.txt" -o pack.tns 2> /dev/null || rm -f pack.tns  # new in 0.1.0
	A="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 --max-pos 64 -b 8 --steps 6 -q"
	lmtrain $A -t "$t" --seeds 1,2 --eval k6ev.tns --eval-every 3 --fisher-every 3 --fisher-log flow.tsv \
		--log 'log{seed}.tsv' -o 'm{seed}.tns' k6.tns
	lmtrain $A -t "$t" --checkpoint-every 4 --log logc.tsv -o mc.tns char.tns
	# lmtrain's logs without their tokens/s column; its checkpoints hold
	# the log too: every tensor of them but that one
	for f in log*.tsv; do cut -f1-4,6- "$f" > "$f.notime" && rm "$f"; done
	for f in *.ckpt; do tnsview -n -1 "$f" | grep -v "$(printf '^\tlog\t')" > "$f.txt" && rm "$f"; done
	lmprobe -t "$t" -i k6.tns m1.tns m2.tns -o probs.tns
	lmprobe -t "$t" --half --emit hidden:1 --emit embeddings -i k6.tns m1.tns -o hid.tns
	lmprobe -t "$t" --top 5 -i k6ev.tns m1.tns m2.tns -o top.tns
	lmprobe -t "$t" --mask-each -i char.tns mc.tns -o each.tns
	entropy -t "$t" -o ent.tsv probs.tns
	entropy -t "$t" --authors -b 0 -o ent_auth.tsv probs.tns
	entropy --per-position -o ent_pp.tsv probs.tns
	entropy --rank-curve -o ent_rank.tsv probs.tns
	entropy --hist -o ent_hist.tsv probs.tns
	entropy --stream -o ent_stream.tns probs.tns
	entropy --tokens -o ent_tok.tsv k6.tns
	disagree -t "$t" -o dis.tsv probs.tns
	disagree -t "$t" --top-p-authors -o dis_auth.tsv probs.tns
	disagree -t "$t" --matrix -o dis_mat.tsv probs.tns
	disagree -t "$t" --embeddings -k 1,5,20 -o emb.tsv m1.tns m2.tns
	fisherflow -t "$t" -i k6.tns -o fisher.tsv m1.tns m2.tns
	fisherflow -t "$t" --estimator batch -b 4 -i k6.tns -o fisher_b.tsv m1.tns
	tnsview m1.tns > view.txt
	tnsview --decode k6.tns > decode.txt
	tnsview --copy -z -o copy.tns probs.tns
	lmconvert --to-hf hf m1.tns && lmconvert --from-hf hf -o back.tns
	for f in "$D"/lmconvert/*/config.json; do
		n=$(basename "$(dirname "$f")")
		lmconvert --from-hf "$(dirname "$f")" -o "hf_$n.tns"
	done
	echo done
}

for side in old new; do
	bin=$OLD; [ $side = new ] && bin=$NEW
	for t in 1 2; do
		mkdir -p "$W/$side/t$t"
		(cd "$W/$side/t$t" && PATH=$bin:$PATH pipelines $t > stdout.txt 2> stderr.txt)
		tail -n 1 "$W/$side/t$t/stdout.txt" | grep -q '^done$' ||
			{ echo "compare-outputs.sh: the pipelines failed with $bin (-t $t):" >&2; tail -n 3 "$W/$side/t$t/stderr.txt" >&2; exit 1; }
	done
done
n=0 same=0
for f in $(cd "$W/old" && find . -type f | sort); do
	[ "${f##*/}" = stderr.txt ] && continue
	n=$((n + 1))
	if cmp -s "$W/old/$f" "$W/new/$f"; then same=$((same + 1)); else echo "differs: ${f#./}"; fi
done
for f in $(cd "$W/new" && find . -type f | sort); do
	[ -e "$W/old/$f" ] || echo "only in $NEW's run: ${f#./}"
done
echo "same: $same of $n"
[ "$same" -eq "$n" ]
