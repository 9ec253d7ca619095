#!/usr/bin/python3
"""seqtok_ref.py -- a plain-Python reference of seqtok's tokenizers, written
from the rules in seqtok(1) (not from the C code), used to make the golden
files under tests/data/seqtok/.

    seqtok_ref.py kmer  [--k 6] [--stride S] [--max-bp 2000] [--overlap 0]
                        [--window 512] [--skip-n F] [--split train|eval]
                        [--eval-frac F] [--split-seed S]  FILE...
    seqtok_ref.py char  [same options] FILE...
    seqtok_ref.py bpe   --merges HEADER.txt [--text] [same options] FILE...

Prints what `seqtok ... | tnsview --decode` prints: per window its name,
a tab, and its tokens (pads left out) separated by spaces.
FASTA and FASTQ, plain or gzip; text with --text (one document per line).
"""
import argparse, gzip, re, sys

SPECIALS = ["<UNK>", "<PAD>", "<CLS>", "<SEP>", "<MASK>"]

def normalise(s):
    """upper case; ACGT stay (U is T); white space and control bytes go;
    everything else (IUPAC codes, '-', '*') is N"""
    out = []
    for c in s:
        if c.isspace() or ord(c) < 32 or ord(c) == 127:
            continue
        c = c.upper()
        out.append("T" if c == "U" else c if c in "ACGT" else "N")
    return "".join(out)

def read_records(path):
    """(name, raw sequence) of FASTA or FASTQ"""
    op = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    lines = op(path, "rt", encoding="latin-1").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(">"):
            name, seq, i = line[1:].split()[0], [], i + 1
            while i < len(lines) and not lines[i].startswith(">"):
                seq.append(lines[i]); i += 1
            yield name, "".join(seq)
        elif line.startswith("@"):
            name = line[1:].split()[0]
            yield name, lines[i + 1]
            i += 4
        else:
            i += 1

def chunks(seq, max_bp, overlap):
    """pieces of max_bp bases; consecutive pieces share `overlap` bases; a
    piece that would hold only bases of the previous one is not made"""
    beg = 0
    while True:
        yield beg, seq[beg:beg + max_bp]
        if beg + max_bp >= len(seq):
            return
        beg += max_bp - overlap

def kmer_tokens(s, k, stride):
    """Nucleotide Transformer rule: N alone; k-mers left to right in each
    run of ACGT, every `stride` bases; bases after the last whole k-mer of
    a run are single tokens.  Returns (token string, start) pairs."""
    toks, i = [], 0
    while i < len(s):
        if s[i] == "N":
            toks.append(("N", i)); i += 1; continue
        j = i
        while j < len(s) and s[j] != "N":
            j += 1
        b, last_end = i, i
        while b + k <= j:
            toks.append((s[b:b + k], b)); last_end = b + k; b += stride
        for t in range(last_end, j):
            toks.append((s[t], t))
        i = j
    return toks

def char_tokens(s):
    return [(c, i) for i, c in enumerate(s)]

# ---- BPE: apply the merges of the vocabulary in order ---------------------
def load_bpe(header_txt):
    toks, merges, alphabet = [], [], None
    for line in open(header_txt, encoding="latin-1"):
        line = line.rstrip("\n")
        if line.startswith("@TK"):
            alphabet = "text" if "AL:text" in line else "dna"
        if line.startswith("@VO\t"):
            f = line.split("\t")
            toks.append(unescape(f[1]))
            if len(f) > 2:
                merges.append((int(f[2][2:]), int(f[3][2:])))
    return alphabet, toks, merges

def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            c = s[i + 1]
            if c == "x":
                out.append(chr(int(s[i + 2:i + 4], 16))); i += 4; continue
            out.append({"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}[c]); i += 2; continue
        out.append(s[i]); i += 1
    return "".join(out)

def bpe_apply(ids, merges, n_base):
    for r, (a, b) in enumerate(merges):
        z, out, i = n_base + r, [], 0
        while i < len(ids):
            if i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b:
                out.append(z); i += 2
            else:
                out.append(ids[i]); i += 1
        ids = out
    return ids

L, D, S = "A-Za-z\x80-\xff", "0-9", " \t\n\v\f\r"
PIECE = re.compile(f" ?[{L}]+| ?[{D}]+| ?[^{S}{L}{D}\x00]+|[{S}]+(?= [^{S}\x00])|[{S}]+|\x00")

def bpe_tokens(s, alphabet, toks, merges):
    """(token string, start) pairs; text is pre-split first"""
    if alphabet == "dna":
        pieces = [(s, 0)]
        base = {c: 5 + i for i, c in enumerate("ACGTN")}
        n_base = 10
    else:
        pieces = [(m.group(0), m.start()) for m in PIECE.finditer(s)]
        base = {chr(b): 4 + b for b in range(1, 256)}
        base["\x00"] = 0
        n_base = 260
    out = []
    for p, off in pieces:
        pos = off
        for t in bpe_apply([base[c] for c in p], merges, n_base):
            out.append((toks[t], pos))
            pos += 1 if t == 0 else len(toks[t])
    return out

# ---- the split: the same counter-based hash as common/base/rng.h ----------------
M64 = (1 << 64) - 1
def mix(x):
    x ^= x >> 30; x = (x * 0xbf58476d1ce4e5b9) & M64
    x ^= x >> 27; x = (x * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)
def hash4(seed, a, b, c):
    h = mix((seed + 0x9e3779b97f4a7c15) & M64)
    h = mix(h ^ ((a + 0x9e3779b97f4a7c15) & M64))
    h = mix(h ^ ((b + 0x632be59bd9b4e019) & M64))
    return mix(h ^ ((c + 0x85157af5) & M64))
def fnv1a(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & M64
    return h
def is_eval(name, seed, frac):
    h = hash4(seed, fnv1a(name.encode("latin-1")), 0x73706c6974, 0)
    return (h >> 11) * 2.0 ** -53 < frac

def escape(t):
    out = []
    for c in t:
        o = ord(c)
        if c == "\\": out.append("\\\\")
        elif c == "\t": out.append("\\t")
        elif c == "\n": out.append("\\n")
        elif c == "\r": out.append("\\r")
        elif o < 0x20 or o >= 0x7f: out.append("\\x%02x" % o)
        else: out.append(c)
    return "".join(out)

def windows(prefix, offset, piece, toks, a):
    per = a.window - 2
    for w in range(0, len(toks), per):
        part = toks[w:w + per]
        beg, end = part[0][1], part[-1][1] + (1 if part[-1][0] in SPECIALS else len(part[-1][0]))
        if a.skip_n is not None and piece is not None and piece[beg:end].count("N") > a.skip_n * (end - beg):
            continue
        name = f"{prefix}:{offset + beg + 1}-{offset + end}"
        if a.split != "all" and is_eval(name, a.split_seed, a.eval_frac) != (a.split == "eval"):
            continue
        yield name + "\t" + " ".join(["<CLS>"] + [escape(t) for t, _ in part] + ["<SEP>"])

def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["kmer", "char", "bpe"])
    p.add_argument("files", nargs="+")
    p.add_argument("--k", type=int, default=6)
    p.add_argument("--stride", type=int)
    p.add_argument("--max-bp", type=int, default=2000)
    p.add_argument("--overlap", type=int, default=0)
    p.add_argument("--window", type=int, default=512)
    p.add_argument("--skip-n", type=float)
    p.add_argument("--split", default="all")
    p.add_argument("--eval-frac", type=float, default=0.01)
    p.add_argument("--split-seed", type=int, default=42)
    p.add_argument("--merges")
    p.add_argument("--text", action="store_true")
    a = p.parse_args()
    out = []
    if a.mode == "bpe":
        alphabet, toks, merges = load_bpe(a.merges)
    if a.text:
        for path in a.files:
            for ln, line in enumerate(open(path, encoding="latin-1").read().split("\n"), 1):
                if not line.strip(" \t\r"):
                    continue
                line = line.rstrip("\r")
                t = bpe_tokens(line, alphabet, toks, merges) if a.mode == "bpe" else \
                    [(c if c != "\x00" else "<UNK>", i) for i, c in enumerate(line)]
                out += windows(f"{path}:{ln}", 0, None, t, a)
    else:
        for path in a.files:
            for name, raw in read_records(path):
                seq = normalise(raw)
                for beg, piece in chunks(seq, a.max_bp, a.overlap):
                    if a.mode == "kmer":
                        t = kmer_tokens(piece, a.k, a.stride or a.k)
                    elif a.mode == "char":
                        t = char_tokens(piece)
                    else:
                        t = bpe_tokens(piece, alphabet, toks, merges)
                    out += windows(name, beg, piece, t, a)
    sys.stdout.write("".join(l + "\n" for l in out))

if __name__ == "__main__":
    main()
