#!/usr/bin/python3
"""gena_ref.py -- GENA-LM (AIRI-Institute: BERT with pre_layer_norm) for
issue 23: tiny random BertForMaskedLM folders with GENA's config keys,
parameter names and tokenizer layout, and what PyTorch computes on them
(float64).  See famlib.py for the files written.

    /usr/bin/python3 tests/golden/families/gena_ref.py [OUTDIR]   (default: this folder)

Folders:
  gena/         data/configs/L12-H768-A12-V32k-preln.json made tiny:
                pre_layer_norm true, last_layer_norm false (the first
                GENA models: no final LayerNorm), F32
  gena_lastln/  data/configs/L12-H768-A12-V32k-preln-lastln.json made
                tiny: pre_layer_norm true and NO last_layer_norm key, which
                the code defaults to pre_layer_norm (so bert.encoder.
                last_layer_ln is there and applied), BF16
Both with bert.embeddings.position_ids (I64, a persistent buffer in
GENA's BertEmbeddings), no decoder copy, and a tiny tokenizer.json in the
layout of data/tokenizers/t2t_1000h_multi_32k/tokenizer.json (specials
[UNK] [CLS] [SEP] [PAD] [MASK] and "-" at ids 0..5, normalizer Strip +
Replace N{10,} -> "-", pre_tokenizer Split "-" Isolated, BertProcessing,
BPEDecoder).

Source followed: AIRI-Institute/GENA_LM src/gena_lm/modeling_bert.py at
4a884630dd72fac47775a256f9c85452b63d28e3 (G below):
  BertEmbeddings G 176-233: word + token_type(0) + position(arange)
      (absolute, G 182-183, 227-229); LayerNorm (G 230)
  BertModel.forward G ~1198-1290: get_extended_attention_mask (G 1242)
  BertSelfAttention.forward G 393-550 (dense path, not sparse): scores =
      q k^T (+ relative terms, not used) / sqrt(dh) (G 494) + mask;
      softmax; probs v (G 510)
  BertSelfOutput G 552-567: dense; LayerNorm(h + input) only when NOT
      pre_layer_norm (no attention.output.LayerNorm tensors otherwise)
  BertLayer G 655-751: attention(pre_attention_ln(h)) (G 688); a = h +
      attn (G 730-731); feed_forward_chunk (G 745-751): out =
      output(intermediate(post_attention_ln(a))) + a
  BertIntermediate G 622-634: gelu (ACT2FN["gelu"], erf); BertOutput
      G 637-652: dense, LayerNorm only when not pre_layer_norm
  BertEncoder G 754-876: last_layer_norm = config.get("last_layer_norm",
      pre_layer_norm) (G 768-770; last_layer_norm without pre_layer_norm is
      an error); hidden_states tuple before each layer (G 799), then
      last_layer_ln (G 852-853) and the last entry after it (G 856)
  BertPredictionHeadTransform G 894-908 / BertLMPredictionHead G 911-928:
      dense, gelu, LayerNorm(eps = layer_norm_eps), decoder tied to the
      word embeddings, + cls.predictions.bias
  Refused by the C side: sparse_config_cls / sparse_attention (DeepSpeed
      block-sparse attention, G 261-267, 1124-1128), the HF BigBird
      configs (model_type big_bird), position_embedding_type other than
      absolute (relative_attention_bias, rotary: only in sparse configs)
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.dirname(here))
import famlib as fl  # noqa: E402
import hf_ref  # noqa: E402  (the post-LN BERT reference, for the self-check)

T = 16
SPECIALS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "-"]
ALPHA = ["A", "C", "G", "N", "T"]
MERGES = ["A A", "T T", "T G", "A G", "C C", "AA A", "T A", "G G", "TT TT"]


def tokenizer():
    return fl.bpe_tokenizer_json(
        SPECIALS, ALPHA, MERGES,
        normalizer={"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": "N{10,}"}, "content": "-"}]},
        pre_tokenizer={"type": "Split", "pattern": {"String": "-"}, "behavior": "Isolated", "invert": False},
        post_processor={"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
        decoder={"type": "BPEDecoder", "suffix": " "})


def config(V, lastln):
    c = {"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
         "gradient_checkpointing": False, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
         "hidden_size": 16, "initializer_range": 0.02, "intermediate_size": 32, "layer_norm_eps": 1e-12,
         "max_position_embeddings": 24, "model_type": "bert", "num_attention_heads": 2,
         "num_hidden_layers": 2, "pad_token_id": 3, "pre_layer_norm": True,
         "position_embedding_type": "absolute", "transformers_version": "4.6.0.dev0",
         "type_vocab_size": 2, "use_cache": True, "vocab_size": V}
    if not lastln:
        c["last_layer_norm"] = False
    return c


def last_ln(c):
    pre = c.get("pre_layer_norm", False)
    return c.get("last_layer_norm", pre)


def shapes(c):
    V, d, f = c["vocab_size"], c["hidden_size"], c["intermediate_size"]
    pre = c.get("pre_layer_norm", False)
    E = "bert.embeddings."
    s = {E + "word_embeddings.weight": (V, d), E + "position_embeddings.weight": (c["max_position_embeddings"], d),
         E + "token_type_embeddings.weight": (c["type_vocab_size"], d),
         E + "LayerNorm.weight": (d,), E + "LayerNorm.bias": (d,)}
    for l in range(c["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % l
        if pre:
            for n in ("pre_attention_ln", "post_attention_ln"):
                s[p + n + ".weight"], s[p + n + ".bias"] = (d,), (d,)
        for m in ("query", "key", "value"):
            s[p + "attention.self.%s.weight" % m], s[p + "attention.self.%s.bias" % m] = (d, d), (d,)
        s[p + "attention.output.dense.weight"], s[p + "attention.output.dense.bias"] = (d, d), (d,)
        if not pre:
            s[p + "attention.output.LayerNorm.weight"], s[p + "attention.output.LayerNorm.bias"] = (d,), (d,)
        s[p + "intermediate.dense.weight"], s[p + "intermediate.dense.bias"] = (f, d), (f,)
        s[p + "output.dense.weight"], s[p + "output.dense.bias"] = (d, f), (d,)
        if not pre:
            s[p + "output.LayerNorm.weight"], s[p + "output.LayerNorm.bias"] = (d,), (d,)
    if pre and last_ln(c):
        s["bert.encoder.last_layer_ln.weight"], s["bert.encoder.last_layer_ln.bias"] = (d,), (d,)
    C = "cls.predictions."
    s.update({C + "bias": (V,), C + "transform.dense.weight": (d, d), C + "transform.dense.bias": (d,),
              C + "transform.LayerNorm.weight": (d,), C + "transform.LayerNorm.bias": (d,)})
    return s


def forward(sd, c, ids, am):
    d, h, eps = c["hidden_size"], c["num_attention_heads"], c["layer_norm_eps"]
    dh, pre = d // h, c.get("pre_layer_norm", False)
    B, Tn = ids.shape
    E = "bert.embeddings."
    x = F.embedding(ids, sd[E + "word_embeddings.weight"])
    x = x + F.embedding(torch.zeros_like(ids), sd[E + "token_type_embeddings.weight"])
    x = x + F.embedding(torch.arange(Tn)[None], sd[E + "position_embeddings.weight"])
    x = fl.ln(x, sd, E + "LayerNorm", eps)
    ext = fl.extended_mask(am, x.dtype)
    hid = [x]
    for l in range(c["num_hidden_layers"]):
        p = "bert.encoder.layer.%d." % l
        a_in = fl.ln(x, sd, p + "pre_attention_ln", eps) if pre else x
        q = fl.split_heads(fl.lin(a_in, sd, p + "attention.self.query"), h)
        k = fl.split_heads(fl.lin(a_in, sd, p + "attention.self.key"), h)
        v = fl.split_heads(fl.lin(a_in, sd, p + "attention.self.value"), h)
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + ext
        ctx = fl.merge_heads(torch.matmul(F.softmax(s, dim=-1), v))
        a = fl.lin(ctx, sd, p + "attention.output.dense")
        a = x + a if pre else fl.ln(a + a_in, sd, p + "attention.output.LayerNorm", eps)
        f_in = fl.ln(a, sd, p + "post_attention_ln", eps) if pre else a
        o = fl.lin(fl.erf_gelu(fl.lin(f_in, sd, p + "intermediate.dense")), sd, p + "output.dense")
        x = o + a if pre else fl.ln(o + a, sd, p + "output.LayerNorm", eps)
        hid.append(x)
    if pre and last_ln(c):
        x = fl.ln(x, sd, "bert.encoder.last_layer_ln", eps)
        hid[-1] = x
    C = "cls.predictions."
    t = fl.ln(fl.erf_gelu(fl.lin(x, sd, C + "transform.dense")), sd, C + "transform.LayerNorm", eps)
    return F.linear(t, sd[E + "word_embeddings.weight"], sd[C + "bias"]), hid


group_of = fl.bert_group_of         # bert.encoder.last_layer_ln and cls.* are "head"


def build(outdir, name, lastln, seed, store):
    tk = tokenizer()
    vocab = tk["model"]["vocab"]
    c = config(len(vocab), lastln)
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    sd = fl.random_weights(seed, shapes(c), store, pad_rows=[("bert.embeddings.word_embeddings.weight", 3)])
    fl.save_model(d, sd, store, {"bert.embeddings.position_ids": torch.arange(c["max_position_embeddings"])[None]})
    fl.write_json(os.path.join(d, "config.json"), c, sort=False)
    fl.write_json(os.path.join(d, "tokenizer.json"), tk, sort=False)
    fl.write_json(os.path.join(d, "tokenizer_config.json"), {"tokenizer_class": "PreTrainedTokenizerFast"})
    fl.write_json(os.path.join(d, "special_tokens_map.json"),
                  {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                   "mask_token": "[MASK]"}, sort=False)
    special = set(range(len(SPECIALS)))          # added_tokens with special true
    content = [i for i in range(len(SPECIALS), len(vocab))]
    wins = fl.make_windows(seed + 100, T, 6, content, 1, 2, 3)
    fl.run_reference(outdir, name, sd, c, forward, wins, special, 4, 3, group_of)
    return sd, c


def self_checks():
    """pre_layer_norm false is BERT exactly (G 559-566, 644-651): on
    ../hf_ref.py's weights, the GENA forward gives hf_ref.forward's logits"""
    c = dict(hf_ref.CFG, pre_layer_norm=False, position_embedding_type="absolute")
    sd = hf_ref.random_weights(1, torch.float32)
    g = torch.Generator().manual_seed(4)
    ids = torch.randint(5, c["vocab_size"], (1, 12), generator=g)
    ids[0, 0], ids[0, 9:] = 2, 0
    am = (ids != 0).long()
    want = hf_ref.forward(sd, c, ids, am)
    got, hid = forward(sd, c, ids, am)
    fl.check(torch.allclose(got, want, rtol=0, atol=1e-12),
             "pre_layer_norm false: the GENA forward is ../hf_ref.py's BERT (max diff %.2g)"
             % float((got - want).abs().max()))
    fl.check(len(hid) == c["num_hidden_layers"] + 1, "one hidden state per layer plus the embeddings")


def main(outdir):
    torch.set_default_dtype(torch.float64)
    self_checks()
    build(outdir, "gena", False, 41, torch.float32)
    sd, c = build(outdir, "gena_lastln", True, 42, torch.bfloat16)
    fl.check("bert.encoder.last_layer_ln.weight" in sd, "no last_layer_norm key: last_layer_ln is there (G 768)")


if __name__ == "__main__":
    main(fl.outdir_arg(__doc__, here))
