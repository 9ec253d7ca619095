#!/usr/bin/python3
"""hf_ref.py -- HuggingFace-format model folders for lmconvert's tests, and
what PyTorch computes on them: a random BertForMaskedLM written the way
`save_pretrained` writes one (config.json, model.safetensors, a DNABERT-style
vocab.txt), with a reference forward pass and an autograd Fisher written
from the HF source, in float64.  No `transformers`, no `safetensors`
package: the safetensors writer is the few lines below.

    /usr/bin/python3 tests/golden/hf_ref.py [OUTDIR]    (default tests/data/lmconvert)

Folders (the same architecture, different weights):
  f32/      F32, no decoder keys (as save_pretrained drops tied copies),
            type_vocab_size 2 (as DNABERT)
  bf16/     BF16, with the tied cls.predictions.decoder.weight/bias present,
            plus bert.pooler.*, cls.seq_relationship.* and an I64
            bert.embeddings.position_ids that a masked LM ignores
  gamma/    F64 with the old LayerNorm.gamma / LayerNorm.beta names
  sharded/  F16 in two shards with model.safetensors.index.json
  bpe/      F32 with a BPE tokenizer.json (tests/data/hftok/dnabpe: 51
            tokens, <PAD> id 1), for the round trip of a BPE tokenizer
Then windows.json (token windows, one padded with [PAD]: the reference
attends with the attention_mask a tokenizer gives, ids != [PAD]), and per folder NAME.probs.tns (lmprobe's
softmax at the masked positions, --mask-prob 0.3 --mask-seed 3) and
NAME.fisher.tsv (fisherflow's window estimator by group, same mask).

The forward follows transformers' modeling_bert.py (huggingface/
transformers, src/transformers/models/bert/modeling_bert.py at commit
004ad5f50b627b59bf0d581c31bc0052b6cfd40b):
  BertEmbeddings.forward   embeddings = inputs_embeds + token_type_embeddings
                           (token_type_ids all zero: the registered buffer);
                           embeddings += position_embeddings(position_ids)
                           (absolute, position_ids = arange); LayerNorm
  BertModel.forward        extended_attention_mask from get_extended_attention_mask
                           (modeling_utils: (1.0 - mask) * large negative)
  BertSelfAttention.forward  attention_scores = matmul(query, key^T)
                           / sqrt(attention_head_size) + attention_mask;
                           Softmax(dim=-1); context = matmul(probs, value)
  BertSelfOutput.forward   LayerNorm(dense(h) + input_tensor)
  BertIntermediate.forward intermediate_act_fn(dense(h)), ACT2FN["gelu"]
                           = the exact erf GELU
  BertOutput.forward       LayerNorm(dense(h) + input_tensor)
  BertPredictionHeadTransform.forward  LayerNorm(act(dense(h)))
  BertLMPredictionHead     decoder = Linear(hidden, vocab, bias=False) with
                           decoder.bias = self.bias; the weight tied to the
                           word embeddings (BertForMaskedLM._tied_weights_keys
                           = ["predictions.decoder.bias",
                           "cls.predictions.decoder.weight"])
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from probe_ref import evalmask  # noqa: E402  (common/model/evalmask.c re-implemented)
from tns_io import write_tns  # noqa: E402

K = 3
KMERS = ["".join(p) for p in __import__("itertools").product("ACGT", repeat=K)]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + KMERS      # DNABERT's order
PAD, CLS, SEP, MASK = 0, 2, 3, 4
CFG = dict(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
           intermediate_size=32, max_position_embeddings=24, type_vocab_size=2,
           layer_norm_eps=1e-12, pad_token_id=PAD)
T, Q, MSEED = 20, 0.3, 3

LAYER = ["attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
         "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
         "attention.output.dense.weight", "attention.output.dense.bias",
         "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
         "intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight",
         "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"]


def shapes(c):
    V, d, f = c["vocab_size"], c["hidden_size"], c["intermediate_size"]
    s = {"bert.embeddings.word_embeddings.weight": (V, d),
         "bert.embeddings.position_embeddings.weight": (c["max_position_embeddings"], d),
         "bert.embeddings.token_type_embeddings.weight": (c["type_vocab_size"], d),
         "bert.embeddings.LayerNorm.weight": (d,), "bert.embeddings.LayerNorm.bias": (d,)}
    dims = {"query": (d, d), "key": (d, d), "value": (d, d), "attention.output.dense": (d, d),
            "intermediate.dense": (f, d), "output.dense": (d, f)}
    for l in range(c["num_hidden_layers"]):
        for n in LAYER:
            base = n.rsplit(".", 1)[0].replace("attention.self.", "")
            if "LayerNorm" in n:
                shp = (d,)
            elif n.endswith("weight"):
                shp = dims[base]
            else:
                shp = (dims[base][0],)
            s["bert.encoder.layer.%d.%s" % (l, n)] = shp
    s.update({"cls.predictions.bias": (V,), "cls.predictions.transform.dense.weight": (d, d),
              "cls.predictions.transform.dense.bias": (d,),
              "cls.predictions.transform.LayerNorm.weight": (d,),
              "cls.predictions.transform.LayerNorm.bias": (d,)})
    return s


def random_state(seed, shapes, store, pad_rows=()):
    """weights with signal on every path (larger than HF's init): LayerNorm
    weights near 1, biases small, matrices 0.3 N(0,1); rounded to the
    stored dtype.
    pad_rows: (name, row) pairs zeroed as nn.Embedding(padding_idx=) inits"""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for n, shp in shapes.items():
        x = torch.randn(shp, generator=g, dtype=torch.float64)
        low = n.lower()
        if ("layernorm" in low or "layer_norm" in low or "_ln." in low) and n.endswith("weight"):
            x = 1.0 + 0.2 * x
        elif n.endswith("bias"):
            x = 0.1 * x
        else:
            x = 0.3 * x
        sd[n] = x.to(store).to(torch.float64)
    for n, r in pad_rows:
        sd[n][r] = 0.0
    return sd


def random_weights(seed, store, c=CFG):
    """random_state() for the BERT of config c, the padding_idx row zeroed
    as HF inits it; rounded to the dtype they are stored in, so the
    reference computes with exactly the stored values"""
    return random_state(seed, shapes(c), store, [("bert.embeddings.word_embeddings.weight", c["pad_token_id"])])


# ---- the reference forward (float64), see the docstring for the source ----
def ln(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def forward(sd, c, ids, attention_mask):
    """BertForMaskedLM.forward: logits [B, T, V]"""
    B, Tn = ids.shape
    d, h = c["hidden_size"], c["num_attention_heads"]
    dh, eps = d // h, c["layer_norm_eps"]
    E = "bert.embeddings."
    x = F.embedding(ids, sd[E + "word_embeddings.weight"])
    x = x + F.embedding(torch.zeros_like(ids), sd[E + "token_type_embeddings.weight"])
    x = x + F.embedding(torch.arange(Tn)[None], sd[E + "position_embeddings.weight"])
    x = ln(x, sd[E + "LayerNorm.weight"], sd[E + "LayerNorm.bias"], eps)
    ext = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
    for l in range(c["num_hidden_layers"]):
        P = "bert.encoder.layer.%d." % l

        def lin(t, n):
            return F.linear(t, sd[P + n + ".weight"], sd[P + n + ".bias"])

        def heads(t):
            return t.view(B, Tn, h, dh).permute(0, 2, 1, 3)
        q = heads(lin(x, "attention.self.query"))
        k = heads(lin(x, "attention.self.key"))
        v = heads(lin(x, "attention.self.value"))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + ext
        ctx = torch.matmul(F.softmax(s, dim=-1), v).permute(0, 2, 1, 3).reshape(B, Tn, d)
        a = ln(lin(ctx, "attention.output.dense") + x, sd[P + "attention.output.LayerNorm.weight"],
               sd[P + "attention.output.LayerNorm.bias"], eps)
        i = F.gelu(lin(a, "intermediate.dense"))
        x = ln(lin(i, "output.dense") + a, sd[P + "output.LayerNorm.weight"], sd[P + "output.LayerNorm.bias"], eps)
    C = "cls.predictions."
    t = F.gelu(F.linear(x, sd[C + "transform.dense.weight"], sd[C + "transform.dense.bias"]))
    t = ln(t, sd[C + "transform.LayerNorm.weight"], sd[C + "transform.LayerNorm.bias"], eps)
    return F.linear(t, sd[E + "word_embeddings.weight"], sd[C + "bias"])


# ---- files ------------------------------------------------------------------
ST_CODE = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.float64: "F64",
           torch.int64: "I64"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:               # NumPy has no bfloat16: its bits as int16
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """the format (huggingface/safetensors README): u64 LE header length,
    the JSON header, the data; tensors by name, contiguous, header padded
    with spaces to a multiple of 8 as the reference writer does"""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name]
        b = tensor_bytes(t)
        header[name] = {"dtype": ST_CODE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def config_json(c):
    """as BertConfig.save_pretrained writes it: sorted keys, indent 2"""
    full = {"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
            "classifier_dropout": None, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "initializer_range": 0.02, "model_type": "bert", "position_embedding_type": "absolute",
            "torch_dtype": "float32", "transformers_version": "4.30.2", "use_cache": True}
    full.update(c)
    return json.dumps(full, indent=2, sort_keys=True) + "\n"


def write_folder(d, sd, store, rename=None, extra=None, shards=1):
    os.makedirs(d, exist_ok=True)
    out = {}
    for n, x in sd.items():
        out[rename(n) if rename else n] = x.to(store)
    if extra:
        out.update(extra)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(config_json(CFG))
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("".join(t + "\n" for t in VOCAB))
    with open(os.path.join(d, "special_tokens_map.json"), "w") as f:
        json.dump({"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
                   "sep_token": "[SEP]", "unk_token": "[UNK]"}, f)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False, "model_max_length": CFG["max_position_embeddings"],
                   "tokenizer_class": "BertTokenizer"}, f)
    if shards == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), out, {"format": "pt"})
        return
    names = sorted(out)
    parts = [names[i::shards] for i in range(shards)]
    wmap = {}
    for i, part in enumerate(parts):
        fn = "model-%05d-of-%05d.safetensors" % (i + 1, shards)
        write_safetensors(os.path.join(d, fn), {n: out[n] for n in part}, {"format": "pt"})
        wmap.update({n: fn for n in part})
    total = sum(len(tensor_bytes(t)) for t in out.values())
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(wmap.items()))}, f, indent=2)


def write_bpe_folder(d):
    src = os.path.join(here, "..", "data", "hftok", "dnabpe")
    c = dict(CFG, vocab_size=51, pad_token_id=1)
    os.makedirs(d, exist_ok=True)
    for fn in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(src, fn), "rb") as f, open(os.path.join(d, fn), "wb") as g:
            g.write(f.read())
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(config_json(c))
    sd = random_weights(5, torch.float32, c)
    write_safetensors(os.path.join(d, "model.safetensors"), {n: x.to(torch.float32) for n, x in sd.items()},
                      {"format": "pt"})


def windows():
    g = torch.Generator().manual_seed(11)
    out = []
    for i in range(6):
        n = T if i != 4 else 14          # one short window, padded with [PAD] (id 0)
        tok = [CLS] + torch.randint(5, len(VOCAB), (n - 2,), generator=g).tolist() + [SEP] + [PAD] * (T - n)
        out.append(("seq%d:%d-%d" % (i, 100 * i + 1, 100 * i + n - 2), tok))
    return out


def probs_and_fisher(sd, wins):
    c = CFG
    recs, groups = [], {}
    params = {n: x.clone().requires_grad_(True) for n, x in sd.items()}
    nwin = 0
    for name, tok in wins:
        pos = evalmask(MSEED, name, tok, Q)
        ids = torch.tensor(tok)[None]
        inp = ids.clone()
        inp[0, pos] = MASK
        am = (ids != PAD).long()         # the tokenizer's attention_mask
        logits = forward(params, c, inp, am)[0]
        with torch.no_grad():
            p = F.softmax(logits[pos], -1).numpy()
        recs.append((name, {"mask_pos": np.array(pos, dtype=np.int32), "labels": np.array(tok, dtype=np.int32)[pos],
                            "probs": p.astype(np.float32)[None]}))
        if not pos:
            continue
        nwin += 1           # fisherflow's window estimator: (grad of the window's mean loss)^2
        loss = F.cross_entropy(logits[pos], ids[0, pos])
        grads = torch.autograd.grad(loss, list(params.values()))
        for n, gr in zip(params, grads):
            if n.startswith("bert.embeddings."):
                grp = "embeddings"
            elif n.startswith("bert.encoder.layer."):
                grp = "encoder." + n.split(".")[3]
            else:
                grp = "head"
            groups[grp] = groups.get(grp, 0.0) + float((gr ** 2).sum())
    fisher = {k: v / nwin for k, v in groups.items()}
    return recs, fisher


def main(outdir):
    torch.set_default_dtype(torch.float64)
    os.makedirs(outdir, exist_ok=True)
    wins = windows()
    with open(os.path.join(outdir, "windows.json"), "w") as f:
        json.dump({"window": T, "names": [n for n, _ in wins], "tokens": [t for _, t in wins]}, f)
    spec = {
        "f32": dict(seed=1, store=torch.float32),
        "bf16": dict(seed=2, store=torch.bfloat16),
        "gamma": dict(seed=3, store=torch.float32),
        "sharded": dict(seed=4, store=torch.float16),
    }
    for name, s in spec.items():
        sd = random_weights(s["seed"], s["store"])
        d = os.path.join(outdir, name)
        if name == "f32":
            write_folder(d, sd, torch.float32)
        elif name == "bf16":
            g = torch.Generator().manual_seed(20)
            dd = CFG["hidden_size"]
            extra = {"cls.predictions.decoder.weight": sd["bert.embeddings.word_embeddings.weight"].to(torch.bfloat16),
                     "cls.predictions.decoder.bias": sd["cls.predictions.bias"].to(torch.bfloat16),
                     "bert.pooler.dense.weight": torch.randn((dd, dd), generator=g).to(torch.bfloat16),
                     "bert.pooler.dense.bias": torch.randn((dd,), generator=g).to(torch.bfloat16),
                     "cls.seq_relationship.weight": torch.randn((2, dd), generator=g).to(torch.bfloat16),
                     "cls.seq_relationship.bias": torch.randn((2,), generator=g).to(torch.bfloat16),
                     "bert.embeddings.position_ids": torch.arange(CFG["max_position_embeddings"])[None]}
            write_folder(d, sd, torch.bfloat16, extra=extra)
        elif name == "gamma":
            write_folder(d, sd, torch.float64,
                         rename=lambda n: n.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"))
        else:
            write_folder(d, sd, torch.float16, shards=2)
        recs, fisher = probs_and_fisher(sd, wins)
        write_tns(os.path.join(outdir, name + ".probs.tns"), [], recs)
        with open(os.path.join(outdir, name + ".fisher.tsv"), "w") as f:
            f.write("group\tfisher\n")
            for grp in ["embeddings"] + ["encoder.%d" % l for l in range(CFG["num_hidden_layers"])] + ["head"]:
                f.write("%s\t%.10g\n" % (grp, fisher[grp]))
        print("hf_ref: %s/%s: fisher %s" % (outdir, name, {k: round(v, 4) for k, v in fisher.items()}))
    write_bpe_folder(os.path.join(outdir, "bpe"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data", "lmconvert"))
