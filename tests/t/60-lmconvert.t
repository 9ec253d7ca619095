#!/bin/sh
# lmconvert: HF folders in (numbers checked against the PyTorch reference of
# tests/golden/hf_ref.py), seqlm models out (read back with NumPy), the
# round trip, and bad input.
. "$(dirname "$0")/lib.sh"
D=$DATA/lmconvert
G=$TOP/tests/golden
CMP=$SEQLM_TESTBIN/tnscmp
kv() { tnsview --header "$1" | awk -F'\t' -v k="$2" '$1 == "@KV" && $2 == k {print $3}'; }
vocab_lines() { tnsview --header "$1" | grep -E '^@(TK|VO)'; }

# ---- in: the four fixture folders -------------------------------------------
for n in f32 bf16 gamma sharded bpe; do
	run_ok "--from-hf $n: converts" lmconvert --from-hf "$D/$n" -o "$T/$n.tns"
done
is "$(cat "$T/.err")" "" "without -v it says nothing"
for n in f32 bf16 gamma sharded; do
	if have_python_numpy; then
		"$PYTHON" "$G/hf_windows.py" "$D/windows.json" "$T/$n.tns" "$T/$n.win.tns"
		lmprobe --mask-prob 0.3 --mask-seed 3 -i "$T/$n.win.tns" "$T/$n.tns" > "$T/$n.probs.tns"
		"$CMP" -a 1e-5 "$T/$n.probs.tns" "$D/$n.probs.tns" > "$T/cmp" 2>&1
		ok $? "$n: lmprobe's probabilities equal the PyTorch reference's to 1e-5"; sed 's/^/# /' "$T/cmp"
		fisherflow --mask-prob 0.3 --mask-seed 3 -i "$T/$n.win.tns" "$T/$n.tns" | cut -f2,3 > "$T/$n.fisher.tsv"
		awk -F'\t' 'NR == FNR {w[$1] = $2; next} FNR > 1 {n++; d = $2 - w[$1]; if (d < 0) d = -d; if (!($1 in w) || d > 1e-5 * w[$1]) bad = 1}
		    END {exit bad || n != 4}' "$D/$n.fisher.tsv" "$T/$n.fisher.tsv"
		ok $? "$n: fisherflow's group sums equal the PyTorch autograd's to 1e-5 relative"
	else
		skip "no NumPy: $n probabilities"; skip "no NumPy: $n Fisher"
	fi
done
lmconvert -v --from-hf "$D/bf16" -o "$T/v.tns" 2> "$T/v.err"
for t in bert.pooler.dense.weight cls.seq_relationship.bias bert.embeddings.position_ids; do
	grep -q "ignoring $t " "$T/v.err"; ok $? "-v notes that $t is ignored"
done
grep -q "cls.predictions.decoder.weight equals bert.embeddings.word_embeddings.weight" "$T/v.err"
ok $? "-v: the tied decoder weight present and equal to the embeddings"
lmconvert -v --from-hf "$D/gamma" -o "$T/v.tns" 2> "$T/v.err"
grep -q "bert.embeddings.LayerNorm.weight <- bert.embeddings.LayerNorm.gamma" "$T/v.err"
ok $? "-v: the old LayerNorm.gamma/beta names are read"
is "$(kv "$T/f32.tns" type_vocab_size)" 2 "type_vocab_size 2 (DNABERT's) is kept"
is "$(kv "$T/f32.tns" seed)" "" "an imported model claims no seed"
lmconvert --from-hf "$D/f32" > "$T/stdout.tns"
is "$(kv "$T/stdout.tns" model_hash)" "$(kv "$T/f32.tns" model_hash)" "without -o the model goes to standard output"

# ---- out, and the round trip --------------------------------------------------
is "$(tnsview --header "$T/bpe.tns" | grep -c '^@TK	TY:hf-bpe	N:51	UNK:0	PAD:1	')" 1 "a tokenizer.json BPE: the rule and its special ids in the header"
is "$(kv "$T/bpe.tns" pad_token_id)" 1 "and the model's pad_token_id is the tokenizer's"
for n in f32 bf16 bpe; do
	run_ok "--to-hf $n: writes a folder" lmconvert --to-hf "$T/hf_$n" "$T/$n.tns"
	if have_python_numpy; then
		"$PYTHON" "$G/hf_check.py" "$T/hf_$n" "$T/$n.tns" > "$T/chk" 2>&1
		ok $? "$n: NumPy reads back the same tensors; config.json has BertConfig's keys"; sed 's/^/# /' "$T/chk"
	else
		skip "no NumPy: --to-hf read back"
	fi
	lmconvert --from-hf "$T/hf_$n" -o "$T/rt_$n.tns"
	is "$(kv "$T/rt_$n.tns" model_hash)" "$(kv "$T/$n.tns" model_hash)" "$n: --to-hf then --from-hf: the same model hash"
	"$CMP" "$T/rt_$n.tns" "$T/$n.tns" > "$T/cmp" 2>&1 && "$CMP" "$T/$n.tns" "$T/rt_$n.tns" >> "$T/cmp" 2>&1
	ok $? "$n: and every parameter bit for bit"
	is "$(vocab_lines "$T/rt_$n.tns" | md5sum)" "$(vocab_lines "$T/$n.tns" | md5sum)" "$n: and the same vocabulary and tokenization rule"
	seqtok --vocab "$T/$n.tns" -T 24 "$DATA/hftok/dna.fa" > "$T/tok_a.tns" && seqtok --vocab "$T/rt_$n.tns" -T 24 "$DATA/hftok/dna.fa" > "$T/tok_b.tns" &&
		"$CMP" "$T/tok_a.tns" "$T/tok_b.tns" > /dev/null && "$CMP" "$T/tok_b.tns" "$T/tok_a.tns" > /dev/null
	ok $? "$n: and the same tokens from seqtok --vocab"
done
seqtok --vocab "$T/f32.tns" -T 24 "$DATA/hftok/dna.fa" | lmprobe "$T/f32.tns" | entropy > "$T/ent.tsv"
ok $? "seqtok --vocab m.tns x.fa | lmprobe m.tns | entropy runs on an imported model"
# a model seqlm trained (its own 6-mer vocabulary) out and back: the same
# windows from seqtok and the same probabilities, bit for bit
seqtok -T 32 "$DATA/demo/human_chr20_100k.fa" > "$T/own_w.tns"
lmtrain --arch 4M --layers 1 --hidden 16 --heads 2 --ffn 32 --max-pos 32 -b 8 --steps 2 --seed 1 -o "$T/own.tns" "$T/own_w.tns" 2> /dev/null
lmconvert --to-hf "$T/own_hf" "$T/own.tns" && lmconvert --from-hf "$T/own_hf" -o "$T/own_back.tns"
ok $? "a model lmtrain made: --to-hf, then --from-hf"
seqtok --vocab "$T/own_back.tns" -T 32 "$DATA/demo/human_chr20_100k.fa" > "$T/own_w2.tns"
"$CMP" "$T/own_w2.tns" "$T/own_w.tns" > /dev/null && "$CMP" "$T/own_w.tns" "$T/own_w2.tns" > /dev/null
ok $? "seqtok --vocab on the imported copy gives the windows seqtok gave the original"
lmprobe -i "$T/own_w.tns" "$T/own.tns" > "$T/own_p.tns"; lmprobe -i "$T/own_w2.tns" "$T/own_back.tns" > "$T/own_p2.tns"
"$CMP" "$T/own_p2.tns" "$T/own_p.tns" > /dev/null
ok $? "and lmprobe gives the same probabilities, bit for bit"
cmp -s "$T/hf_f32/model.safetensors" "$D/f32/model.safetensors"
ok $? "model.safetensors is laid out as the reference writer does (byte-identical to the fixture)"
grep -q decoder "$T/hf_bf16/model.safetensors"; is "$?" 1 "no tied decoder copy is written (save_pretrained drops it)"
mkdir "$T/empty"
run_ok "--to-hf into an existing empty folder" lmconvert --to-hf "$T/empty" "$T/f32.tns"
fails_with "--to-hf into a folder with files is refused" 1 "^lmconvert: error: $T/hf_f32: exists and is not empty" lmconvert --to-hf "$T/hf_f32" "$T/f32.tns"
is "$(ls "$T" | grep -c 'tmp')" 0 "no temporary folder is left behind"

# ---- bad input: exit 1, one error line naming the file, no output ----------
# bad_in DESCRIPTION REGEX DIR: --from-hf DIR fails with REGEX, writes nothing
bad_in() {
	rm -f "$T/bad.tns" "$T/bad.tns.tmp"
	lmconvert --from-hf "$3" -o "$T/bad.tns" > "$T/.out" 2> "$T/.err"; _rc=$?
	if [ "$_rc" = 1 ] && [ "$(wc -l < "$T/.err")" = 1 ] && grep -Eq -- "^lmconvert: error: $2" "$T/.err" &&
	   [ ! -e "$T/bad.tns" ] && [ ! -e "$T/bad.tns.tmp" ]; then ok 0 "$1"
	else ok 1 "$1"; echo "# exit $_rc; stderr:"; sed 's/^/#   /' "$T/.err" | head -5; fi
}
mkbad() { rm -rf "$T/bad"; cp -r "$D/${2:-f32}" "$T/bad"; [ -z "${1:-}" ] || "$PYTHON" "$G/st_mutate.py" "$1" "$D/${2:-f32}/model.safetensors" "$T/bad/model.safetensors"; }
S="$T/bad/model.safetensors"
mkbad truncate; bad_in "truncated safetensors" "$S: tensor .* out of bounds" "$T/bad"
mkbad hdrlen; bad_in "header length past the end" "$S: header length [0-9]+ runs past the end of the file" "$T/bad"
mkbad overlap; bad_in "overlapping offsets" "$S: tensor .* overlap the previous tensor" "$T/bad"
mkbad oob; bad_in "offsets out of bounds" "$S: tensor cls.predictions.transform.dense.weight: data_offsets .* out of bounds" "$T/bad"
mkbad gap; bad_in "a gap between tensors" "$S: tensor .*: a gap of 8 bytes" "$T/bad"
mkbad dtype; bad_in "an unknown dtype" "$S: tensor .*: unknown dtype \"Q7\"" "$T/bad"
mkbad bigdim; bad_in "2^62 dimensions" "$S: tensor .*: shape overflows" "$T/bad"
mkbad dup; bad_in "duplicate tensor names" "$S: tensor name .* appears twice" "$T/bad"
mkbad; printf '\001\002' > "$S"; bad_in "a 2-byte file" "$S: truncated: 2 bytes" "$T/bad"
mkbad; sed -i 's/"format":"pt"/"format":"tf"/' "$S"; bad_in "a TensorFlow-format safetensors is refused" "$S: __metadata__ format \"tf\": not a PyTorch checkpoint" "$T/bad"
mkbad; sed -i 's/"hidden_size": 16/"hidden_size": 32/' "$T/bad/config.json"
bad_in "config/tensor shape mismatch names the tensor and both shapes" \
	"$S: tensor bert.embeddings.word_embeddings.weight has shape \[69, 16\] but the config wants \[69, 32\]" "$T/bad"
mkbad; sed -i 's/"intermediate_size": 32/"intermediate_size": 48/' "$T/bad/config.json"
bad_in "a layer tensor of the wrong shape" "$S: tensor bert.encoder.layer.0.intermediate.dense.weight has shape \[32, 16\] but the config wants \[48, 16\]" "$T/bad"
mkbad; sed -i 's/"vocab_size": 69/"vocab_size": 70/' "$T/bad/config.json"
bad_in "vocab size != embedding rows" "$S: bert.embeddings.word_embeddings.weight has 69 rows but config.json's vocab_size is 70" "$T/bad"
mkbad; sed -i '$d' "$T/bad/vocab.txt"
bad_in "a tokenizer smaller than the embeddings" "$T/bad: the tokenizer has 68 tokens but the model's vocabulary .* is 69" "$T/bad"
mkbad; sed -i 's/"hidden_act": "gelu"/"hidden_act": "gelu_new"/' "$T/bad/config.json"
bad_in "hidden_act gelu_new is refused" "$T/bad/config.json: hidden_act \"gelu_new\" is not supported: .*erf" "$T/bad"
mkbad; sed -i 's/"position_embedding_type": "absolute"/"position_embedding_type": "relative_key"/' "$T/bad/config.json"
bad_in "relative position embeddings are refused" "$T/bad/config.json: position_embedding_type \"relative_key\" is not supported" "$T/bad"
mkbad; sed -i 's/"model_type": "bert"/"model_type": "roberta"/' "$T/bad/config.json"
bad_in "another model_type is refused" "$T/bad/config.json: model_type \"roberta\" is not supported" "$T/bad"
# the families (ESM, NT v2, GENA-LM, DNABERT-2): tests/t/62-families.t
mkbad; rm "$T/bad/vocab.txt"; printf '{"version": "1.0", "added_tokens": [], "model": {"type": "Unigram", "unk_id": 0, "vocab": [["[PAD]", 0.0]]}}\n' > "$T/bad/tokenizer.json"
bad_in "a tokenizer.json with an unknown model type" "$T/bad: tokenizer.json: model type Unigram is not supported" "$T/bad"
mkbad "" bpe; sed -i 's/"pad_token_id": 1/"pad_token_id": 0/' "$T/bad/config.json"
bad_in "config.json's pad_token_id must be the tokenizer's pad" "$T/bad/config.json: pad_token_id 0 is not the tokenizer's pad token \(1\)" "$T/bad"
mkbad; rm "$T/bad/config.json"; bad_in "no config.json" "$T/bad/config.json: cannot open" "$T/bad"
mkbad; printf '{"model_type": "bert",' > "$T/bad/config.json"; bad_in "config.json not JSON" "$T/bad/config.json: not valid JSON" "$T/bad"
bad_in "a file instead of a folder" "$D/f32/config.json: not a folder" "$D/f32/config.json"
if have_python_numpy; then
	# the BF16 folder with its decoder bias changed in one value
	mkbad "" bf16
	"$PYTHON" - "$T/bad/model.safetensors" <<'EOF'
import json, struct, sys
p = sys.argv[1]; raw = bytearray(open(p, "rb").read()); n = struct.unpack_from("<Q", raw)[0]
b = json.loads(raw[8:8 + n])["cls.predictions.decoder.bias"]["data_offsets"][0]
raw[8 + n + b] ^= 1
open(p, "wb").write(raw)
EOF
	bad_in "an untied decoder (bias differs) is refused" "$S: tensor cls.predictions.decoder.bias differs from cls.predictions.bias" "$T/bad"
	# f32 without one tensor, and with an unknown one
	"$PYTHON" - "$D/f32/model.safetensors" "$T/miss.st" "$T/extra.st" <<'EOF'
import json, struct, sys
raw = open(sys.argv[1], "rb").read(); n = struct.unpack_from("<Q", raw)[0]
h = json.loads(raw[8:8 + n]); data = raw[8 + n:]
def write(path, h, data):
    t = json.dumps(h, separators=(",", ":")).encode(); t += b" " * (-len(t) % 8)
    open(path, "wb").write(struct.pack("<Q", len(t)) + t + data)
last = max((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"])
b, e = h[last]["data_offsets"]; h2 = dict(h); del h2[last]
write(sys.argv[2], h2, data[:b] + data[e:])
h3 = dict(h); h3["bert.encoder.layer.0.attention.self.distance_embedding.weight"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(data), len(data) + 4]}
write(sys.argv[3], h3, data + b"\0\0\0\0")
EOF
	mkbad; cp "$T/miss.st" "$S"
	bad_in "a missing tensor is named with the shape the config wants" "$S: tensor cls.predictions.transform.dense.weight is missing \(the config wants shape \[16, 16\]\)" "$T/bad"
	mkbad; cp "$T/extra.st" "$S"
	bad_in "an unexpected tensor is named" "$S: unexpected tensor bert.encoder.layer.0.attention.self.distance_embedding.weight" "$T/bad"
else
	skip "no NumPy"; skip "no NumPy"; skip "no NumPy"
fi
mkbad; rm "$S"; : > "$T/bad/pytorch_model.bin"
lmconvert --from-hf "$T/bad" -o "$T/bad.tns" 2> "$T/.err"; _rc=$?
[ "$_rc" = 1 ] && grep -q "^lmconvert: error: $T/bad/pytorch_model.bin: a PyTorch pickle" "$T/.err" &&
	grep -q "^  python3 examples/hf-bin-to-safetensors.py $T/bad " "$T/.err" && [ ! -e "$T/bad.tns" ]
ok $? "pytorch_model.bin only: refused, with the conversion command"
mkbad; rm "$S"; bad_in "no weights at all" "$T/bad: no model.safetensors" "$T/bad"

# the shards' index naming a tensor that is not in its shard
rm -rf "$T/bad"; cp -r "$D/sharded" "$T/bad"
sed -i '0,/00001-of/s//00002-of/' "$T/bad/model.safetensors.index.json"
bad_in "an index naming the wrong shard" "$T/bad/model.safetensors.index.json: tensor .* is not in model-00002-of-00002.safetensors" "$T/bad"

# killed by a signal mid-write (SIGXFSZ: the output passes ulimit -f): nothing left
sh -c 'ulimit -f 8; lmconvert --from-hf "$1" -o "$2"; exit $?' sh "$D/f32" "$T/sig.tns" 2> /dev/null
is "$?:$(ls "$T" | grep -c '^sig')" "153:0" "--from-hf killed by a signal mid-write leaves no output"
sh -c 'ulimit -f 8; lmconvert --to-hf "$1" "$2"; exit $?' sh "$T/sighf" "$T/f32.tns" 2> /dev/null
is "$?:$(ls "$T" | grep -c '^sighf')" "153:0" "--to-hf killed by a signal mid-write leaves no folder"
lmtrain --arch 4M --layers 1 --hidden 16 --heads 2 --ffn 32 --max-pos 64 -b 8 --steps 2 --seed 1 -o "$T/eng.tns" "$DATA/engine/english_char.tns" 2> /dev/null
fails_with "--to-hf of a model whose tokenizer HF cannot express" 1 "^lmconvert: error: $T/enghf: tokenizer files: " lmconvert --to-hf "$T/enghf" "$T/eng.tns"
is "$(ls "$T" | grep -c '^enghf')" 0 "and no folder is left, not even a temporary one"
fails_with "--to-hf of a file that is not a model" 1 "^lmconvert: error: $D/windows.json: " lmconvert --to-hf "$T/x" "$D/windows.json"
[ ! -e "$T/x" ]; ok $? "and no folder is left"
fails_with "no mode is a usage error" 2 "give one of --from-hf DIR or --to-hf DIR" lmconvert
fails_with "two modes are a usage error" 2 "give one of" lmconvert --from-hf "$D/f32" --to-hf "$T/y" "$T/f32.tns"
fails_with "--to-hf without a model is a usage error" 2 "takes one model file" lmconvert --to-hf "$T/y"
lmconvert --help > "$T/help"; ok $? "--help exits 0"
grep -q "^Usage: lmconvert --from-hf DIR" "$T/help"; ok $? "--help prints the usage"
lmconvert --version | grep -q "^lmconvert"; ok $? "--version names the program"

# ---- examples/hf-bin-to-safetensors.py (needs PyTorch) --------------------
if "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
	rm -rf "$T/bin"; mkdir "$T/bin"; cp "$D/f32"/*.json "$D/f32/vocab.txt" "$T/bin"
	"$PYTHON" - "$D/f32/model.safetensors" "$T/bin/pytorch_model.bin" <<'EOF'
import json, struct, sys
import numpy as np, torch
raw = open(sys.argv[1], "rb").read(); n = struct.unpack_from("<Q", raw)[0]
h = json.loads(raw[8:8 + n]); h.pop("__metadata__")
sd = {k: torch.from_numpy(np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype="<f4").reshape(v["shape"]).copy()) for k, v in h.items()}
sd["cls.predictions.decoder.weight"] = sd["bert.embeddings.word_embeddings.weight"]   # tied: one storage, as HF pickles it
sd["cls.predictions.decoder.bias"] = sd["cls.predictions.bias"]
sd["bert.embeddings.position_ids"] = torch.arange(24)[None]
torch.save(sd, sys.argv[2])
EOF
	"$PYTHON" "$TOP/examples/hf-bin-to-safetensors.py" "$T/bin" > /dev/null
	ok $? "examples/hf-bin-to-safetensors.py converts a pytorch_model.bin"
	lmconvert --from-hf "$T/bin" -o "$T/frombin.tns"
	is "$(kv "$T/frombin.tns" model_hash)" "$(kv "$T/f32.tns" model_hash)" "and lmconvert reads it: the same parameters as the safetensors fixture"
else
	skip "no PyTorch: hf-bin-to-safetensors.py"; skip "no PyTorch"
fi
done_testing
