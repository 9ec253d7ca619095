#!/usr/bin/python3
"""torch_train.py -- the PyTorch peer of lmtrain for make bench: the same
BERT (tests/golden/bert_ref.py, HF semantics), fp32, the same step
(forward with dropout 0.1, masked-LM loss with the vocabulary projection
only at the masked positions, backward, clip 0.5, AdamW), on random windows
with 15% of positions masked.

    torch_train.py V L d h ffn T B STEPS [THREADS [fp32|bf16]]

bf16: forward and loss under torch.autocast("cpu", dtype=torch.bfloat16)
(PyTorch's mixed precision: linear layers and matmuls in bf16 through
oneDNN, fp32 master weights and optimizer), the peer of lmtrain
--precision bf16.

prints: tokens_per_s, step_s, peak_rss_kb."""
import os
import resource
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from bert_ref import BertForMaskedLM, Cfg, hf_init  # noqa: E402


class TorchDrop:
    """ordinary dropout at HF's places (bert_ref's hook)"""

    def __init__(self, p):
        self.p = p

    def __call__(self, x, site, attn=False):
        return F.dropout(x, self.p, training=True)


def main():
    V, L, d, h, ffn, T, B, steps = (int(x) for x in sys.argv[1:9])
    threads = int(sys.argv[9]) if len(sys.argv) > 9 else 2
    bf16 = len(sys.argv) > 10 and sys.argv[10] == "bf16"
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(1)
    model = hf_init(BertForMaskedLM(Cfg(V, L, d, h, ffn, max_pos=max(512, T))).float())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    drop = TorchDrop(0.1)
    g = torch.Generator().manual_seed(7)

    def batch():
        tok = torch.randint(5, V, (B, T), generator=g)
        tok[:, 0], tok[:, -1] = 2, 3
        sel = torch.rand(B, T, generator=g) < 0.15
        sel[:, 0] = sel[:, -1] = False
        labels = torch.where(sel, tok, torch.full_like(tok, -1))
        inp = torch.where(sel, torch.full_like(tok, 4), tok)
        return inp, labels

    def step(inp, labels):
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _, _ = model(inp, labels, drop)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss.item()

    batches = [batch() for _ in range(steps + 2)]
    for i in range(2):                      # warm-up steps, not timed
        step(*batches[i])
    t0 = time.perf_counter()
    for i in range(steps):
        step(*batches[2 + i])
    dt = time.perf_counter() - t0
    print("tokens_per_s\t%.1f" % (B * T * steps / dt))
    print("step_s\t%.4f" % (dt / steps))
    print("peak_rss_kb\t%d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main()
