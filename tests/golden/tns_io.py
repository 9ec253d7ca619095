"""tns_io.py -- write seqlm tensor streams from Python, for the reference
scripts that make the test fixtures (layout: man/tns.5).  Reading is
examples/tns_read.py.

    write_tns(path, header_lines, [(name, {tensor: ndarray}), ...])
header_lines are strings without newlines ("@KV\\tkey\\tvalue", ...);
"@HD\\tVN:1" is added first when missing."""
import os, struct, sys, zlib
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
from tns_read import read_tns  # noqa: E402,F401  (re-exported for the scripts)

CODES = {np.dtype("uint8"): 1, np.dtype("int32"): 2, np.dtype("int64"): 3,
         np.dtype("float16"): 4, np.dtype("float32"): 5, np.dtype("float64"): 6}

def _pad(b, m):
    return b + b"\0" * (-len(b) % m)

def _frame(kind, index, body):
    blen = len(body)
    flen = (32 + blen + 63) // 64 * 64
    rest = struct.pack("<QQQ", flen, index, blen) + body + b"\0" * (flen - 32 - blen)
    return b"TNS" + kind + struct.pack("<I", zlib.crc32(rest)) + rest

def _record(name, tensors):
    nb = name.encode()
    body = struct.pack("<II", len(tensors), len(nb)) + _pad(nb, 8)
    descs, arrays = [], []
    for tname, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        if arr.ndim > 4 or arr.dtype not in CODES:
            raise ValueError(f"{tname}: unsupported dtype or rank")
        descs.append((tname.encode(), arr))
    dir_len = 32 + len(body) + sum(56 + (len(t) + 7) // 8 * 8 for t, _ in descs)
    off, offsets = dir_len, []
    for _, arr in descs:
        off = (off + 63) // 64 * 64
        offsets.append(off)
        off += arr.nbytes
    for (tb, arr), o in zip(descs, offsets):
        shape = list(arr.shape) + [0] * (4 - arr.ndim)
        body += struct.pack("<BBHI4QQQ", CODES[arr.dtype], arr.ndim, len(tb), 0, *shape, o, arr.nbytes)
        body += _pad(tb, 8)
    for (_, arr), o in zip(descs, offsets):
        body += b"\0" * (o - 32 - len(body)) + arr.tobytes()
    return body

def write_tns(path, header_lines, records):
    lines = list(header_lines)
    if not lines or not lines[0].startswith("@HD\t"):
        lines.insert(0, "@HD\tVN:1")
    out = _frame(b"H", 1, "".join(l + "\n" for l in lines).encode())
    for i, (name, tensors) in enumerate(records):
        out += _frame(b"R", i, _record(name, tensors))
    out += _frame(b"E", len(records), struct.pack("<QII", len(out), zlib.crc32(out), 0))
    with open(path + ".tmp", "wb") as f:
        f.write(out)
    os.replace(path + ".tmp", path)
