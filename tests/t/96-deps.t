#!/bin/sh
# The dependency step: scripts/install-deps.sh installs exactly what is
# missing and nothing when all is there, and make runs it from its deps
# target only (never while reading the Makefile).  dpkg-query, apt-get and
# id are stand-ins on PATH: nothing is installed.
. "$(dirname "$0")/lib.sh"
F=$T/fake; mkdir -p "$F"
# dpkg-query: every package installed except those in $FAKE_MISSING
cat > "$F/dpkg-query" <<'SH'
#!/bin/sh
for a; do case $a in -*) continue ;; esac
	case " $FAKE_MISSING " in *" $a "*) ;; *) echo "ii  $a" ;; esac
done
SH
printf '#!/bin/sh\necho "apt-get $*" >> "$FAKE_LOG"\n' > "$F/apt-get"
printf '#!/bin/sh\necho 0\n' > "$F/id"
chmod +x "$F"/*
export FAKE_LOG=$T/apt.log
deps() { PATH=$F:$PATH FAKE_MISSING="$1" sh "$TOP/scripts/install-deps.sh" ${2:-}; }

: > "$FAKE_LOG"; deps "" > "$T/out" 2>&1
is "$?:$(cat "$FAKE_LOG" "$T/out")" "0:" "all present: exit 0, no apt-get, no output"
: > "$FAKE_LOG"; deps "valgrind python3-numpy" > /dev/null 2>&1
is "$?:$(grep -c install "$FAKE_LOG"):$(grep install "$FAKE_LOG" | grep -o 'valgrind\|python3-numpy\|libhts-dev' | tr '\n' ' ')" "0:1:python3-numpy valgrind " \
	"as root with apt-get: installs just what is missing"
grep -q 'apt-get update' "$FAKE_LOG"; ok $? "after apt-get update"
deps "snakemake" --check > /dev/null 2> "$T/err"
is "$?:$(cat "$T/err")" "1:install-deps: missing: snakemake" "--check reports what is missing and installs nothing"
sh "$TOP/scripts/install-deps.sh" --list | awk '{print $2}' > "$T/list"
for p in libhts-dev libopenblas-dev zlib1g-dev pkg-config perl python3-numpy python3-scipy python3-torch python3-matplotlib \
	valgrind snakemake man-db groff-base clang libclang-rt-14-dev libcjson-dev libdnnl-dev openmpi-bin libopenmpi-dev; do
	grep -qx "$p" "$T/list"; ok $? "the package list has $p"
done
grep -q 'install-deps.sh --list' "$TOP/.ci/run"; ok $? ".ci/run installs the script's list"

# make: nothing runs while the Makefile is read; the deps target runs the script
: > "$FAKE_LOG"
PATH=$F:$PATH FAKE_MISSING="valgrind" make -s -C "$TOP" -n clean > /dev/null 2>&1
is "$(cat "$FAKE_LOG")" "" "make clean (reading the Makefile) runs no apt-get even with a package missing"
PATH=$F:$PATH FAKE_MISSING="valgrind" make -s -C "$TOP" deps > /dev/null 2>&1
grep -q 'install.*valgrind' "$FAKE_LOG"; ok $? "make deps installs what is missing"
for goal in all check demo; do
	make -C "$TOP" -n "$goal" 2>/dev/null | grep -q 'scripts/install-deps.sh'
	ok $? "make $goal runs the deps step first"
done
done_testing
