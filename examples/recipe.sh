#!/bin/sh
# recipe.sh -- which training recipe makes a small masked LM learn English?
# Trains one model per recipe on English text (BPE, one vocabulary for all)
# and says, for each, whether it learned by the bar of examples/REPORT.md:
# best held-out loss at least 1.5 nats below the held-out data's unigram
# entropy, and accuracy at least twice the majority baseline (both from
# `entropy --tokens` of the held-out windows).  Prints a TSV, one row a
# recipe: name, window, packing, batch, steps, tokens seen (padding
# included) and the fraction of them that are text, wall and CPU seconds
# (user + sys: the wall time depends on the machine's load, the CPU time
# much less; the losses not at all), best eval loss and accuracy with their
# step, the unigram entropy (nats), the majority
# baseline, the margin, and learned yes/no.
#
# usage: examples/recipe.sh [--data DIR] [--out DIR] [-t N] [--grid FILE] [--bpe V]
#   --data DIR   the corpora (default examples/data; english_core.txt is
#                fetched by examples/fetch-corpora.sh when missing)
#   --text FILE  the English text instead (one document a line)
#   --out DIR    work folder (default examples/out/recipe); a recipe whose
#                model and log are there is not trained again
#   --grid FILE  the recipes, one a line (default: the grid below):
#                NAME  T  PACK(0/1)  BATCH  STEPS  LMTRAIN-OPTIONS...
#                (# starts a comment); every recipe gets the same seeds
#                (--seed 1 --data-seed 42) unless its options say others
#   --bpe V      BPE vocabulary size (default 4096)
#   -t N         threads for lmtrain (default: all)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
: "${SEQLM_BIN:=$HERE/../bin}"
PATH=$SEQLM_BIN:$PATH
DATA=$HERE/data OUT=$HERE/out/recipe THREADS=$(nproc 2>/dev/null || echo 2) GRID="" BPE=4096 TEXT=""
while [ $# -gt 0 ]; do
	case $1 in
	--data) DATA=$2; shift 2 ;;
	--text) TEXT=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--grid) GRID=$2; shift 2 ;;
	--bpe) BPE=$2; shift 2 ;;
	-t) THREADS=$2; shift 2 ;;
	-h|--help) sed -n "2,26p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "recipe.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
log() { echo "recipe: $(date +%H:%M:%S) $*" >&2; }
if [ -z "$TEXT" ]; then
	TEXT=$DATA/english_core.txt
	[ -s "$TEXT" ] || { log "fetching the corpora into $DATA"; "$HERE/fetch-corpora.sh" "$DATA" core; }
fi
[ -s "$TEXT" ] || { echo "recipe.sh: $TEXT: no such text" >&2; exit 1; }
mkdir -p "$OUT"
if [ -z "$GRID" ]; then
	GRID=$OUT/grid.txt
	# the default grid: the small scale's recipe (reproduce.sh --scale
	# small), then one change at a time
	cat > "$GRID" <<'EOF'
# name          T   pack batch steps lmtrain options
small           128 0    32    188   --layers 4 --hidden 128 --heads 4 --ffn 512 --lr 1e-3 --warmup 0.1
small-pack      128 1    32    188   --layers 4 --hidden 128 --heads 4 --ffn 512 --lr 1e-3 --warmup 0.1
long-pack       128 1    32    2000  --layers 4 --hidden 128 --heads 4 --ffn 512 --lr 1e-3 --warmup 0.1
long-pack-lr3   128 1    32    2000  --layers 4 --hidden 128 --heads 4 --ffn 512 --lr 3e-3 --warmup 0.1
long-pack-b16   128 1    16    4000  --layers 4 --hidden 128 --heads 4 --ffn 512 --lr 1e-3 --warmup 0.1
EOF
fi
[ -s "$OUT/vocab.tns" ] || { log "learning a BPE vocabulary of $BPE"; seqtok --text --train-bpe "$BPE" -q -o "$OUT/vocab.tns" "$TEXT"; }

# windows NAME T PACK: the train and eval windows of one windowing, and the
# eval data's unigram entropy (nats) and majority baseline
windows() {
	_w=$OUT/w$2-$3 _p=""; [ "$3" = 1 ] && _p=--pack
	if [ ! -s "$_w.eval.tns" ]; then
		seqtok --text --vocab "$OUT/vocab.tns" $_p -T "$2" --split train -t "$THREADS" -q -o "$_w.train.tns" "$TEXT"
		seqtok --text --vocab "$OUT/vocab.tns" $_p -T "$2" --split eval -t "$THREADS" -q -o "$_w.eval.tns" "$TEXT"
	fi
	[ -s "$_w.data.tsv" ] || { entropy --tokens --order 0 -o "$_w.data.tsv" "$_w.eval.tns"
		entropy --tokens --order 0 -o "$_w.train.tsv" "$_w.train.tns"; }
}

printf 'recipe\tT\tpack\tbatch\tsteps\ttokens\ttext_fraction\tseconds\tcpu_seconds\tbest_eval_loss\teval_acc\tbest_step\tunigram_nats\tmajority_acc\tmargin_nats\tlearned\n'
grep -v '^[[:space:]]*#' "$GRID" | grep -v '^[[:space:]]*$' | while read -r name T pack B steps opts; do
	windows "$name" "$T" "$pack"
	w=$OUT/w$T-$pack m=$OUT/$name
	if [ ! -s "$m.tns" ] || [ ! -s "$m.log.tsv" ] || [ ! -s "$m.seconds" ] || [ ! -s "$m.cpu" ]; then
		log "$name: $steps steps of $B windows of $T$( [ "$pack" = 1 ] && echo ', packed')"
		t0=$(date +%s)
		# shellcheck disable=SC2086  # the grid's options are words
		( lmtrain --arch 4M --max-pos "$T" -b "$B" --steps "$steps" --seed 1 --data-seed 42 $opts -t "$THREADS" -q \
			--eval "$w.eval.tns" --eval-every $(( steps / 10 > 0 ? steps / 10 : 1 )) --log "$m.log.tsv" -o "$m.tns" "$w.train.tns"
		  times > "$m.times" )
		echo $(( $(date +%s) - t0 )) > "$m.seconds"
		# times: the shell's, then its children's user and sys ("1m2.50s")
		awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%d\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] + 0.5 }' "$m.times" > "$m.cpu"
	fi
	# the data: text tokens of the train windows over all their positions
	nwin=$(tnsview --count "$w.train.tns")
	frac=$(awk -F'\t' -v n="$nwin" -v T="$T" '$1 == "0" {printf "%.3f", $2 / (n * T)}' "$w.train.tsv")
	awk -F'\t' -v name="$name" -v T="$T" -v pack="$pack" -v B="$B" -v steps="$steps" -v frac="$frac" \
	    -v secs="$(cat "$m.seconds")" -v cpu="$(cat "$m.cpu")" -v data="$w.data.tsv" '
		BEGIN { while ((getline l < data) > 0) { split(l, f, "\t"); if (f[1] == "0") { h0 = f[5] * log(2); maj = f[7] } } }
		/^[0-9]/ && $6 != "NA" && (best == "" || $6 < best) { best = $6; acc = $7; at = $1 }
		END {
			margin = h0 - best
			ok = (margin >= 1.5 && acc >= 2 * maj) ? "yes" : "no"
			printf "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%.4f\t%.4f\t%d\t%.4f\t%.4f\t%.4f\t%s\n",
				name, T, pack, B, steps, steps * B * T, frac, secs, cpu, best, acc, at, h0, maj, margin, ok
		}' "$m.log.tsv"
done
