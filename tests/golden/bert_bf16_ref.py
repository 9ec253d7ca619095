#!/usr/bin/python3
"""bert_bf16_ref.py -- the reference for `--precision bf16`: the model,
tokens, labels and weights of tests/data/engine/bert_tiny.fix, with every
matrix product taking its two inputs rounded to bfloat16 (float32 first,
then round-to-nearest-even, as the C engine rounds its float32 values:
common/base/mm.h) and summing exactly (float64); in the backward pass each
product's incoming gradient is rounded the same way (common/model/bert.c rounds
dY before dW = dY^T X and dX = dY W, and dS, dctx, P in the attention).
Everything else (LayerNorm, softmax, GELU, the loss, bias gradients) is
float64, unrounded.

    /usr/bin/python3 tests/golden/bert_bf16_ref.py DIR

reads DIR/bert_tiny.fix, writes DIR/bert_tiny_bf16.fix."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_ref import BertForMaskedLM, Cfg, Dropper, order_like_c, t2n, write_fixture  # noqa: E402


def read_fixture(path):
    """the tensors of a fixture (tests/unit/fixture.h's format)"""
    with open(path, "rb") as f:
        assert f.readline() == b"seqlm-fixture 1\n"
        index = []
        for line in iter(f.readline, b"end\n"):
            name, dt, nd, *dims = line.decode().split()
            index.append((name, "<f4" if dt == "f32" else "<i4", [int(x) for x in dims[:int(nd)]]))
        out = {}
        for name, dt, dims in index:
            n = int(np.prod(dims)) if dims else 1
            out[name] = np.frombuffer(f.read(4 * n), dtype=dt).reshape(dims)
        return out


def bf16(x):
    """float64 -> float32 -> bfloat16 (nearest even) -> float64"""
    return x.float().bfloat16().double()


class Bf16Product(torch.autograd.Function):
    """a @ b with both inputs rounded to bfloat16, exact sums; backward
    rounds the incoming gradient too: dA = r(g) r(b)^T, dB = r(a)^T r(g)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return bf16(a) @ bf16(b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        g = bf16(g)
        return g @ bf16(b).transpose(-1, -2), bf16(a).transpose(-1, -2) @ g


def main(d):
    fx = read_fixture(os.path.join(d, "bert_tiny.fix"))
    c = Cfg(V=40, L=2, d=16, h=2, ffn=32, max_pos=16)
    B, T = 3, 12
    model = BertForMaskedLM(c, mm=Bf16Product.apply).double()
    names = order_like_c(model)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for n in names:
            params[n].copy_(torch.from_numpy(fx["w0." + n].astype(np.float64)))
    tokens = torch.from_numpy(fx["tokens"].astype(np.int64))
    labels = torch.from_numpy(fx["labels"].astype(np.int64))

    out = []
    loss, logits, hidden = model(tokens, labels)
    loss.backward()
    out.append(("bf16.loss", np.array(loss.item())))
    out.append(("bf16.probs", t2n(F.softmax(logits, -1))))
    for l, h in enumerate(hidden):
        out.append(("bf16.hidden.%d" % l, t2n(h).reshape(B * T, c.d)))
    out += [("bf16.grad." + n, t2n(params[n].grad)) for n in names]

    model.zero_grad()
    loss_d, _, _ = model(tokens, labels, Dropper(seed=7, step=3, p_hidden=0.1, p_attn=0.2))
    loss_d.backward()
    out.append(("bf16.drop.loss", np.array(loss_d.item())))
    out += [("bf16.drop.grad." + n, t2n(params[n].grad)) for n in names]
    write_fixture(os.path.join(d, "bert_tiny_bf16.fix"), out)
    print("bert_bf16_ref: wrote %s/bert_tiny_bf16.fix (%d tensors), loss %.6f, dropout loss %.6f"
          % (d, len(out), loss.item(), loss_d.item()))


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/engine")
