# tsv_close.awk -- compare two TSV files cell by cell: numbers within a
# relative tolerance (rtol, default 1e-5; atol 1e-9 for values near 0),
# everything else (names, NA) exactly.  Usage:
#   awk -v rtol=1e-5 -f tsv_close.awk GOT WANT     exit 0 if close, 1 if not
# (the shell tests run without Python: the reference values are committed)
BEGIN { FS = "\t"; if (rtol == "") rtol = 1e-5; if (atol == "") atol = 1e-9; bad = 0 }
FNR == NR { got[FNR] = $0; ngot = FNR; next }
{
	nwant = FNR
	if (!(FNR in got)) { print "line " FNR ": missing (want: " $0 ")"; bad++; next }
	ng = split(got[FNR], g, "\t")
	if (ng != NF) { print "line " FNR ": " ng " fields, want " NF; bad++; next }
	for (i = 1; i <= NF; i++) {
		if (g[i] == $i) continue
		if (isnum(g[i]) && isnum($i)) {
			d = g[i] - $i; if (d < 0) d = -d
			w = $i; if (w < 0) w = -w
			if (d <= atol + rtol * w) continue
		}
		print "line " FNR " field " i ": got " g[i] ", want " $i
		if (++bad > 20) exit 1
	}
}
END {
	if (ngot != nwant) { print "got " ngot " lines, want " nwant; bad++ }
	exit bad > 0
}
function isnum(s) { return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
