#!/usr/bin/python3
"""st_mutate.py -- a broken copy of a safetensors file, one defect at a time,
for lmconvert's bad-input tests (standard library only).

    /usr/bin/python3 tests/golden/st_mutate.py MODE IN.safetensors OUT.safetensors

MODE: truncate (the data cut short), hdrlen (the header length points past
the end), overlap (a tensor starts inside the previous one), oob (the last
tensor reaches past the end of the data), gap (unused bytes between two
tensors), dtype (a dtype the format does not have), bigdim (a dimension of
2^62), dup (two tensors of the same name)."""
import json
import struct
import sys

mode, src, dst = sys.argv[1:4]
raw = open(src, "rb").read()
n = struct.unpack_from("<Q", raw)[0]
head = json.loads(raw[8:8 + n])
data = raw[8 + n:]
meta = head.pop("__metadata__", None)
names = sorted(head, key=lambda k: head[k]["data_offsets"])
SIZE = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8}


def pack(h, d, text=None):
    if text is None:
        full = ({"__metadata__": meta} if meta else {})
        full.update(h)
        text = json.dumps(full, separators=(",", ":"))
    b = text.encode()
    b += b" " * (-len(b) % 8)
    return struct.pack("<Q", len(b)) + b + d


if mode == "truncate":
    out = raw[:len(raw) - 100]
elif mode == "hdrlen":
    out = struct.pack("<Q", len(raw) + 100) + raw[8:]
elif mode == "overlap":
    t = head[names[3]]
    t["data_offsets"] = [t["data_offsets"][0] - 4, t["data_offsets"][1] - 4]
    out = pack(head, data)
elif mode == "oob":
    t = head[names[-1]]
    t["shape"] = [t["shape"][0] + 16] + t["shape"][1:]
    row = 1
    for x in t["shape"][1:]:
        row *= x
    t["data_offsets"][1] += 16 * row * SIZE[t["dtype"]]
    out = pack(head, data)
elif mode == "gap":
    cut = head[names[0]]["data_offsets"][1]
    for k in names[1:]:
        head[k]["data_offsets"] = [x + 8 for x in head[k]["data_offsets"]]
    out = pack(head, data[:cut] + b"\0" * 8 + data[cut:])
elif mode == "dtype":
    head[names[2]]["dtype"] = "Q7"
    out = pack(head, data)
elif mode == "bigdim":
    head[names[2]]["shape"] = [2 ** 62] + head[names[2]]["shape"]
    out = pack(head, data)
elif mode == "dup":
    text = json.dumps(({"__metadata__": meta} if meta else {}) | head, separators=(",", ":"))
    text = text.replace('"%s":' % names[1], '"%s":' % names[0])
    out = pack(None, data, text)
else:
    sys.exit("st_mutate: unknown mode " + mode)
open(dst, "wb").write(out)
