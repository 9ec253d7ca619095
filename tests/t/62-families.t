#!/bin/sh
# issue 23's model families (ESM / Nucleotide Transformer v1 and v2,
# GENA-LM, DNABERT-2): every folder of tests/golden/families imported by
# lmconvert --from-hf and run by lmprobe (probabilities, hidden states of
# every layer, --mask-each, embeddings), disagree --embeddings and
# fisherflow against the PyTorch references there (README.md); written
# back by --to-hf in the family's own names; every bad/ folder refused.
. "$(dirname "$0")/lib.sh"
F=$TOP/tests/golden/families
G=$TOP/tests/golden
CMP=$SEQLM_TESTBIN/tnscmp
kv() { tnsview --header "$1" | awk -F'\t' '$1 == "@KV" && $2 == k {print $3}' k="$2"; }
layers() { sed -n 's/^ *"num_hidden_layers": *\([0-9]*\).*/\1/p' "$1/config.json"; }
MASK="--mask-prob 0.3 --mask-seed 3"
check() { # check DESCRIPTION FILE...: ok by the last command's status; the files as comments when not
	_rc=$?; _d=$1; shift
	ok "$_rc" "$_d"; [ "$_rc" = 0 ] || cat "$@" 2>/dev/null | sed 's/^/# /' | head -5
}

for n in nt1 nt2 esmtd esmln gena gena_lastln dnabert2 dnabert2_h6; do
	L=$(layers "$F/$n")
	run_ok "$n: lmconvert --from-hf imports it" lmconvert --from-hf "$F/$n" -o "$T/$n.tns"
	if ! have_python_numpy; then skip "no NumPy: $n against the reference"; continue; fi
	"$PYTHON" "$G/hf_windows.py" "$F/$n.windows.json" "$T/$n.tns" "$T/$n.win.tns" 2> /dev/null
	# shellcheck disable=SC2086
	lmprobe $MASK -i "$T/$n.win.tns" "$T/$n.tns" > "$T/$n.probs.tns" 2> "$T/.err"
	"$CMP" -a 1e-5 "$T/$n.probs.tns" "$F/$n.probs.tns" > "$T/cmp" 2>&1
	check "$n: lmprobe's probabilities equal the reference's to 1e-5" "$T/cmp" "$T/.err"
	emit=$(seq 0 "$L" | sed 's/^/--emit hidden:/' | tr '\n' ' ')
	# shellcheck disable=SC2086
	lmprobe $MASK $emit -i "$T/$n.win.tns" "$T/$n.tns" > "$T/$n.hidden.tns" 2> /dev/null
	"$PYTHON" "$F/cmp_hidden.py" "$T/$n.hidden.tns" "$F/$n.hidden.tns" "$(seq -s, 0 "$L")" 1e-5 > "$T/cmp" 2>&1
	check "$n: lmprobe --emit hidden:0..$L equal the reference's hidden states to 1e-5 (real tokens)" "$T/cmp"
	# shellcheck disable=SC2086
	lmprobe $MASK --emit embeddings -i "$T/$n.win.tns" "$T/$n.tns" > "$T/$n.emb.tns" 2> /dev/null
	"$PYTHON" "$F/cmp_hidden.py" "$T/$n.emb.tns" "$F/$n.hidden.tns" 0 1e-5 > "$T/cmp" 2>&1
	check "$n: lmprobe --emit embeddings is the embedding layer's output" "$T/cmp"
	if [ -e "$F/$n.each.tns" ]; then    # none for nt1: 4105-way, too big to commit
		lmprobe --mask-each -i "$T/$n.win.tns" "$T/$n.tns" > "$T/$n.each.tns" 2> /dev/null
		"$CMP" -a 1e-5 "$T/$n.each.tns" "$F/$n.each.tns" > "$T/cmp" 2>&1
		check "$n: lmprobe --mask-each equals the reference's to 1e-5" "$T/cmp"
	fi
	fisherflow $MASK -i "$T/$n.win.tns" "$T/$n.tns" 2> /dev/null | cut -f2,3 > "$T/$n.fisher.tsv"
	awk -F'\t' -v want=$((L + 2)) 'NR == FNR {w[$1] = $2; next}
	    FNR > 1 {n++; d = $2 - w[$1]; if (d < 0) d = -d; if (!($1 in w) || d > 1e-5 * w[$1]) bad = 1}
	    END {exit bad || n != want}' "$F/$n.fisher.tsv" "$T/$n.fisher.tsv"
	ok $? "$n: fisherflow's group sums (embeddings, encoder.i, head) equal autograd's to 1e-5 relative"
	disagree --embeddings -k 1,3 "$T/$n.tns" "$T/$n.tns" > "$T/$n.dis.tsv" 2> "$T/.err" &&
		awk -F'\t' '$3 ~ /^jaccard/ && $5 != 1 {bad = 1} END {exit bad || NR < 3}' "$T/$n.dis.tsv"
	check "$n: disagree --embeddings runs on it (a model agrees with itself)" "$T/.err"

	# out in the family's own names and config, and back: the same model
	rm -rf "$T/hf_$n"
	lmconvert --to-hf "$T/hf_$n" "$T/$n.tns" 2> "$T/.err"
	"$PYTHON" "$F/cmp_folders.py" "$T/hf_$n" "$F/$n" > "$T/cmp" 2>&1
	check "$n: --to-hf writes the family's names, shapes and config (the reference loads it, same tensors)" "$T/.err" "$T/cmp"
	lmconvert --from-hf "$T/hf_$n" -o "$T/rt_$n.tns" 2> /dev/null
	"$CMP" "$T/rt_$n.tns" "$T/$n.tns" > /dev/null 2>&1 && "$CMP" "$T/$n.tns" "$T/rt_$n.tns" > /dev/null 2>&1 &&
		[ "$(tnsview --header "$T/rt_$n.tns" | grep -v '^@PG')" = "$(tnsview --header "$T/$n.tns" | grep -v '^@PG')" ]
	ok $? "$n: --from-hf, --to-hf, --from-hf: the same parameters and header (but @PG)"
done

# what each family's config says, as the model file's variant keys
is "$(kv "$T/nt1.tns" position_encoding):$(kv "$T/nt1.tns" position_offset):$(kv "$T/nt1.tns" layer_norm_placement):$(kv "$T/nt1.tns" final_layer_norm):$(kv "$T/nt1.tns" lm_head):$(kv "$T/nt1.tns" embedding_layer_norm):$(kv "$T/nt1.tns" type_vocab_size)" \
	"offset:2:pre:true:esm:false:0" "NT v1: ESM positions from pad + 1, pre-LN, final LayerNorm, ESM head, no embedding LayerNorm, no token types"
is "$(kv "$T/nt2.tns" position_encoding):$(kv "$T/nt2.tns" ffn_kind):$(kv "$T/nt2.tns" ffn_bias):$(kv "$T/nt2.tns" tie_word_embeddings)" \
	"rotary:swiglu:false:false" "NT v2: rotary, SwiGLU without biases, untied decoder"
is "$(kv "$T/esmtd.tns" token_dropout):$(kv "$T/esmtd.tns" mask_token_id):$(kv "$T/esmln.tns" embedding_layer_norm)" "true:4:" \
	"ESM-2 flags: token dropout (mask 4); ESM-1b's emb_layer_norm_before keeps the embedding LayerNorm"
is "$(kv "$T/gena.tns" layer_norm_placement):$(kv "$T/gena.tns" final_layer_norm):$(kv "$T/gena_lastln.tns" final_layer_norm)" "pre::true" \
	"GENA-LM: pre-LN; last_layer_norm false, and absent = pre_layer_norm"
is "$(kv "$T/dnabert2_h6.tns" position_encoding):$(kv "$T/dnabert2_h6.tns" ffn_kind):$(kv "$T/dnabert2_h6.tns" num_attention_heads):$(kv "$T/dnabert2_h6.tns" pad_token_id)" \
	"alibi:geglu:6:3" "DNABERT-2: ALiBi with 6 heads (MosaicBERT's slopes for a non-power of two), GeGLU, the tokenizer's pad"
lmconvert -v --from-hf "$F/dnabert2" -o "$T/v.tns" 2> "$T/v.err"
grep -q "bert.encoder.layer.1.attention.self.value.weight <- bert.encoder.layer.1.attention.self.Wqkv.weight (rows 32-47)" "$T/v.err" &&
	grep -q "cls.predictions.bias <- cls.predictions.decoder.bias" "$T/v.err" &&
	grep -q "cls.predictions.decoder.weight equals bert.embeddings.word_embeddings.weight (tied)" "$T/v.err" &&
	grep -q "output.LayerNorm.weight <- bert.encoder.layer.0.mlp.layernorm.weight" "$T/v.err"
ok $? "-v: DNABERT-2's fused Wqkv split in rows, its decoder bias, its tied decoder weight checked"
lmconvert -v --from-hf "$F/nt2" -o "$T/v.tns" 2> "$T/v.err"
grep -q "ignoring esm.contact_head.regression.weight" "$T/v.err" && grep -q "ignoring esm.embeddings.position_embeddings.weight" "$T/v.err" &&
	grep -q "esm.encoder.layer.1.attention.self.rotary_embeddings.inv_freq: the rotary frequencies seqlm computes (checked)" "$T/v.err" &&
	grep -q "bert.encoder.last_layer_ln.weight <- esm.encoder.emb_layer_norm_after.weight" "$T/v.err"
ok $? "-v: NT v2's contact head and unused position embeddings ignored, inv_freq checked, emb_layer_norm_after the final LayerNorm"

# ---- bad input: exit 1, one error line naming the file, no output ----------
bad_in() { # bad_in DESCRIPTION REGEX DIR
	rm -f "$T/bad.tns" "$T/bad.tns.tmp"
	lmconvert --from-hf "$3" -o "$T/bad.tns" > "$T/.out" 2> "$T/.err"; _rc=$?
	if [ "$_rc" = 1 ] && [ "$(wc -l < "$T/.err")" = 1 ] && grep -Eq -- "^lmconvert: error: $2" "$T/.err" &&
	   [ ! -e "$T/bad.tns" ] && [ ! -e "$T/bad.tns.tmp" ]; then ok 0 "$1"
	else ok 1 "$1"; echo "# exit $_rc; stderr:"; sed 's/^/#   /' "$T/.err" | head -5; fi
}
B=$F/bad
reason() {
	case $1 in
	mixed_gena_alibi) echo "$B/$1/config.json: config.json mixes families: last_layer_norm, pre_layer_norm are GENA-LM's, but alibi_starting_size .* makes it DNABERT-2" ;;
	mixed_esm_preln) echo "$B/$1/config.json: config.json mixes families: pre_layer_norm is GENA-LM's, but .* makes it Nucleotide Transformer v2" ;;
	rotary_odd) echo "$B/$1/config.json: rotary position embeddings need an even head size, not 9 \(hidden_size 18 / num_attention_heads 2\)" ;;
	missing_gated) echo "$B/$1/model.safetensors: tensor bert.encoder.layer.1.mlp.gated_layers.weight is missing \(the config wants shape \[64, 16\]\)" ;;
	missing_swiglu) echo "$B/$1/model.safetensors: tensor esm.encoder.layer.0.intermediate.dense.weight is missing \(the config wants shape \[48, 16\]\)" ;;
	gena_sparse) echo "$B/$1/config.json: sparse attention \(sparse_config_cls/sparse_attention\) is not supported" ;;
	gena_bigbird) echo "$B/$1/config.json: sparse attention \(model_type big_bird\) is not supported" ;;
	gena_lastln_postln) echo "$B/$1/config.json: last_layer_norm needs pre_layer_norm" ;;
	esac
}
for b in $(tail -n +2 "$B/MANIFEST.tsv" | cut -f1); do
	re=$(reason "$b")
	if [ -z "$re" ]; then ok 1 "bad/$b: a reason to expect (add it here)"; continue; fi
	bad_in "bad/$b: refused: $(grep "^$b	" "$B/MANIFEST.tsv" | cut -f2)" "$re" "$B/$b"
done
is "$(ls "$B" | grep -vc MANIFEST.tsv)" "$(tail -n +2 "$B/MANIFEST.tsv" | wc -l)" "every bad/ folder is in MANIFEST.tsv (and so tested)"

# more: made from the good folders
mkbad() { rm -rf "$T/bad"; cp -r "$F/$1" "$T/bad"; }
S=$T/bad/model.safetensors
bad_config() { # bad_config FOLDER SED DESCRIPTION REGEX: FOLDER with SED applied to its config.json is refused for REGEX
	mkbad "$1"; sed -i "$2" "$T/bad/config.json"
	bad_in "$3" "$T/bad/config.json: $4" "$T/bad"
}
bad_config esmtd 's/"mask_token_id": 4/"mask_token_id": 3/' \
	"ESM: mask_token_id must be the tokenizer's mask (token dropout finds <mask> by it)" \
	"mask_token_id 3 is not the tokenizer's mask token \(4\)"
bad_config esmln 's/"pad_token_id": 1,//' \
	"ESM without pad_token_id (its positions count from it)" \
	"pad_token_id is missing"
bad_config esmln 's/"position_embedding_type": "absolute"/"position_embedding_type": "relative_key"/' \
	"ESM with relative positions" \
	"position_embedding_type \"relative_key\" is not supported for ESM"
bad_config gena 's/"position_embedding_type": "absolute"/"position_embedding_type": "rotary"/' \
	"rotary outside ESM (GENA-LM's code has none)" \
	"position_embedding_type \"rotary\" is not supported \(absolute only\)"
bad_config dnabert2 's/"layer_norm_eps": 1e-12/"layer_norm_eps": 1e-05/' \
	"DNABERT-2 with another layer_norm_eps (its head's is written in)" \
	"layer_norm_eps 1e-05: DNABERT-2's head LayerNorm uses 1e-12"
bad_config nt1 's/"model_type": "esm"/"model_type": "esm", "alibi_starting_size": 512/' \
	"an ESM config with MosaicBERT's key" \
	"config.json mixes families: alibi_starting_size is DNABERT-2 \(MosaicBERT\)'s, but model_type esm makes it ESM"
if have_python_numpy; then
	st_edit() { "$PYTHON" "$F/st_edit.py" "$@"; }
	bad_st() { # bad_st FOLDER PYTHON DESCRIPTION REGEX: FOLDER with its model.safetensors edited by PYTHON (st_edit.py) is refused for REGEX
		mkbad "$1"; st_edit "$F/$1/model.safetensors" "$S" "$2"
		bad_in "$3" "$S: $4" "$T/bad"
	}
	bad_st nt2 'k = "esm.encoder.layer.1.attention.self.rotary_embeddings.inv_freq"; t[k] = (1.0 / 500000 ** (np.arange(0, 8, 2) / 8)).astype("<f4")' \
		"a rotary base other than 10000 (inv_freq)" \
		"tensor esm.encoder.layer.1.attention.self.rotary_embeddings.inv_freq: entry 1 is .*only rotary base 10000 is supported"
	bad_st dnabert2 't["cls.predictions.decoder.weight"][3, 2] += 1' \
		"DNABERT-2's decoder weight must be the word embeddings (it ties them always)" \
		"tensor cls.predictions.decoder.weight differs from bert.embeddings.word_embeddings.weight"
	bad_st dnabert2 'k = "bert.encoder.layer.0.attention.self.Wqkv.weight"; t[k] = t[k][:32]' \
		"a fused Wqkv of the wrong shape names it and the shape [3d, d]" \
		"tensor bert.encoder.layer.0.attention.self.Wqkv.weight has shape \[32, 16\] but the config wants \[48, 16\]"
	bad_st dnabert2 't["bert.encoder.layer.0.mlp.gated_layers.bias"] = np.zeros(64, "<f4")' \
		"a GeGLU with a gate bias (MosaicBERT's has none)" \
		"unexpected tensor bert.encoder.layer.0.mlp.gated_layers.bias \(not a BertForMaskedLM parameter\)"
	bad_st esmtd 't["esm.embeddings.position_embeddings.weight"] = np.zeros((18, 24), "<f4")' \
		"position embeddings in an upstream rotary ESM (its code has none)" \
		"unexpected tensor esm.embeddings.position_embeddings.weight \(not a EsmForMaskedLM parameter\)"
else
	for i in 1 2 3 4 5; do skip "no NumPy: safetensors edits"; done
fi
done_testing
