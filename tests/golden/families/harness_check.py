#!/usr/bin/python3
"""harness_check.py -- checks the family harness (famlib.run_reference and
the files it writes) against what the C tools do today, on the one family
member they already run: GENA-LM's forward with pre_layer_norm false is
HF BERT (gena_ref.py's self-check), so on ../hf_ref.py's f32 folder

  1. famlib's probabilities and Fisher group sums equal the committed
     tests/data/lmconvert/f32.probs.tns / f32.fisher.tsv (the fixtures
     lmprobe and fisherflow already match to 1e-5): same mask, same
     windows, same estimator;
  2. with BIN (a built bin/), lmconvert --from-hf then lmprobe --emit
     hidden:0..L give famlib's hidden.tns to 1e-5: hidden:0 is the
     embedding layer's output, hidden:L the states after layer L, on the
     analysis-masked input, as NAME.hidden.tns records them; and
     lmprobe --mask-each gives famlib's each.tns to 1e-5.

    /usr/bin/python3 tests/golden/families/harness_check.py [BIN]     (exit 0: all good)"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(os.path.dirname(here)))
sys.path.insert(0, here)
sys.path.insert(0, os.path.dirname(here))
import famlib as fl  # noqa: E402
import gena_ref  # noqa: E402
import hf_ref  # noqa: E402
from tns_io import read_tns  # noqa: E402

D = os.path.join(top, "tests", "data", "lmconvert")


def main(bindir):
    torch.set_default_dtype(torch.float64)
    fails = []
    w = json.load(open(os.path.join(D, "windows.json")))
    wins = list(zip(w["names"], w["tokens"]))
    c = dict(hf_ref.CFG, pre_layer_norm=False)
    sd = hf_ref.random_weights(1, torch.float32)
    tmp = tempfile.mkdtemp(prefix="harness.")
    fl.run_reference(tmp, "f32", sd, c, gena_ref.forward, wins, set(range(5)), hf_ref.MASK, hf_ref.PAD,
                     gena_ref.group_of)
    _, mine = read_tns(os.path.join(tmp, "f32.probs.tns"))
    _, ref = read_tns(os.path.join(D, "f32.probs.tns"))
    for (n1, a), (n2, b) in zip(mine, ref):
        if n1 != n2 or not all(np.array_equal(a[k], b[k]) for k in ("mask_pos", "labels")) or \
                np.abs(a["probs"] - b["probs"]).max() > 1e-6:
            fails.append("probs differ in " + n1)
    f1 = dict(l.split("\t") for l in open(os.path.join(tmp, "f32.fisher.tsv")).read().split("\n")[1:] if l)
    f2 = dict(l.split("\t") for l in open(os.path.join(D, "f32.fisher.tsv")).read().split("\n")[1:] if l)
    for k in f2:
        if abs(float(f1[k]) - float(f2[k])) > 1e-9 * abs(float(f2[k])):
            fails.append("fisher %s: %s, hf_ref %s" % (k, f1[k], f2[k]))
    print("harness_check: probabilities and Fisher sums as hf_ref.py's: %s" % ("no" if fails else "yes"))
    if bindir:
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
        m, wt, out = (os.path.join(tmp, x) for x in ("m.tns", "w.tns", "h.tns"))
        subprocess.check_call(["lmconvert", "--from-hf", os.path.join(D, "f32"), "-o", m], env=env)
        subprocess.check_call([sys.executable, os.path.join(top, "tests", "golden", "hf_windows.py"),
                               os.path.join(D, "windows.json"), m, wt])
        emit = sum((["--emit", "hidden:%d" % l] for l in range(c["num_hidden_layers"] + 1)), [])
        with open(out, "wb") as f:
            subprocess.check_call(["lmprobe", "--mask-prob", "0.3", "--mask-seed", "3"] + emit + ["-i", wt, m],
                                  stdout=f, env=env)
        _, got = read_tns(out)
        _, want = read_tns(os.path.join(tmp, "f32.hidden.tns"))
        worst = 0.0
        for (n1, a), (n2, b) in zip(got, want):
            keep = b["attention_mask"].astype(bool)
            for l in range(c["num_hidden_layers"] + 1):
                k = "hidden.%d.m0" % l
                worst = max(worst, float(np.abs(a[k][keep] - b[k][keep]).max()))
        if len(got) != len(want) or worst > 1e-5:
            fails.append("lmprobe --emit: largest difference %.2g over %d windows" % (worst, len(got)))
        print("harness_check: lmprobe --emit hidden:0..%d equal famlib's hidden.tns: largest difference %.2g"
              % (c["num_hidden_layers"], worst))
        with open(out, "wb") as f:
            subprocess.check_call(["lmprobe", "--mask-each", "-i", wt, m], stdout=f, env=env)
        _, got = read_tns(out)
        _, want = read_tns(os.path.join(tmp, "f32.each.tns"))
        worst = 0.0
        for (n1, a), (n2, b) in zip(got, want):
            if n1 != n2 or not np.array_equal(a["mask_pos"], b["mask_pos"]) or a["probs"].shape != b["probs"].shape:
                fails.append("lmprobe --mask-each: %s: other positions or shape" % n1)
                continue
            worst = max(worst, float(np.abs(a["probs"] - b["probs"]).max()))
        if len(got) != len(want) or worst > 1e-5:
            fails.append("lmprobe --mask-each: largest difference %.2g over %d windows" % (worst, len(got)))
        print("harness_check: lmprobe --mask-each equals famlib's each.tns: largest difference %.2g" % worst)
    shutil.rmtree(tmp)
    for f in fails:
        print("harness_check: " + f)
    return 1 if fails else 0


if __name__ == "__main__":
    if sys.argv[1:2] in (["-h"], ["--help"]):
        print(__doc__)
        sys.exit(0)
    sys.exit(main(os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None))
