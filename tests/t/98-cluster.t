#!/bin/sh
# From a laptop to a cluster: the Snakefile's cluster profile dry-runs the
# paper-scale reproduction (MPI ranks per member, lmprobe shards, threads and
# resources per rule), and a sharded analysis gives the unsharded TSVs.
. "$(dirname "$0")/lib.sh"
if ! command -v snakemake > /dev/null; then
	skip "snakemake is not installed (scripts/install-deps.sh installs it)"
	done_testing; exit
fi
SF=$TOP/examples/Snakefile
cd "$T" || exit 1
snakemake -n -p -s "$SF" --profile "$TOP/examples/profiles/slurm" --config scale=paper tasks=4 shards=8 \
	data="$T/none" out="$T/paper" > dry.txt 2>&1
ok $? "snakemake -n --profile examples/profiles/slurm dry-runs the paper-scale reproduction"
[ $? = 0 ] || tail -5 dry.txt | sed 's/^/# /'
is "$(grep -c 'srun -n 4 lmtrain .* -t 8 ' dry.txt)" 20 "20 members, each on 4 MPI ranks started by srun, 8 threads a rank"
is "$(awk '$1 == "probe_shard" {print $2, $3}' dry.txt | head -n 1)" "32 16" "4 conditions x 8 lmprobe shards, 16 threads each"
is "$(grep -c 'tnsview --cat' dry.txt)" 4 "each condition's shards merged by tnsview --cat"
grep -A12 '^rule train:' dry.txt | grep -q 'resources: mem_mb=[0-9]*,.*runtime=[0-9]*, tasks=4'
ok $? "the training jobs ask for memory, a runtime and 4 tasks"
# every rule has a log
is "$(grep '^rule ' "$SF" | grep -vc '^rule all:')" "$(grep -c '^    log:' "$SF")" "every rule of the Snakefile but all declares a log"
snakemake -n -s "$SF" --profile "$TOP/examples/profiles/local" --config scale=small data="$T/none" out="$T/small" > local.txt 2>&1
ok $? "and the local profile dry-runs the small scale"
snakemake -n -p -s "$SF" --profile "$TOP/examples/profiles/local" --config scale=small tasks=2 data="$T/none" out="$T/small" > local2.txt 2>&1
is "$(grep -c 'mpirun -n 2 lmtrain ' local2.txt)" 20 "tasks=2 on one machine: mpirun -n 2 lmtrain"

# a sharded analysis: the same TSVs as one lmprobe job (tiny scale, one
# condition; its 16 eval windows are one block of 1024/T, so this checks the
# rules' plumbing: tests/t/36-shard.t deals blocks out over shards)
mkdir -p data
cp "$DATA/demo/moby_dick_head.txt" data/english_core.txt
cp "$DATA/demo/dmel_chr2R_50k.fa" data/dmel_chr2R.fa
gzip -c "$DATA/demo/human_chr20_100k.fa" > data/celegans_chrX.fa.gz
head -n 300 "$DATA/demo/human_chr20_100k.fa" | gzip -c > data/umaydis.fa.gz
# (targets are named in out: the rules run there)
want="dna-6mer/entropy.tsv dna-6mer/disagree.tsv dna-6mer/rank.tsv"
snakemake -s "$SF" -c2 $want -q --config scale=tiny data="$T/data" out="$T/one" > one.txt 2>&1
ok $? "tiny scale, one lmprobe job: entropy and disagree"
[ $? = 0 ] || tail -5 one.txt | sed 's/^/# /'
snakemake -s "$SF" -c2 $want -q --config scale=tiny shards=3 data="$T/data" out="$T/three" > three.txt 2>&1
ok $? "tiny scale, three lmprobe shards"
[ $? = 0 ] || tail -5 three.txt | sed 's/^/# /'
for f in entropy.tsv disagree.tsv rank.tsv; do
	# byte for byte: the model column names the files relative to out
	[ -s "one/dna-6mer/$f" ] && cmp -s "one/dna-6mer/$f" "three/dna-6mer/$f"
	ok $? "3 shards: $f is the one-job $f ($(wc -l < "one/dna-6mer/$f") lines)"
done
ls three/dna-6mer/probs.*of3.tns > /dev/null 2>&1; ok $((! $?)) "the shards are temporary files, removed"
done_testing
