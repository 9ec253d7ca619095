#!/usr/bin/python3
"""analyses_ref.py -- fixtures and NumPy/SciPy reference results for
`entropy` and `disagree` (issue 8).  Run from the repository root:

    /usr/bin/python3 tests/golden/analyses_ref.py tests/data/analyses

It writes small lmprobe-format streams (full f32, f16, top-K, and broken
ones), a token stream, three small model files, and the expected TSV
outputs computed here independently of the C code, in float64.  The
shell test tests/t/40-analyses.t compares the programs with these files
(relative tolerance 1e-5); CI never needs Python."""
import os
import sys
from collections import Counter

import numpy as np
import scipy.spatial
import scipy.spatial.distance
import scipy.stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tns_io import write_tns  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/data/analyses"
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20261125)

M, V = 3, 64
TOP_P = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---- a probe stream: M models that share structure but differ -------------
def make_probe_records(nrec=12):
    recs, allp = [], []
    for r in range(nrec):
        T = 24
        tokens = np.full(T, 1, np.int32)
        n = 16 + r % 6
        tokens[0] = 2
        tokens[1:n + 1] = rng.integers(5, V, n)
        tokens[n + 1] = 3
        P = [0, 3, 5, 2, 6, 4][r % 6] if r != 1 else 0
        pos = np.sort(rng.choice(np.arange(1, n + 1), P, replace=False)).astype(np.int32)
        labels = tokens[pos].astype(np.int32)
        shared = rng.normal(0, 1, (P, V))
        temp = rng.uniform(0.3, 3.0, (1, P, 1))        # some peaked, some flat
        logits = shared[None] * temp + rng.normal(0, 0.7, (M, P, V))
        logits[:, np.arange(P), labels] += rng.uniform(0, 3, (M, P))
        probs = softmax(logits).astype(np.float32)
        recs.append((f"chrT:{100 * r + 1}-{100 * r + 24}",
                     {"tokens": tokens, "mask_pos": pos, "labels": labels, "probs": probs}))
        allp.append((probs, labels))
    return recs, allp


# the analyses name a model by its file as given to lmprobe (the @MO PA:
# field of header() below); the embeddings by the model files as given
# (tests/t/81-disagree.t runs them in this folder, so: emb1.tns ...)
NAME = [f"m{m + 1}.tns" for m in range(M)]
EMB_NAME = [f"emb{i + 1}.tns" for i in range(3)]


def header(Mm=M, Vv=V):
    h = ["@HD\tVN:1", "@KV\twindow\t24",
         "@PG\tID:seqtok\tPN:seqtok\tVN:0.1.0\tCL:seqtok --split eval test.fa"]
    for m in range(Mm):
        h.append(f"@MO\tID:{m}\tPA:{NAME[m]}\tH:{m + 1:016x}\tAR:2x16")
    h += [f"@KV\tprobe_models\t{Mm}", f"@KV\tprobe_vocab_size\t{Vv}",
          "@KV\tprobe_mask_prob\t0.1", "@KV\tprobe_mask_seed\t1",
          "@PG\tID:lmprobe\tPN:lmprobe\tPP:seqtok\tVN:0.1.0\tCL:lmprobe m1.tns m2.tns m3.tns"]
    return h


recs, allp = make_probe_records()
write_tns(f"{OUT}/probs_f32.tns", header(), recs)
recs16 = [(n, dict(t, probs=t["probs"].astype(np.float16))) for n, t in recs]
write_tns(f"{OUT}/probs_f16.tns", header(), recs16)

# the positions as float64 arrays, model-major: P[m] is (N, V)
PR = np.concatenate([p.transpose(1, 0, 2) for p, _ in allp], axis=0).astype(np.float64)  # N x M x V
LB = np.concatenate([l for _, l in allp])
RECN = np.concatenate([[i] * len(l) for i, (_, l) in enumerate(allp)]).astype(int)
N = len(LB)


def f(x):
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "NA"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.12g}"


def write_tsv(name, cols, rows):
    with open(f"{OUT}/{name}", "w") as fp:
        fp.write("\t".join(cols) + "\n")
        for r in rows:
            fp.write("\t".join(f(x) for x in r) + "\n")


def H(p):
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def H_eps(p):
    return float(-(p * np.log2(p + 1e-10)).sum())


def kl_rev(p):
    Vv = len(p)
    return float(np.sum((1 / Vv) * (np.log2(1 / Vv) - np.log2(np.maximum(p, 1e-10)))))


# ---- entropy: per model (no bootstrap: -b 0), textbook and authors --------
def entropy_table(authors):
    rows = []
    for m in range(M):
        h = np.array([H_eps(PR[i, m]) if authors else H(PR[i, m]) for i in range(N)])
        nll = -np.log2(PR[np.arange(N), m, LB])
        acc = (PR[:, m].argmax(axis=1) == LB).astype(float)
        top1 = PR[:, m].max(axis=1)
        kl = np.mean([kl_rev(PR[i, m]) for i in range(N)]) if authors else np.log2(V) - h.mean()
        ppl = 2 ** nll.mean() if authors else 2 ** h.mean()
        rows.append([NAME[m], N, h.mean(), None, None, kl, None, None, ppl, None, None, nll.mean(), None, None,
                     acc.mean(), None, None, top1.mean(), None, None])
    cols = ["model", "n"]
    for c in ["entropy_bits", "kl_uniform_bits", "perplexity", "nll_bits", "accuracy", "top1_prob"]:
        cols += [c, c + "_lo", c + "_hi"]
    return cols, rows


write_tsv("entropy.tsv", *entropy_table(False))
write_tsv("entropy_authors.tsv", *entropy_table(True))

# per position
rows = []
i = 0
for r, (probs, labels) in enumerate(allp):
    name = recs[r][0]
    pos = recs[r][1]["mask_pos"]
    for j in range(len(labels)):
        for m in range(M):
            p = probs[m, j].astype(np.float64)
            h = H(p)
            am = int(p.argmax())
            rows.append([name, int(pos[j]), NAME[m], int(labels[j]), h, np.log2(V) - h, -np.log2(p[labels[j]]),
                         p.max(), am, int(am == labels[j])])
write_tsv("entropy_perpos.tsv", ["record", "position", "model", "label", "entropy_bits", "kl_uniform_bits",
                                 "nll_bits", "top1_prob", "argmax", "correct"], rows)

# rank curve
rows = []
for m in range(M):
    s = -np.sort(-PR[:, m], axis=1)
    for k, v in enumerate(s.mean(axis=0)):
        rows.append([NAME[m], k + 1, v])
write_tsv("entropy_rank.tsv", ["model", "rank", "mean_prob"], rows)

# histogram, 8 bins
rows = []
for m in range(M):
    h = np.array([H(PR[i, m]) for i in range(N)])
    b = np.clip((h / np.log2(V) * 8).astype(int), 0, 7)
    w = np.log2(V) / 8
    for k in range(8):
        rows.append([NAME[m], k * w, (k + 1) * w, int((b == k).sum())])
write_tsv("entropy_hist.tsv", ["model", "bin_lo", "bin_hi", "count"], rows)


# ---- disagree -------------------------------------------------------------
def truncate(p, tp, authors):
    if tp >= 1:
        return p.copy(), p.sum()
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(p[order])
    if authors:
        n = max(1, int((cum <= tp).sum()))
    else:
        hit = np.nonzero(cum >= tp)[0]
        n = int(hit[0]) + 1 if len(hit) else len(p)
    mass = cum[n - 1]
    q = np.zeros_like(p)
    q[order[:n]] = p[order[:n]] / mass
    return q, mass


def kl(p, q):
    nz = p > 0
    return max(0.0, float(np.sum(p[nz] * (np.log2(p[nz]) - np.log2(np.maximum(q[nz], 1e-10))))))


def disagree_table(authors, top_ps=TOP_P):
    pairs = [(a, b) for a in range(M) for b in range(a + 1, M)]
    rows, mat = [], {}
    agree = {pr: np.mean([PR[i, pr[0]].argmax() == PR[i, pr[1]].argmax() for i in range(N)]) for pr in pairs}
    klab = {pr: np.mean([kl(PR[i, pr[0]], PR[i, pr[1]]) for i in range(N)]) for pr in pairs}
    klba = {pr: np.mean([kl(PR[i, pr[1]], PR[i, pr[0]]) for i in range(N)]) for pr in pairs}
    for tp in top_ps:
        Q = np.array([[truncate(PR[i, m], tp, authors)[0] for m in range(M)] for i in range(N)])
        js = {}
        for a, b in pairs:
            d = np.array([scipy.spatial.distance.jensenshannon(Q[i, a], Q[i, b], base=2) for i in range(N)])
            d = np.where(np.isnan(d), np.nanmean(d), d)
            js[(a, b)] = d.mean()
            rows.append([NAME[a], NAME[b], tp, js[(a, b)], None, agree[(a, b)], klab[(a, b)], klba[(a, b)], None, N])
        mi = np.mean([H(Q[i].mean(axis=0)) - np.mean([H(Q[i, m]) for m in range(M)]) for i in range(N)])
        v = np.array([js[pr] for pr in pairs])
        rows.append(["*", "*", tp, v.mean(), v.std(), np.mean([agree[pr] for pr in pairs]),
                     np.mean([klab[pr] for pr in pairs]), np.mean([klba[pr] for pr in pairs]), max(mi, 0.0), N])
        mat[tp] = js
    cols = ["model_a", "model_b", "top_p", "js_distance", "js_distance_std", "argmax_agree", "kl_ab_bits",
            "kl_ba_bits", "mutual_info_bits", "n"]
    return cols, rows, mat


cols, rows, mat = disagree_table(False)
write_tsv("disagree.tsv", cols, rows)
cols, rows, _ = disagree_table(True)
write_tsv("disagree_authors.tsv", cols, rows)
rows = []
for tp in TOP_P:
    for a in range(M):
        rows.append([tp, NAME[a]] + [0.0 if a == b else mat[tp][(min(a, b), max(a, b))] for b in range(M)])
write_tsv("disagree_matrix.tsv", ["top_p", "model"] + NAME, rows)

# ---- top-K stream: entropy reports accuracy and top-1 exactly -------------
K = 5
trecs = []
for name, t in recs:
    p = t["probs"]
    order = np.argsort(-p, axis=2, kind="stable")[:, :, :K].astype(np.int32)
    tp_ = np.take_along_axis(p, order, axis=2).astype(np.float32)
    rest = (1 - tp_.astype(np.float64).sum(axis=2)).astype(np.float32)
    trecs.append((name, {"tokens": t["tokens"], "mask_pos": t["mask_pos"], "labels": t["labels"],
                         "top_ids": order, "top_probs": tp_, "top_rest": rest}))
write_tns(f"{OUT}/topk.tns", header(), trecs)
cols, rows = entropy_table(False)
for r in rows:
    for c in (2, 5, 8, 11):
        r[c] = None
write_tsv("entropy_topk.tsv", cols, rows)

# ---- broken streams --------------------------------------------------------
bad = [(n, dict(t)) for n, t in recs[:4]]
p = bad[2][1]["probs"].copy()
p[1, 0, 7] = np.nan
bad[2][1]["probs"] = p
write_tns(f"{OUT}/nan.tns", header(), bad)
bad = [(n, dict(t)) for n, t in recs[:4]]
bad[3][1]["probs"] = softmax(rng.normal(0, 1, (M, bad[3][1]["probs"].shape[1], V + 1))).astype(np.float32)
write_tns(f"{OUT}/vmismatch.tns", [l for l in header() if "probe_vocab_size" not in l], bad)
write_tns(f"{OUT}/noprobs.tns", header(), [(n, {k: v for k, v in t.items() if k != "probs"}) for n, t in recs[:3]])
one = [(n, dict(t, probs=t["probs"][:1])) for n, t in recs[:4]]
write_tns(f"{OUT}/one_model.tns", header(1), one)

# ---- hand-checkable streams ---------------------------------------------------
# identical members (JS 0, agreement 1, MI 0), uniform predictions (KL 0),
# disjoint supports (JS 1)
same = [(n, dict(t, probs=np.repeat(t["probs"][:1], M, axis=0))) for n, t in recs[:5]]
write_tns(f"{OUT}/identical.tns", header(), same)
uni = [(n, dict(t, probs=np.full(t["probs"].shape, 1 / V, np.float32))) for n, t in recs[:5]]
write_tns(f"{OUT}/uniform.tns", header(), uni)
dis = []
for n, t in recs[:5]:
    p = np.zeros(t["probs"].shape[:2] + (V,), np.float32)
    p[0, :, :V // 2] = 2 / V
    p[1, :, V // 2:] = 2 / V
    dis.append((n, dict(t, probs=p[:2])))
write_tns(f"{OUT}/disjoint.tns", header(2), dis)

# ---- token stream: unigram and conditional entropies -----------------------
trans = rng.dirichlet(np.full(20, 0.3), 20)
toks, trs = [], []
for r in range(20):
    T = 40
    n = 30 + r % 8
    s = [int(rng.integers(0, 20))]
    for _ in range(n - 1):
        s.append(int(rng.choice(20, p=trans[s[-1]])))
    seq = np.array(s) + 5
    if r % 7 == 3:
        seq[4] = 0                                     # an <UNK> is data
    w = np.full(T, 1, np.int32)
    w[0] = 2
    w[1:n + 1] = seq
    w[n + 1] = 3
    trs.append((f"doc{r}:1", {"tokens": w}))
    toks.append(list(seq))
write_tns(f"{OUT}/tokens.tns", ["@HD\tVN:1", "@KV\twindow\t40"], trs)
rows = []
for k in (0, 1, 2, 3):
    joint, ctx = Counter(), Counter()
    for s in toks:
        for t in range(k, len(s)):
            joint[tuple(s[t - k:t + 1])] += 1
            ctx[tuple(s[t - k:t])] += 1
    n = sum(joint.values())
    hj = -sum(c / n * np.log2(c / n) for c in joint.values())
    hc = -sum(c / n * np.log2(c / n) for c in ctx.values())
    plug = hj - hc
    mm = plug + (len(joint) - len(ctx)) / (2 * n * np.log(2))
    best = {}                                          # context -> count of its most frequent next token
    for g, c in joint.items():
        best[g[:-1]] = max(best.get(g[:-1], 0), c)
    rows.append([k, n, len(ctx), len(joint), plug, mm, sum(best.values()) / n])
write_tsv("tokens_entropy.tsv", ["order", "n", "contexts", "grams", "entropy_bits", "entropy_mm_bits", "majority_acc"], rows)

# ---- model files: word embeddings -------------------------------------------
VE, D = 45, 8
KS = [1, 3, 5, 10, 20]
base = rng.normal(0, 1, (VE, D))
Es = [base + rng.normal(0, s, (VE, D)) for s in (0.3, 0.6, 0.9)]
Es = [e.astype(np.float32) for e in Es]
for i, e in enumerate(Es):
    h = ["@HD\tVN:1", "@KV\tmodel_type\tbert", f"@KV\tvocab_size\t{VE}", f"@KV\thidden_size\t{D}",
         "@KV\tnum_hidden_layers\t1", f"@KV\tseed\t{i + 1}",
         f"@PG\tID:lmtrain\tPN:lmtrain\tVN:0.1.0\tCL:lmtrain --seed {i + 1}"]
    write_tns(f"{OUT}/emb{i + 1}.tns", h, [("params", {
        "bert.embeddings.word_embeddings.weight": e,
        "cls.predictions.bias": np.zeros(VE, np.float32)})])


def emb_metrics(A, B, ks, one_sided=False):
    A = A[5:].astype(np.float64)
    B = B[5:].astype(np.float64)
    n = len(A)

    def cosm(X):
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        c = Xn @ Xn.T
        np.fill_diagonal(c, -np.inf)
        return c
    ca, cb = cosm(A), cosm(B)
    oa = np.argsort(-ca, axis=1, kind="stable")
    ob = np.argsort(-cb, axis=1, kind="stable")
    out = []
    for k in ks:
        jac = np.mean([len(set(oa[i, :k]) & set(ob[i, :k])) / len(set(oa[i, :k]) | set(ob[i, :k])) for i in range(n)])
        if k < 2:
            sp = float("nan")
        else:
            def sided(o):
                return np.mean([scipy.stats.spearmanr(ca[i, o[i, :k]], cb[i, o[i, :k]])[0] for i in range(n)])
            sp = sided(oa) if one_sided else (sided(oa) + sided(ob)) / 2
        out.append(("jaccard", k, jac))
        out.append(("spearman", k, sp))
    m1, m2, disp = scipy.spatial.procrustes(A, B)
    rc = np.mean(np.sum(m1 * m2, axis=1) / (np.linalg.norm(m1, axis=1) * np.linalg.norm(m2, axis=1)))

    def centre(K):
        Hm = np.eye(n) - 1 / n
        return Hm @ K @ Hm

    def cka(K, L):
        Kc, Lc = centre(K), centre(L)
        return float((Kc * Lc).sum() / (np.linalg.norm(Kc) * np.linalg.norm(Lc)))

    def rbf(X):
        sq = (X * X).sum(1)
        d2 = sq[:, None] + sq[None, :] - 2 * X @ X.T
        np.fill_diagonal(d2, 0)
        d2 = np.maximum(d2, 0)
        s2 = np.sort(d2.ravel())[(d2.size - 1) // 2]        # lower median
        return np.exp(-d2 / (2 * s2))
    out += [("procrustes_disparity", "NA", disp), ("procrustes_cosine", "NA", rc),
            ("cka_linear", "NA", cka(A @ A.T, B @ B.T)), ("cka_rbf", "NA", cka(rbf(A), rbf(B)))]
    return out


def emb_table(one_sided):
    per = {}
    rows = []
    for a in range(3):
        for b in range(a + 1, 3):
            for metric, k, v in emb_metrics(Es[a], Es[b], KS, one_sided):
                rows.append([EMB_NAME[a], EMB_NAME[b], metric, k, v, None])
                per.setdefault((metric, k), []).append(v)
    for (metric, k), v in per.items():
        v = np.array(v)
        rows.append(["*", "*", metric, k, v.mean(), v.std()])
    return rows


cols = ["model_a", "model_b", "metric", "k", "value", "std"]
write_tsv("embeddings.tsv", cols, emb_table(False))
write_tsv("embeddings_onesided.tsv", cols, emb_table(True))
# the toy ensemble for the man pages' EXAMPLES (tests/t/90-man-examples.t
# runs them in a folder holding tests/data/demo)
DEMO = os.path.join(OUT, "..", "demo")
os.makedirs(DEMO, exist_ok=True)
for src, dst in [("probs_f32", "toy_probes"), ("tokens", "toy_windows"), ("emb1", "toy_m1"), ("emb2", "toy_m2"),
                 ("emb3", "toy_m3")]:
    with open(f"{OUT}/{src}.tns", "rb") as a, open(f"{DEMO}/{dst}.tns", "wb") as b:
        b.write(a.read())
print(f"wrote fixtures to {OUT} and {DEMO}/toy_*.tns")
