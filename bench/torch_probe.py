#!/usr/bin/python3
"""torch_probe.py -- the PyTorch peer of lmprobe for make bench: M models of
the same BERT (tests/golden/bert_ref.py), fp32, inference on NWIN random
windows of T tokens with 10% of positions masked, softmax at the masked
positions only, in batches of 32 windows.

    torch_probe.py V L d h ffn T NWIN M [THREADS [fp32|bf16]]

bf16: under torch.autocast("cpu", dtype=torch.bfloat16), the peer of
lmprobe --precision bf16.

prints: tokens_per_s (window tokens x models per second), seconds."""
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from bert_ref import BertForMaskedLM, Cfg, hf_init  # noqa: E402


def main():
    V, L, d, h, ffn, T, nwin, M = (int(x) for x in sys.argv[1:9])
    threads = int(sys.argv[9]) if len(sys.argv) > 9 else 2
    bf16 = len(sys.argv) > 10 and sys.argv[10] == "bf16"
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(1)
    models = [hf_init(BertForMaskedLM(Cfg(V, L, d, h, ffn, max_pos=max(512, T))).float().eval()) for _ in range(M)]
    g = torch.Generator().manual_seed(7)
    tok = torch.randint(5, V, (nwin, T), generator=g)
    tok[:, 0], tok[:, -1] = 2, 3
    sel = torch.rand(nwin, T, generator=g) < 0.10
    sel[:, 0] = sel[:, -1] = False
    inp = torch.where(sel, torch.full_like(tok, 4), tok)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        models[0].head(models[0].encode(inp[:2])[-1][sel[:2]])     # warm-up
        t0 = time.perf_counter()
        for b0 in range(0, nwin, 32):
            x, s = inp[b0:b0 + 32], sel[b0:b0 + 32]
            for m in models:
                h = m.encode(x)[-1]
                F.softmax(m.head(h[s]), -1)
        dt = time.perf_counter() - t0
    print("tokens_per_s\t%.1f" % (nwin * T * M / dt))
    print("seconds\t%.3f" % dt)


if __name__ == "__main__":
    main()
