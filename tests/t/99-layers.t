#!/bin/sh
# The layering docs/HACKING.md states: common/ is grouped base, io, tok,
# model, analysis, and a file of one group includes headers of its own group
# and of the groups before it only; and no two modules of common/ call each
# other, directly or round a circle (read from the objects' symbols: module
# A uses B when A.o needs a symbol B.o defines).
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
rank() { case $1 in base) echo 1;; io) echo 2;; tok) echo 3;; model) echo 4;; analysis) echo 5;; *) echo 0;; esac; }

# every group of common/ is one of the five, in order
for d in common/*/; do
	g=$(basename "$d")
	[ "$(rank "$g")" != 0 ]; ok $? "common/$g is a known group"
done

bad=
for f in common/*/*.[ch]; do
	g=$(basename "$(dirname "$f")"); rg=$(rank "$g")
	for inc in $(sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f"); do
		case $inc in */*) ;; *) bad="$bad $f:$inc(no-group)"; continue;; esac
		ig=${inc%%/*}; ri=$(rank "$ig")
		if [ "$ri" = 0 ] || [ "$ri" -gt "$rg" ]; then bad="$bad $f:$inc"; fi
	done
done
is "${bad:-none}" none "no file of common/ includes a header of a later group"

# the check itself: a later group's include is caught
mkdir -p "$T/common/base" && printf '#include "io/tns.h"\n' > "$T/common/base/x.c"
g=base; f=$T/common/base/x.c; inc=$(sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$f")
[ "$(rank "${inc%%/*}")" -gt "$(rank $g)" ]; ok $? "an include of io/ from base/ counts as a later group"

OBJ=$(dirname "$SEQLM_TESTBIN")/common
if [ ! -d "$OBJ/base" ] || ! command -v nm > /dev/null; then
	skip "no objects in $OBJ (or no nm): build first"
	done_testing; exit $?
fi
# module -> modules whose symbols it uses; then any circle (Tarjan's SCC)
for o in "$OBJ"/*/*.o; do
	m=${o#"$OBJ"/}; m=${m%.o}
	nm "$o" | awk -v m="$m" 'NF == 3 && $2 ~ /^[TDBRVWC]$/ { print "D", m, $3 } NF == 2 && $1 == "U" { print "U", m, $2 }'
done > "$T/syms"
cyc=$(awk '
$1 == "D" && !($3 in def) { def[$3] = $2 }
$1 == "U" { nu++; um[nu] = $2; us[nu] = $3 }
END {
	for (i = 1; i <= nu; i++) if ((us[i] in def) && def[us[i]] != um[i]) edge[um[i] SUBSEP def[us[i]]] = 1
	for (e in edge) { split(e, p, SUBSEP); node[p[1]] = 1; node[p[2]] = 1 }
	# reach[a,b]: b reachable from a (Floyd-Warshall on a few dozen nodes)
	for (e in edge) reach[e] = 1
	for (k in node) for (i in node) if ((i SUBSEP k) in reach) for (j in node) if ((k SUBSEP j) in reach) reach[i SUBSEP j] = 1
	for (i in node) for (j in node) if (i < j && ((i SUBSEP j) in reach) && ((j SUBSEP i) in reach)) print i "<->" j
}' "$T/syms" | sort | tr '\n' ' ')
is "${cyc:-none}" none "no two modules of common/ use each other (no call circle)"
done_testing
