"""tsvlib.py -- what plots.py and report.py share: the conditions of the
reproduction and reading its TSVs."""
import csv
import math
import os

CONDITIONS = [("text-bpe", "English, BPE"), ("dna-bpe", "DNA, BPE"),
              ("dna-6mer", "DNA, 6-mers"), ("dna-char", "DNA, nucleotides")]


def rows(path):
    """the rows of a TSV with a header line, as dicts; [] if it is missing;
    '#' lines (lmtrain's command line and seeds) are skipped"""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader((l for l in f if not l.startswith("#")), delimiter="\t"))


def num(x):
    """a float, NaN for NA or nothing"""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def present(out):
    """the conditions that have a folder under out"""
    return [(c, label) for c, label in CONDITIONS if os.path.isdir(os.path.join(out, c))]


def fisher_shares(path):
    """fisherflow's TSV as {model: {embeddings, encoder, head: share}}, the
    encoder layers summed"""
    per = {}
    for r in rows(path):
        g = "encoder" if r["group"].startswith("encoder") else r["group"]
        per.setdefault(r["model"], {}).setdefault(g, 0.0)
        per[r["model"]][g] += num(r["share"])
    return per


def flow_shares(out, c):
    """the embeddings' Fisher share over training of condition c, from
    member 1's lmtrain --fisher-log (flow1.tsv): [(step, share)], sorted"""
    pts = {}
    for r in rows(os.path.join(out, c, "flow1.tsv")):
        if r.get("group") == "embeddings":
            pts[int(num(r["step"]))] = num(r["share"])
    return sorted(pts.items())


def data_entropy(out, c):
    """{order: (conditional entropy in nats, majority accuracy)} of a
    condition's eval windows, from `entropy --tokens` (data_entropy.tsv);
    the accuracy is NaN where the file predates its majority_acc column"""
    return {int(num(r["order"])): (num(r["entropy_bits"]) * math.log(2), num(r.get("majority_acc")))
            for r in rows(os.path.join(out, c, "data_entropy.tsv"))}
