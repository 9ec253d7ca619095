#!/usr/bin/python3
"""probe_ref.py -- the lmprobe golden fixture: a tiny BERT model file (HF
names, as lmtrain writes it), a few token windows, and the softmax that
PyTorch (bert_ref.py, float64) gives at the analysis-masked positions.

    /usr/bin/python3 tests/golden/probe_ref.py OUTDIR
writes OUTDIR/probe_model.tns, probe_windows.tns, probe_expected.tns, and
probe_windows_long.tns (24 tokens: longer than the model's positions).
The mask is common/model/evalmask.c's, re-implemented here."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from bert_ref import Cfg, BertForMaskedLM, order_like_c, test_weights, hash4, PAD, CLS, SEP, MASK  # noqa: E402
from tns_io import write_tns  # noqa: E402

M64 = (1 << 64) - 1


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & M64
    return h


def vocab_lines(V):
    """a char-kind vocabulary of V tokens, with its hash (vocab.c)"""
    toks = ["<UNK>", "<PAD>", "<CLS>", "<SEP>", "<MASK>"] + ["t%d" % i for i in range(5, V)]
    tk = "@TK\tTY:char\tN:%d" % V
    vo = ["@VO\t" + t for t in toks]
    h = fnv1a("".join(l + "\n" for l in [tk] + vo).encode())
    return [tk + "\tH:%016x" % h] + vo


def evalmask(seed, name, tokens, q):
    key = fnv1a(name.encode())
    out = []
    for t, tok in enumerate(tokens):
        if tok < 5:
            continue
        if (hash4(seed, key, t, 0x6d61736b) >> 11) * 2.0 ** -53 < q:
            out.append(t)
    return out


def main(outdir):
    torch.manual_seed(2024)
    V, T, q, seed = 40, 16, 0.3, 3
    c = Cfg(V=V, L=2, d=16, h=2, ffn=32, max_pos=16)
    model = BertForMaskedLM(c).double()
    test_weights(model)
    names = order_like_c(model)
    params = dict(model.named_parameters())
    vl = vocab_lines(V)
    cfg = {"model_type": "bert", "vocab_size": V, "hidden_size": 16, "num_hidden_layers": 2,
           "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 16,
           "type_vocab_size": 1, "layer_norm_eps": "1e-12", "pad_token_id": PAD, "mask_token_id": MASK,
           "hidden_act": "gelu", "hidden_dropout_prob": "0.1", "attention_probs_dropout_prob": "0.1"}
    hdr = vl + ["@KV\t%s\t%s" % (k, v) for k, v in cfg.items()]
    write_tns(os.path.join(outdir, "probe_model.tns"), hdr,
              [("params", {n: params[n].detach().numpy().astype(np.float32) for n in names})])
    g = torch.Generator().manual_seed(5)
    recs, exp = [], []
    for i, n in enumerate([16, 12, 9, 16, 5]):
        tok = np.full(T, PAD, dtype=np.int32)
        tok[0], tok[n - 1] = CLS, SEP
        tok[1:n - 1] = torch.randint(5, V, (n - 2,), generator=g).numpy()
        name = "seq%d:%d-%d" % (i, 100 * i + 1, 100 * i + n)
        recs.append((name, {"tokens": tok}))
        pos = evalmask(seed, name, tok.tolist(), q)
        inp = tok.copy()
        inp[pos] = MASK
        with torch.no_grad():
            hidden = model.encode(torch.from_numpy(inp.astype(np.int64))[None])
            logits = model.head(hidden[-1][0, pos])
            p = F.softmax(logits, -1).numpy()
        exp.append((name, {"mask_pos": np.array(pos, dtype=np.int32), "labels": tok[pos].astype(np.int32),
                           "probs": p.astype(np.float32)[None]}))
    write_tns(os.path.join(outdir, "probe_windows.tns"), vl + ["@KV\twindow\t%d" % T], recs)
    write_tns(os.path.join(outdir, "probe_expected.tns"), vl, exp)
    # windows longer than the model's 16 positions, same tokenizer
    long = np.full(24, PAD, dtype=np.int32)
    long[0], long[1:23], long[23] = CLS, 7, SEP
    write_tns(os.path.join(outdir, "probe_windows_long.tns"), vl + ["@KV\twindow\t24"], [("long:1-22", {"tokens": long})])
    print("probe_ref: wrote %s/probe_{model,windows,expected}.tns; masked %s" %
          (outdir, [len(e[1]["mask_pos"]) for e in exp]))


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/probe")
