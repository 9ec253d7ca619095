"""scaling_model.py -- data-parallel lmtrain on a cluster, on paper.

Per optimiser step, a member's ranks compute their slices of the global
batch, then sum the gradient (4 bytes a parameter) by lmtrain's fixed-order
reduce-scatter + allgather (common/base/dist.c): each node sends and receives
2 (N-1)/N of the gradient, plus 2 (N-1) messages of latency.  Compute per
step is the global batch's tokens over the nodes' measured rate.  The
reduction is not overlapped with the backward pass, so a step takes their
sum; efficiency = compute / (compute + communication).

Inputs (edit to your site): the per-core training rates measured here
(bench/lmtrain.sh, Intel Xeon, T=512, 2 cores: 4M 4.2k tok/s, 20M 1.24k
tok/s; 90M scaled from 20M by the non-embedding FLOPs per token), cores
per node, link bandwidths, the global batch of the paper's recipe.
Prints a Markdown table (bench/README.md has its output)."""

GLOBAL_BATCH = 64          # windows per step (the paper's recipe)
T = 512                    # tokens per window
CORES = 32                 # cores per node, linear scaling within a node assumed (optimistic)
LATENCY = 5e-6             # seconds per message (MPI over TCP/IB, order of magnitude)
MODELS = {                 # parameters (V=4096), tokens/s per core measured or scaled
    "4M": (4.3e6, 4200 / 2),
    "20M": (20.5e6, 1240 / 2),
    "90M": (89e6, 1240 / 2 * (8 * (4 * 512**2 + 2 * 512 * 1024)) / (12 * (4 * 768**2 + 2 * 768 * 3072))),
}
NODES = [8, 16, 32, 64, 128, 256]
LINKS = {"10 Gb/s": 10e9 / 8, "100 Gb/s": 100e9 / 8}


def step(params, rate, n, bw):
    compute = GLOBAL_BATCH * T / (n * CORES * rate)
    comm = 2 * (n - 1) / n * 4 * params / bw + 2 * (n - 1) * LATENCY
    return compute, comm


print("| model | link | " + " | ".join("%d nodes" % n for n in NODES) + " | compute = communication at |")
print("|---|---|" + "---|" * len(NODES) + "---|")
for name, (params, rate) in MODELS.items():
    for link, bw in LINKS.items():
        cells, cross = [], None
        for n in NODES:
            c, m = step(params, rate, n, bw)
            cells.append("%.0f / %.0f ms (%.0f%%)" % (c * 1e3, m * 1e3, 100 * c / (c + m)))
        for n in range(2, 4097):
            c, m = step(params, rate, n, bw)
            if c <= m:
                cross = n
                break
        cells.append("%s nodes" % cross if cross else "> 4096 nodes")
        print("| %s | %s | %s |" % (name, link, " | ".join(cells)))
print()
print("Cells: compute / communication per step, and the efficiency.  With -b %d, at most %d ranks"
      " can share a step (one window each): past %d nodes the global batch itself must grow."
      % (GLOBAL_BATCH, GLOBAL_BATCH, GLOBAL_BATCH))
