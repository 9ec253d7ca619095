#!/usr/bin/python3
"""tns_read.py -- read a seqlm tensor stream (.tns, plain or BGZF) with NumPy.

    from tns_read import read_tns
    header, records = read_tns("windows.tns")   # records: [(name, {tensor: ndarray})]
Checks every CRC and the end frame, like the C reader (man/tns.5).
As a command, tns_read.py FILE.tns prints the header and each record's
tensors (dtype and shape)."""
import gzip, struct, sys, zlib
import numpy as np
DTYPES = {1: "<u1", 2: "<i4", 3: "<i8", 4: "<f2", 5: "<f4", 6: "<f8"}

def frames(buf):
    pos, crc = 0, 0
    while pos < len(buf):
        kind, fcrc, flen, index, blen = struct.unpack_from("<4sIQQQ", buf, pos)
        frame = buf[pos:pos + flen]
        if kind[:3] != b"TNS" or flen % 64 or len(frame) != flen:
            raise ValueError(f"byte {pos}: bad or truncated frame")
        if zlib.crc32(frame[8:]) != fcrc:
            raise ValueError(f"byte {pos}: CRC mismatch")
        yield kind[3:], frame, index, blen, pos, crc
        crc = zlib.crc32(frame, crc)
        pos += flen

def read_tns(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    header, records, ended = None, [], False
    for kind, f, index, blen, pos, crc in frames(memoryview(raw)):
        if ended:
            raise ValueError("data after the end frame")
        if kind == b"H":
            header = bytes(f[32:32 + blen]).decode().splitlines()
        elif kind == b"R":
            nt, nl = struct.unpack_from("<II", f, 32)
            name, p, tensors = bytes(f[40:40 + nl]).decode(), 40 + (nl + 7) // 8 * 8, {}
            for _ in range(nt):
                dt, nd, tl = struct.unpack_from("<BBH", f, p)
                shape = struct.unpack_from("<4Q", f, p + 8)[:nd]
                off, nb = struct.unpack_from("<QQ", f, p + 40)
                tname = bytes(f[p + 56:p + 56 + tl]).decode()
                arr = np.frombuffer(f[off:off + nb], dtype=DTYPES[dt]).reshape(shape)
                tensors[tname] = arr
                p += 56 + (tl + 7) // 8 * 8
            records.append((name, tensors))
        elif kind == b"E":
            nbytes, scrc = struct.unpack_from("<QI", f, 32)
            if index != len(records) or nbytes != pos or scrc != crc:
                raise ValueError("end frame does not match the stream")
            ended = True
    if not ended:
        raise ValueError("truncated: no end frame")
    return header, records

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if sys.argv[1:] in (["-h"], ["--help"]) else 2)
    hdr, recs = read_tns(sys.argv[1])
    print("\n".join(hdr))
    for name, ts in recs:
        print(name, {k: (str(v.dtype), v.shape) for k, v in ts.items()})
