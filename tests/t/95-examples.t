#!/bin/sh
# The examples run: quick.sh (the README's main job) at a tiny number of
# steps, end to end, and prints its summary of the four findings.
. "$(dirname "$0")/lib.sh"
QUICK_STEPS=4 QUICK_THREADS=1 sh "$TOP/examples/quick.sh" "$T/quick" > "$T/quick.out" 2> "$T/quick.err"
ok $? "examples/quick.sh runs"
for what in "entropy of the prediction" "JS distance between members" "top-10 Jaccard" "Fisher share of the embeddings"; do
	grep "$what" "$T/quick.out" | grep -Eq '[0-9]\.[0-9]{3} +[0-9]\.[0-9]{3}$'
	ok $? "its summary has a number per condition for: $what"
done
done_testing
