#!/usr/bin/python3
"""recrc.py IN OUT -- rewrites every frame CRC and the end frame of a tensor
stream (man/tns.5), so an input found by a fuzzer (which skips CRC checks)
reaches the same code in the real programs.  For tests/fuzz/regress."""
import struct, sys, zlib

b = bytearray(open(sys.argv[1], "rb").read())
pos, crc, n = 0, 0, 0
while pos + 32 <= len(b):
    kind = bytes(b[pos:pos + 4])
    flen = struct.unpack_from("<Q", b, pos + 8)[0]
    if kind[:3] != b"TNS" or flen < 64 or pos + flen > len(b):
        break
    if kind == b"TNSE":
        struct.pack_into("<Q", b, pos + 16, n)
        struct.pack_into("<QI", b, pos + 32, pos, crc)
    struct.pack_into("<I", b, pos + 4, zlib.crc32(bytes(b[pos + 8:pos + flen])))
    crc = zlib.crc32(bytes(b[pos:pos + flen]), crc)
    n += kind == b"TNSR"
    pos += flen
open(sys.argv[2], "wb").write(b)
