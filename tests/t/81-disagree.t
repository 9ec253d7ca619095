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
run_ok "--embeddings on three model files" disagree --embeddings -k 1,3,5,10,20 -o "$T/e.tsv" "$D"/emb1.tns "$D"/emb2.tns "$D"/emb3.tns
close "Jaccard, Spearman, Procrustes, CKA match the reference" "$T/e.tsv" "$D/embeddings.tsv"
disagree --embeddings --one-sided -k 1,3,5,10,20 "$D"/emb1.tns "$D"/emb2.tns "$D"/emb3.tns >"$T/eo.tsv"
close "--one-sided Spearman matches the reference" "$T/eo.tsv" "$D/embeddings_onesided.tsv"
disagree --embeddings -t 2 -k 1,3,5,10,20 "$D"/emb1.tns "$D"/emb2.tns "$D"/emb3.tns >"$T/e2.tsv"
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
is "$(awk -F'\t' '$3 == "cka_rbf" && $1 == 0 { print $5 }' "$T/ei.tsv")" "NA" "--no-rbf leaves RBF CKA out"
disagree --embeddings -k 3 "$D"/emb1.tns "$D"/emb1.tns >"$T/es.tsv"
is "$(awk -F'\t' '$1 == 0 { printf "%s=%.6f ", $3, $5 }' "$T/es.tsv")" \
   "jaccard=1.000000 spearman=1.000000 procrustes_disparity=0.000000 procrustes_cosine=1.000000 cka_linear=1.000000 cka_rbf=1.000000 " \
   "a model against itself: every metric says the same"

# bad input: clear errors, exit 1 (2 for usage)
fails_with "one model only" 1 "one model only" disagree "$D/one_model.tns"
fails_with "NaN in probs" 1 "NaN" disagree "$D/nan.tns"
fails_with "V changes between records" 1 "vocabulary size V is 65, but 64" disagree "$D/vmismatch.tns"
fails_with "a stream without probs" 1 "has no probs" disagree "$D/noprobs.tns"
fails_with "top-K input" 1 "top-K" disagree "$D/topk.tns"
fails_with "--embeddings with one file" 2 "at least 2" disagree --embeddings "$D/emb1.tns"
fails_with "--embeddings on a probe stream" 1 "no record named params" disagree --embeddings "$D/probs_f32.tns" "$D/emb1.tns"
fails_with "k too large" 2 "need 1 <= k < 40" disagree --embeddings -k 40 "$D/emb1.tns" "$D/emb2.tns"
fails_with "a top-p outside (0,1]" 2 "top-p" disagree -p 1.5 "$D/probs_f32.tns"
run_ok "--help" disagree --help
grep -q "top-K" "$T/.out"; ok $? "--help says what top-K input cannot give"

# the man page's EXAMPLES run in tests/t/90-man-examples.t (with tests/data/demo)
done_testing
