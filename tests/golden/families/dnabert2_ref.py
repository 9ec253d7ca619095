#!/usr/bin/python3
"""dnabert2_ref.py -- DNABERT-2 (MosaicBERT: ALiBi, fused Wqkv, GeGLU FFN,
post-LN) for issue 23: tiny random BertForMaskedLM folders with
DNABERT-2's config keys, parameter names and tokenizer.json layout, and
what PyTorch computes on them (float64).  See famlib.py for the files.

    /usr/bin/python3 tests/golden/families/dnabert2_ref.py [OUTDIR]   (default: this folder)

Folders:
  dnabert2/      4 heads (a power of two), F32, with the tied
                 cls.predictions.decoder.weight present (equal to the
                 word embeddings) and cls.predictions.decoder.bias (the
                 decoder's own bias: there is no cls.predictions.bias)
  dnabert2_h6/   6 heads: ALiBi slopes for a head count that is not a
                 power of two, as MosaicBERT computes them (valid input,
                 not an error), decoder.weight absent, F16
config.json as zhihan1996/DNABERT-2-117M publishes it (model_type "bert"!
the family shows in auto_map -> bert_layers.BertForMaskedLM and in
alibi_starting_size), without pad_token_id: BertConfig's default 0 is
[UNK] in the tokenizer, whose [PAD] is 3 (generation_config.json says
pad_token_id 0 too); padding_idx only matters at initialisation.  The
tokenizer.json is tiny, in DNABERT-2's layout: specials [UNK] [CLS] [SEP]
[PAD] [MASK] = 0..4, A C G T, then one token per merge ("A A", "T T", ...
the published file's first merges), normalizer null, pre_tokenizer
Whitespace, TemplateProcessing [CLS] $A [SEP], decoder null.

Source followed: zhihan1996/DNABERT-2-117M bert_layers.py as vendored in
terry-r123/Cross-MolecularBenchmark@c35449c4df2f179e46e683c1899750ee180da99a
model/ProtDNA/DNABERT2/bert_layers.py (D below; lines 1-843 are the
published file, a class was appended after), with its config.json,
configuration_bert.py and tokenizer.json:
  BertEmbeddings D 35-102: word + token_type(0), NO position embeddings;
      LayerNorm (D 100)
  BertEncoder.forward D 406-485: extended mask (1 - mask) * -10000 (D 417);
      the padding is removed (unpad_input, D 426) so padded positions are
      never computed and come back as zeros (pad_input, D 460); bias =
      mask + alibi[:, :, :T, :T]
  rebuild_alibi_tensor D 361-404: alibi[h, i, j] = -slope_h * |i - j|
      (D 393, 398), symmetric (not causal); slopes D 371-389: for n heads
      a power of two, start = 2^(-2^-(log2 n - 3)) = 2^(-8/n), slope_h =
      start^(h+1); otherwise p = 2^floor(log2 n), slopes(p) followed by
      slopes(2p)[0::2][:n - p]; the slopes go through torch.Tensor
      (float32, D 397) and the bias is float32
  BertUnpadSelfAttention.forward D 129-190 (the PyTorch path, D 158-170:
      on a CPU without Triton): qkv = Wqkv(h), columns (t h d) with t =
      q, k, v (D 156-158); scores = q k^T / sqrt(dh) (D 165) + bias
      (D 167); softmax; probs v
  BertSelfOutput D 193-207: LayerNorm(dense(ctx) + h)  (post-LN)
  BertGatedLinearUnitMLP D 249-294: g = gated_layers(a) (no bias,
      [2*intermediate, d]); GELU (exact, D 270) of the first
      intermediate_size columns times the rest; wo; layernorm(. + a)
  BertPredictionHeadTransform D 506-521: dense, gelu, LayerNorm with eps
      1e-12 whatever the config (D 515); BertLMPredictionHead D 643-657:
      decoder = Linear(d, V) WITH its own bias, weight tied to the word
      embeddings (D 650-652)
  BertModel / BertForMaskedLM D 524-843: no hidden_states output (the
      list of layer outputs is BertEncoder's all_encoder_layers, unpadded);
      the hidden states written here are the embeddings' output (every
      position) and each layer's output with padded positions zero, as
      pad_input leaves them
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import famlib as fl  # noqa: E402

T = 16
SPECIALS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
ALPHA = ["A", "C", "G", "T"]
MERGES = ["A A", "T T", "T G", "C A", "C C", "T A", "G G", "T C", "G A", "AA A", "G C", "T AA", "TT TT"]


def tokenizer():
    sp = [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
          {"SpecialToken": {"id": "[SEP]", "type_id": 0}}]
    pair = sp + [{"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}]
    post = {"type": "TemplateProcessing", "single": sp, "pair": pair,
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [2], "tokens": ["[SEP]"]}}}
    tk = fl.bpe_tokenizer_json(SPECIALS, ALPHA, MERGES, None, {"type": "Whitespace"}, post, None)
    # DNABERT-2's added_tokens spell their keys in this order
    tk["added_tokens"] = [{"id": a["id"], "special": True, "content": a["content"], "single_word": False,
                           "lstrip": False, "rstrip": False, "normalized": False} for a in tk["added_tokens"]]
    return tk


def config(V, d, h, f):
    return {"_name_or_path": "zhihan1996/DNABERT-2-117M", "alibi_starting_size": 512,
            "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.0,
            "auto_map": {"AutoConfig": "configuration_bert.BertConfig", "AutoModel": "bert_layers.BertModel",
                         "AutoModelForMaskedLM": "bert_layers.BertForMaskedLM",
                         "AutoModelForSequenceClassification": "bert_layers.BertForSequenceClassification"},
            "classifier_dropout": None, "gradient_checkpointing": False, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "hidden_size": d, "initializer_range": 0.02, "intermediate_size": f,
            "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
            "num_attention_heads": h, "num_hidden_layers": 2, "position_embedding_type": "absolute",
            "torch_dtype": "float32", "transformers_version": "4.28.0", "type_vocab_size": 2,
            "use_cache": True, "vocab_size": V}


def shapes(c):
    V, d, f = c["vocab_size"], c["hidden_size"], c["intermediate_size"]
    E = "bert.embeddings."
    s = {E + "word_embeddings.weight": (V, d), E + "token_type_embeddings.weight": (c["type_vocab_size"], d),
         E + "LayerNorm.weight": (d,), E + "LayerNorm.bias": (d,)}
    for l in range(c["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % l
        s[p + "attention.self.Wqkv.weight"], s[p + "attention.self.Wqkv.bias"] = (3 * d, d), (3 * d,)
        s[p + "attention.output.dense.weight"], s[p + "attention.output.dense.bias"] = (d, d), (d,)
        s[p + "attention.output.LayerNorm.weight"], s[p + "attention.output.LayerNorm.bias"] = (d,), (d,)
        s[p + "mlp.gated_layers.weight"] = (2 * f, d)
        s[p + "mlp.wo.weight"], s[p + "mlp.wo.bias"] = (d, f), (d,)
        s[p + "mlp.layernorm.weight"], s[p + "mlp.layernorm.bias"] = (d,), (d,)
    C = "cls.predictions."
    s.update({C + "transform.dense.weight": (d, d), C + "transform.dense.bias": (d,),
              C + "transform.LayerNorm.weight": (d,), C + "transform.LayerNorm.bias": (d,),
              C + "decoder.bias": (V,)})
    return s


def alibi_slopes(n):
    """_get_alibi_head_slopes, D 371-389"""
    def pow2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer():
        return pow2(n)
    p = 2 ** math.floor(math.log2(n))
    return pow2(p) + alibi_slopes(2 * p)[0::2][:n - p]


def alibi(n, Tn, dtype=torch.float64):
    """rebuild_alibi_tensor, D 390-404, in float32 as there, then dtype"""
    pos = torch.arange(Tn)
    rel = torch.abs(pos[None, :] - pos[:, None])
    slopes = torch.tensor(alibi_slopes(n), dtype=torch.float32)
    return (slopes[:, None, None] * -rel[None]).to(dtype)[None]


def forward(sd, c, ids, am):
    d, h, f, eps = c["hidden_size"], c["num_attention_heads"], c["intermediate_size"], c["layer_norm_eps"]
    dh = d // h
    B, Tn = ids.shape
    E = "bert.embeddings."
    x = F.embedding(ids, sd[E + "word_embeddings.weight"])
    x = x + F.embedding(torch.zeros_like(ids), sd[E + "token_type_embeddings.weight"])
    x = fl.ln(x, sd, E + "LayerNorm", eps)
    bias = (1.0 - am[:, None, None, :].to(x.dtype)) * -10000.0 + alibi(h, Tn, x.dtype)
    keep = am[..., None].to(x.dtype)
    hid = [x]
    for l in range(c["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % l
        qkv = fl.lin(x, sd, p + "attention.self.Wqkv")
        q, k, v = (fl.split_heads(t, h) for t in qkv.split(d, -1))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + bias
        ctx = fl.merge_heads(torch.matmul(F.softmax(s, dim=-1), v))
        a = fl.ln(fl.lin(ctx, sd, p + "attention.output.dense") + x, sd, p + "attention.output.LayerNorm", eps)
        g = F.linear(a, sd[p + "mlp.gated_layers.weight"])
        i = F.gelu(g[..., :f]) * g[..., f:]
        x = fl.ln(fl.lin(i, sd, p + "mlp.wo") + a, sd, p + "mlp.layernorm", eps) * keep
        hid.append(x)
    C = "cls.predictions."
    t = fl.ln(fl.erf_gelu(fl.lin(x, sd, C + "transform.dense")), sd, C + "transform.LayerNorm", 1e-12)
    return F.linear(t, sd[E + "word_embeddings.weight"], sd[C + "decoder.bias"]), hid


group_of = fl.bert_group_of


def build(outdir, name, h, d, seed, store, decoder_copy):
    tk = tokenizer()
    V = len(tk["model"]["vocab"])
    c = config(V, d, h, 2 * d)
    od = os.path.join(outdir, name)
    os.makedirs(od, exist_ok=True)
    sd = fl.random_weights(seed, shapes(c), store)     # padding_idx = config's 0: no row zeroed that matters
    sd["bert.embeddings.word_embeddings.weight"][0] = 0.0
    extra = {"cls.predictions.decoder.weight": sd["bert.embeddings.word_embeddings.weight"].to(store)} \
        if decoder_copy else None
    fl.save_model(od, sd, store, extra)
    fl.write_json(os.path.join(od, "config.json"), c)
    fl.write_json(os.path.join(od, "tokenizer.json"), tk, sort=False)
    fl.write_json(os.path.join(od, "tokenizer_config.json"),
                  {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]", "cls_token": "[CLS]",
                   "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]"}, sort=False)
    special = set(range(len(SPECIALS)))
    wins = fl.make_windows(seed + 100, T, 6, list(range(len(SPECIALS), V)), 1, 2, 3)
    fl.run_reference(outdir, name, sd, c, forward, wins, special, 4, 3, group_of)
    return sd, c, wins


def self_checks(sd, c, wins):
    s8 = alibi_slopes(8)
    fl.check(s8 == [2.0 ** -(i + 1) for i in range(8)], "8 heads: slopes 1/2 .. 1/256")
    s6 = alibi_slopes(6)
    want6 = [2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3]   # slopes(4), then slopes(8)[0::2][:2]
    fl.check(all(abs(a - b) < 1e-15 for a, b in zip(s6, want6)) and len(s6) == 6,
             "6 heads: slopes(4) + slopes(8)[0::2][:2] = %s" % s6)
    fl.check(len(alibi_slopes(12)) == 12 and alibi_slopes(12)[8:] == alibi_slopes(16)[0::2][:4],
             "12 heads (DNABERT-2-117M): slopes(8) + slopes(16)[0::2][:4]")
    # unpadding: a padded window's real positions equal the same window unpadded
    name, tok = [w for w in wins if 3 in w[1]][0]
    n = tok.index(3)
    ids = torch.tensor(tok)[None]
    l1, h1 = forward(sd, c, ids, (ids != 3).long())
    l2, h2 = forward(sd, c, ids[:, :n], torch.ones(1, n, dtype=torch.long))
    fl.check(torch.allclose(l1[:, :n], l2, atol=1e-12) and all(torch.allclose(a[:, :n], b, atol=1e-12)
                                                                for a, b in zip(h1, h2)),
             "%s: padded = unpadded on its %d real tokens (what unpad_input guarantees)" % (name, n))


def main(outdir):
    torch.set_default_dtype(torch.float64)
    sd, c, wins = build(outdir, "dnabert2", 4, 16, 51, torch.float32, True)
    self_checks(sd, c, wins)
    build(outdir, "dnabert2_h6", 6, 24, 52, torch.float16, False)


if __name__ == "__main__":
    main(fl.outdir_arg(__doc__, here))
