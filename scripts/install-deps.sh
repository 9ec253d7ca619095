#!/bin/sh
# install-deps.sh -- install seqlm's build and test dependencies.
# Debian/Ubuntu as root: apt-get.  Elsewhere: print what to install.
set -e
# libdnnl-dev (oneDNN) is optional: --precision bf16 (the Makefile finds it)
PKGS="build-essential pkg-config libhts-dev zlib1g-dev libopenblas-dev libcjson-dev perl libdnnl-dev"
if pkg-config --exists htslib zlib openblas libcjson 2>/dev/null && command -v prove >/dev/null 2>&1; then
	exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "install-deps: apt-get install $PKGS" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends $PKGS >&2
	exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: as root, run: apt-get update && apt-get install -y $PKGS" >&2
else
	cat >&2 <<MSG
install-deps: seqlm needs a C compiler, make, pkg-config, perl (prove), and the
development files of htslib (>= 1.10), zlib, OpenBLAS and cJSON; oneDNN's
for --precision bf16 (optional).  For example:
  Fedora:  dnf install gcc make pkgconf-pkg-config htslib-devel zlib-devel openblas-devel cjson-devel perl-Test-Harness onednn-devel
  macOS:   brew install pkg-config htslib openblas cjson onednn
MSG
fi
exit 1
