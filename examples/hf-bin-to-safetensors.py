#!/usr/bin/python3
"""hf-bin-to-safetensors.py -- turn a HuggingFace model folder's PyTorch
pickle (pytorch_model.bin, or shards with pytorch_model.bin.index.json) into
safetensors, which `lmconvert --from-hf` reads.  Needs PyTorch, nothing
else (no transformers, no safetensors package).

    python3 examples/hf-bin-to-safetensors.py DIR

writes DIR/model.safetensors (or model-0000N-of-0000M.safetensors and
model.safetensors.index.json); each file is written whole (.tmp, renamed).
Loading a pickle runs code from it: convert only files you trust.  With
PyTorch >= 1.13 the loader is restricted to tensors (weights_only)."""
import json
import os
import struct
import sys

import torch

CODES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
         torch.uint8: "U8", torch.bool: "BOOL"}


def load(path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:                     # PyTorch older than 1.13
        return torch.load(path, map_location="cpu")


def to_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:         # NumPy has no bfloat16: the same bits as int16
        t = t.view(torch.int16)
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def write_safetensors(path, sd):
    """the safetensors layout: u64 little-endian header length, a JSON header
    (padded with spaces to a multiple of 8), the tensors' bytes in order"""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(sd):
        t = sd[name]
        if t.dtype not in CODES:
            sys.exit("hf-bin-to-safetensors: %s: dtype %s has no safetensors code" % (name, t.dtype))
        b = to_bytes(t)
        header[name] = {"dtype": CODES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def main(d):
    index = os.path.join(d, "pytorch_model.bin.index.json")
    if os.path.exists(index):
        wmap = json.load(open(index))["weight_map"]
        files = sorted(set(wmap.values()))
        new = {}
        for i, fn in enumerate(files):
            out = "model-%05d-of-%05d.safetensors" % (i + 1, len(files))
            sd = load(os.path.join(d, fn))
            write_safetensors(os.path.join(d, out), sd)
            new.update({k: out for k in sd})
        with open(os.path.join(d, "model.safetensors.index.json.tmp"), "w") as f:
            json.dump({"metadata": {}, "weight_map": dict(sorted(new.items()))}, f, indent=2)
        os.replace(os.path.join(d, "model.safetensors.index.json.tmp"), os.path.join(d, "model.safetensors.index.json"))
        print("hf-bin-to-safetensors: %s: %d shards" % (d, len(files)))
        return
    sd = load(os.path.join(d, "pytorch_model.bin"))
    write_safetensors(os.path.join(d, "model.safetensors"), sd)
    print("hf-bin-to-safetensors: wrote %s (%d tensors)" % (os.path.join(d, "model.safetensors"), len(sd)))


if __name__ == "__main__":
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip() + "\n\nusage: hf-bin-to-safetensors.py DIR")
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit("usage: hf-bin-to-safetensors.py DIR")
    main(sys.argv[1])
