#!/bin/sh
# The EXAMPLES of every man page run, in order, in a scratch folder holding
# the demo fixtures (tests/data/demo), and succeed.
. "$(dirname "$0")/lib.sh"
for page in "$TOP"/man/*.1; do
	name=$(basename "$page" .1)
	d=$T/$name
	mkdir -p "$d"
	cp "$DATA"/demo/* "$d"/
	# the lines of .nf/.fi blocks under .SH EXAMPLES, roff escapes undone
	awk '/^\.SH /{ex = ($2 == "EXAMPLES")} ex && /^\.nf/{on=1; next} ex && /^\.fi/{on=0} on && !/^\.(RS|RE)/' "$page" |
		sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' -e 's/\\e/\\/g' -e 's/\\&//g' > "$d/examples.sh"
	if [ ! -s "$d/examples.sh" ]; then ok 1 "man/$name.1 has EXAMPLES"; continue; fi
	(cd "$d" && sh -e -x examples.sh) > "$d/out" 2> "$d/err"
	rc=$?
	ok $rc "man/$name.1 EXAMPLES run ($(wc -l < "$d/examples.sh") lines)"
	[ $rc = 0 ] || { tail -n 15 "$d/err" | sed 's/^/# /'; }
done
done_testing
