#!/bin/sh
# demo.sh -- the main job on a small real example (make demo): tokenise a
# 100 kb slice of human chr20 into 6-mer windows and look at what a model
# would see.  Uses only files committed in the project.
set -eu
: "${SEQLM_BIN:=$(cd "$(dirname "$0")/.." && pwd)/bin}"
PATH=$SEQLM_BIN:$PATH
DATA=$(cd "$(dirname "$0")/../tests/data/demo" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seqlm-demo.XXXXXX"); trap 'rm -rf "$TMP"' EXIT
echo "== seqtok: human chr20 (100 kb) -> 6-mer windows of 128 tokens"
seqtok -T 128 "$DATA/human_chr20_100k.fa" > "$TMP/w.tns"
tnsview -c "$TMP/w.tns"
echo "== tnsview: the header (vocabulary lines elided) and the first windows"
tnsview -n 12 "$TMP/w.tns" | grep -v '^@VO' | head -n 12
echo "== the first window as tokens"
tnsview --decode "$TMP/w.tns" | head -n 1 | cut -c1-300
