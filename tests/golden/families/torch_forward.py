#!/usr/bin/python3
"""torch_forward.py -- the PyTorch peer for issue 23's benchmark
(bench/families.sh): the family reference forward (the one the fixtures
come from, through families.load) in float32 on an HF folder, timed after
a warm-up.  Prints tokens_per_s (window tokens a second, the median of the
timed passes) and seconds.

    /usr/bin/python3 tests/golden/families/torch_forward.py DIR [--windows W.json] [-T 128] [-b 32] [-n 1]
                     [--threads N] [--mask-prob 0.10] [--mask-seed 1] [-o PROBS.tns]

--windows W.json (the references' NAME.windows.json layout, made by
bench/make_family.py for the bench): those windows, masked as lmprobe
masks them (common/model/evalmask.c with the vocabulary's special ids,
famlib.evalmask: the same positions for the same seed and names), and the
LM head and softmax at the masked positions only, as lmprobe computes
them; -o writes those probabilities in lmprobe's layout (mask_pos, labels,
probs f32[1,P,V] per window) for tnscmp against lmprobe's output.  Without
--windows: -b random windows of -T tokens, no mask, the head at every
position.  The forward is batched -b windows at a time (the last batch
may be smaller); one batch first as the warm-up, then -n timed passes
over all the windows.  OMP_WAIT_POLICY=PASSIVE unless set, and
torch.set_flush_denormal(True), as seqlm runs with FTZ/DAZ."""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.dirname(here))
import families  # noqa: E402
import famlib as fl  # noqa: E402
from tns_io import write_tns  # noqa: E402

# the first product of each family's LM head (nt_ref.forward,
# gena_ref.forward, dnabert2_ref.forward: fl.lin(x, sd, PREFIX)); the
# masked rows are gathered there, so that everything before it runs at
# every position and the head at the masked ones
HEAD_IN = ("lm_head.dense", "cls.predictions.transform.dense")


class HeadAt:
    """with HeadAt(sel): the references' head runs on x[sel] only"""
    def __init__(self, sel):
        self.sel, self.lin, self.used = sel, fl.lin, 0

    def __enter__(self):
        def lin(x, sd, prefix, bias=True):
            if prefix in HEAD_IN:
                x, self.used = x[self.sel], self.used + 1
            return self.lin(x, sd, prefix, bias)
        fl.lin = lin
        return self

    def __exit__(self, *exc):
        fl.lin = self.lin


def windows(a, c):
    """(names, ids [N,T], masked [N,T] bool or None, mask_id, pad_id)"""
    if not a.windows:
        g = torch.Generator().manual_seed(1)
        return None, torch.randint(5, c["vocab_size"], (a.b, a.T), generator=g), None, None, None
    w = json.load(open(a.windows))
    ids = torch.tensor(w["tokens"])
    special = set(w["special"])
    sel = torch.zeros(ids.shape, dtype=torch.bool)
    for i, (name, tok) in enumerate(zip(w["names"], w["tokens"])):
        sel[i, fl.evalmask(a.mask_seed, name, tok, a.mask_prob, special)] = True
    return w["names"], ids, sel, w["mask_id"], w["pad_id"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--windows")
    ap.add_argument("-T", type=int, default=128)
    ap.add_argument("-b", type=int, default=32)
    ap.add_argument("-n", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--mask-prob", type=float, default=0.10)
    ap.add_argument("--mask-seed", type=int, default=1)
    ap.add_argument("-o", "--out")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    try:
        fam, c, sd, forward = families.load(a.dir)
    except families.Refused as e:
        sys.exit("torch_forward: error: %s: %s" % (a.dir, e))
    names, ids, sel, mask_id, pad_id = windows(a, c)
    T = ids.shape[1]
    if fam != "dnabert2" and c.get("position_embedding_type", "absolute") == "absolute":
        room = c["max_position_embeddings"] - (c["pad_token_id"] + 1 if fam in ("esm", "nt2") else 0)
        if T > room:
            sys.exit("torch_forward: error: %s: windows of %d: the model has %d positions" % (a.dir, T, room))
    sd = {n: (x.float() if x.is_floating_point() else x) for n, x in sd.items()}
    if fam not in ("esm", "nt2"):
        # BERT's ACT2FN["gelu"] (transformers activations.py, GELUActivation)
        # and MosaicBERT's nn.GELU are the fused F.gelu, the same function as
        # famlib's erf formula, which only ESM's own gelu() spells out
        fl.erf_gelu = F.gelu
    inp = ids if sel is None else torch.where(sel, torch.full_like(ids, mask_id), ids)
    am = torch.ones_like(ids) if pad_id is None else (ids != pad_id).long()
    batches = [slice(b0, b0 + a.b) for b0 in range(0, ids.shape[0], a.b)]

    def run(s):
        if sel is None:
            return F.softmax(forward(sd, c, inp[s], am[s])[0], -1)
        with HeadAt(sel[s]) as h:
            logits = forward(sd, c, inp[s], am[s])[0]
        if h.used != 1 or logits.shape != (int(sel[s].sum()), c["vocab_size"]):
            sys.exit("torch_forward: error: %s: the %s reference's head no longer starts with fl.lin(%s): "
                     "update HEAD_IN" % (a.dir, fam, " or ".join(HEAD_IN)))
        return F.softmax(logits, -1)

    times = []
    with torch.no_grad():
        run(batches[0])
        for _ in range(a.n):
            t0 = time.perf_counter()
            probs = [run(s) for s in batches]
            times.append(time.perf_counter() - t0)
    print("tokens_per_s\t%.1f" % (ids.numel() / statistics.median(times)))
    print("seconds\t%.3f" % statistics.median(times))
    print("family\t%s\tT=%d\tb=%d\tthreads=%d\twindows=%d" % (fam, T, a.b, a.threads, ids.shape[0]))
    if a.out and sel is not None:
        p = torch.cat(probs).numpy()
        recs, k = [], 0
        for i, name in enumerate(names):
            pos = sel[i].nonzero()[:, 0].numpy().astype(np.int32)
            recs.append((name, {"mask_pos": pos, "labels": ids[i, pos].numpy().astype(np.int32),
                                "probs": p[k:k + len(pos)][None].astype(np.float32)}))
            k += len(pos)
        write_tns(a.out, [], recs)


if __name__ == "__main__":
    main()
