#!/bin/sh
# install-deps.sh -- install what seqlm needs to build and to run its tests.
# Quick and silent when everything is there (make runs it before every
# build).  Otherwise, on Debian/Ubuntu as root: apt-get update, then
# apt-get install of what is missing.  Elsewhere: says what to install.
# Usage: scripts/install-deps.sh [--check | --list | --help]
set -eu

# The Debian 12 packages, one group a line: "group: packages".  To add a
# dependency, add its package to its group (and a probe below, for
# machines without dpkg).  libdnnl-dev (oneDNN, --precision bf16) and Open
# MPI (data-parallel lmtrain) are optional to the build, which finds them
# or goes without, but installed so that their tests run.
PKG_LIST='
build: build-essential pkg-config libhts-dev zlib1g-dev libopenblas-dev
build: libcjson-dev libdnnl-dev
mpi: openmpi-bin libopenmpi-dev
test: perl python3-numpy python3-scipy python3-torch python3-matplotlib valgrind snakemake man-db groff-base
fuzz: clang libclang-rt-14-dev
'
packages() { # [GROUP]: the packages, one a line
	echo "$PKG_LIST" | awk -v g="${1:-}" -F': *' 'NF == 2 && (g == "" || $1 == g) {n = split($2, a, " "); for (i = 1; i <= n; i++) print a[i]}'
}

usage() {
	cat <<'EOF'
Usage: scripts/install-deps.sh [--check | --list | --help]
Installs seqlm's build and test dependencies that are missing: on
Debian/Ubuntu as root with apt-get; otherwise prints what to install.
Does nothing, quietly, when everything is present (make runs it first).
  --check   only report what is missing; exit 1 if anything is
  --list    print the Debian packages, one a line ("group package")
  --help    this text
EOF
}

# what is missing, as Debian package names
missing() {
	if command -v dpkg-query > /dev/null 2>&1; then
		# one call for the whole list: installed packages print "ii"
		all=$(packages | tr '\n' ' ')
		inst=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $all 2>/dev/null | awk '$1 == "ii" {print $2}')
		for p in $all; do
			echo "$inst" | grep -qx "$p" || echo "$p"
		done
		return
	fi
	# no dpkg: probe for the build essentials, which have no common package names
	pkg-config --exists htslib zlib openblas libcjson 2>/dev/null || echo "htslib-zlib-openblas-cjson-development-files"
	command -v prove > /dev/null 2>&1 || echo "perl(prove)"
}

case ${1:-} in
--help|-h) usage; exit 0 ;;
--list) echo "$PKG_LIST" | awk -F': *' 'NF == 2 {n = split($2, a, " "); for (i = 1; i <= n; i++) print $1, a[i]}'; exit 0 ;;
--check) m=$(missing); [ -z "$m" ] && exit 0; echo "install-deps: missing:" $m >&2; exit 1 ;;
'') ;;
*) usage >&2; exit 2 ;;
esac

m=$(missing)
[ -z "$m" ] && exit 0
if command -v apt-get > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "install-deps: apt-get install" $m >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends $m >&2
	exit 0
fi
if command -v apt-get > /dev/null 2>&1; then
	echo "install-deps: missing:" $m >&2
	echo "install-deps: as root, run: apt-get update && apt-get install -y" $m >&2
else
	cat >&2 <<MSG
install-deps: seqlm needs a C compiler, make, pkg-config and the development
files of htslib (>= 1.10), zlib, OpenBLAS and cJSON (oneDNN's for
--precision bf16, optional); its tests need perl (prove), Python 3 with
NumPy, SciPy and matplotlib, valgrind, snakemake and man; its fuzzers clang
with libFuzzer.  For example:
  Fedora:  dnf install gcc make pkgconf-pkg-config htslib-devel zlib-devel openblas-devel cjson-devel perl-Test-Harness onednn-devel
  macOS:   brew install pkg-config htslib openblas cjson onednn
MSG
fi
# the build cannot go on without these; the tests say what they lack
if ! pkg-config --exists htslib zlib openblas libcjson 2>/dev/null; then
	echo "install-deps: htslib, zlib, OpenBLAS or cJSON development files missing (pkg-config cannot find them)" >&2
	exit 1
fi
exit 0
