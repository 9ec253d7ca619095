#!/usr/bin/python3
"""hf_check.py -- checks a folder `lmconvert --to-hf DIR MODEL.tns` wrote,
with NumPy alone: model.safetensors read by its format (u64 LE header
length, JSON header, data; every tensor F32) holds exactly MODEL.tns's
parameters, bit for bit, under the same names and shapes and no tied
decoder copy (save_pretrained drops them); config.json has the keys
BertConfig writes (configuration_bert.py's __init__ arguments plus
architectures, model_type, torch_dtype) with MODEL.tns's values.

    /usr/bin/python3 tests/golden/hf_check.py DIR MODEL.tns     (exit 0: all good)"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tns_io import read_tns  # noqa: E402

BERTCONFIG = {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
              "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
              "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id",
              "position_embedding_type", "use_cache", "classifier_dropout"}


def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack_from("<Q", raw)[0]
    assert n % 8 == 0, "header not padded to 8 bytes"
    head = json.loads(raw[8:8 + n])
    meta = head.pop("__metadata__", {})
    data = raw[8 + n:]
    out, end = {}, 0
    for name, t in sorted(head.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = t["data_offsets"]
        assert b == end, name + ": not contiguous"
        assert t["dtype"] == "F32", name + ": " + t["dtype"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(t["shape"])
        end = e
    assert end == len(data), "data not covered exactly"
    return meta, out


def main(d, model):
    fails = []
    meta, st = read_safetensors(os.path.join(d, "model.safetensors"))
    header, recs = read_tns(model)
    params = recs[0][1]
    if meta != {"format": "pt"}:
        fails.append("__metadata__ %s" % meta)
    if set(st) != set(params):
        fails.append("names differ: only in safetensors %s, only in model %s"
                     % (sorted(set(st) - set(params)), sorted(set(params) - set(st))))
    for n in sorted(set(st) & set(params)):
        if st[n].shape != params[n].shape or st[n].tobytes() != params[n].tobytes():
            fails.append(n + ": differs")
    cfg = json.load(open(os.path.join(d, "config.json")))
    want = BERTCONFIG | {"architectures", "model_type", "torch_dtype"}
    if set(cfg) != want:
        fails.append("config keys: missing %s, extra %s" % (sorted(want - set(cfg)), sorted(set(cfg) - want)))
    kv = dict(l.split("\t")[1:3] for l in header if l.startswith("@KV\t"))
    if cfg.get("architectures") != ["BertForMaskedLM"] or cfg.get("model_type") != "bert":
        fails.append("architectures / model_type")
    for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
              "max_position_embeddings", "type_vocab_size", "pad_token_id"):
        if str(cfg.get(k)) != kv.get(k):
            fails.append("config %s %s, model %s" % (k, cfg.get(k), kv.get(k)))
    if np.float32(cfg.get("layer_norm_eps", 0)) != np.float32(float(kv["layer_norm_eps"])):
        fails.append("layer_norm_eps")
    for f in fails:
        print("hf_check: " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
