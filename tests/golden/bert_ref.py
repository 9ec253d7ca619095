#!/usr/bin/python3
"""bert_ref.py -- the reference BERT masked LM in plain PyTorch (HF
BertForMaskedLM semantics and parameter names, no `transformers` package),
and the fixture writer for the C engine's golden tests.

Everything is computed in float64, so the C float32 engine is compared with
the exact answer rather than with another float32 rounding.

    /usr/bin/python3 tests/golden/bert_ref.py OUTDIR

writes OUTDIR/bert_tiny.fix (format: see write_fixture below and
tests/unit/fixture.h).
"""
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, CLS, SEP, MASK = 1, 2, 3, 4
M64 = (1 << 64) - 1


# ---- the counter-based RNG of common/base/rng.h and bert_drop_mask() ----------
def mix(x):
    x ^= x >> 30
    x = (x * 0xbf58476d1ce4e5b9) & M64
    x ^= x >> 27
    x = (x * 0x94d049bb133111eb) & M64
    x ^= x >> 31
    return x


def hash4(seed, a, b, c):
    h = mix((seed + 0x9e3779b97f4a7c15) & M64)
    h = mix(h ^ ((a + 0x9e3779b97f4a7c15) & M64))
    h = mix(h ^ ((b + 0x632be59bd9b4e019) & M64))
    h = mix(h ^ ((c + 0x85157af5) & M64))
    return h


def drop_keep(seed, step, record, site, n, p):
    """keep flags of elements 0..n-1 of one record's slab at one site"""
    base = hash4(seed, step, record, site)
    thr = min(int(p * 65536.0 + 0.5), 65536)
    out = np.empty(n, dtype=bool)
    for e in range(n):
        if e % 4 == 0:
            w = mix((base + 0x9e3779b97f4a7c15 * ((e >> 2) + 1)) & M64)
        out[e] = ((w >> (16 * (e & 3))) & 0xFFFF) >= thr
    return out


class Dropper:
    """HF's dropout, with the keep masks the C engine draws"""

    def __init__(self, seed, step, p_hidden, p_attn):
        self.seed, self.step, self.ph, self.pa = seed, step, p_hidden, p_attn

    def __call__(self, x, site, attn=False):
        p = self.pa if attn else self.ph
        if p == 0:
            return x
        B = x.shape[0]
        per = x[0].numel()
        keep = np.stack([drop_keep(self.seed, self.step, b, site, per, p) for b in range(B)])
        keep = torch.from_numpy(keep.reshape(x.shape)).to(x.dtype)
        return x * keep / (1.0 - p)


# ---- the model, HF names --------------------------------------------------
class Cfg:
    def __init__(self, V, L, d, h, ffn, max_pos, type_vocab=1, eps=1e-12):
        self.V, self.L, self.d, self.h, self.ffn = V, L, d, h, ffn
        self.max_pos, self.type_vocab, self.eps = max_pos, type_vocab, eps


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.V, c.d, padding_idx=PAD)
        self.position_embeddings = nn.Embedding(c.max_pos, c.d)
        self.token_type_embeddings = nn.Embedding(c.type_vocab, c.d)
        self.LayerNorm = nn.LayerNorm(c.d, eps=c.eps)


class SelfAttn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query = nn.Linear(c.d, c.d)
        self.key = nn.Linear(c.d, c.d)
        self.value = nn.Linear(c.d, c.d)


class DenseLN(nn.Module):
    def __init__(self, c, din):
        super().__init__()
        self.dense = nn.Linear(din, c.d)
        self.LayerNorm = nn.LayerNorm(c.d, eps=c.eps)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttn(c)
        self.output = DenseLN(c, c.d)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.d, c.ffn)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLN(c, c.ffn)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c.L)])


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.d, c.d)
        self.LayerNorm = nn.LayerNorm(c.d, eps=c.eps)


class Predictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(c.V))
        self.transform = Transform(c)


class Cls(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = Predictions(c)


class BertForMaskedLM(nn.Module):
    """HF BertForMaskedLM without the pooler (as HF builds it for MLM); the
    decoder is tied to the word embeddings, cls.predictions.bias its bias"""

    def __init__(self, c, mm=None):
        super().__init__()
        self.c = c
        self.bert = Bert(c)
        self.cls = Cls(c)
        self.mm = mm        # None: torch's products; else mm(a, b) for every product

    def matmul(self, a, b):
        return a @ b if self.mm is None else self.mm(a, b)

    def lin(self, mod, x):
        return mod(x) if self.mm is None else self.mm(x, mod.weight.T) + mod.bias

    def encode(self, tokens, drop=None):
        c = self.c
        B, T = tokens.shape
        e = self.bert.embeddings
        pos = torch.arange(T)
        x = e.word_embeddings(tokens) + e.token_type_embeddings(torch.zeros_like(tokens))
        x = x + e.position_embeddings(pos)[None]
        x = e.LayerNorm(x)
        if drop:
            x = drop(x, 0)
        hidden = [x]
        keymask = (tokens == PAD)[:, None, None, :]
        dh = c.d // c.h
        for l, lay in enumerate(self.bert.encoder.layer):
            sa = lay.attention.self

            def heads(t):
                return t.view(B, T, c.h, dh).transpose(1, 2)
            q, k, v = heads(self.lin(sa.query, x)), heads(self.lin(sa.key, x)), heads(self.lin(sa.value, x))
            s = self.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
            s = s.masked_fill(keymask, torch.finfo(s.dtype).min)
            p = F.softmax(s, dim=-1)
            if drop:
                p = drop(p, 1 + 3 * l, attn=True)
            ctx = self.matmul(p, v).transpose(1, 2).reshape(B, T, c.d)
            ao = self.lin(lay.attention.output.dense, ctx)
            if drop:
                ao = drop(ao, 2 + 3 * l)
            a1 = lay.attention.output.LayerNorm(ao + x)
            g = F.gelu(self.lin(lay.intermediate.dense, a1))      # exact erf GELU
            o = self.lin(lay.output.dense, g)
            if drop:
                o = drop(o, 3 + 3 * l)
            x = lay.output.LayerNorm(o + a1)
            hidden.append(x)
        return hidden

    def head(self, h):
        t = self.cls.predictions.transform
        # .to(): a no-op unless under torch 1.13's CPU autocast (the bf16
        # bench peers), where layer_norm does not cast a bf16 input itself
        y = t.LayerNorm(F.gelu(self.lin(t.dense, h)).to(t.LayerNorm.weight.dtype))
        return self.matmul(y, self.bert.embeddings.word_embeddings.weight.T) + self.cls.predictions.bias

    def forward(self, tokens, labels, drop=None):
        hidden = self.encode(tokens, drop)
        sel = labels.reshape(-1) >= 0
        h = hidden[-1].reshape(-1, self.c.d)[sel]
        logits = self.head(h)
        loss = F.cross_entropy(logits, labels.reshape(-1)[sel])
        return loss, logits, hidden


def hf_init(model):
    """HF BertForMaskedLM's init: normal(0, 0.02) weights, zero biases,
    LayerNorm weight 1 (for the benchmark peers)"""
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "LayerNorm.weight" in n:
                p.fill_(1.0)
            elif n.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0, 0.02)
    return model


def test_weights(model):
    """weights for the fixtures: larger than HF's init so every path carries
    signal, LayerNorm weights and all biases random too; then rounded to
    float32, so the C engine and the reference start from equal values"""
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "LayerNorm.weight" in n:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif n.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
        for p in model.parameters():
            p.copy_(p.float().double())


def param_names(model):
    """HF names in the order of the C parameter table (state_dict order)"""
    return [n for n, _ in model.named_parameters()]


def order_like_c(model):
    c = model.c
    names = ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
             "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
             "bert.embeddings.LayerNorm.bias"]
    for l in range(c.L):
        for s in ["attention.self.query.weight", "attention.self.query.bias",
                  "attention.self.key.weight", "attention.self.key.bias",
                  "attention.self.value.weight", "attention.self.value.bias",
                  "attention.output.dense.weight", "attention.output.dense.bias",
                  "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
                  "intermediate.dense.weight", "intermediate.dense.bias",
                  "output.dense.weight", "output.dense.bias",
                  "output.LayerNorm.weight", "output.LayerNorm.bias"]:
            names.append("bert.encoder.layer.%d.%s" % (l, s))
    names += ["cls.predictions.bias", "cls.predictions.transform.dense.weight",
              "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight",
              "cls.predictions.transform.LayerNorm.bias"]
    assert sorted(names) == sorted(param_names(model))
    return names


def lr_lambda(step, total, warmup):
    """HF get_cosine_schedule_with_warmup (0.5 cycles)"""
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


def no_decay(name):
    """HF Trainer: no weight decay for biases and LayerNorm weights"""
    return name.endswith("bias") or "LayerNorm" in name


# ---- fixture file ---------------------------------------------------------
def write_fixture(path, tensors):
    """text index then raw little-endian payloads in index order:
         seqlm-fixture 1
         NAME DTYPE NDIM D0 D1 ...
         end
    DTYPE f32 or i32; a scalar has NDIM 0."""
    with open(path, "wb") as f:
        f.write(b"seqlm-fixture 1\n")
        for name, a in tensors:
            dt = "f32" if a.dtype.kind == "f" else "i32"
            f.write(("%s %s %d %s\n" % (name, dt, a.ndim, " ".join(str(s) for s in a.shape))).encode())
        f.write(b"end\n")
        for name, a in tensors:
            dt = "<f4" if a.dtype.kind == "f" else "<i4"
            f.write(np.ascontiguousarray(a, dtype=dt).tobytes())


def t2n(t):
    return t.detach().numpy().copy()


def random_windows(g, lens, T, V):
    """windows of lens[b] tokens (<CLS>, random ids 5..V-1 from g, <SEP>)
    padded to T, and labels all -1: (tokens, labels) [len(lens), T]"""
    tokens = torch.full((len(lens), T), PAD, dtype=torch.long)
    labels = torch.full((len(lens), T), -1, dtype=torch.long)
    for b, n in enumerate(lens):
        tokens[b, 0] = CLS
        tokens[b, 1:n - 1] = torch.randint(5, V, (n - 2,), generator=g)
        tokens[b, n - 1] = SEP
    return tokens, labels


def tiny_model(seed):
    """the golden tests' model (V 40, 2 layers, d 16), float64, its test
    weights drawn after torch.manual_seed(seed): (cfg, model, parameter
    names in the C order, parameters by name)"""
    torch.manual_seed(seed)
    c = Cfg(V=40, L=2, d=16, h=2, ffn=32, max_pos=16)
    model = BertForMaskedLM(c).double()
    test_weights(model)
    return c, model, order_like_c(model), dict(model.named_parameters())


def main(outdir):
    c, model, names, params = tiny_model(1234)
    B, T = 3, 12
    w0 = [(n, t2n(params[n]).astype(np.float32)) for n in names]

    g = torch.Generator().manual_seed(99)
    lens = [12, 9, 7]                      # real tokens incl. CLS/SEP, rest PAD
    tokens, labels = random_windows(g, lens, T, c.V)
    # masked positions (inputs already masked the way lmtrain masks them)
    for b, pos in enumerate([[1, 4, 5, 9], [2, 3, 7], [1, 5]]):
        for i, t in enumerate(pos):
            labels[b, t] = tokens[b, t]
            if i % 3 == 0:
                tokens[b, t] = MASK
            elif i % 3 == 1:
                tokens[b, t] = 5 + (t * 7 + b) % (c.V - 5)   # a random token
            # else unchanged
    fx = [("tokens", t2n(tokens).astype(np.int32)), ("labels", t2n(labels).astype(np.int32))]
    fx += [("w0." + n, a) for n, a in w0]

    # 1. forward + backward, no dropout
    model.zero_grad()
    loss, logits, hidden = model(tokens, labels)
    loss.backward()
    fx.append(("loss", np.array(loss.item())))
    fx.append(("logits", t2n(logits)))
    fx.append(("probs", t2n(F.softmax(logits, -1))))
    for l, h in enumerate(hidden):
        fx.append(("hidden.%d" % l, t2n(h).reshape(B * T, c.d)))
    fx += [("grad." + n, t2n(params[n].grad)) for n in names]

    # 2. the same with dropout 0.1 (hidden) and 0.2 (attention), C's masks
    model.zero_grad()
    drop = Dropper(seed=7, step=3, p_hidden=0.1, p_attn=0.2)
    loss_d, _, _ = model(tokens, labels, drop)
    loss_d.backward()
    fx.append(("drop.loss", np.array(loss_d.item())))
    fx += [("drop.grad." + n, t2n(params[n].grad)) for n in names]

    # 3. three AdamW steps on this batch: clip 0.5, weight decay 0.01 except
    #    biases and LayerNorm, lr 1e-2 * HF cosine schedule (warm-up 1 of 6)
    base_lr, wd, clip, total, warm = 1e-2, 0.01, 0.5, 6, 1
    groups = [{"params": [params[n] for n in names if not no_decay(n)], "weight_decay": wd},
              {"params": [params[n] for n in names if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=base_lr, betas=(0.9, 0.999), eps=1e-8)
    norms = []
    for step in range(3):
        for gr in opt.param_groups:
            gr["lr"] = base_lr * lr_lambda(step, total, warm)
        opt.zero_grad()
        loss, _, _ = model(tokens, labels)
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), clip).item())
        opt.step()
    assert min(norms) > clip, "clipping must be active in the fixture"
    fx.append(("adam.norms", np.array(norms)))
    fx += [("adam.w3." + n, t2n(params[n])) for n in names]
    write_fixture(outdir + "/bert_tiny.fix", fx)
    print("bert_ref: wrote %s/bert_tiny.fix (%d tensors), loss %.6f, dropout loss %.6f, norms %s"
          % (outdir, len(fx), fx[len(w0) + 2][1], loss_d.item(), norms))


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/engine")
