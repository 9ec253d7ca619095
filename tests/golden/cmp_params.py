"""cmp_params.py A.tns B.tns [RTOL]: compare the parameters (record 0) of two
model files; prints the largest difference of any tensor relative to that
tensor's largest magnitude, and exits 1 when it is over RTOL (default 1e-6)
or a tensor is missing.  attention.self.key.bias is compared in absolute
terms: its gradient is exactly zero in real arithmetic (softmax does not
change when every score of a row moves by the same amount), so it holds
only rounding noise around its initial zeros.  Used by
tests/t/35-lmtrain-mpi.t."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
from tns_read import read_tns  # noqa: E402


def params(path):
    _, records = read_tns(path)
    return records[0][1]


a, b = params(sys.argv[1]), params(sys.argv[2])
rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-6
if sorted(a) != sorted(b):
    print("different tensors:", sorted(set(a) ^ set(b)))
    sys.exit(1)
worst, where = 0.0, ""
for k in a:
    x, y = a[k].astype(np.float64), b[k].astype(np.float64)
    scale = np.abs(x).max()
    d = np.abs(x - y).max()
    if not k.endswith("attention.self.key.bias") and scale > 0:
        d /= scale
    if d > worst:
        worst, where = d, k
print("%.3g %s" % (worst, where))
sys.exit(0 if worst <= rtol else 1)
