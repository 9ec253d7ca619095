#!/usr/bin/python3
"""families.py -- which family an HF folder is, and whether the references
can run it: the rules the C side's lmconvert should follow (README.md
here), as code.  load(DIR) returns (family, config, weights, forward) or
raises Refused with the reason; bad_ref.py checks that every bad folder
is refused, for the reason its MANIFEST says.

    /usr/bin/python3 tests/golden/families/families.py DIR...    (prints the family or the reason)

Families: nt2 (NT v2 remote code), esm (upstream EsmForMaskedLM: NT v1,
ESM-1b/2), gena (BERT with pre_layer_norm), dnabert2 (MosaicBERT), bert
(plain post-LN BERT: GENA's code with pre_layer_norm false)."""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import dnabert2_ref  # noqa: E402
import famlib as fl  # noqa: E402
import gena_ref  # noqa: E402
import nt_ref  # noqa: E402


class Refused(Exception):
    pass


# keys only one family's code reads (the configs keep unknown keys silently)
OWN_KEYS = {
    "esm": ("emb_layer_norm_before", "token_dropout", "add_bias_fnn", "esmfold_config", "is_folding_model",
            "vocab_list"),
    "gena": ("pre_layer_norm", "last_layer_norm"),
    "dnabert2": ("alibi_starting_size",),
}
# tensors a checkpoint may carry that no forward reads
IGNORED = ("rotary_embeddings.inv_freq", "embeddings.position_ids", "cls.predictions.decoder.weight",
           "cls.predictions.decoder.bias", "bert.pooler.", "cls.seq_relationship.")


def family_of(c):
    mt = c.get("model_type")
    amap = " ".join(str(v) for v in (c.get("auto_map") or {}).values())
    if mt == "big_bird" or "sparse_config_cls" in c or "sparse_attention" in c:
        raise Refused("sparse attention (%s) is not supported" %
                      ("model_type big_bird" if mt == "big_bird" else "sparse_config_cls/sparse_attention"))
    has = {f: sorted(k for k in keys if k in c) for f, keys in OWN_KEYS.items()}
    if "esm_config." in amap or mt == "esm":
        fam = "esm"
    elif "bert_layers." in amap or has["dnabert2"]:
        fam = "dnabert2"
    elif mt == "bert":
        fam = "gena" if has["gena"] else "bert"
    else:
        raise Refused("model_type %r is not supported" % mt)
    own = "gena" if fam == "bert" else fam
    other = {f: k for f, k in has.items() if f != own and k}
    if other:
        f, k = sorted(other.items())[0]
        raise Refused("config.json mixes families: %s is %s's, but the model is %s" % (", ".join(k), f, fam))
    if fam == "gena" and c.get("last_layer_norm") and not c.get("pre_layer_norm"):
        raise Refused("last_layer_norm needs pre_layer_norm (GENA's BertEncoder refuses it)")
    if fam == "esm" and "add_bias_fnn" in c:
        fam = "nt2"
    pe = c.get("position_embedding_type", "absolute")
    if fam == "dnabert2":
        pe = "alibi"
    elif pe not in ("absolute", "rotary") or (pe == "rotary" and fam not in ("esm", "nt2")):
        raise Refused("position_embedding_type %r is not supported for %s" % (pe, fam))
    if pe == "rotary" and (c["hidden_size"] // c["num_attention_heads"]) % 2:
        raise Refused("rotary position embeddings need an even head size, not %d (hidden_size %d / %d heads)"
                      % (c["hidden_size"] // c["num_attention_heads"], c["hidden_size"], c["num_attention_heads"]))
    return fam


MODULES = {"nt2": nt_ref, "esm": nt_ref, "gena": gena_ref, "bert": gena_ref, "dnabert2": dnabert2_ref}


def load(d):
    c = json.load(open(os.path.join(d, "config.json")))
    fam = family_of(c)
    if fam in ("gena", "bert"):
        c = dict(c, pre_layer_norm=c.get("pre_layer_norm", False))
    c.setdefault("type_vocab_size", 2)
    mod = MODULES[fam]
    want = mod.shapes(c)
    st = fl.read_safetensors(os.path.join(d, "model.safetensors"))
    for n, shp in want.items():
        if n not in st:
            raise Refused("tensor %s is missing (the config wants shape %s)" % (n, list(shp)))
        if tuple(st[n].shape) != tuple(shp):
            raise Refused("tensor %s has shape %s but the config wants %s" % (n, list(st[n].shape), list(shp)))
    for n in st:
        if n not in want and not any(i in n for i in IGNORED):
            raise Refused("unexpected tensor %s" % n)
    return fam, c, {n: st[n] for n in want}, mod.forward


if __name__ == "__main__":
    rc = 0
    for d in sys.argv[1:]:
        try:
            print("%s: %s" % (d, load(d)[0]))
        except Refused as e:
            print("%s: refused: %s" % (d, e))
            rc = 1
    sys.exit(rc)
