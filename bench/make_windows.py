#!/usr/bin/python3
"""make_windows.py OUT V T N -- N token windows of T positions over a
vocabulary of V (5 specials + V-5 tokens "t5"...), random tokens with a
random length per window (at least T/2), in seqtok's layout: for timing
lmtrain and its PyTorch peer on the same shapes."""
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "golden"))
from tns_io import write_tns  # noqa: E402
from engine_windows import SPECIALS, vocab_lines  # noqa: E402

out, V, T, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(7)
recs = []
for i in range(N):
    n = T if i % 2 == 0 else int(rng.integers(T // 2, T + 1))
    w = np.full(T, 1, dtype=np.int32)
    w[0], w[n - 1] = 2, 3
    w[1:n - 1] = rng.integers(5, V, n - 2)
    recs.append(("w%d:1-%d" % (i, n), {"tokens": w}))
vocab = SPECIALS + ["t%d" % i for i in range(5, V)]
write_tns(out, vocab_lines("text-char", vocab) + ["@KV\twindow\t%d" % T], recs)
