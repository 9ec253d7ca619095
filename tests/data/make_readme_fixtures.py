#!/usr/bin/python3
"""make_readme_fixtures.py -- the small inputs of README.md's examples
(tests/data/readme/, run by tests/t/91-readme.t), cut from the demo slices:
  genome.fa.gz  17 records of 2 kb of human chr20 (demo/human_chr20_100k.fa)
  g.fa.gz       16 records of 2 kb of fly chr2R (demo/dmel_chr2R_50k.fa)
  book.txt      the first 240 lines of demo/moby_dick_head.txt
Records are named chrom:beg-end (1-based, inclusive).  Which windows seqtok's
--split puts in the held-out part is a hash of their names: besides 12
consecutive records, each file holds records chosen so that both -T 512 and
-T 128 leave held-out windows (seqtok --split eval is never empty).
Usage: tests/data/make_readme_fixtures.py (from the repository root)"""
import gzip
import sys

if sys.argv[1:]:
    print(__doc__)
    sys.exit(0 if sys.argv[1:] in (["-h"], ["--help"]) else 2)

def seq(path):
    return "".join(l.strip() for l in open(path) if not l.startswith(">"))

def cut(path, chrom, first, starts, out):
    s = seq(path)
    with gzip.GzipFile(out, "wb", 9, mtime=0) as f:
        for b in starts:
            r = s[b - first:b - first + 2000]
            f.write((">%s:%d-%d\n" % (chrom, b, b + 1999)).encode())
            for i in range(0, len(r), 60):
                f.write((r[i:i + 60] + "\n").encode())

D = "tests/data/demo/"
cut(D + "human_chr20_100k.fa", "20", 59901,
    [60101 + 2000 * i for i in range(12)] + [100001, 103001, 107201, 115201, 126601],
    "tests/data/readme/genome.fa.gz")
cut(D + "dmel_chr2R_50k.fa", "chr2R", 5000001,
    [5002201, 5007151, 5011901] + [5020001 + 2000 * i for i in range(12)] + [5047801],
    "tests/data/readme/g.fa.gz")
with open(D + "moby_dick_head.txt") as f, open("tests/data/readme/book.txt", "w") as o:
    o.writelines(f.readlines()[:240])
