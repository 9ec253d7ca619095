#!/bin/sh
# disagree: golden values against the NumPy/SciPy reference
# (tests/golden/analyses_ref.py), hand-checked edge cases, bad input.
. "$(dirname "$0")/lib.sh"
D=$DATA/analyses
AWK_CLOSE="awk -f $TOP/tests/t/tsv_close.awk"

close() { # close DESCRIPTION GOT WANT [RTOL]
	if $AWK_CLOSE -v rtol="${4:-1e-5}" "$2" "$3" >"$T/.diff" 2>&1; then ok 0 "$1"
	else ok 1 "$1"; sed 's/^/# /' "$T/.diff" | head -10; fi
}

run_ok "pairs and summaries at the default top-p values" disagree -o "$T/d.tsv" "$D/probs_f32.tns"
close "JS distance, agreement, KL, MI match the reference" "$T/d.tsv" "$D/disagree.tsv"
SEQLM_NO_AVX512=1 disagree "$D/probs_f32.tns" >"$T/d8.tsv"
close "the same with the 8-float kernels (SEQLM_NO_AVX512=1)" "$T/d8.tsv" "$D/disagree.tsv"
disagree -t 2 "$D/probs_f32.tns" >"$T/d2.tsv"
cmp -s "$T/d.tsv" "$T/d2.tsv"; ok $? "-t 2 gives the same bytes"
disagree --top-p-authors "$D/probs_f32.tns" >"$T/da.tsv"
close "--top-p-authors matches the reference" "$T/da.tsv" "$D/disagree_authors.tsv"
disagree --matrix "$D/probs_f32.tns" >"$T/dm.tsv"
close "--matrix matches the reference" "$T/dm.tsv" "$D/disagree_matrix.tsv"
disagree -p 1 "$D/probs_f16.tns" >"$T/d16.tsv"
awk -F'\t' 'NR == 1 || $3 == 1' "$D/disagree.tsv" >"$T/d1.tsv"
close "f16 probs agree with f32 to f16 precision (top-p 1: no thresholds to cross)" "$T/d16.tsv" "$T/d1.tsv" 2e-3
is "$(disagree -p 0.3,0.7 "$D/probs_f32.tns" | cut -f 3 | sort -u | tr '\n' ' ')" "0.3 0.7 top_p " "--top-p LIST"

# hand-checked edge cases
disagree "$D/identical.tns" >"$T/i.tsv"
is "$(awk -F'\t' 'NR > 1 && ($4 != 0 || $6 != 1 || $7 != 0 || $8 != 0 || ($9 != "NA" && $9 > 1e-6)) { print "bad: " $0 }' "$T/i.tsv")" "" \
   "identical models: JS 0, agreement 1, KL 0, MI 0 at every top-p"
disagree "$D/disjoint.tns" >"$T/j.tsv"
is "$(awk -F'\t' 'NR > 1 && ($4 < 0.99999 || $6 != 0) { print "bad: " $0 }' "$T/j.tsv")" "" "disjoint supports: JS 1, agreement 0"

# embeddings
# (in the fixtures' folder: a model is named by its file as given)
run_ok "--embeddings on three model files" sh -c 'cd "$1" && disagree --embeddings -k 1,3,5,10,20 -o "$2" emb1.tns emb2.tns emb3.tns' sh "$D" "$T/e.tsv"
close "Jaccard, Spearman, Procrustes, CKA match the reference" "$T/e.tsv" "$D/embeddings.tsv"
(cd "$D" && disagree --embeddings --one-sided -k 1,3,5,10,20 emb1.tns emb2.tns emb3.tns) >"$T/eo.tsv"
close "--one-sided Spearman matches the reference" "$T/eo.tsv" "$D/embeddings_onesided.tsv"
(cd "$D" && disagree --embeddings -t 2 -k 1,3,5,10,20 emb1.tns emb2.tns emb3.tns) >"$T/e2.tsv"
cmp -s "$T/e.tsv" "$T/e2.tsv"; ok $? "--embeddings: -t 2 gives the same bytes"
# big enough that the products are cut into several tiles and chunks
for i in 1 2; do "$SEQLM_TESTBIN/mkprobs" -E -V 700 -d 300 -s $i -o "$T/big$i.tns"; done
disagree --embeddings -t 1 -k 1,10,100 "$T/big1.tns" "$T/big2.tns" >"$T/b1.tsv"
disagree --embeddings -t 3 -k 1,10,100 "$T/big1.tns" "$T/big2.tns" >"$T/b3.tsv"
cmp -s "$T/b1.tsv" "$T/b3.tsv"; ok $? "--embeddings on 700 x 300 matrices: -t 1 and -t 3 give the same bytes"
disagree --embeddings "$D"/emb1.tns "$D"/emb2.tns >"$T/ed.tsv"
is "$(awk -F'\t' '$3 == "jaccard" && $1 != "*" { printf "%s ", $4 }' "$T/ed.tsv")" "1 3 5 10 20 " \
   "the default -k list keeps the k below the rows compared"
disagree --embeddings --include-specials -k 3 --no-rbf "$D"/emb1.tns "$D"/emb2.tns >"$T/ei.tsv"
is "$(awk -F'\t' '$3 == "cka_rbf" && $1 != "*" { print $5 }' "$T/ei.tsv")" "NA" "--no-rbf leaves RBF CKA out"
disagree --embeddings -k 3 "$D"/emb1.tns "$D"/emb1.tns >"$T/es.tsv"
is "$(awk -F'\t' 'NR > 1 && $1 != "*" { printf "%s=%.6f ", $3, $5 }' "$T/es.tsv")" \
   "jaccard=1.000000 spearman=1.000000 procrustes_disparity=0.000000 procrustes_cosine=1.000000 cka_linear=1.000000 cka_rbf=1.000000 " \
   "a model against itself: every metric says the same"

# one model column in every TSV: the model file as given to lmprobe (@MO PA:)
is "$(cut -f 1,2 "$T/d.tsv" | sort -u | tr '\t\n' ', ')" "*,* m1.tns,m2.tns m1.tns,m3.tns m2.tns,m3.tns model_a,model_b " "pairs are named by the models' files (lmprobe's @MO lines)"
is "$(head -1 "$T/dm.tsv")" "$(printf 'top_p\tmodel\tm1.tns\tm2.tns\tm3.tns')" "--matrix: one column per model, named by its file"
"$SEQLM_TESTBIN/mkprobs" -M 3 -V 16 -P 3 -n 4 -o "$T/mo.tns"
"$SEQLM_TESTBIN/mkprobs" -M 3 -V 16 -P 3 -n 4 -N -o "$T/nomo.tns"
is "$(disagree -p 1 "$T/mo.tns" | cut -f 1,2 | tr '\t\n' ', ')" "model_a,model_b m1.tns,m2.tns m1.tns,m3.tns m2.tns,m3.tns *,* " "a synthetic stream's models by their @MO names"
is "$(disagree -p 1 "$T/nomo.tns" | cut -f 1,2 | tr '\t\n' ', ')" "model_a,model_b 0,1 0,2 1,2 *,* " "a stream without @MO lines: models by their index"
is "$(awk -F'\t' 'NR == 2 { print $1 "," $2 }' "$T/ed.tsv")" "$D/emb1.tns,$D/emb2.tns" "--embeddings: pairs are named by the model files as given"
is "$(awk -F'\t' 'NR > 1 { print $1 }' "$T/es.tsv" | sort -u | tr '\n' ' ')" "* $D/emb1.tns " "a model against itself: both sides named by the same file"

# bad input: clear errors, exit 1 (2 for usage)
fails_with "one model only" 1 "one model only" disagree "$D/one_model.tns"
fails_with "NaN in probs" 1 "NaN" disagree "$D/nan.tns"
fails_with "V changes between records" 1 "vocabulary size V is 65, but 64" disagree "$D/vmismatch.tns"
fails_with "a stream without probs" 1 "has no probs" disagree "$D/noprobs.tns"
fails_with "top-K input" 1 "top-K" disagree "$D/topk.tns"
fails_with "--embeddings with one file" 2 "at least 2" disagree --embeddings "$D/emb1.tns"
fails_with "--embeddings on a probe stream" 1 "no record named params" disagree --embeddings "$D/probs_f32.tns" "$D/emb1.tns"
fails_with "--embeddings: a model path with a tab is refused (it could not be a TSV name)" 2 "tab or newline" disagree --embeddings "$D/emb1.tns" "$T/a	b.tns"
fails_with "k too large" 2 "need 1 <= k < 40" disagree --embeddings -k 40 "$D/emb1.tns" "$D/emb2.tns"
fails_with "a top-p outside (0,1]" 2 "top-p" disagree -p 1.5 "$D/probs_f32.tns"
run_ok "--help" disagree --help
! grep -q "NaN for" "$T/.out" && grep -q "NA for k = 1" "$T/.out" && grep -q "(NA: not defined)" "$T/.out"; ok $? "--help calls an undefined value NA, as the output does"
grep -q "top-K" "$T/.out"; ok $? "--help says what top-K input cannot give"

# the man page's EXAMPLES run in tests/t/90-man-examples.t (with tests/data/demo)
done_testing
