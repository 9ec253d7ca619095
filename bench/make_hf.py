#!/usr/bin/python3
"""make_hf.py -- a random HF BertForMaskedLM folder of the paper's 90M size
(12 layers, hidden 768, 12 heads, FFN 3072, 512 positions) with a
DNABERT-style 6-mer vocab.txt, for bench/lmconvert.sh (NumPy only).

    /usr/bin/python3 bench/make_hf.py DIR [DTYPE]     DTYPE: F32 (default) or BF16"""
import itertools
import json
import os
import struct
import sys

import numpy as np

d, dtype = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "F32")
os.makedirs(d, exist_ok=True)
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + ["".join(p) for p in itertools.product("ACGT", repeat=6)]
V, H, L, F, P = len(vocab), 768, 12, 3072, 512
shapes = {"bert.embeddings.word_embeddings.weight": (V, H), "bert.embeddings.position_embeddings.weight": (P, H),
          "bert.embeddings.token_type_embeddings.weight": (2, H), "bert.embeddings.LayerNorm.weight": (H,),
          "bert.embeddings.LayerNorm.bias": (H,), "cls.predictions.bias": (V,),
          "cls.predictions.transform.dense.weight": (H, H), "cls.predictions.transform.dense.bias": (H,),
          "cls.predictions.transform.LayerNorm.weight": (H,), "cls.predictions.transform.LayerNorm.bias": (H,)}
for l in range(L):
    p = "bert.encoder.layer.%d." % l
    for n in ("query", "key", "value"):
        shapes[p + "attention.self.%s.weight" % n] = (H, H)
        shapes[p + "attention.self.%s.bias" % n] = (H,)
    shapes.update({p + "attention.output.dense.weight": (H, H), p + "attention.output.dense.bias": (H,),
                   p + "attention.output.LayerNorm.weight": (H,), p + "attention.output.LayerNorm.bias": (H,),
                   p + "intermediate.dense.weight": (F, H), p + "intermediate.dense.bias": (F,),
                   p + "output.dense.weight": (H, F), p + "output.dense.bias": (H,),
                   p + "output.LayerNorm.weight": (H,), p + "output.LayerNorm.bias": (H,)})
rng = np.random.default_rng(1)
header, off, size = {"__metadata__": {"format": "pt"}}, 0, 2 if dtype == "BF16" else 4
for n in sorted(shapes):
    nb = int(np.prod(shapes[n])) * size
    header[n] = {"dtype": dtype, "shape": list(shapes[n]), "data_offsets": [off, off + nb]}
    off += nb
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for n in sorted(shapes):
        x = (0.02 * rng.standard_normal(shapes[n], dtype=np.float32)).astype("<f4")
        f.write((x.view("<u4") >> 16).astype("<u2").tobytes() if dtype == "BF16" else x.tobytes())
cfg = {"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
       "hidden_dropout_prob": 0.1, "hidden_size": H, "intermediate_size": F, "layer_norm_eps": 1e-12,
       "max_position_embeddings": P, "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": L,
       "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": V}
with open(os.path.join(d, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2, sort_keys=True)
with open(os.path.join(d, "vocab.txt"), "w") as f:
    f.write("".join(t + "\n" for t in vocab))
