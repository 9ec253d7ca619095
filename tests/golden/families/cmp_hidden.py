#!/usr/bin/python3
"""cmp_hidden.py -- lmprobe --emit hidden:L output against a family
fixture's NAME.hidden.tns, only where its attention_mask is 1 (what a
family leaves at padding differs: DNABERT-2 never computes it).

    /usr/bin/python3 tests/golden/families/cmp_hidden.py GOT.tns NAME.hidden.tns 0,1,2 1e-5

Exit 0 when every window is there under its name and every hidden.L.m0
value at a real token is within the absolute tolerance; prints the
largest difference."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tns_io import read_tns  # noqa: E402


def main(got_path, want_path, layers, tol):
    try:
        _, got = read_tns(got_path)
        _, want = read_tns(want_path)
    except (OSError, ValueError) as e:
        print("cmp_hidden: %s" % e)
        return 1
    if [n for n, _ in got] != [n for n, _ in want]:
        print("cmp_hidden: windows differ: %d vs %d" % (len(got), len(want)))
        return 1
    worst = 0.0
    for (name, a), (_, b) in zip(got, want):
        keep = b["attention_mask"].astype(bool)
        for l in layers:
            k = "hidden.%d.m0" % l
            if k not in a or a[k].shape != b[k].shape:
                print("cmp_hidden: %s: %s missing or of another shape" % (name, k))
                return 1
            d = np.abs(a[k][keep].astype(np.float64) - b[k][keep])
            worst = max(worst, float(d.max()) if d.size else 0.0)
            if not np.all(np.isfinite(a[k][keep])):
                worst = float("inf")
    print("cmp_hidden: %d windows, layers %s: largest difference %.3g" % (len(got), ",".join(map(str, layers)), worst))
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")], float(sys.argv[4])))
