#!/usr/bin/python3
"""hf_windows.py -- the token windows of hf_ref.py (windows.json) as a
window stream for MODEL.tns: the model's own @TK/@VO/@MG header lines, so the
vocabulary hash is the one lmconvert wrote (NumPy only, no torch).

    /usr/bin/python3 tests/golden/hf_windows.py windows.json MODEL.tns OUT.tns"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tns_io import read_tns, write_tns  # noqa: E402

w = json.load(open(sys.argv[1]))
header, _ = read_tns(sys.argv[2])
vl = [l for l in header if l.startswith(("@TK\t", "@VO\t", "@MG\t"))]   # the vocabulary, BPE merges included
recs = [(n, {"tokens": np.array(t, dtype=np.int32)}) for n, t in zip(w["names"], w["tokens"])]
write_tns(sys.argv[3], vl + ["@KV\twindow\t%d" % w["window"]], recs)
