#!/bin/sh
# Every ```sh block of README.md runs, as written and in order, in one
# scratch folder holding the files of tests/data/readme/, with the programs
# on PATH (the README tells users to put bin/ there), each within a minute
# (they are meant to take seconds).  ```console blocks are shown, not run:
# keep them for what cannot run here.
. "$(dirname "$0")/lib.sh"
W=$T/readme
mkdir -p "$W" && cp "$DATA"/readme/* "$W"/ || exit 1
# one file per block: blocks/NN.sh, with the README line it starts on
mkdir "$T/blocks"
awk -v d="$T/blocks" '
	/^```sh[ \t]*$/ && !on { on = 1; n++; f = sprintf("%s/%02d.sh", d, n); print "# README.md line " NR + 1 > f; next }
	/^```/ && on { on = 0; close(f); next }
	on { print > f }' "$TOP/README.md"
nblocks=$(ls "$T/blocks" | wc -l | tr -d ' ')
[ "$nblocks" -gt 0 ]; ok $? "README.md has sh examples ($nblocks blocks)"
for b in "$T"/blocks/*.sh; do
	where=$(head -n 1 "$b" | sed 's/^# //')
	first=$(sed -n 2p "$b" | cut -c1-60)
	(cd "$W" && timeout 60 sh -e -x "$b") > "$T/out" 2> "$T/err"
	rc=$?
	ok $rc "the example at $where runs: $first"
	[ $rc = 0 ] || { echo "# exit $rc (124: over a minute)"; grep -v '^+' "$T/err" | tail -n 8 | sed 's/^/#   /'; }
done
done_testing
