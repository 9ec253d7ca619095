#!/bin/sh
# lmprobe: probabilities equal PyTorch's, the same mask for every model,
# identical bits for any -b and -t, the output variants, and bad input.
. "$(dirname "$0")/lib.sh"
CMP=$SEQLM_TESTBIN/tnscmp
P=$DATA/probe
W=$DATA/engine/dna_3mer.tns
small="--arch 4M --layers 2 --hidden 32 --heads 2 --ffn 64 -b 16 --max-pos 64"
lmtrain $small --steps 4 --seed 1 -o "$T/m1.tns" "$W" 2>/dev/null
lmtrain $small --steps 4 --seed 2 -o "$T/m2.tns" "$W" 2>/dev/null
lmtrain $small --steps 1 --seed 1 -o "$T/eng.tns" "$DATA/engine/english_char.tns" 2>/dev/null

lmprobe --mask-prob 0.3 --mask-seed 3 -i "$P/probe_windows.tns" "$P/probe_model.tns" > "$T/golden.tns"
ok $? "lmprobe runs on the golden model and windows"
"$CMP" -a 1e-5 "$T/golden.tns" "$P/probe_expected.tns" > "$T/cmp" 2>&1
ok $? "mask positions, labels and probabilities equal PyTorch's (1e-5 absolute): $(cat "$T/cmp")"

lmprobe -i "$W" "$T/m1.tns" "$T/m2.tns" > "$T/both.tns"
lmprobe -i "$W" "$T/m1.tns" > "$T/a.tns"
lmprobe -i "$W" "$T/m2.tns" > "$T/b.tns"
lmprobe -i "$W" "$T/m2.tns" "$T/m1.tns" > "$T/rev.tns"
is "$(tnsview -n -1 --no-header "$T/a.tns" | grep mask_pos | md5sum)" "$(tnsview -n -1 --no-header "$T/b.tns" | grep mask_pos | md5sum)" "every model sees the same masked positions"
is "$(tnsview -n -1 --no-header "$T/both.tns" | grep mask_pos | md5sum)" "$(tnsview -n -1 --no-header "$T/rev.tns" | grep mask_pos | md5sum)" "in any model order"
"$PYTHON" - "$T" "$TOP/examples" <<'PY' 2>&1 || exit_py=1
import sys
sys.path.insert(0, sys.argv[2])
import numpy as np
from tns_read import read_tns
d = sys.argv[1]
_, both = read_tns(d + "/both.tns"); _, a = read_tns(d + "/a.tns"); _, b = read_tns(d + "/b.tns"); _, rev = read_tns(d + "/rev.tns")
for (n, x), (_, y), (_, z), (_, r) in zip(both, a, b, rev):
    assert np.array_equal(x["probs"][0], y["probs"][0]) and np.array_equal(x["probs"][1], z["probs"][0]), n
    assert np.array_equal(x["probs"][0], r["probs"][1]), n
    p = x["probs"]
    assert p.shape[2] == 74 and np.allclose(p.sum(-1), 1, atol=1e-5), n
PY
if have_python_numpy; then ok "${exit_py:-0}" "probs[M,P,V] hold each model's distribution in command-line order, summing to 1"
else skip "NumPy not available"; fi
mo=$(tnsview --header "$T/both.tns" | grep '^@MO' | cut -f2,3 | tr '\t\n' ' ')
is "$mo" "ID:0 PA:$T/m1.tns ID:1 PA:$T/m2.tns " "the header lists the models in order"

ref=$(tnsview -n -1 --no-header "$T/both.tns" | md5sum)
for bt in "-b 1 -t 1" "-b 5 -t 2" "-b 64 -t 2" "-b 3 -t 3"; do
	is "$(lmprobe $bt -i "$W" "$T/m1.tns" "$T/m2.tns" | tnsview -n -1 --no-header - | md5sum)" "$ref" "identical output bits with $bt"
done
cat "$W" | lmprobe "$T/m1.tns" -m "$T/m2.tns" | tnsview -n -1 --no-header - | md5sum > "$T/pipe.md5"
is "$(cat "$T/pipe.md5")" "$ref" "stdin and -m give the same"

lmprobe --half -i "$W" "$T/m1.tns" > "$T/half.tns"
is "$(tnsview -n 0 --no-header "$T/half.tns" | grep -c '	probs	f16	1x')" "$(tnsview --count "$T/half.tns")" "--half writes f16 probs"
"$CMP" -a 2e-3 -r 2e-3 "$T/half.tns" "$T/a.tns" > /dev/null 2>&1; ok $? "--half probs are the f32 ones to f16 precision"
lmprobe --top 5 -i "$W" "$T/m1.tns" "$T/m2.tns" > "$T/top.tns"
if have_python_numpy; then
	"$PYTHON" - "$T" "$TOP/examples" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import numpy as np
from tns_read import read_tns
d = sys.argv[1]
_, top = read_tns(d + "/top.tns"); _, full = read_tns(d + "/both.tns")
for (n, t), (_, f) in zip(top, full):
    p = f["probs"]
    ids, val, rest = t["top_ids"], t["top_probs"], t["top_rest"]
    assert ids.shape == p.shape[:2] + (5,), n
    assert np.array_equal(np.take_along_axis(p, ids.astype(np.int64), -1), val), n
    assert np.all(np.diff(val, axis=-1) <= 0), n
    assert np.allclose(np.sort(p, -1)[..., ::-1][..., :5], val), n
    assert np.allclose(rest, 1 - val.sum(-1), atol=1e-6), n
PY
	ok $? "--top 5: the five most probable ids, their probabilities (descending) and the rest of the mass"
else skip "NumPy not available"; fi
lmprobe -i "$W" "$T/m1.tns" | lmprobe --mask-positions "$T/m1.tns" > "$T/given.tns"
"$CMP" "$T/given.tns" "$T/a.tns" > /dev/null 2>&1; ok $? "--mask-positions on lmprobe's own output gives the same probabilities"
lmprobe --mask-each -n 2>/dev/null; lmprobe --mask-each -i "$P/probe_windows.tns" "$P/probe_model.tns" > "$T/each.tns"
is "$(tnsview -n 0 --no-header "$T/each.tns" | grep mask_pos | cut -f4 | cut -d" " -f1 | tr '\n' ' ')" "14 10 7 14 3 " "--mask-each masks every non-special position"
lmprobe --emit hidden:2 --emit embeddings -i "$W" "$T/m1.tns" "$T/m2.tns" | tnsview -n 0 --no-header - | grep -c '	hidden\.[02]\.m[01]	f32	64x32' > "$T/emit"
is "$(cat "$T/emit")" "$(( 4 * $(tnsview --count "$W") ))" "--emit adds hidden states per model, T x d"
# every window's last hidden states are its own (windows go through the
# model in groups): the head applied to them in float64 gives its probs
lmprobe --emit hidden:2 -i "$W" "$T/m1.tns" > "$T/emit.tns"
if have_python_numpy; then
	"$PYTHON" - "$T" "$TOP/examples" > "$T/head.out" 2>&1 <<'PY'
import math, sys
sys.path.insert(0, sys.argv[2])
import numpy as np
from tns_read import read_tns
d = sys.argv[1]
_, model = read_tns(d + "/m1.tns")
P = {k: v.astype(np.float64) for k, v in dict(model)["params"].items()}
erf = np.vectorize(math.erf)
_, recs = read_tns(d + "/emit.tns")
worst = 0
for name, r in recs:
    y = r["hidden.2.m0"].astype(np.float64)[r["mask_pos"]]
    y = y @ P["cls.predictions.transform.dense.weight"].T + P["cls.predictions.transform.dense.bias"]
    y = 0.5 * y * (1 + erf(y / math.sqrt(2)))
    mu = y.mean(-1, keepdims=True)
    y = (y - mu) / np.sqrt(((y - mu) ** 2).mean(-1, keepdims=True) + 1e-12)
    y = y * P["cls.predictions.transform.LayerNorm.weight"] + P["cls.predictions.transform.LayerNorm.bias"]
    z = y @ P["bert.embeddings.word_embeddings.weight"].T + P["cls.predictions.bias"]
    z = np.exp(z - z.max(-1, keepdims=True))
    worst = max(worst, np.abs(z / z.sum(-1, keepdims=True) - r["probs"][0]).max())
print("%d windows, largest difference %.2g" % (len(recs), worst))
sys.exit(0 if len(recs) == 97 and worst < 1e-5 else 1)
PY
	ok $? "--emit hidden:2: each window's own states, the head on them gives its probs (1e-5): $(cat "$T/head.out")"
else skip "NumPy not available"; fi
is "$(tnsview -n -1 --no-header "$T/a.tns" | grep tokens | md5sum)" "$(tnsview -n -1 --no-header "$W" | grep tokens | md5sum)" "the input tensors pass through"

# bad input
fails_with "a model of another tokenizer is refused, naming it" 1 "lmprobe: error: $T/eng.tns: the model's vocabulary" lmprobe -i "$W" "$T/m1.tns" "$T/eng.tns"
fails_with "windows longer than the model's positions are refused" 1 "exceed the model's 16 positions" lmprobe -i "$P/probe_windows_long.tns" "$P/probe_model.tns"
head -c 5000 "$T/m1.tns" > "$T/cut.tns"
fails_with "a truncated model is an error naming it" 1 "lmprobe: error: $T/cut.tns: truncated" lmprobe -i "$W" "$T/cut.tns"
cp "$T/m1.tns" "$T/flip.tns"; printf 'Z' | dd of="$T/flip.tns" bs=1 seek=9000 conv=notrunc 2>/dev/null
fails_with "a corrupt model is an error naming it" 1 "lmprobe: error: $T/flip.tns: .*CRC" lmprobe -i "$W" "$T/flip.tns"
"$SEQLM_TESTBIN/mktns" -n 0 -o "$T/empty.tns"
fails_with "a stream without windows (or vocabulary) is an error" 1 "lmprobe: error: $T/empty.tns: " lmprobe -i "$T/empty.tns" "$T/m1.tns"
tnsview --copy "$W" | head -c 64 > "$T/hdr-only.tns" 2>/dev/null
fails_with "an empty stdin is an error" 1 "lmprobe: error: standard input: no data" sh -c 'lmprobe "$1" < /dev/null' sh "$T/m1.tns"
fails_with "no model is a usage error" 2 "Usage: lmprobe" lmprobe -i "$W"
fails_with "a missing model with an empty stdin is named, not stdin" 1 "^lmprobe: error: $T/missing.tns: No such file" sh -c 'lmprobe "$1" < /dev/null' sh "$T/missing.tns"
fails_with "every model is checked before the windows are read" 1 "^lmprobe: error: $T/cut.tns: " sh -c 'lmprobe "$1" "$2" < /dev/null' sh "$T/m1.tns" "$T/cut.tns"
fails_with "the message for windows too long names the seqtok -T that fits" 1 "lmprobe: error: $P/probe_model.tns: windows of 24 tokens .*: make the windows with seqtok -T 16" lmprobe -i "$P/probe_windows_long.tns" "$P/probe_model.tns"
blk=$(awk '/^A pipeline:/ {f = 1} f && /^```sh/ {g = 1; next} g && /^```/ {exit} g' "$TOP/README.md")
mp=$(echo "$blk" | grep -o -- '--max-pos [0-9]*' | cut -d' ' -f2 | sort -u)
is "$(echo "$blk" | grep -o 'seqtok -T [0-9]*' | cut -d' ' -f3 | sort -u):$(echo "$blk" | grep -c 'seqtok -T')" "${mp:-none}:2" \
   "README's pipeline makes its windows with the seqtok -T of its lmtrain --max-pos"
# -q is --quiet, as in every program; the mask probability is --mask-prob
lmprobe -q --mask-prob 0.3 --mask-seed 3 -i "$P/probe_windows.tns" "$P/probe_model.tns" > "$T/q.tns" 2> "$T/q.err"
"$CMP" "$T/q.tns" "$T/golden.tns" > /dev/null 2>&1 && [ ! -s "$T/q.err" ]; ok $? "-q is quiet: the same probabilities, nothing on stderr"
fails_with "the old -q 0.3 is answered with --mask-prob 0.3" 2 "lmprobe: error: 0.3: no such model file; did you mean --mask-prob 0.3\\?" lmprobe -q 0.3 -i "$W" "$T/m1.tns"
fails_with "a model path with a tab is refused (it could not be a TSV name)" 2 "tab or newline" lmprobe -i "$W" "$T/m1	x.tns"
fails_with "--half with --top is a usage error" 2 "exclude" lmprobe --half --top 3 -i "$W" "$T/m1.tns"
lmprobe -i "$W" -o "$T/none/out.tns" "$T/m1.tns" 2>/dev/null; is "$?" 1 "an unwritable output exits 1"
# OpenBLAS kernels: a set OPENBLAS_CORETYPE is obeyed; unset, on an AVX-512
# CPU where OpenBLAS picks kernels without AVX-512 the program re-executes
# itself with SkylakeX ones, elsewhere it keeps OpenBLAS's choice
core() { env "$@" lmprobe --version | awk '/^OpenBLAS/ {print $(NF - 1)}'; }
is "$(core OPENBLAS_CORETYPE=Haswell)" Haswell "a set OPENBLAS_CORETYPE is obeyed"
picked=$(core -u OPENBLAS_CORETYPE SEQLM_NO_REEXEC=1)
want=$picked
if [ "$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -cE '^avx512(f|bw|dq|vl)$')" = 4 ]; then
	case $picked in SkylakeX|Cooperlake|SapphireRapids) ;; *) want=SkylakeX ;; esac
fi
is "$(core -u OPENBLAS_CORETYPE)" "$want" "unset OPENBLAS_CORETYPE: OpenBLAS picked $picked, the program runs $want kernels"
done_testing
