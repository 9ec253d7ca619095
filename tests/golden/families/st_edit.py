#!/usr/bin/python3
"""st_edit.py -- a safetensors file with a Python statement applied to its
tensors (t: name -> NumPy array; F32, F16, I64), written sorted by name as
the reference writer does: for the bad-input cases of tests/t/62-families.t.

    /usr/bin/python3 tests/golden/families/st_edit.py SRC DST 't["x"][0] += 1'"""
import json
import struct
import sys

import numpy as np

DT = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}


def main(src, dst, stmt):
    raw = open(src, "rb").read()
    n = struct.unpack_from("<Q", raw)[0]
    h = json.loads(raw[8:8 + n])
    meta = h.pop("__metadata__", None)
    t = {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                          dtype=DT[v["dtype"]]).reshape(v["shape"]).copy() for k, v in h.items()}
    exec(stmt, {"np": np, "t": t})
    hdr, data, off = {"__metadata__": meta} if meta else {}, b"", 0
    for k in sorted(t):
        b = t[k].tobytes()
        dt = [d for d, s in DT.items() if np.dtype(s) == t[k].dtype][0]
        hdr[k] = {"dtype": dt, "shape": list(t[k].shape), "data_offsets": [off, off + len(b)]}
        data += b
        off += len(b)
    j = json.dumps(hdr, separators=(",", ":")).encode()
    j += b" " * (-len(j) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(j)) + j + data)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    main(*sys.argv[1:])
