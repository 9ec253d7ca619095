#!/bin/sh
# make bench: every bench/*.sh, each printing our figure, its peer's measured
# in the same run, and the ratio (peer time / our time: > 1 means faster).
cd "$(dirname "$0")/.." || exit 1
echo "seqlm bench on $(uname -m), nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "corpora: ${SEQLM_CORPORA:-examples/data} (examples/fetch-corpora.sh)"
rc=0
for b in bench/[a-z]*.sh; do
	case $b in bench/run.sh|bench/lib.sh) continue ;; esac
	echo "== $b"
	sh "$b" || rc=1
done
exit $rc
