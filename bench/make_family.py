#!/usr/bin/python3
"""make_family.py -- a random HF folder of one of issue 23's families at the
bench size, and a stream of token windows for it, for bench/families.sh.
The folder is what the family references write (tests/golden/families:
their config keys, shapes(), tokenizer layouts, buffers and famlib's
random weights), only larger.

    /usr/bin/python3 bench/make_family.py FAMILY DIR WINDOWS.json [NWIN]

FAMILY: nt1 (NT v1: ESM pre-LN, absolute positions offset by pad + 1, GELU,
tied, the 4105-token 6-mer vocab.txt), nt2 (NT v2: rotary, SwiGLU without
FFN biases, untied, the 4107-token 6-mer vocab.txt with <eos> <bos>),
gena (GENA-LM: pre-LN BERT with the last LayerNorm, BPE of 4096 tokens),
dnabert2 (DNABERT-2: ALiBi, fused Wqkv, GeGLU, post-LN, BPE of 4096
tokens), bert (GENA's code with pre_layer_norm false: a plain post-LN
BERT, which lmconvert and lmprobe run without any of issue 23's work).
Every family: hidden 256, 4 layers, 4 heads, intermediate_size 1024 (the
gated FFNs' first product has 2048 rows), F32.  WINDOWS.json has NWIN
(default 256) full windows of 128 tokens: begin, random non-special ids,
end where the family's tokenizer adds one; the layout of the references'
NAME.windows.json (tests/golden/hf_windows.py makes lmprobe's stream of it)."""
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "golden", "families"))
import dnabert2_ref  # noqa: E402
import famlib as fl  # noqa: E402
import gena_ref  # noqa: E402
import nt_ref  # noqa: E402

T, D, L, H, FFN = 128, 256, 4, 4, 1024
SIZE = {"hidden_size": D, "num_hidden_layers": L, "num_attention_heads": H, "intermediate_size": FFN}
BPE_V = 4096


def grow_bpe(tk, V):
    """adds merges to a reference's tiny BPE tokenizer.json until its
    vocabulary has V tokens: each existing token that is no special
    extended by one letter of the alphabet, shortest first (every merge's
    two parts are in the vocabulary before it)"""
    vocab, merges = tk["model"]["vocab"], tk["model"]["merges"]
    special = {a["content"] for a in tk["added_tokens"]}
    alpha = [t for t in vocab if len(t) == 1 and t not in special]
    queue = [t for t in vocab if t not in special]
    i = 0
    while len(vocab) < V:
        a = queue[i]
        i += 1
        for b in alpha:
            if len(vocab) >= V:
                break
            if a + b not in vocab:
                merges.append(a + " " + b)
                vocab[a + b] = len(vocab)
                queue.append(a + b)
    return tk


def esm(name, seed):
    """nt1 / nt2: nt_ref's configs at the bench size"""
    nt1, nt2, _, _ = nt_ref.configs()
    if name == "nt1":
        c, vocab, end = dict(nt1, max_position_embeddings=1002), nt_ref.NT1_VOCAB, None
    else:   # NT v2's published vocabulary: its six specials, the 6-mers, then the letters
        c, vocab, end = dict(nt2, max_position_embeddings=2050), nt_ref.NT2_VOCAB[:6] + nt_ref.kmers(6) + \
            list("ATCGN"), "<eos>"
    c = dict(c, vocab_size=len(vocab), torch_dtype="float32", **SIZE)
    shp = nt_ref.shapes(c)
    pad_rows = [(n, c["pad_token_id"]) for n in ("esm.embeddings.word_embeddings.weight",
                                                 "esm.embeddings.position_embeddings.weight") if n in shp]
    sd = fl.random_weights(seed, shp, torch.float32, pad_rows=pad_rows)
    extra = {}
    if c["position_embedding_type"] == "rotary":      # persistent buffers, as the checkpoints have them
        for l in range(L):
            extra["esm.encoder.layer.%d.attention.self.rotary_embeddings.inv_freq" % l] = nt_ref.inv_freq(D // H)
    files = {"vocab.txt": "\n".join(vocab) + "\n",
             "tokenizer_config.json": {"tokenizer_class": "EsmTokenizer", "model_max_length": 1000},
             "special_tokens_map.json": {"unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<cls>",
                                         "mask_token": "<mask>", "eos_token": "<eos>"}}
    tid = nt_ref.ids_of(vocab)
    special = nt_ref.special_ids(vocab, ["<unk>", "<pad>", "<cls>", "<mask>", "<eos>"])
    content = [i for i, t in enumerate(vocab) if i not in special and not t.startswith("<")]
    win = (content, tid["<cls>"], tid[end] if end else None, tid["<pad>"], special, c["mask_token_id"])
    return c, sd, extra, files, win


def gena(name, seed):
    """gena (pre-LN, last LayerNorm) / bert (pre_layer_norm false): gena_ref's
    config and tokenizer (its normalizer and pre-tokenizer too)"""
    tk = grow_bpe(gena_ref.tokenizer(), BPE_V)
    c = dict(gena_ref.config(len(tk["model"]["vocab"]), True), max_position_embeddings=512, **SIZE)
    if name == "bert":
        c["pre_layer_norm"] = False
    sd = fl.random_weights(seed, gena_ref.shapes(c), torch.float32,
                           pad_rows=[("bert.embeddings.word_embeddings.weight", 3)])
    extra = {"bert.embeddings.position_ids": torch.arange(c["max_position_embeddings"])[None]}
    files = {"tokenizer.json": tk, "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast"},
             "special_tokens_map.json": {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                                         "cls_token": "[CLS]", "mask_token": "[MASK]"}}
    special = set(range(len(gena_ref.SPECIALS)))
    win = (list(range(len(special), len(tk["model"]["vocab"]))), 1, 2, 3, special, 4)
    return c, sd, extra, files, win


def dnabert2(name, seed):
    """dnabert2_ref's config and tokenizer layout, decoder.weight absent"""
    tk = grow_bpe(dnabert2_ref.tokenizer(), BPE_V)
    c = dict(dnabert2_ref.config(len(tk["model"]["vocab"]), D, H, FFN), **SIZE)
    sd = fl.random_weights(seed, dnabert2_ref.shapes(c), torch.float32)
    sd["bert.embeddings.word_embeddings.weight"][0] = 0.0
    files = {"tokenizer.json": tk,
             "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]",
                                       "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                                       "mask_token": "[MASK]"}}
    special = set(range(len(dnabert2_ref.SPECIALS)))
    win = (list(range(len(special), len(tk["model"]["vocab"]))), 1, 2, 3, special, 4)
    return c, sd, {}, files, win


def fan_in_scale(sd):
    """famlib's weights are 0.3 N(0,1) everywhere: at hidden 256 every
    product would grow the activations 5x (and fp32 rounding with them);
    the linear layers' matrices scaled to N(0, 1/fan_in) keep them O(1),
    as a trained model's are (embeddings unchanged)"""
    for n, x in sd.items():
        if x.dim() == 2 and n.endswith("weight") and "embeddings" not in n:
            sd[n] = (x / (0.3 * x.shape[1] ** 0.5)).float().double()
    return sd


FAMILIES = {"nt1": (esm, 61), "nt2": (esm, 62), "gena": (gena, 63), "dnabert2": (dnabert2, 64), "bert": (gena, 65)}


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in FAMILIES:
        sys.stderr.write("Usage: make_family.py {%s} DIR WINDOWS.json [NWIN]\n" % "|".join(FAMILIES))
        return 2
    name, out, wjson = sys.argv[1:4]
    nwin = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    make, seed = FAMILIES[name]
    c, sd, extra, files, (content, begin, end, pad, special, mask_id) = make(name, seed)
    fan_in_scale(sd)
    os.makedirs(out, exist_ok=True)
    fl.save_model(out, sd, torch.float32, extra)
    fl.write_json(os.path.join(out, "config.json"), c, sort=False)
    for fn, obj in files.items():
        if isinstance(obj, str):
            fl.write_text(os.path.join(out, fn), obj)
        else:
            fl.write_json(os.path.join(out, fn), obj, sort=False)
    wins = fl.make_windows(seed + 100, T, nwin, content, begin, end, pad, short=(-1, T))
    fl.write_json(wjson, {"window": T, "names": [n for n, _ in wins], "tokens": [t for _, t in wins],
                          "special": sorted(special), "mask_id": mask_id, "pad_id": pad}, sort=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
