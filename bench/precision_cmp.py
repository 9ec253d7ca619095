#!/usr/bin/python3
"""precision_cmp.py -- lmprobe --precision bf16 against fp32 on the same
windows and models: the probability tensors ("probs", [positions, V] per
model) of two lmprobe outputs, compared position by position.

    precision_cmp.py FP32.tns BF16.tns

prints the largest and the mean absolute difference of the probabilities,
the mean and largest Jensen-Shannon distance (base 2, in [0,1]) between the
two distributions at a position, the mean absolute difference of their
entropies (bits), and how often the most probable token differs."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from tns_read import read_tns  # noqa: E402


def probs(path):
    out = []
    for _, ts in read_tns(path)[1]:
        for name, a in ts.items():
            if name.startswith("probs"):
                out.append(a.reshape(-1, a.shape[-1]).astype(np.float64))
    return np.concatenate(out)


def H(p):
    return -(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0)).sum(-1)


a, b = probs(sys.argv[1]), probs(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
d = np.abs(a - b)
m = 0.5 * (a + b)
js = np.sqrt(np.maximum(H(m) - 0.5 * (H(a) + H(b)), 0))
print("positions\t%d\tV\t%d" % a.shape)
print("max_abs_diff\t%.3g" % d.max())
print("mean_abs_diff\t%.3g" % d.mean())
print("js_distance_mean\t%.3g" % js.mean())
print("js_distance_max\t%.3g" % js.max())
print("entropy_abs_diff_mean_bits\t%.3g" % np.abs(H(a) - H(b)).mean())
print("argmax_differs\t%.4f" % (a.argmax(-1) != b.argmax(-1)).mean())
