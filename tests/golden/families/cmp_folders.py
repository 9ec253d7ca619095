#!/usr/bin/python3
"""cmp_folders.py -- an HF folder lmconvert --to-hf wrote against the
fixture it came from: families.py must load both as the same family
(every tensor the family's code reads there, under its own name and
shape, nothing unexpected), with the same values (the fixture's F16/BF16
values are exact in float32; ESM's contact head and NT v2's unused
position embeddings, which seqlm does not keep, are zeros) and the same
config numbers.

    /usr/bin/python3 tests/golden/families/cmp_folders.py WRITTEN FIXTURE"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families  # noqa: E402

KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "layer_norm_eps", "pad_token_id", "mask_token_id", "position_embedding_type", "emb_layer_norm_before",
        "token_dropout", "tie_word_embeddings", "add_bias_fnn", "pre_layer_norm", "last_layer_norm")

# what no masked LM reads and seqlm does not keep: written as zeros
NOT_KEPT = ("esm.contact_head.regression.weight", "esm.contact_head.regression.bias")
NT2_UNUSED = "esm.embeddings.position_embeddings.weight"     # beside rotary ones (R 220-224)


def main(a, b):
    try:
        fa, ca, wa, _ = families.load(a)
        fb, cb, wb, _ = families.load(b)
    except families.Refused as e:
        print("cmp_folders: refused: %s" % e)
        return 1
    bad = [] if fa == fb else ["family %s, fixture %s" % (fa, fb)]
    for k in KEYS:
        va, vb = ca.get(k), cb.get(k)
        if k == "last_layer_norm" and fa == "gena":
            va, vb = ca.get(k, ca.get("pre_layer_norm")), cb.get(k, cb.get("pre_layer_norm"))
        if k in ("emb_layer_norm_before", "token_dropout"):
            va, vb = bool(va), bool(vb)
        if k == "tie_word_embeddings" and fa != "dnabert2":
            va, vb = ca.get(k, True), cb.get(k, True)
        if k == "pad_token_id" and fa == "dnabert2":
            continue                       # none in DNABERT-2's config: the tokenizer's
        if va != vb:
            bad.append("%s: %r, fixture %r" % (k, va, vb))
    if sorted(wa) != sorted(wb):
        bad.append("tensors differ: %s" % sorted(set(wa) ^ set(wb)))
    for n in sorted(set(wa) & set(wb)):
        if n in NOT_KEPT or (fa == "nt2" and ca["position_embedding_type"] == "rotary" and n == NT2_UNUSED):
            continue
        if not np.array_equal(wa[n].numpy(), wb[n].numpy()):
            bad.append("tensor %s differs" % n)
    for x in bad:
        print("cmp_folders: " + x)
    print("cmp_folders: %s: %s, %d tensors %s" % (a, fa, len(wa), "differ" if bad else "equal"))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
