#!/bin/sh
# entropy: golden values against the NumPy reference (tests/golden/analyses_ref.py),
# the bootstrap against itself, the modes, and bad input.
. "$(dirname "$0")/lib.sh"
D=$DATA/analyses
AWK_CLOSE="awk -f $TOP/tests/t/tsv_close.awk"

close() { # close DESCRIPTION GOT WANT [RTOL]
	if $AWK_CLOSE -v rtol="${4:-1e-5}" "$2" "$3" >"$T/.diff" 2>&1; then ok 0 "$1"
	else ok 1 "$1"; sed 's/^/# /' "$T/.diff" | head -10; fi
}

run_ok "per-model table (f32 probs)" entropy -b 0 -o "$T/e.tsv" "$D/probs_f32.tns"
close "per-model values match the reference" "$T/e.tsv" "$D/entropy.tsv"
SEQLM_NO_AVX512=1 entropy -b 0 --per-position "$D/probs_f32.tns" >"$T/e8.tsv"
entropy -b 0 --per-position "$D/probs_f32.tns" >"$T/e16w.tsv"
close "the 8-float kernels (SEQLM_NO_AVX512=1) agree with the default ones" "$T/e8.tsv" "$T/e16w.tsv" 1e-6
entropy -b 0 --authors "$D/probs_f32.tns" >"$T/ea.tsv"
close "--authors (1e-10 clamp, KL(U||p), exp(NLL) perplexity) match the reference" "$T/ea.tsv" "$D/entropy_authors.tsv"
entropy -b 0 "$D/probs_f16.tns" >"$T/e16.tsv"
close "f16 probs give the f32 values to f16 precision" "$T/e16.tsv" "$D/entropy.tsv" 1e-3
entropy --per-position "$D/probs_f32.tns" >"$T/pp.tsv"
close "--per-position matches the reference" "$T/pp.tsv" "$D/entropy_perpos.tsv"
entropy --rank-curve "$D/probs_f32.tns" >"$T/rc.tsv"
close "--rank-curve matches the reference" "$T/rc.tsv" "$D/entropy_rank.tsv"
entropy --hist --bins 8 "$D/probs_f32.tns" >"$T/h.tsv"
close "--hist matches the reference" "$T/h.tsv" "$D/entropy_hist.tsv"
entropy -b 0 "$D/topk.tns" >"$T/tk.tsv" 2>/dev/null
close "top-K: accuracy and top-1 exact, the rest NA" "$T/tk.tsv" "$D/entropy_topk.tsv"
entropy --tokens "$D/tokens.tns" >"$T/tok.tsv"
close "--tokens: plug-in and Miller-Madow entropies and the majority baseline match the reference" "$T/tok.tsv" "$D/tokens_entropy.tsv"

# hand-checked: uniform predictions are 6 bits over V = 64, KL 0
entropy -b 0 "$D/uniform.tns" >"$T/u.tsv"
is "$(awk -F'\t' 'NR > 1 && ($3 < 5.99999 || $3 > 6.00001 || $6 > 1e-5 || $6 < -1e-5) { print "bad" }' "$T/u.tsv")" "" \
   "uniform p: entropy log2 V, KL to uniform 0"

# the bootstrap: seeded, so the same bytes every time and for any -t
entropy "$D/probs_f32.tns" >"$T/b1.tsv"
entropy -t 2 "$D/probs_f32.tns" >"$T/b2.tsv"
cmp -s "$T/b1.tsv" "$T/b2.tsv"; ok $? "bootstrap: same seed, same intervals (also with -t 2)"
entropy -s 7 "$D/probs_f32.tns" >"$T/b3.tsv"
cmp -s "$T/b1.tsv" "$T/b3.tsv"; [ $? = 1 ]; ok $? "bootstrap: another seed, other intervals"
is "$(awk -F'\t' 'NR > 1 { for (c = 3; c <= 20; c += 3) if (!($(c+1) <= $c && $c <= $(c+2))) print "out" }' "$T/b1.tsv")" "" \
   "bootstrap: every interval holds its estimate"
is "$(cut -f 1-3,6,9,12,15,18 "$T/b1.tsv")" "$(cut -f 1-3,6,9,12,15,18 "$T/e.tsv")" "bootstrap leaves the estimates alone"

# --stream: the records pass through with per-position tensors, and can be read again
entropy --stream "$D/probs_f32.tns" >"$T/s.tns"
ok $? "--stream writes a stream"
tnsview -n 0 "$T/s.tns" | grep -q "entropy_bits	f32	3x"; ok $? "--stream appends entropy_bits [M,P]"
entropy -b 0 "$T/s.tns" >"$T/s.tsv"
cmp -s "$T/s.tsv" "$T/e.tsv"; ok $? "the passed-through stream gives the same table"
entropy --stream "$D/probs_f32.tns" | disagree -p 1 >"$T/sd.tsv"; ok $? "entropy --stream | disagree works"

# one model column in every TSV: the model file as given to lmprobe (@MO PA:)
is "$(cut -f 1 "$T/e.tsv" | tr '\n' ' ')" "model m1.tns m2.tns m3.tns " "models are named by their files (lmprobe's @MO lines)"
is "$(cut -f 1 "$T/rc.tsv" "$T/h.tsv" | sort -u | tr '\n' ' ')" "m1.tns m2.tns m3.tns model " "--rank-curve and --hist name them the same way"
is "$(cut -f 3 "$T/pp.tsv" | sort -u | tr '\n' ' ')" "m1.tns m2.tns m3.tns model " "--per-position too"
"$SEQLM_TESTBIN/mkprobs" -M 2 -V 16 -P 3 -n 4 -N -o "$T/nomo.tns"
is "$(entropy -b 0 "$T/nomo.tns" | cut -f 1 | tr '\n' ' ')" "model 0 1 " "a stream without @MO lines: models by their index"
fails_with "an error names the model by its file" 1 "record chrT:201-224, model m2.tns, position 6: NaN" entropy "$D/nan.tns"
entropy --per-position "$D/noprobs.tns" > "$T/pph.tsv" 2>/dev/null
is "$?:$(wc -c < "$T/pph.tsv")" "1:0" "--per-position on a stream broken from its first record: not even a header"
entropy --help > "$T/help"
! grep -q "NaN for\|prints NaN\|NaN where" "$T/help" && grep -q "print NA" "$T/help"; ok $? "--help calls an undefined value NA, as the output does"

# bad input: clear errors, exit 1
fails_with "NaN in probs" 1 "NaN" entropy "$D/nan.tns"
fails_with "V changes between records" 1 "vocabulary size V is 65, but 64" entropy "$D/vmismatch.tns"
fails_with "a stream without probs" 1 "has no probs" entropy "$D/noprobs.tns"
fails_with "a token stream without probs" 1 "no mask_pos" entropy "$D/tokens.tns"
fails_with "--hist on top-K" 1 "needs full probabilities" entropy --hist "$D/topk.tns"
fails_with "--tokens on a stream without tokens" 1 "no tokens" entropy --tokens "$D/emb1.tns"
fails_with "two modes at once" 2 "choose one" entropy --hist --rank-curve "$D/probs_f32.tns"
fails_with "a missing file" 1 "error: $T/none.tns" entropy "$T/none.tns"
entropy -o "$T/never.tsv" "$D/nan.tns" 2>/dev/null
[ ! -e "$T/never.tsv" ] && [ ! -e "$T/never.tsv.tmp" ]; ok $? "no partial output file on error"
run_ok "--help" entropy --help
grep -q "top-K" "$T/.out"; ok $? "--help says what top-K input cannot give"

# the man page's EXAMPLES run in tests/t/90-man-examples.t (with tests/data/demo)
done_testing
