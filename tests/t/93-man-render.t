#!/bin/sh
# Every man page renders at 80 columns without a warning from man or groff
# (a table wider than the line, a line that cannot be adjusted...).
. "$(dirname "$0")/lib.sh"
if ! command -v man > /dev/null || ! command -v groff > /dev/null; then
	for page in "$TOP"/man/*.[1-9]; do
		skip "man/$(basename "$page") not rendered: man or groff is not installed (Debian: man-db, groff-base; scripts/install-deps.sh)"
	done
	done_testing; exit $?
fi
for page in "$TOP"/man/*.[1-9]; do
	MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$page" > "$T/out" 2> "$T/err"
	rc=$?
	[ $rc = 0 ] && [ ! -s "$T/err" ] && [ -s "$T/out" ]
	ok $? "man/$(basename "$page") renders at 80 columns with no warning"
	sed 's/^/# /' "$T/err" | head -n 6
done
done_testing
