#!/usr/bin/python3
"""engine_windows.py OUTDIR -- small real token-window streams for the
engine and lmtrain tests, cut from the committed demo slices of real corpora
(tests/data/demo): English characters of Moby-Dick, and non-overlapping DNA
3-mers of D. melanogaster chr2R.  Same layout as seqtok's output (<CLS>
tokens <SEP> <PAD>..., record names name:beg-end), so the tests do not
depend on seqtok.  Pure Python (no torch)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tns_io import write_tns  # noqa: E402

SPECIALS = ["<UNK>", "<PAD>", "<CLS>", "<SEP>", "<MASK>"]


def escape(s):
    out = []
    for ch in s.encode():
        c = chr(ch)
        if c == "\\":
            out.append("\\\\")
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif ch < 0x20 or ch >= 0x7F:
            out.append("\\x%02x" % ch)
        else:
            out.append(c)
    return "".join(out)


def fnv_more(h, s):
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001B3) & ((1 << 64) - 1)
    h ^= 10
    return (h * 0x100000001B3) & ((1 << 64) - 1)


def vocab_lines(kind, tokens, extra=""):
    """@TK + @VO lines with the hash of common/tok/vocab.c"""
    tk = "@TK\tTY:%s\tN:%d%s" % (kind, len(tokens), extra)
    vo = ["@VO\t" + escape(t) for t in tokens]
    h = 0xCBF29CE484222325
    for line in [tk] + vo:
        h = fnv_more(h, line)
    return [tk + "\tH:%016x" % h] + vo


def windows(name, ids, T, unit):
    """cut ids into windows of T-2 tokens: (record name, tokens[T])"""
    recs = []
    n = T - 2
    for i in range(0, len(ids), n):
        chunk = ids[i:i + n]
        if len(chunk) < 8:
            break
        w = np.full(T, 1, dtype=np.int32)
        w[0] = 2
        w[1:1 + len(chunk)] = chunk
        w[1 + len(chunk)] = 3
        recs.append(("%s:%d-%d" % (name, i * unit + 1, (i + len(chunk)) * unit), {"tokens": w}))
    return recs


def main(out):
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "demo")
    T = 64
    # English characters
    text = open(os.path.join(data, "moby_dick_head.txt"), encoding="utf-8").read()
    text = " ".join(text.split())[:24000]
    chars = sorted(set(text))
    vocab = SPECIALS + chars
    idx = {c: i + 5 for i, c in enumerate(chars)}
    ids = [idx[c] for c in text]
    hdr = vocab_lines("text-char", vocab) + ["@KV\twindow\t%d" % T]
    write_tns(os.path.join(out, "english_char.tns"), hdr, windows("moby_dick", ids, T, 1))
    # DNA 3-mers
    seq = "".join(l.strip() for l in open(os.path.join(data, "dmel_chr2R_50k.fa")) if not l.startswith(">"))
    seq = seq.upper()[:18000]
    kmers = ["".join((a, b, c)) for a in "ACGT" for b in "ACGT" for c in "ACGT"]
    vocab = SPECIALS + kmers + ["A", "C", "G", "T", "N"]
    kid = {k: i for i, k in enumerate(vocab)}
    ids = [kid.get(seq[i:i + 3], 0) for i in range(0, len(seq) - 2, 3)]
    hdr = vocab_lines("kmer", vocab, "\tK:3\tST:3") + ["@KV\twindow\t%d" % T]
    write_tns(os.path.join(out, "dna_3mer.tns"), hdr, windows("chr2R", ids, T, 3))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/engine")
