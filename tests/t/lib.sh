# lib.sh -- TAP helpers for the shell tests; source it first.
#   SEQLM_BIN  folder of the programs under test (set by make check)
#   SEQLM_TESTBIN  folder of the test helpers (mktns, mkprobs, tnscmp)
#   T          a fresh scratch folder, removed at exit
set -u
: "${SEQLM_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/bin}"
PATH=$SEQLM_BIN:$PATH; export PATH
TOP=$(cd "$(dirname "$0")/../.." && pwd)
: "${SEQLM_TESTBIN:=$TOP/build/tests}"
DATA=$TOP/tests/data
T=$(mktemp -d "${TMPDIR:-/tmp}/seqlm-test.XXXXXX"); trap 'rm -rf "$T"' EXIT
: "${PYTHON:=/usr/bin/python3}"
_n=0 _fail=0
ok() { # ok COND-EXIT-STATUS DESCRIPTION: 'ok $? "what"' or via run_ok
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _fail=$((_fail + 1)); fi
}
run_ok() { # run_ok DESCRIPTION CMD...: the command succeeds
	_d=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then ok 0 "$_d"; else ok 1 "$_d"; sed 's/^/# /' "$T/.err" | head -20; fi
}
fails_with() { # fails_with DESCRIPTION CODE REGEX CMD...: exits CODE, stderr matches REGEX
	_d=$1 _c=$2 _re=$3; shift 3
	"$@" >"$T/.out" 2>"$T/.err"; _rc=$?
	if [ "$_rc" = "$_c" ] && grep -Eq -- "$_re" "$T/.err"; then ok 0 "$_d"
	else ok 1 "$_d"; echo "# exit $_rc (want $_c); stderr:"; sed 's/^/#   /' "$T/.err" | head -10; fi
}
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "# got:  $1"; echo "# want: $2"; fi
}
# skip WHY: a TAP skip, and the same line on stderr, so that prove's summary
# shows it next to the file's name (prove prints only "ok" for a file with
# skipped tests otherwise)
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $1"; echo "# SKIP $1" >&2; }
have_python_numpy() { "$PYTHON" -c 'import numpy' >/dev/null 2>&1; }
done_testing() { echo "1..$_n"; [ "$_fail" = 0 ]; }
