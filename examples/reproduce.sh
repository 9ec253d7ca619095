#!/bin/sh
# reproduce.sh -- the paper's four findings on real DNA and real English:
# for each condition (English text with BPE, DNA with BPE, DNA with 6-mers,
# and DNA with single nucleotides), tokenise a train/eval split, train an
# ensemble of 5 models (seeds 1-5, one data seed), then
#   lmprobe | entropy        (a) how close to uniform the predictions are
#   lmprobe | disagree       (b) how much the members disagree (top-p sweep)
#   disagree --embeddings    (c) how stable the static embeddings are
#   fisherflow               (d) where the Fisher information sits (the
#                            paper's and the textbook estimator)
# and write plots and REPORT.md.  Steps whose outputs are complete are
# skipped, so an interrupted run (Ctrl-C) resumes: a model is complete once
# its done-marker mS.done is written, after lmtrain succeeded; one without
# it is trained again, from lmtrain's checkpoint mS.tns.ckpt when an
# interrupt left one (bitwise as if never stopped).  Every other output is
# written under a temporary name and renamed when whole, so one that exists
# is complete.  Every step runs in the output folder, so the tables name
# the models relative to it (text-bpe/m1.tns).  examples/Snakefile runs the
# same steps.
#
# usage: examples/reproduce.sh [--scale small|medium|paper|tiny] [--data DIR] [--out DIR] [-t N] [--steps N] [--precision P] [--only NAMES]
#   small   the default: 4-layer d=128 models, ~0.8 M training tokens per
#           condition (equal for all), T=128; about 20-45 min on 2 cores;
#           its English models do not learn (see examples/RECIPE.md)
#   medium  the recipe of examples/RECIPE.md, on which English learns:
#           2-layer d=128 pre-LN models with rotary positions, no dropout,
#           bf16, lr 3e-3 (100 warm-up steps, cosine to 3e-4), 1,500 steps
#           of 32 windows of 128 (6.1 M tokens per member, equal for all
#           conditions), English windows packed (seqtok --pack); 42 min
#           on 2 idle cores (an Intel Xeon with AMX; examples/medium/)
#   paper   the paper's settings (20M models, T=512, batch 64, lr 1e-4,
#           5 B tokens): for a cluster
#   tiny    seconds, for the tests
#   --steps N   train N steps instead of the scale's number
#   --precision P  fp32 or bf16 instead of the scale's (medium: bf16, which
#           needs a CPU with AVX512-BF16 or AMX; the others: fp32)
#   --only NAMES  only these conditions (comma-separated: text-bpe, dna-bpe,
#           dna-6mer, dna-char), without the plots and REPORT.md, which need
#           all four: to rerun one condition in a clean folder and compare
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
: "${SEQLM_BIN:=$HERE/../bin}"
SCALE=small DATA=$HERE/data OUT=$HERE/out THREADS=$(nproc 2>/dev/null || echo 2) ONLY=""
while [ $# -gt 0 ]; do
	case $1 in
	--scale) SCALE=$2; shift 2 ;;
	--data) DATA=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-t) THREADS=$2; shift 2 ;;
	--steps) STEPS_SET=$2; shift 2 ;;
	--precision) PREC_SET=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	-h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "reproduce.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
# TOPTS: the schedule and model options besides ARCH, the same for every
# condition; PACK: how English windows are filled (DNA windows are full)
PACK="" TOPTS="--warmup 0.1" PREC=fp32
case $SCALE in
small) T=128 NTRAIN=6000 NEVAL=256 B=32 STEPS=188 LR=1e-3 BPE_BYTES=5000000 BPE_V=4096 EVERY=19
       ARCH="--arch 4M --layers 4 --hidden 128 --heads 4 --ffn 512 --max-pos 128" ;;
medium) T=128 NTRAIN=48000 NEVAL=256 B=32 STEPS=1500 LR=3e-3 BPE_BYTES=5000000 BPE_V=4096 EVERY=150 PACK=--pack PREC=bf16
       ARCH="--arch 4M --layers 2 --hidden 128 --heads 4 --ffn 512 --max-pos 128 --norm pre --final-ln --pos rotary --dropout 0"
       TOPTS="--warmup 100 --min-lr 3e-4" ;;
paper) T=512 NTRAIN=0 NEVAL=256 B=64 STEPS=152588 LR=1e-4 BPE_BYTES=100000000 BPE_V=4096 EVERY=5000
       ARCH="--arch 20M --max-pos 512" ;;
tiny)  T=32 NTRAIN=64 NEVAL=16 B=8 STEPS=8 LR=1e-3 BPE_BYTES=200000 BPE_V=300 EVERY=4
       ARCH="--arch 4M --layers 1 --hidden 16 --heads 2 --ffn 32 --max-pos 32" ;;
*) echo "reproduce.sh: --scale small, medium, paper or tiny" >&2; exit 2 ;;
esac
STEPS=${STEPS_SET:-$STEPS} PREC=${PREC_SET:-$PREC}
case $PREC in fp32) ;; bf16) TOPTS="$TOPTS --precision bf16" ;;
*) echo "reproduce.sh: --precision fp32 or bf16" >&2; exit 2 ;;
esac
SEEDS="1 2 3 4 5"
for c in $(echo "$ONLY" | tr ',' ' '); do
	case $c in text-bpe|dna-bpe|dna-6mer|dna-char) ;;
	*) echo "reproduce.sh: --only: no condition $c (text-bpe, dna-bpe, dna-6mer, dna-char)" >&2; exit 2 ;;
	esac
done
log() { echo "reproduce: $(date +%H:%M:%S) $*" >&2; }

# train_member DIR S ARGS...: model S of a condition, unless its done-marker
# says it is complete; resumed from its checkpoint if an interrupt left one
train_member() {
	_d=$1 _s=$2; shift 2
	[ "$(cat "$_d/m$_s.done" 2>/dev/null)" = "$STEPS steps" ] && [ -s "$_d/m$_s.tns" ] && return 0
	_resume=""
	if [ -s "$_d/m$_s.tns.ckpt" ]; then
		log "$(basename "$_d"): training model $_s, resumed from m$_s.tns.ckpt"
		_resume="--resume $_d/m$_s.tns.ckpt"
	else
		log "$(basename "$_d"): training model $_s"
	fi
	lmtrain "$@" $_resume -o "$_d/m$_s.tns" "$_d/train.tns"
	echo "$STEPS steps" > "$_d/m$_s.done"
	rm -f "$_d/m$_s.tns.ckpt"       # the last state, for --resume; not needed now
}

# ---- data and the output folder -----------------------------------------------
# every step runs in $OUT and names its files relative to it, so the tables
# name the models as text-bpe/m1.tns wherever the run was made (the data,
# the programs and the scripts by absolute paths, as they stay outside)
mkdir -p "$DATA" "$OUT"
abs() { (cd "$1" && pwd); }
DATA=$(abs "$DATA") OUT=$(abs "$OUT") SEQLM_BIN=$(abs "$SEQLM_BIN" 2>/dev/null || echo "$SEQLM_BIN")
PATH=$SEQLM_BIN:$PATH
TEXT=$DATA/english_core.txt
DNA="$DATA/dmel_chr2R.fa $DATA/celegans_chrX.fa.gz $DATA/umaydis.fa.gz"
if [ ! -s "$TEXT" ] || [ ! -s "$DATA/dmel_chr2R.fa" ]; then
	log "fetching the corpora into $DATA"
	"$HERE/fetch-corpora.sh" "$DATA" core
fi
cd "$OUT"
START=$(date +%s)

# ---- one condition ------------------------------------------------------------
# condition NAME KIND: KIND is text-bpe, dna-bpe, dna-6mer or dna-char
condition() {
	c=$1 kind=$2 d=$1
	case ",${ONLY:-$1}," in *",$1,"*) ;; *) return 0 ;; esac
	mkdir -p "$d"
	case $kind in
	text-bpe) in=$TEXT; tok="--text --vocab $d/vocab.tns $PACK" ;;
	dna-bpe)  in=$DNA;  tok="--vocab $d/vocab.tns" ;;
	dna-6mer) in=$DNA;  tok="-k 6" ;;
	dna-char) in=$DNA;  tok="--char" ;;
	esac
	case $kind in *-bpe)
		bt=""; [ $kind = text-bpe ] && bt=--text
		[ -s "$d/vocab.tns" ] || { log "$c: learning a BPE vocabulary of $BPE_V"
			seqtok $bt --train-bpe $BPE_V --max-train-bytes $BPE_BYTES -q -o "$d/vocab.tns" $in; } ;;
	esac
	n=""; [ "$NTRAIN" -gt 0 ] && n="-n $NTRAIN"
	[ -s "$d/train.tns" ] || { log "$c: train windows"; seqtok $tok --split train -T $T --skip-n $n -t $THREADS -q -o "$d/train.tns" $in; }
	[ -s "$d/eval.tns" ] || { log "$c: eval windows"; seqtok $tok --split eval -T $T --skip-n -n $NEVAL -t $THREADS -q -o "$d/eval.tns" $in; }
	# every member: held-out loss every $EVERY steps (the model kept is the
	# best one, as in the paper); member 1 also logs the Fisher flow (the
	# paper's estimator on the eval set) at the same steps
	for s in $SEEDS; do
		flow=""; [ $s = 1 ] && flow="--fisher-every $EVERY --fisher-estimator batch --fisher-log $d/flow$s.tsv"
		train_member "$d" $s $ARCH -b $B --steps $STEPS --lr $LR $TOPTS --seed $s --data-seed 42 -t $THREADS -q \
			--eval "$d/eval.tns" --eval-every $EVERY $flow --log "$d/train$s.tsv"
	done
	M=""; for s in $SEEDS; do M="$M $d/m$s.tns"; done
	if [ ! -s "$d/disagree.tsv" ]; then
		log "$c: lmprobe, entropy, disagree"
		lmprobe --mask-prob 0.10 --mask-seed 1 -t $THREADS -i "$d/eval.tns" $M -o "$d/probs.tns"
		entropy -o "$d/entropy.tsv" "$d/probs.tns"
		entropy --authors -b 0 -o "$d/entropy_authors.tsv" "$d/probs.tns"
		entropy --rank-curve -o "$d/rank.tsv" "$d/probs.tns"
		disagree --top-p-authors -t $THREADS -o "$d/disagree_authors.tsv" "$d/probs.tns"
		disagree -t $THREADS -o "$d/disagree.tsv" "$d/probs.tns"       # last: marks the step done
		rm -f "$d/probs.tns"
	fi
	[ -s "$d/embed.tsv" ] || { log "$c: embeddings"; disagree --embeddings -t $THREADS -o "$d/embed.tsv" $M; }
	[ -s "$d/fisher_window.tsv" ] || { log "$c: Fisher (window)"; fisherflow --mask-prob 0.15 -t $THREADS -i "$d/eval.tns" -o "$d/fisher_window.tsv" $M; }
	[ -s "$d/fisher_batch.tsv" ] || { log "$c: Fisher (batch, the paper's)"; fisherflow --mask-prob 0.15 --estimator batch -b 64 -t $THREADS -i "$d/eval.tns" -o "$d/fisher_batch.tsv" $M; }
	[ -s "$d/data_entropy.tsv" ] || entropy --tokens -o "$d/data_entropy.tsv" "$d/eval.tns"
}

condition text-bpe text-bpe
condition dna-bpe dna-bpe
condition dna-6mer dna-6mer
condition dna-char dna-char

if [ -n "$ONLY" ]; then
	log "done: $ONLY in $OUT (--only: no plots or report)"
	exit 0
fi
log "plots and report"
echo "scale=$SCALE threads=$THREADS seconds=$(( $(date +%s) - START )) machine=$(uname -m) nproc=$(nproc)" > "$OUT/run.txt"
PY=${PYTHON:-/usr/bin/python3}
if "$PY" -c 'import matplotlib' 2>/dev/null; then
	"$PY" "$HERE/plots.py" "$OUT"
else
	log "no matplotlib at $PY (apt-get install python3-matplotlib): plots skipped"
fi
"$PY" "$HERE/report.py" "$OUT" > "$OUT/REPORT.md"
log "done: $OUT/REPORT.md"
