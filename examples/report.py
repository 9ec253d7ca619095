#!/usr/bin/python3
"""report.py OUT > REPORT.md -- the report of examples/reproduce.sh: one
table per finding, text and DNA side by side, the measured numbers, the
paper's claim, and whether the claim reproduced at this scale.

It checks, not assumes: first whether each condition's models learned
(best eval loss against the eval data's unigram entropy, accuracy against
the majority baseline, both from `entropy --tokens`); a finding is
"reproduced" only when every English member learned and the DNA-text
difference lies beyond its 95% bootstrap interval (resampling the members,
or the member pairs, of each condition); otherwise it is "not shown at this
scale", with the reason."""
import math
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tsvlib import CONDITIONS, data_entropy, fisher_shares, flow_shares, num, rows  # noqa: E402

DNA = ["dna-bpe", "dna-6mer", "dna-char"]


def ms(values):
    v = [x for x in values if not math.isnan(x)]
    if not v:
        return math.nan, math.nan
    return statistics.fmean(v), statistics.pstdev(v) if len(v) > 1 else 0.0


def fmt(m, s=None, d=3):
    if math.isnan(m):
        return "NA"
    return ("%.*f" % (d, m)) + ("" if s is None or math.isnan(s) else " ± %.*f" % (d, s))


def vocab_size(out, c):
    for r in rows(os.path.join(out, c, "entropy.tsv")):
        return num(r["entropy_bits"]) + num(r["kl_uniform_bits"])     # = log2 V
    return math.nan


# what "learned" means (issue: the text side must learn before a contrast
# with DNA says anything): best eval loss at least LOSS_MARGIN nats below
# the eval data's unigram entropy, and accuracy at least ACC_FACTOR x the
# majority baseline, in every member
LOSS_MARGIN = 1.5
ACC_FACTOR = 2.0
BOOT = 10000            # bootstrap resamples of each difference


def boot_diff(a, b, seed=1):
    """mean(a) - mean(b) and its 95% percentile bootstrap interval,
    resampling a and b (members or pairs) with replacement"""
    a = [x for x in a if not math.isnan(x)]
    b = [x for x in b if not math.isnan(x)]
    if not a or not b:
        return math.nan, math.nan, math.nan
    rng = random.Random(seed)
    d = sorted(statistics.fmean(rng.choices(a, k=len(a))) - statistics.fmean(rng.choices(b, k=len(b)))
               for _ in range(BOOT))
    return statistics.fmean(a) - statistics.fmean(b), d[int(0.025 * BOOT)], d[int(0.975 * BOOT) - 1]


def fmt_diff(t):
    return "NA" if math.isnan(t[0]) else "%+.3f [%+.3f, %+.3f]" % t


def members(out, c):
    """per member: (best eval loss in nats, eval accuracy there), from train*.tsv"""
    res = []
    for s in range(1, 6):
        ev = [x for x in rows(os.path.join(out, c, "train%d.tsv" % s)) if not math.isnan(num(x.get("eval_loss")))]
        if ev:
            b = min(ev, key=lambda x: num(x["eval_loss"]))
            res.append((num(b["eval_loss"]), num(b["eval_acc"])))
    return res


def learned(out, c):
    """(did every member learn, why not): the thresholds above"""
    m, base = members(out, c), data_entropy(out, c)
    if not m:
        return False, "no training log"
    if 0 not in base:
        return False, "no data_entropy.tsv (entropy --tokens of the eval windows)"
    h0, maj = base[0]
    worst = max(x[0] for x in m)
    if not worst <= h0 - LOSS_MARGIN:
        return False, "best eval loss %.3f nats (worst member) is not %.1f nats below the unigram entropy %.3f" % (
            worst, LOSS_MARGIN, h0)
    if math.isnan(maj):
        return False, "the majority baseline is unknown (data_entropy.tsv has no majority_acc column)"
    acc = min(x[1] for x in m)
    if not acc >= ACC_FACTOR * maj:
        return False, "eval accuracy %.4f (worst member) is not %.0fx the majority baseline %.4f" % (acc, ACC_FACTOR, maj)
    return True, ""


# options of lmtrain's command line that name files, not the recipe
FILE_OPTS = {"--eval", "--log", "-o", "--fisher-log", "--checkpoint", "--resume"}
# the paper's model, for the deviations below: BERT's learned absolute
# positions, post-LN layers, dropout 0.1, fp32
PAPER_MODEL = "BERT (post-LN, learned absolute positions, dropout 0.1), fp32"


def recipe(out, c, s=1):
    """lmtrain's options for member s of condition c, from its log's command
    line, without the files, the per-member seed, what is only logged (the
    Fisher flow of member 1) and -t/-q; None without a log"""
    try:
        with open(os.path.join(out, c, "train%d.tsv" % s)) as f:
            line = f.readline()
    except OSError:
        return None
    if " CL: " not in line:
        return None
    w = line.split(" CL: ", 1)[1].split()[1:]
    keep, i = [], 0
    while i < len(w):
        if w[i] in FILE_OPTS or w[i] in ("--seed", "-t", "--fisher-every", "--fisher-estimator"):
            i += 2
            continue
        if w[i] == "-q":
            i += 1
            continue
        if not w[i].startswith("-") and i == len(w) - 1:      # the training windows
            break
        keep.append(w[i])
        i += 1
    return " ".join(keep)


def deviations(opts):
    """how a recipe's model differs from the paper's, in words"""
    w = opts.split()
    val = {w[i]: w[i + 1] for i in range(len(w) - 1) if w[i].startswith("--")}
    d = []
    if val.get("--pos") and val["--pos"] != "absolute":
        d.append("%s positions instead of learned absolute ones" % val["--pos"])
    if val.get("--norm") == "pre":
        d.append("pre-LN layers" + (" with a final LayerNorm" if "--final-ln" in w else "") + " instead of post-LN")
    if val.get("--dropout") not in (None, "0.1"):
        d.append("dropout %s instead of 0.1" % val["--dropout"])
    if val.get("--mask-prob") not in (None, "0.15"):
        d.append("%s of the positions selected for the loss instead of 15%%" % val["--mask-prob"])
    mr, rr = float(val.get("--mask-replace-prob", 0.8)), float(val.get("--random-replace-prob", 0.1))
    if (mr, rr) != (0.8, 0.1):
        d.append("of the selected positions %g%% <MASK>, %g%% random and %g%% unchanged instead of 80/10/10"
                 % (100 * mr, 100 * rr, round(100 * (1 - mr - rr), 6)))
    if val.get("--precision") == "bf16":
        d.append("bf16 matrix products (fp32 weights, optimiser and loss) instead of fp32")
    return d


def verdict(ok, why_not=""):
    """ok: the claim holds and its interval excludes no difference; None:
    the text side did not learn (why_not says how), so it is not shown"""
    if ok is None:
        return "**not shown** (%s)" % why_not
    return "**reproduced**" if ok else "**not reproduced**"


def main(out):
    conds = [(c, l) for c, l in CONDITIONS if os.path.isdir(os.path.join(out, c))]
    run = open(os.path.join(out, "run.txt")).read().strip() if os.path.exists(os.path.join(out, "run.txt")) else ""
    p = print
    p("# seqlm: the paper's four findings, measured at %s scale\n" % (
        dict(x.split("=", 1) for x in run.split() if "=" in x).get("scale", "this")))
    p("Generated by `examples/reproduce.sh` (%s). Ensembles of 5 models per condition "
      "(seeds 1-5, one data seed, so every member saw the same batches in the same order); "
      "analyses on held-out windows. Figures: `plots/`. Every number is the mean over the 5 "
      "models (or the 10 pairs) ± the population std over them, unless said otherwise.\n" % run)
    p("Definitions are the textbook ones (docs/METHODS.md): entropy −Σ p log2 p, KL(p‖U) = log2 V − H, "
      "perplexity 2^H, nucleus top-p, symmetric local Spearman, per-window empirical Fisher; "
      "the authors' variants are in the `*_authors.tsv` files and in the last column where shown.\n")

    # how they were trained
    p("## How the models were trained\n")
    recs = {(c, s): recipe(out, c, s) for c, _ in conds for s in range(1, 6)}
    every = set(recs.values())
    if len(every) == 1 and None not in every:
        r = next(iter(every))
        p("Every condition, every member (`--seed` 1-5): `lmtrain %s` (member 1 also logs the Fisher flow). "
          "The same model, schedule and token budget for every condition, as in the paper.\n" % r)
        dev = deviations(r)
        if dev:
            p("Where this differs from the paper's %s: %s. At this budget, English did not leave the "
              "unigram plateau with learned absolute positions (examples/RECIPE.md has what was tried); "
              "the change is the same for DNA and text, so the contrast is between conditions trained alike.\n"
              % (PAPER_MODEL, "; ".join(dev)))
    else:
        for c, label in conds:
            p("- %s: `lmtrain %s`" % (label, recs[c, 1] or "(no training log)"))
        p("\n**The conditions were not trained with the same recipe**: their contrast mixes data and recipe.\n")

    # did they learn?
    p("## Did the models learn?\n")
    p("A contrast between DNA and text only means something if the text models learned their language. "
      "Learned means, for every member: best eval loss at least %.1f nats below the eval data's unigram entropy, "
      "and eval accuracy at least %.0f× the majority baseline (the rate of the most frequent token). "
      "For scale, the data's 1st- and 2nd-order conditional entropies (a lookup table of the previous tokens; "
      "optimistic: fitted to the same data). Losses in nats; `entropy --tokens` of the eval windows.\n" % (LOSS_MARGIN, ACC_FACTOR))
    p("| condition | best eval loss (worst member) | unigram entropy | H(X | 1 before) | H(X | 2 before) | accuracy (worst member) | majority baseline | learned |")
    p("|---|---|---|---|---|---|---|---|")
    ok_of = {}
    for c, label in conds:
        m, base = members(out, c), data_entropy(out, c)
        ok_of[c] = learned(out, c)
        h = [fmt(base.get(k, (math.nan,))[0]) for k in (0, 1, 2)]
        p("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, fmt(max(x[0] for x in m)) if m else "NA", h[0], h[1], h[2],
            fmt(min(x[1] for x in m), d=4) if m else "NA", fmt(base.get(0, (0, math.nan))[1], d=4),
            "yes" if ok_of[c][0] else "**no**: " + ok_of[c][1]))
    text_ok, text_why = ok_of.get("text-bpe", (False, "no English condition"))
    why_gate = "the English models did not learn: " + text_why
    p("")
    if not text_ok:
        p("**The English models did not learn at this scale**, so no DNA–text contrast below can be called "
          "reproduced: each finding says *not shown at this scale*. The tables are still printed, as measurements.\n")

    # (a)
    p("## (a) Predictions are near uniform on DNA\n")
    p("The paper: DNA models' predictive distributions are within about 1 bit of uniform (k-mers) or a "
      "few bits (BPE); text models are far from uniform; mean top-1 probability on DNA stays below a few percent.\n")
    p("| condition | log2 V | entropy (bits) | KL to uniform (bits) | KL(U‖p), authors' | top-1 prob | accuracy | data unigram entropy (bits) |")
    p("|---|---|---|---|---|---|---|---|")
    kl = {}
    top1 = {}
    klm = {}
    for c, label in conds:
        e = rows(os.path.join(out, c, "entropy.tsv"))
        ea = rows(os.path.join(out, c, "entropy_authors.tsv"))
        de = [r for r in rows(os.path.join(out, c, "data_entropy.tsv")) if r["order"] == "0"]
        klm[c] = [num(r["kl_uniform_bits"]) for r in e]
        kl[c] = ms(klm[c])
        top1[c] = ms([num(r["top1_prob"]) for r in e])
        p("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, fmt(vocab_size(out, c), None, 2), fmt(*ms([num(r["entropy_bits"]) for r in e])),
            fmt(*kl[c]), fmt(*ms([num(r["kl_uniform_bits"]) for r in ea])), fmt(*top1[c], d=4),
            fmt(*ms([num(r["accuracy"]) for r in e]), d=4), fmt(num(de[0]["entropy_bits"]) if de else math.nan, None, 2)))
    if "text-bpe" in kl and all(c in kl for c in DNA):
        big = ["dna-bpe", "dna-6mer"]          # V = 4096; nucleotides have V = 10
        diffs = {c: boot_diff(klm["text-bpe"], klm[c]) for c in big}
        holds = (kl["dna-6mer"][0] < 1.5 and all(kl[c][0] < kl["text-bpe"][0] for c in DNA)
                 and all(top1[c][0] < 0.05 for c in big) and all(diffs[c][1] > 0 for c in big))
        p("\nKL to uniform, text − DNA (bits), with its 95%% bootstrap interval over the members: %s.\n" %
          "; ".join("%s %s" % (c, fmt_diff(diffs[c])) for c in big))
        p("Claim: DNA within ~1 bit of uniform for 6-mers, text far from uniform, DNA top-1 probability "
          "below a few percent (for the 4096-token vocabularies), the difference beyond its interval. "
          "At this scale: %s (6-mer KL %.2f bits; text KL %.2f bits; DNA top-1 probability %s).\n" % (
              verdict(holds if text_ok else None, why_gate), kl["dna-6mer"][0], kl["text-bpe"][0],
              ", ".join("%.4f" % top1[c][0] for c in big)))

    # (b)
    p("## (b) Ensemble members disagree on DNA\n")
    p("The paper: members of a DNA ensemble disagree (Jensen-Shannon distance) much more than members of a "
      "text ensemble, also after truncating to the top-p mass.\n")
    tps = ["0.1", "0.5", "0.9", "1"]
    p("| condition | " + " | ".join("JS, p = %s" % t for t in tps) + " | argmax agreement | mutual information (bits) |")
    p("|---|" + "---|" * (len(tps) + 2))
    js = {}
    jsp = {}
    for c, label in conds:
        jsp[c] = [num(r["js_distance"]) for r in rows(os.path.join(out, c, "disagree.tsv"))
                  if r["model_a"] != "*" and abs(num(r["top_p"]) - 1) < 1e-9]
        s = {r["top_p"]: r for r in rows(os.path.join(out, c, "disagree.tsv")) if r["model_a"] == "*"}
        def get(t, col):
            for k, r in s.items():
                if abs(num(k) - float(t)) < 1e-9:
                    return num(r[col]), num(r.get(col + "_std", "nan"))
            return math.nan, math.nan
        js[c] = get("1", "js_distance")
        p("| %s | %s | %s | %s |" % (label, " | ".join(fmt(*get(t, "js_distance")) for t in tps),
                                     fmt(get("1", "argmax_agree")[0]), fmt(get("1", "mutual_info_bits")[0])))
    paper = ["dna-bpe", "dna-6mer"]       # the paper's DNA conditions; nucleotides are our extra
    if "text-bpe" in js and all(c in js for c in paper):
        diffs = {c: boot_diff(jsp[c], jsp["text-bpe"]) for c in paper}
        holds = all(diffs[c][1] > 0 for c in paper)
        p("\nJS distance at p = 1, DNA − text, with its 95%% bootstrap interval over the member pairs "
          "(10 a condition; pairs share members, so the interval is a rough one): %s." %
          "; ".join("%s %s" % (c, fmt_diff(diffs[c])) for c in paper))
        p("\nClaim: DNA members disagree more than text members (the paper's conditions: BPE and 6-mers). "
          "At this scale (p = 1): %s (text %.3f; DNA BPE %.3f, 6-mers %.3f)." % (
              verdict(holds if text_ok else None, why_gate), js["text-bpe"][0], js["dna-bpe"][0], js["dna-6mer"][0]))
        if "dna-char" in js:
            p("The extra nucleotide condition (V = 10) has JS %.3f: with 5 real tokens the members agree." % js["dna-char"][0])
        p("")

    # (c)
    p("## (c) Static embeddings are unstable across seeds on DNA\n")
    p("The paper: the word-embedding matrices of DNA models trained with different seeds have different "
      "neighbourhoods: low top-k Jaccard, low local Spearman, high Procrustes disparity, low CKA.\n")
    p("| condition | Jaccard k=10 | Jaccard k=100 | Spearman k=10 | Procrustes disparity | cosine after alignment | linear CKA | RBF CKA |")
    p("|---|---|---|---|---|---|---|---|")
    jac = {}
    jacp = {}
    for c, label in conds:
        jacp[c] = [num(r["value"]) for r in rows(os.path.join(out, c, "embed.tsv"))
                   if r["model_a"] != "*" and r["metric"] == "jaccard" and num(r["k"]) == 10]
        s = [r for r in rows(os.path.join(out, c, "embed.tsv")) if r["model_a"] == "*"]
        def get(metric, k=None):
            for r in s:
                if r["metric"] == metric and (k is None or num(r["k"]) == k):
                    return num(r["value"]), num(r["std"])
            return math.nan, math.nan
        jac[c] = get("jaccard", 10)
        p("| %s | %s | %s | %s | %s | %s | %s | %s |" % (label, fmt(*jac[c]), fmt(*get("jaccard", 100)),
          fmt(*get("spearman", 10)), fmt(*get("procrustes_disparity")), fmt(*get("procrustes_cosine")),
          fmt(*get("cka_linear")), fmt(*get("cka_rbf"))))
    if "text-bpe" in jac and all(c in jac for c in DNA):
        diffs = {c: boot_diff(jacp["text-bpe"], jacp[c]) for c in ["dna-bpe", "dna-6mer"]}
        holds = all(diffs[c][1] > 0 for c in diffs)
        p("\nTop-10 Jaccard, text − DNA, with its 95%% bootstrap interval over the member pairs: %s.\n" %
          "; ".join("%s %s" % (c, fmt_diff(diffs[c])) for c in diffs))
        p("Claim: DNA embedding neighbourhoods agree less across seeds than text ones (top-10 Jaccard; the "
          "nucleotide condition has only 5 non-special tokens, so k=10 is not defined for it). At this scale: "
          "%s.\n" % verdict(holds if text_ok else None, why_gate))

    # (d)
    p("## (d) The Fisher information sits in the embeddings\n")
    p("The paper: the empirical Fisher of DNA models concentrates in the embedding layer, not in the encoder "
      "layers. Shares of the total, mean over models.\n")
    p("| condition | estimator | embeddings | encoder (all layers) | head |")
    p("|---|---|---|---|---|")
    emb = {}
    embm = {}
    for c, label in conds:
        for est in ["window", "batch"]:
            per = fisher_shares(os.path.join(out, c, "fisher_%s.tsv" % est))
            if not per:
                continue
            embm[(c, est)] = [m.get("embeddings", 0.0) for m in per.values()]
            vals = {g: ms([m.get(g, 0.0) for m in per.values()]) for g in ["embeddings", "encoder", "head"]}
            emb[(c, est)] = vals["embeddings"][0]
            p("| %s | %s | %s | %s | %s |" % (label, est + (" (paper's)" if est == "batch" else " (textbook)"),
                                            fmt(*vals["embeddings"]), fmt(*vals["encoder"]), fmt(*vals["head"])))
    if all((c, "batch") in emb for c in DNA) and ("text-bpe", "batch") in emb:
        diffs = {c: boot_diff(embm[(c, "batch")], embm[("text-bpe", "batch")]) for c in DNA}
        holds = all(emb[(c, "batch")] > 0.5 for c in DNA) and all(diffs[c][1] > 0 for c in DNA)
        p("\nEmbedding share (the paper's estimator), DNA − text, with its 95%% bootstrap interval over the "
          "members: %s.\n" % "; ".join("%s %s" % (c, fmt_diff(diffs[c])) for c in DNA))
        p("Claim: in DNA models most of the Fisher information is in the embeddings, more than in text models. "
          "At this scale (the paper's estimator): %s (DNA embedding shares %s; text %.2f).\n" % (
              verdict(holds if text_ok else None, why_gate), ", ".join("%.2f" % emb[(c, "batch")] for c in DNA),
              emb[("text-bpe", "batch")]))
    flows = {}
    for c, label in conds:
        pts = flow_shares(out, c)
        if pts:
            flows[c] = (label, pts)
    if flows:
        p("Fisher flow (model 1, the paper's estimator on the eval set, logged by `lmtrain --fisher-every`): "
          "the embeddings' share at each logged step.\n")
        p("| condition | first step | share | last step | share | min | max |")
        p("|---|---|---|---|---|---|---|")
        for c, (label, pts) in flows.items():
            v = [x for _, x in pts]
            p("| %s | %d | %.3f | %d | %.3f | %.3f | %.3f |" % (label, pts[0][0], pts[0][1], pts[-1][0], pts[-1][1],
                                                             min(v), max(v)))
        p("")

    # training
    p("## Training\n")
    p("Masked-LM loss in nats: the last training step's batch loss, and the best held-out loss "
      "(the model kept, as in the paper) with its step; mean ± std over the 5 members.\n")
    p("| condition | steps | last train loss | best eval loss | eval accuracy at best | step of best (min-max) |")
    p("|---|---|---|---|---|---|")
    for c, label in conds:
        last, best, acc, at = [], [], [], []
        for s in range(1, 6):
            r = rows(os.path.join(out, c, "train%d.tsv" % s))
            if not r:
                continue
            last.append(num(r[-1]["loss"]))
            ev = [x for x in r if not math.isnan(num(x.get("eval_loss")))]
            if ev:
                b = min(ev, key=lambda x: num(x["eval_loss"]))
                best.append(num(b["eval_loss"]))
                acc.append(num(b["eval_acc"]))
                at.append(int(num(b["step"])))
        if last:
            p("| %s | %d | %s | %s | %s | %s |" % (label, int(num(r[-1]["step"])), fmt(*ms(last)), fmt(*ms(best)),
                                                 fmt(*ms(acc), d=4),
                                                 "%d-%d" % (min(at), max(at)) if at else "NA"))
    p("")
    p("## Figures\n")
    for f, cap in [("rank.png", "(a) mean probability by rank"), ("js_topp.png", "(b) JS distance vs top-p"),
                   ("jaccard_k.png", "(c) top-k Jaccard vs k"), ("fisher_share.png", "(d) Fisher share per group"),
                   ("fisher_flow.png", "(d) Fisher flow over training"), ("loss.png", "training curves")]:
        if os.path.exists(os.path.join(out, "plots", f)):
            p("![%s](plots/%s)\n" % (cap, f))
        else:
            p("- %s: not drawn in this run\n" % cap)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if sys.argv[1:] in (["-h"], ["--help"]) else 2)
    main(sys.argv[1])
