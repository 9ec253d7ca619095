#!/usr/bin/python3
"""torch_forward.py -- the PyTorch peer for issue 23's benchmark: the
family reference forward (the one the fixtures come from) in float32 on
an HF folder, timed.  Prints one line: family, window, batch, threads,
tokens/s (median of the runs after one warm-up).  Not a test and not
wired into `make bench` yet (the C side of the families comes first);
lmprobe's figure on the same folder, windows and thread count is the
other half of the ratio.

    /usr/bin/python3 tests/golden/families/torch_forward.py DIR [-T 128] [-b 8] [-n 5] [--threads N]

The forward computes the LM head at every position (lmprobe only at the
masked ones): with a large vocabulary that flatters lmprobe a little."""
import argparse
import statistics
import sys
import os
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("-T", type=int, default=128)
    ap.add_argument("-b", type=int, default=8)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        fam, c, sd, forward = families.load(a.dir)
    except families.Refused as e:
        sys.exit("torch_forward: error: %s: %s" % (a.dir, e))
    if fam != "dnabert2" and c.get("position_embedding_type", "absolute") == "absolute":
        room = c["max_position_embeddings"] - (c["pad_token_id"] + 1 if fam in ("esm", "nt2") else 0)
        if a.T > room:
            sys.exit("torch_forward: error: %s: -T %d: the model has %d positions" % (a.dir, a.T, room))
    sd = {n: (x.float() if x.is_floating_point() else x) for n, x in sd.items()}
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, c["vocab_size"], (a.b, a.T), generator=g)
    am = torch.ones_like(ids)
    times = []
    with torch.no_grad():
        for i in range(a.n + 1):
            t0 = time.perf_counter()
            forward(sd, c, ids, am)
            if i:
                times.append(time.perf_counter() - t0)
    print("%s\tT=%d\tb=%d\tthreads=%d\t%.0f tokens/s" % (fam, a.T, a.b, a.threads, a.b * a.T / statistics.median(times)))


if __name__ == "__main__":
    main()
