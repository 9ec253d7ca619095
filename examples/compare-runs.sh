#!/bin/sh
# compare-runs.sh -- is a rerun of a condition the same as the first run?
# usage: examples/compare-runs.sh DIR_A DIR_B
# DIR_A and DIR_B are one condition's folders of two reproduce.sh runs (e.g.
# out/dna-bpe and a clean rerun's rerun/dna-bpe, from --only dna-bpe).  Every
# file of DIR_A is compared with DIR_B's, leaving out only what names the
# run rather than its numbers:
#   tensor files (.tns)  their @PG lines (command lines: paths, -t);
#                        every other header line and every value are kept
#   tables (.tsv)        the folder in model paths and the "# " lines
#                        (lmtrain's command line); lmtrain's tokens_per_s
#                        column (a timing)
# Prints "same" or "DIFFERS" per file; exits 0 when all are the same, 1 when
# any differs or is missing, 2 on a usage error.
set -u
PATH=${SEQLM_BIN:+$SEQLM_BIN:}$PATH
case ${1:-} in -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
if [ $# -ne 2 ] || [ ! -d "$1" ] || [ ! -d "$2" ]; then
	echo "usage: compare-runs.sh DIR_A DIR_B (two folders of one condition)" >&2
	exit 2
fi
A=${1%/} B=${2%/}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
# norm DIR FILE: FILE's content without what names the run
norm() {
	case $2 in
	*.tns) { tnsview --header "$1/$2" | grep -v '^@PG'; tnsview -n -1 --no-header "$1/$2"; } ;;
	train*.tsv) grep -v '^#' "$1/$2" | awk -F'\t' -v OFS='\t' '$1 == "step" { for (i = 1; i <= NF; i++) if ($i == "tokens_per_s") c = i } c { $c = "" } { print }' ;;
	*.tsv) grep -v '^#' "$1/$2" | sed "s#$1/##g" ;;
	*) cat "$1/$2" ;;
	esac
}
bad=0 n=0
for f in $(cd "$A" && ls); do
	[ -f "$A/$f" ] || continue
	case $f in *.tmp|*.ckpt) continue ;; esac
	n=$((n + 1))
	if [ ! -e "$B/$f" ]; then
		printf 'missing\t%s\n' "$f"; bad=1; continue
	fi
	norm "$A" "$f" > "$tmp/a" 2> "$tmp/err" && norm "$B" "$f" > "$tmp/b" 2>> "$tmp/err" || {
		printf 'DIFFERS\t%s\t(unreadable: %s)\n' "$f" "$(head -n 1 "$tmp/err")"; bad=1; continue; }
	if cmp -s "$tmp/a" "$tmp/b"; then
		printf 'same\t%s\n' "$f"
	else
		printf 'DIFFERS\t%s\n' "$f"; bad=1
	fi
done
[ $n -gt 0 ] || { echo "compare-runs.sh: $A: no files" >&2; exit 1; }
exit $bad
