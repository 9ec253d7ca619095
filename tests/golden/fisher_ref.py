#!/usr/bin/python3
"""fisher_ref.py -- the empirical Fisher diagonal of the reference BERT
(bert_ref.py) by explicit per-example backward loops in PyTorch, float64:
the fixture for the C Fisher (common/model/fisher.c, fisherflow).

    /usr/bin/python3 tests/golden/fisher_ref.py OUTDIR    -> OUTDIR/fisher_tiny.fix

Estimators (docs/METHODS.md (d), fisher.h):
  batch   sum over batches of (grad of the batch-mean loss)^2 / masked tokens
  window  sum over windows of (grad of the window-mean loss)^2 / windows
  token   sum over masked tokens of (grad of the token's loss)^2 / tokens
Windows with no masked token count for nothing.  No dropout."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_ref import random_windows, tiny_model, write_fixture, t2n, PAD, CLS, SEP, MASK  # noqa: E402

BATCH = 2   # windows per batch for the batch estimator


def grads_of(model, names, tokens, labels):
    model.zero_grad()
    loss, _, _ = model(tokens, labels)
    loss.backward()
    params = dict(model.named_parameters())
    return {n: params[n].grad.detach().clone() for n in names}


def main(outdir):
    c, model, names, params = tiny_model(4321)
    B, T = 5, 12
    g = torch.Generator().manual_seed(7)
    lens = [12, 10, 8, 12, 6]
    masks = [[1, 4, 9], [2, 3, 7, 8], [], [5], [1, 2, 3, 4]]   # window 2 has none
    tokens, labels = random_windows(g, lens, T, c.V)
    for b in range(B):
        for t in masks[b]:
            labels[b, t] = tokens[b, t]
            tokens[b, t] = MASK                 # the analysis mask: all <MASK>
    fx = [("tokens", t2n(tokens).astype(np.int32)), ("labels", t2n(labels).astype(np.int32)),
          ("batch_size", np.array(BATCH, dtype=np.int32))]
    fx += [("w0." + n, t2n(params[n]).astype(np.float32)) for n in names]
    ntok = sum(len(m) for m in masks)
    nwin = sum(1 for m in masks if m)

    est = {k: {n: torch.zeros_like(params[n]) for n in names} for k in ("batch", "window", "token")}
    for b0 in range(0, B, BATCH):
        tk, lb = tokens[b0:b0 + BATCH], labels[b0:b0 + BATCH]
        if (lb >= 0).sum() == 0:
            continue
        gr = grads_of(model, names, tk, lb)
        for n in names:
            est["batch"][n] += gr[n] ** 2
    for b in range(B):
        if not masks[b]:
            continue
        gr = grads_of(model, names, tokens[b:b + 1], labels[b:b + 1])
        for n in names:
            est["window"][n] += gr[n] ** 2
        for t in masks[b]:
            one = torch.full_like(labels[b:b + 1], -1)
            one[0, t] = labels[b, t]
            gr = grads_of(model, names, tokens[b:b + 1], one)
            for n in names:
                est["token"][n] += gr[n] ** 2
    den = {"batch": ntok, "window": nwin, "token": ntok}
    for k in ("batch", "window", "token"):
        fx += [("fisher.%s.%s" % (k, n), t2n(est[k][n] / den[k])) for n in names]
    fx.append(("ntokens", np.array(ntok, dtype=np.int32)))
    fx.append(("nwindows", np.array(nwin, dtype=np.int32)))
    write_fixture(os.path.join(outdir, "fisher_tiny.fix"), fx)
    tot = {k: sum(float(v.sum()) for v in est[k].values()) / den[k] for k in est}
    print("fisher_ref: wrote %s/fisher_tiny.fix; totals %s" % (outdir, tot))


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/fisher")
