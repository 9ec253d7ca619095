#!/usr/bin/python3
"""famlib.py -- what the family references (issue 23) share: random
weights under the checkpoints' own names, HF folders (config.json,
model.safetensors through ../hf_ref.py's writer, tokenizer files), token
windows, the analysis mask of common/model/evalmask.c with a vocabulary's
own special ids, and the expected outputs:

  NAME/                 the HF folder lmconvert --from-hf reads
  NAME.windows.json     {"window": T, "names": [...], "tokens": [[...]...],
                         "special": [ids never masked], "mask_id": id,
                         "pad_id": id}: the windows of ../hf_windows.py
  NAME.probs.tns        per window: mask_pos i32[n], labels i32[n],
                        probs f32[1,n,V] (lmprobe's layout, --mask-prob 0.3
                        --mask-seed 3)
  NAME.each.tns         lmprobe --mask-each: per window every non-special
                        position masked alone (mask_pos, labels, probs
                        f32[1,P,V]); not for nt1 (4105 tokens: too big)
  NAME.hidden.tns       per window, on the same masked input: hidden.L.m0
                        f32[T,d] for L = 0 (the embedding layer's output)
                        .. num_hidden_layers (HF's output_hidden_states
                        tuple, so the last one is after a final LayerNorm
                        where the family has one), and attention_mask
                        i32[T] (1 = a real token): compare hidden states
                        where it is 1 (what a family leaves at padding
                        differs, see README.md here)
  NAME.fisher.tsv       fisherflow's window estimator (the squared gradient
                        of each window's mean masked loss, summed, divided
                        by the windows with a masked token) by group
  NAME.fisher_params.tsv  the same per parameter tensor, so the C side can
                        group as it likes

Everything is float64; weights are rounded to the dtype they are stored
in first, so the reference computes with exactly the stored values."""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))
from bert_ref import hash4  # noqa: E402  (common/base/rng.h)
from hf_ref import random_state as random_weights  # noqa: E402,F401  (signal on every path)
from hf_ref import write_safetensors, tensor_bytes  # noqa: E402,F401
from probe_ref import fnv1a  # noqa: E402
from tns_io import write_tns  # noqa: E402

Q, MSEED = 0.3, 3          # lmprobe --mask-prob 0.3 --mask-seed 3


def evalmask(seed, name, tokens, q, special):
    """common/model/evalmask.c: evalmask_select with the vocabulary's
    special ids (vocab_is_special), not seqlm's 0..4"""
    key = fnv1a(name.encode())
    out = []
    for t, tok in enumerate(tokens):
        if tok in special:
            continue
        if (hash4(seed, key, t, 0x6d61736b) >> 11) * 2.0 ** -53 < q:
            out.append(t)
    return out




def ln(x, sd, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), sd[prefix + ".weight"], sd[prefix + ".bias"], eps)


def lin(x, sd, prefix, bias=True):
    return F.linear(x, sd[prefix + ".weight"], sd[prefix + ".bias"] if bias else None)


def erf_gelu(x):
    """ACT2FN["gelu"] and modeling_esm.gelu: x * 0.5 * (1 + erf(x / sqrt 2))"""
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


def split_heads(t, h):
    B, T, d = t.shape
    return t.view(B, T, h, d // h).permute(0, 2, 1, 3)


def merge_heads(t):
    B, h, T, dh = t.shape
    return t.permute(0, 2, 1, 3).reshape(B, T, h * dh)


def extended_mask(am, dtype=torch.float64):
    """modeling_utils.get_extended_attention_mask: (1 - mask) * finfo.min
    (older transformers: -10000; in float64 both give exp() = 0)"""
    return (1.0 - am[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def bert_group_of(n):
    """fisherflow's groups for bert.* names: embeddings, encoder.i, head
    (the rest: a final LayerNorm, cls.*)"""
    if n.startswith("bert.embeddings."):
        return "embeddings"
    if n.startswith("bert.encoder.layer."):
        return "encoder." + n.split(".")[3]
    return "head"


# ---- folders ----------------------------------------------------------------
def write_json(path, obj, sort=True):
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=sort) + "\n")


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


def read_safetensors(path):
    """name -> tensor (floats as float64, BF16 and F16 exactly), in file order"""
    raw = open(path, "rb").read()
    n = struct.unpack_from("<Q", raw)[0]
    h = json.loads(raw[8:8 + n])
    h.pop("__metadata__", None)
    data, out = raw[8 + n:], {}
    for k, t in sorted(h.items(), key=lambda kv: kv[1]["data_offsets"]):
        buf = data[t["data_offsets"][0]:t["data_offsets"][1]]
        if t["dtype"] == "BF16":
            a = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(buf, {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8"}[t["dtype"]])
        x = torch.from_numpy(a.reshape(t["shape"]).copy())
        out[k] = x.double() if x.is_floating_point() else x
    return out


def save_model(d, sd, store, extra=None, drop=()):
    """model.safetensors: sd (float64) cast to store, minus drop, plus
    extra tensors as given (buffers: position_ids, inv_freq ...)"""
    out = {n: x.to(store) for n, x in sd.items() if n not in drop}
    if extra:
        out.update(extra)
    write_safetensors(os.path.join(d, "model.safetensors"), out, {"format": "pt"})


def bpe_tokenizer_json(specials, alphabet, merges, normalizer, pre_tokenizer, post_processor, decoder,
                       special_flags=None):
    """a tiny tokenizer.json with a published model's layout: added_tokens
    = specials (ids 0..), model BPE with vocab specials + alphabet + one
    token per merge, in order"""
    vocab = {}
    for t in specials + alphabet:
        vocab[t] = len(vocab)
    for m in merges:
        a, b = m.split(" ")
        vocab.setdefault(a + b, len(vocab))
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True if special_flags is None else special_flags[i]}
             for i, t in enumerate(specials)]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": decoder,
            "model": {"type": "BPE", "dropout": None, "unk_token": "[UNK]", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "vocab": vocab, "merges": merges}}


# ---- windows and expected outputs --------------------------------------------
def make_windows(seed, T, n, content_ids, begin, end, pad, short=(4, 13)):
    """n windows of T tokens: begin + random content ids + end (end None:
    none), one short window (index short[0], short[1] tokens) padded"""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        L = short[1] if i == short[0] else T
        body = L - 1 - (end is not None)
        ids = [content_ids[j] for j in torch.randint(0, len(content_ids), (body,), generator=g).tolist()]
        tok = [begin] + ids + ([end] if end is not None else []) + [pad] * (T - L)
        out.append(("seq%d:%d-%d" % (i, 100 * i + 1, 100 * i + body), tok))
    return out


def mask_each(sd, cfg, forward, wins, special, mask_id, pad_id):
    """lmprobe --mask-each: every non-special position masked alone, the
    softmax there (one batch a window: row i masks position i)"""
    recs = []
    with torch.no_grad():
        for wname, tok in wins:
            pos = [t for t, x in enumerate(tok) if x not in special]
            ids = torch.tensor(tok)[None].repeat(len(pos), 1)
            ids[torch.arange(len(pos)), pos] = mask_id
            logits, _ = forward(sd, cfg, ids, (ids != pad_id).long())
            p = F.softmax(logits[torch.arange(len(pos)), pos], -1).numpy()
            recs.append((wname, {"mask_pos": np.array(pos, dtype=np.int32),
                                 "labels": np.array(tok, dtype=np.int32)[pos],
                                 "probs": p.astype(np.float32)[None]}))
    return recs


def run_reference(outdir, name, sd, cfg, forward, wins, special, mask_id, pad_id, group_of, each=True):
    """forward(params, cfg, ids[1,T], am[1,T]) -> (logits[1,T,V], [hidden_0..hidden_L] each [1,T,d]).
    A tied decoder is the embedding tensor itself in forward(), so its
    gradient (input and output use) is the embedding's."""
    T = len(wins[0][1])
    with open(os.path.join(outdir, name + ".windows.json"), "w") as f:
        json.dump({"window": T, "names": [n for n, _ in wins], "tokens": [t for _, t in wins],
                   "special": sorted(special), "mask_id": mask_id, "pad_id": pad_id}, f)
    params = {n: x.clone().requires_grad_(True) for n, x in sd.items()}
    precs, hrecs = [], []
    groups, per = {}, {n: 0.0 for n in params}
    nwin = 0
    for wname, tok in wins:
        pos = evalmask(MSEED, wname, tok, Q, special)
        ids = torch.tensor(tok)[None]
        inp = ids.clone()
        inp[0, pos] = mask_id
        am = (ids != pad_id).long()               # the tokenizer's attention_mask
        logits, hid = forward(params, cfg, inp, am)
        with torch.no_grad():
            p = F.softmax(logits[0, pos], -1).numpy()
        precs.append((wname, {"mask_pos": np.array(pos, dtype=np.int32),
                              "labels": np.array(tok, dtype=np.int32)[pos],
                              "probs": p.astype(np.float32)[None]}))
        ht = {"attention_mask": am[0].numpy().astype(np.int32)}
        for l, h in enumerate(hid):
            ht["hidden.%d.m0" % l] = h[0].detach().numpy().astype(np.float32)
        hrecs.append((wname, ht))
        if not pos:
            continue
        nwin += 1
        loss = F.cross_entropy(logits[0, pos], ids[0, pos])
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        for n, gr in zip(params, grads):
            s = 0.0 if gr is None else float((gr ** 2).sum())
            per[n] += s
            grp = group_of(n)
            if grp is not None:
                groups[grp] = groups.get(grp, 0.0) + s
    write_tns(os.path.join(outdir, name + ".probs.tns"), [], precs)
    if each:
        write_tns(os.path.join(outdir, name + ".each.tns"), [], mask_each(sd, cfg, forward, wins, special, mask_id, pad_id))
    write_tns(os.path.join(outdir, name + ".hidden.tns"), [], hrecs)
    order = ["embeddings"] + ["encoder.%d" % l for l in range(cfg["num_hidden_layers"])] + ["head"]
    with open(os.path.join(outdir, name + ".fisher.tsv"), "w") as f:
        f.write("group\tfisher\n")
        for grp in order:
            f.write("%s\t%.10g\n" % (grp, groups[grp] / nwin))
    with open(os.path.join(outdir, name + ".fisher_params.tsv"), "w") as f:
        f.write("param\tfisher\n")
        for n in sorted(per):
            f.write("%s\t%.10g\n" % (n, per[n] / nwin))
    print("%s: %s: %d windows, masked %s; fisher %s" % (os.path.basename(sys.argv[0]), name, len(wins),
          [len(r[1]["mask_pos"]) for r in precs], {k: round(groups[k] / nwin, 4) for k in order}))


def outdir_arg(doc, default):
    """the scripts' one argument, OUTDIR; -h/--help prints the docstring"""
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(doc)
        sys.exit(0)
    return sys.argv[1] if len(sys.argv) > 1 else default


def check(cond, what):
    """a self-check of a reference: stop with the reason when it fails"""
    if not cond:
        sys.exit("self-check failed: " + what)
    print("  ok: " + what)
