#!/usr/bin/python3
"""variants_ref.py -- the attention and FFN variants of issue 23 on a
post-LN BERT, in float64 PyTorch, for tests/unit/test_variants.c: what the
DNABERT-2 fixtures (tests/golden/families, ALiBi + GeGLU) do not show on
their own, the rotary position embeddings of Nucleotide Transformer v2 and
ESM-2 (with NT v2's SwiGLU feed-forward without biases), under seqlm's own
parameter names (the table's, common/model/bert_table.c).

    /usr/bin/python3 tests/golden/variants_ref.py OUTDIR

writes OUTDIR/variants_rotary.fix (tests/unit/fixture.h's format):
  w.NAME        every parameter, float32 values (the computation is float64
                on exactly these values)
  tokens        i32 [B, T] (<PAD> = 1 at the end of two records)
  labels        i32 [B, T] (-1: not in the loss)
  hidden.L      f64 -> f32 [B*T, d], L = 0 (embeddings) .. layers
  probs         [B*T, V] softmax of the logits at every row
  loss          [1] mean cross-entropy over the labelled rows
  g.NAME        d loss / d parameter (autograd)

The rotary embedding and SwiGLU are tests/golden/families/nt_ref.py's
(rotary, inv_freq: RotaryEmbedding of NT v2's remote modeling_esm.py
R 59-68, 107-153; SwiGLU: EsmIntermediate R 555-574; q scaled by dh^-0.5
before the rotation, R 399), which crosscheck_sources.py checks against that
source; the rest is BERT (tests/golden/bert_ref.py): post-LN layers, word +
token type 0 embeddings (no position embeddings: rotary replaces them),
LayerNorm, the key padding mask, the MLM head tied to the word embeddings.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "families"))
sys.path.insert(0, here)
from nt_ref import inv_freq, rotary  # noqa: E402
from bert_ref import write_fixture  # noqa: E402

V, L, D, H, FF, TV, B, T = 13, 2, 16, 2, 12, 2, 3, 9
EPS = 1e-12
PAD = 1


def names():
    """the table's tensors for pos rotary, ffn_kind swiglu, ffn_nobias, in
    its order (bert_table.c)"""
    s = [("bert.embeddings.word_embeddings.weight", (V, D)),
         ("bert.embeddings.token_type_embeddings.weight", (TV, D)),
         ("bert.embeddings.LayerNorm.weight", (D,)), ("bert.embeddings.LayerNorm.bias", (D,))]
    for l in range(L):
        p = "bert.encoder.layer.%d." % l
        for t in ("query", "key", "value"):
            s += [(p + "attention.self.%s.weight" % t, (D, D)), (p + "attention.self.%s.bias" % t, (D,))]
        s += [(p + "attention.output.dense.weight", (D, D)), (p + "attention.output.dense.bias", (D,)),
              (p + "attention.output.LayerNorm.weight", (D,)), (p + "attention.output.LayerNorm.bias", (D,)),
              (p + "intermediate.dense.weight", (2 * FF, D)), (p + "output.dense.weight", (D, FF)),
              (p + "output.LayerNorm.weight", (D,)), (p + "output.LayerNorm.bias", (D,))]
    s += [("cls.predictions.bias", (V,)),
          ("cls.predictions.transform.dense.weight", (D, D)), ("cls.predictions.transform.dense.bias", (D,)),
          ("cls.predictions.transform.LayerNorm.weight", (D,)), ("cls.predictions.transform.LayerNorm.bias", (D,))]
    return s


def weights(seed):
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for n, shape in names():
        sdv = 0.35 if len(shape) == 2 else 0.2
        x = torch.randn(shape, generator=g, dtype=torch.float64) * sdv
        if n.endswith("LayerNorm.weight"):
            x = x + 1.0
        sd[n] = x.float().double().requires_grad_(True)       # float32 values
    return sd


def ln(x, sd, p):
    return F.layer_norm(x, (D,), sd[p + ".weight"], sd[p + ".bias"], EPS)


def gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def forward(sd, ids):
    dh = D // H
    am = (ids != PAD)
    x = F.embedding(ids, sd["bert.embeddings.word_embeddings.weight"])
    x = x + sd["bert.embeddings.token_type_embeddings.weight"][0]
    x = ln(x, sd, "bert.embeddings.LayerNorm")
    ext = (~am)[:, None, None, :].double() * torch.finfo(torch.float64).min
    inv = inv_freq(dh)
    hid = [x]

    def heads(t):
        return t.view(B, T, H, dh).permute(0, 2, 1, 3)

    for l in range(L):
        p = "bert.encoder.layer.%d." % l

        def lin(t, n, bias=True):
            return F.linear(t, sd[p + n + ".weight"], sd[p + n + ".bias"] if bias else None)
        q = heads(lin(x, "attention.self.query")) * dh ** -0.5
        k = heads(lin(x, "attention.self.key"))
        v = heads(lin(x, "attention.self.value"))
        q, k = rotary(q, inv), rotary(k, inv)
        s = torch.matmul(q, k.transpose(-1, -2)) + ext
        ctx = torch.matmul(F.softmax(s, -1), v).permute(0, 2, 1, 3).reshape(B, T, D)
        a = ln(lin(ctx, "attention.output.dense") + x, sd, p + "attention.output.LayerNorm")
        u = lin(a, "intermediate.dense", False)
        x1, x2 = u.split(FF, -1)
        x = ln(lin(F.silu(x1) * x2, "output.dense", False) + a, sd, p + "output.LayerNorm")
        hid.append(x)
    c = "cls.predictions."
    t = ln(gelu(F.linear(x, sd[c + "transform.dense.weight"], sd[c + "transform.dense.bias"])), sd,
           c + "transform.LayerNorm")
    return F.linear(t, sd["bert.embeddings.word_embeddings.weight"], sd[c + "bias"]), hid


def main(outdir):
    sd = weights(23)
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(5, V, (B, T), generator=g)
    ids[1, 7:] = PAD
    ids[2, 5:] = PAD
    lab = torch.full((B, T), -1, dtype=torch.long)
    pick = torch.rand((B, T), generator=g) < 0.4
    pick &= ids != PAD
    lab[pick] = ids[pick]
    ids[pick & (torch.arange(T) % 2 == 1)] = 4        # some of them <MASK>
    logits, hid = forward(sd, ids)
    loss = F.cross_entropy(logits[lab >= 0], lab[lab >= 0])
    grads = torch.autograd.grad(loss, [sd[n] for n, _ in names()])
    out = [("w." + n, sd[n].detach().numpy().astype(np.float32)) for n, _ in names()]
    out += [("tokens", ids.numpy().astype(np.int32)), ("labels", lab.numpy().astype(np.int32))]
    out += [("hidden.%d" % l, h.detach().reshape(B * T, D).numpy()) for l, h in enumerate(hid)]
    out += [("probs", F.softmax(logits, -1).detach().reshape(B * T, V).numpy()),
            ("loss", np.array([loss.item()]))]
    out += [("g." + n, gr.numpy()) for (n, _), gr in zip(names(), grads)]
    os.makedirs(outdir, exist_ok=True)
    write_fixture(os.path.join(outdir, "variants_rotary.fix"), out)


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data", "engine"))
