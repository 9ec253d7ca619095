#!/usr/bin/python3
"""bad_ref.py -- bad-input folders for issue 23, made from the good ones
(run nt_ref.py, gena_ref.py and dnabert2_ref.py first), and what the
Python source does with each (shown by running the reference code where
it fails).  Writes OUTDIR/bad/NAME/ and OUTDIR/bad/MANIFEST.tsv:
NAME, what is wrong, what the source does, what seqlm should do.

    /usr/bin/python3 tests/golden/families/bad_ref.py [OUTDIR]   (default: this folder)

Not bad: ALiBi with a head count that is not a power of two.  MosaicBERT
takes the slopes of the nearest lower power of two p and then every
other slope of 2p (bert_layers.py D 383-389); dnabert2_h6/ is a good
fixture with 6 heads and its expected outputs."""
import json
import os
import shutil
import struct
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import families  # noqa: E402
import famlib as fl  # noqa: E402
import nt_ref  # noqa: E402

ROWS = []


def copy(outdir, src, name):
    d = os.path.join(outdir, "bad", name)
    if os.path.exists(d):
        shutil.rmtree(d)
    shutil.copytree(os.path.join(outdir, src), d)
    return d


def edit_config(d, **kv):
    p = os.path.join(d, "config.json")
    c = json.load(open(p))
    c.update(kv)
    fl.write_json(p, c, sort=False)
    return c


def drop_tensor(d, name):
    """model.safetensors without one tensor (its bytes cut, offsets shifted)"""
    p = os.path.join(d, "model.safetensors")
    raw = open(p, "rb").read()
    n = struct.unpack_from("<Q", raw)[0]
    h = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    b, e = h.pop(name)["data_offsets"]
    for k, t in h.items():
        if k != "__metadata__" and t["data_offsets"][0] >= e:
            t["data_offsets"] = [t["data_offsets"][0] - (e - b), t["data_offsets"][1] - (e - b)]
    t = json.dumps(h, separators=(",", ":")).encode()
    t += b" " * (-len(t) % 8)
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(t)) + t + data[:b] + data[e:])


def row(name, wrong, source, seqlm, expect):
    """expect: what families.load's refusal must say (checked at the end)"""
    ROWS.append((name, wrong, source, seqlm, expect))
    print("bad/%s: %s" % (name, wrong))


def odd_rotary(outdir):
    """NT v2 with hidden 18 and 2 heads: head size 9"""
    c = dict(nt_ref.configs()[1], hidden_size=18, intermediate_size=24)
    d = os.path.join(outdir, "bad", "rotary_odd")
    if os.path.exists(d):
        shutil.rmtree(d)
    shutil.copytree(os.path.join(outdir, "nt2"), d)
    sd = fl.random_weights(61, nt_ref.shapes(c), torch.float32)
    extra = {"esm.encoder.layer.%d.attention.self.rotary_embeddings.inv_freq" % l: nt_ref.inv_freq(9)
             for l in range(c["num_hidden_layers"])}
    fl.save_model(d, sd, torch.float32, extra)
    fl.write_json(os.path.join(d, "config.json"), c)
    try:        # what RotaryEmbedding(dim=9) does: 5 frequencies, cos/sin of width 10, q of width 9
        nt_ref.rotary(torch.zeros(1, 2, 4, 9), nt_ref.inv_freq(9))
        what = "runs (unexpected)"
    except RuntimeError as e:
        what = "RuntimeError in apply_rotary_pos_emb: " + str(e).splitlines()[0]
    row("rotary_odd", "position_embedding_type rotary with head size 9 (hidden_size 18, 2 heads)",
        what + " (R 59-68, 114-139: inv_freq = arange(0, 9, 2) has 5 entries, cat(freqs, freqs) is 10 wide)",
        "refuse: rotary needs an even head size (config.json names hidden_size/num_attention_heads)",
        "need an even head size, not 9")


def main(outdir):
    os.makedirs(os.path.join(outdir, "bad"), exist_ok=True)
    d = copy(outdir, "gena", "mixed_gena_alibi")
    edit_config(d, alibi_starting_size=512)
    row("mixed_gena_alibi", "a GENA-LM config (pre_layer_norm) with MosaicBERT's alibi_starting_size",
        "GENA's BertConfig keeps the unknown key and ignores it",
        "refuse: keys of two families (pre_layer_norm: GENA-LM; alibi_starting_size: DNABERT-2), say which",
        "mixes families: last_layer_norm, pre_layer_norm is gena's, but the model is dnabert2")
    d = copy(outdir, "nt2", "mixed_esm_preln")
    edit_config(d, pre_layer_norm=True)
    row("mixed_esm_preln", "an NT v2 (ESM) config with GENA's pre_layer_norm",
        "EsmConfig keeps it in **kwargs and ignores it (ESM is pre-LN anyway)",
        "refuse: pre_layer_norm is not an ESM key; say which keys clash",
        "mixes families: pre_layer_norm is gena's, but the model is esm")
    odd_rotary(outdir)
    d = copy(outdir, "dnabert2", "missing_gated")
    drop_tensor(d, "bert.encoder.layer.1.mlp.gated_layers.weight")
    row("missing_gated", "DNABERT-2 without bert.encoder.layer.1.mlp.gated_layers.weight",
        "from_pretrained warns 'newly initialized' and runs with random weights",
        "refuse: name the missing tensor and the shape the config wants ([2*intermediate_size, hidden_size] = [64, 16])",
        "tensor bert.encoder.layer.1.mlp.gated_layers.weight is missing (the config wants shape [64, 16])")
    d = copy(outdir, "nt2", "missing_swiglu")
    drop_tensor(d, "esm.encoder.layer.0.intermediate.dense.weight")
    row("missing_swiglu", "NT v2 without esm.encoder.layer.0.intermediate.dense.weight (the SwiGLU input, [2*24, 16])",
        "from_pretrained warns 'newly initialized' and runs with random weights",
        "refuse: name the missing tensor and the shape the config wants ([48, 16])",
        "tensor esm.encoder.layer.0.intermediate.dense.weight is missing (the config wants shape [48, 16])")
    d = copy(outdir, "gena", "gena_sparse")
    edit_config(d, sparse_config_cls="deepspeed.ops.sparse_attention:BigBirdSparsityConfig",
                sparse_attention={"num_heads": 2, "block": 64, "different_layout_per_head": True,
                                  "num_sliding_window_blocks": 3, "num_global_blocks": 2, "num_random_blocks": 3})
    row("gena_sparse", "GENA-LM with DeepSpeed block-sparse attention (sparse_config_cls, sparse_attention)",
        "needs deepspeed; sequence length must be a multiple of the block (G 261-267, 1124-1131, 1222-1224)",
        "refuse: sparse attention is not supported (name the key)",
        "sparse attention (sparse_config_cls/sparse_attention) is not supported")
    d = copy(outdir, "gena", "gena_bigbird")
    edit_config(d, model_type="big_bird", attention_type="block_sparse")
    row("gena_bigbird", "model_type big_bird (GENA-LM's BigBird models)",
        "transformers' BigBird (block-sparse attention)",
        "refuse: model_type big_bird is not supported (sparse attention)",
        "sparse attention (model_type big_bird) is not supported")
    d = copy(outdir, "gena", "gena_lastln_postln")
    edit_config(d, pre_layer_norm=False, last_layer_norm=True)
    row("gena_lastln_postln", "last_layer_norm true with pre_layer_norm false",
        "RuntimeError('last_layer_norm could be used only with pre_layer_norm=True') (G 769-770)",
        "refuse with the same reason",
        "last_layer_norm needs pre_layer_norm")
    good = {"nt1": "esm", "nt2": "nt2", "esmtd": "esm", "esmln": "esm", "gena": "gena", "gena_lastln": "gena",
            "dnabert2": "dnabert2", "dnabert2_h6": "dnabert2"}
    for name, fam in good.items():
        fl.check(families.load(os.path.join(outdir, name))[0] == fam, "%s/ loads as %s" % (name, fam))
    for name, *_, expect in ROWS:       # families.py (the rules as code) refuses each, for its reason
        try:
            families.load(os.path.join(outdir, "bad", name))
            fl.check(False, "bad/%s is refused" % name)
        except families.Refused as e:
            fl.check(expect in str(e), "bad/%s refused: %s" % (name, e))
    with open(os.path.join(outdir, "bad", "MANIFEST.tsv"), "w") as f:
        f.write("name\twrong\tsource\tseqlm\treference (families.py)\n")
        for r in ROWS:
            f.write("\t".join(r) + "\n")


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main(fl.outdir_arg(__doc__, here))
