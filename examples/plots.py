#!/usr/bin/python3
"""plots.py OUT -- the figures of examples/reproduce.sh from its TSVs:
OUT/plots/{rank,js_topp,jaccard_k,fisher_share,fisher_flow,loss}.png.
Needs matplotlib (Debian: python3-matplotlib)."""
import csv
import glob
import math
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CONDITIONS = [("text-bpe", "English, BPE"), ("dna-bpe", "DNA, BPE"),
              ("dna-6mer", "DNA, 6-mers"), ("dna-char", "DNA, nucleotides")]
COLOURS = {"text-bpe": "tab:blue", "dna-bpe": "tab:orange", "dna-6mer": "tab:red", "dna-char": "tab:purple"}


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def present(out):
    return [(c, label) for c, label in CONDITIONS if os.path.isdir(os.path.join(out, c))]


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
    ax.set_xlabel("token rank")
    ax.set_ylabel("mean probability (over masked positions and models)")
    ax.set_title("(a) Predictive distributions, sorted; dotted: uniform 1/V")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(dest, "rank.png"), dpi=120)
    plt.close(fig)


def plot_js(out, conds, dest):
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for c, label in conds:
        s = [r for r in rows(os.path.join(out, c, "disagree.tsv")) if r["model_a"] == "*"]
        if not s:
            continue
        p = [num(r["top_p"]) for r in s]
        m = [num(r["js_distance"]) for r in s]
        sd = [num(r["js_distance_std"]) for r in s]
        ax.plot(p, m, marker="o", label=label, color=COLOURS[c])
        ax.fill_between(p, [a - b for a, b in zip(m, sd)], [a + b for a, b in zip(m, sd)], color=COLOURS[c], alpha=0.2)
    ax.set_xlabel("top-p (nucleus kept before comparing)")
    ax.set_ylabel("Jensen-Shannon distance between members")
    ax.set_title("(b) Ensemble disagreement (mean ± std over pairs)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(dest, "js_topp.png"), dpi=120)
    plt.close(fig)


def plot_jaccard(out, conds, dest):
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for c, label in conds:
        s = [r for r in rows(os.path.join(out, c, "embed.tsv")) if r["model_a"] == "*" and r["metric"] == "jaccard"]
        if not s:
            continue
        k = [num(r["k"]) for r in s]
        m = [num(r["value"]) for r in s]
        sd = [num(r["std"]) for r in s]
        ax.semilogx(k, m, marker="o", label=label, color=COLOURS[c])
        ax.fill_between(k, [a - b for a, b in zip(m, sd)], [a + b for a, b in zip(m, sd)], color=COLOURS[c], alpha=0.2)
    ax.set_xlabel("k (nearest neighbours by cosine)")
    ax.set_ylabel("top-k Jaccard between members")
    ax.set_title("(c) Stability of static embeddings")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(dest, "jaccard_k.png"), dpi=120)
    plt.close(fig)


def group_shares(path):
    """mean share per group over models: embeddings, encoder (all layers), head"""
    per = {}
    for r in rows(path):
        g = r["group"]
        g = "encoder" if g.startswith("encoder") else g
        per.setdefault(r["model"], {}).setdefault(g, 0.0)
        per[r["model"]][g] += num(r["share"])
    if not per:
        return None
    groups = ["embeddings", "encoder", "head"]
    return {g: sum(m.get(g, 0.0) for m in per.values()) / len(per) for g in groups}


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
    """embedding share over training, from lmtrain --fisher-log (flow*.tsv)"""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    drawn = False
    for c, label in conds:
        for path in sorted(glob.glob(os.path.join(out, c, "flow*.tsv")))[:1]:
            pts = {}
            for r in rows(path):
                if r.get("group") == "embeddings":
                    pts[int(num(r["step"]))] = num(r["share"])
            if pts:
                st = sorted(pts)
                ax.plot(st, [pts[s] for s in st], marker="o", label=label, color=COLOURS[c])
                drawn = True
    if not drawn:
        plt.close(fig)
        return False
    ax.set_xlabel("training step")
    ax.set_ylabel("Fisher share of the embeddings")
    ax.set_title("(d) Fisher flow over training (model 1)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(dest, "fisher_flow.png"), dpi=120)
    plt.close(fig)
    return True


def plot_loss(out, conds, dest):
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for c, label in conds:
        for i, path in enumerate(sorted(glob.glob(os.path.join(out, c, "train[0-9]*.tsv")))):
            r = rows(path)
            st = [num(x["step"]) for x in r]
            ax.plot(st, [num(x["loss"]) for x in r], color=COLOURS[c], alpha=0.6, label=label + " (train)" if i == 0 else None)
            ev = [(num(x["step"]), num(x["eval_loss"])) for x in r if not math.isnan(num(x.get("eval_loss")))]
            if ev:
                ax.plot([a for a, _ in ev], [b for _, b in ev], color=COLOURS[c], ls="--", marker=".",
                        label=label + " (eval)" if i == 0 else None)
    ax.set_xlabel("step")
    ax.set_ylabel("masked-LM loss (nats)")
    ax.set_title("Training curves, 5 seeds per condition")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(dest, "loss.png"), dpi=120)
    plt.close(fig)


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
    main(sys.argv[1])
