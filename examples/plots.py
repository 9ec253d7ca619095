#!/usr/bin/python3
"""plots.py OUT -- the figures of examples/reproduce.sh from its TSVs:
OUT/plots/{rank,js_topp,jaccard_k,fisher_share,fisher_flow,loss}.png.
Needs matplotlib (Debian: python3-matplotlib)."""
import glob
import math
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tsvlib import data_entropy, fisher_shares, flow_shares, num, present, rows  # noqa: E402

COLOURS = {"text-bpe": "tab:blue", "dna-bpe": "tab:orange", "dna-6mer": "tab:red", "dna-char": "tab:purple"}


def finish(fig, ax, dest, name, xlabel, ylabel, title, **legend):
    """labels, legend, and the figure written to dest/name"""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(**legend)
    fig.tight_layout()
    fig.savefig(os.path.join(dest, name), dpi=120)
    plt.close(fig)


def band(draw, ax, x, mean, std, label, colour):
    """a mean curve (draw: ax.plot, ax.semilogx...) with a +-std band"""
    draw(x, mean, marker="o", label=label, color=colour)
    ax.fill_between(x, [a - b for a, b in zip(mean, std)], [a + b for a, b in zip(mean, std)], color=colour, alpha=0.2)


def plot_rank(out, conds, dest):
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for c, label in conds:
        by = {}
        for r in rows(os.path.join(out, c, "rank.tsv")):
            by.setdefault(int(r["rank"]), []).append(num(r["mean_prob"]))
        if not by:
            continue
        ranks = sorted(by)
        ax.loglog(ranks, [sum(by[k]) / len(by[k]) for k in ranks], label=label, color=COLOURS[c])
        ax.axhline(1.0 / len(ranks), color=COLOURS[c], ls=":", lw=0.8)
    finish(fig, ax, dest, "rank.png", "token rank", "mean probability (over masked positions and models)",
           "(a) Predictive distributions, sorted; dotted: uniform 1/V")


def plot_js(out, conds, dest):
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for c, label in conds:
        s = [r for r in rows(os.path.join(out, c, "disagree.tsv")) if r["model_a"] == "*"]
        if not s:
            continue
        band(ax.plot, ax, [num(r["top_p"]) for r in s], [num(r["js_distance"]) for r in s],
             [num(r["js_distance_std"]) for r in s], label, COLOURS[c])
    finish(fig, ax, dest, "js_topp.png", "top-p (nucleus kept before comparing)",
           "Jensen-Shannon distance between members", "(b) Ensemble disagreement (mean ± std over pairs)")


def plot_jaccard(out, conds, dest):
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for c, label in conds:
        s = [r for r in rows(os.path.join(out, c, "embed.tsv")) if r["model_a"] == "*" and r["metric"] == "jaccard"]
        if not s:
            continue
        band(ax.semilogx, ax, [num(r["k"]) for r in s], [num(r["value"]) for r in s], [num(r["std"]) for r in s],
             label, COLOURS[c])
    finish(fig, ax, dest, "jaccard_k.png", "k (nearest neighbours by cosine)", "top-k Jaccard between members",
           "(c) Stability of static embeddings")


def group_shares(path):
    """mean share per group over models: embeddings, encoder (all layers), head"""
    per = fisher_shares(path)
    if not per:
        return None
    return {g: sum(m.get(g, 0.0) for m in per.values()) / len(per) for g in ["embeddings", "encoder", "head"]}


def plot_fisher(out, conds, dest):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    for ax, est, title in zip(axes, ["window", "batch"], ["per-window (textbook)", "per-batch (the paper's)"]):
        labels, data = [], []
        for c, label in conds:
            s = group_shares(os.path.join(out, c, "fisher_%s.tsv" % est))
            if s:
                labels.append(label)
                data.append(s)
        bottom = [0.0] * len(data)
        for g, col in [("embeddings", "tab:green"), ("encoder", "tab:gray"), ("head", "tab:olive")]:
            v = [d[g] for d in data]
            ax.bar(labels, v, bottom=bottom, label=g, color=col)
            bottom = [a + b for a, b in zip(bottom, v)]
        ax.set_title("(d) Fisher share, " + title)
        ax.tick_params(axis="x", rotation=20)
    axes[0].set_ylabel("share of the empirical Fisher (mean over models)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(dest, "fisher_share.png"), dpi=120)
    plt.close(fig)


def plot_flow(out, conds, dest):
    """embedding share over training, from lmtrain --fisher-log (flow1.tsv)"""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    drawn = False
    for c, label in conds:
        pts = flow_shares(out, c)
        if pts:
            ax.plot([s for s, _ in pts], [x for _, x in pts], marker="o", label=label, color=COLOURS[c])
            drawn = True
    if not drawn:
        plt.close(fig)
        return False
    finish(fig, ax, dest, "fisher_flow.png", "training step", "Fisher share of the embeddings",
           "(d) Fisher flow over training (model 1)")
    return True


def plot_loss(out, conds, dest):
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for c, label in conds:
        for i, path in enumerate(sorted(glob.glob(os.path.join(out, c, "train[0-9]*.tsv")))):
            r = rows(path)
            st = [num(x["step"]) for x in r]
            ax.plot(st, [num(x["loss"]) for x in r], color=COLOURS[c], alpha=0.6, label=label + " (train)" if i == 0 else None)
            ev = [(num(x["step"]), num(x["eval_loss"])) for x in r if not math.isnan(num(x.get("eval_loss")))]
            if ev:
                ax.plot([a for a, _ in ev], [b for _, b in ev], color=COLOURS[c], ls="--", marker=".",
                        label=label + " (eval)" if i == 0 else None)
        # the eval data's unigram entropy: a model whose eval loss stays
        # above it has learned nothing beyond token frequencies
        h0 = data_entropy(out, c).get(0, (math.nan,))[0]
        if not math.isnan(h0):
            ax.axhline(h0, color=COLOURS[c], ls=":", lw=1.5, label=label + " (unigram entropy of eval data)")
    finish(fig, ax, dest, "loss.png", "step", "masked-LM loss (nats)", "Training curves, 5 seeds per condition",
           fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))


def main(out):
    dest = os.path.join(out, "plots")
    os.makedirs(dest, exist_ok=True)
    conds = present(out)
    plot_rank(out, conds, dest)
    plot_js(out, conds, dest)
    plot_jaccard(out, conds, dest)
    plot_fisher(out, conds, dest)
    flow = plot_flow(out, conds, dest)
    plot_loss(out, conds, dest)
    print("plots: wrote %s/*.png%s" % (dest, "" if flow else " (no Fisher flow log: fisher_flow.png not drawn)"))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if sys.argv[1:] in (["-h"], ["--help"]) else 2)
    main(sys.argv[1])
