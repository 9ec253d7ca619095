#!/bin/sh
# One short run of every program under valgrind: no invalid access, no
# uninitialised value used, no definite leak.  (Not with the ASan build:
# valgrind and AddressSanitizer do not mix; that build has its own checks.)
. "$(dirname "$0")/lib.sh"
case $SEQLM_BIN in *build-asan*)
	for p in seqtok tnsview lmtrain lmprobe entropy disagree fisherflow lmconvert lmconvert; do skip "$p: valgrind does not run ASan builds"; done
	done_testing; exit $? ;;
esac
if ! command -v valgrind > /dev/null; then ok 1 "valgrind is installed (apt-get install valgrind)"; done_testing; exit 1; fi
export SEQLM_NO_REEXEC=1
vg() { # NAME CMD...
	_what=$1; shift
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@" > "$T/.o" 2> "$T/.e"
	_rc=$?
	ok $_rc "$_what runs clean under valgrind"
	[ $_rc = 0 ] || head -20 "$T/.e" | sed 's/^/# /'
}
cd "$T" || exit 1
vg seqtok seqtok -T 64 -n 20 "$DATA/demo/human_chr20_100k.fa" -o w.tns
vg tnsview tnsview -n 2 w.tns
vg lmtrain lmtrain --arch 4M --layers 1 --hidden 16 --heads 2 --ffn 32 --max-pos 64 -b 4 --steps 2 -q -o m.tns w.tns
vg lmprobe lmprobe -i w.tns m.tns m.tns -o p.tns
vg entropy entropy -b 10 p.tns
vg disagree disagree p.tns
vg fisherflow fisherflow -i w.tns m.tns
vg "lmconvert --to-hf" lmconvert --to-hf hf m.tns
vg "lmconvert --from-hf" lmconvert --from-hf "$DATA/lmconvert/bf16" -o back.tns
done_testing
