#!/usr/bin/python3
"""nt_ref.py -- the ESM family (Nucleotide Transformer v1 and v2, ESM-2
flags) for issue 23: tiny random EsmForMaskedLM folders with the published
checkpoints' config keys and parameter names, and what PyTorch computes on
them (float64).  See famlib.py for the files written.

    /usr/bin/python3 tests/golden/families/nt_ref.py [OUTDIR]   (default: this folder)

Folders:
  nt1/     NT v1 (InstaDeepAI/nucleotide-transformer-500m-human-ref
           layout): model_type esm, absolute positions, the 4105-token
           6-mer vocab.txt (no <eos>), GELU FFN with biases, tied decoder
           (lm_head.decoder.weight absent), F16; hidden size 8 and 3
           windows of 12 to keep the 4105-way probabilities small
  nt2/     NT v2 (nucleotide-transformer-v2-*-multi-species, remote code
           esm_config.EsmConfig / modeling_esm.EsmForMaskedLM, config.json
           without model_type): rotary, SwiGLU FFN without biases
           (add_bias_fnn false), untied lm_head.decoder.weight, the
           unused esm.embeddings.position_embeddings.weight and the
           rotary inv_freq buffers present as the remote code saves them;
           the 3-mer vocabulary layout (<eos> in vocab.txt), F32
  esmtd/   upstream EsmForMaskedLM with ESM-2's flags: token_dropout
           true (the embedding rescaling at inference; no embedding
           LayerNorm after it, which would undo the scale), rotary (the
           inv_freq buffers saved, no position_embeddings), 3 heads of 8,
           the ESM-2 special order (<cls> <pad> <eos> <unk> <mask>), tied,
           F32
  esmln/   upstream EsmForMaskedLM with ESM-1b's flags:
           emb_layer_norm_before true, absolute positions, no token
           dropout, the same vocabulary, tied, F32

Sources followed (line numbers of the files as read):
  U = huggingface/transformers src/transformers/models/esm/modeling_esm.py
      at 0220b9db084f546f589b4adc3f08ea0d4faef7ca (cited by name: no local
      copy with line numbers), the upstream model (nt1, esmtd)
  R = InstaDeepAI's remote modeling_esm.py for NT v2, as vendored in
      terry-r123/Cross-MolecularBenchmark@c35449c4df2f179e46e683c1899750ee180da99a
      model/ProtDNA/nt/nt_v2_100m_multi/modeling_esm.py (with its
      config.json and esm_config.py)
  create_position_ids_from_input_ids  R 1442-1459 (U same name): pos =
      cumsum(ids != pad) * (ids != pad) + padding_idx
  EsmEmbeddings.forward  R 228-290 (U same): word embeddings; token
      dropout (R 261-279): zero <mask> rows, times (1 - 0.15*0.8) /
      (1 - masks/attention_mask.sum); + position_embeddings(pos) when
      absolute (R 281-283); layer_norm when emb_layer_norm_before (R 285);
      times attention_mask (R 286-289)
  EsmSelfAttention.forward  R 358-482: q, k, v = Linear; q *= dh**-0.5
      BEFORE rotary (R 399); rotary (R 411-412) with RotaryEmbedding
      R 107-153 (inv_freq = 1/10000^(arange(0,dh,2)/dh) in float32, t =
      arange(T) from 0 whatever the padding, emb = cat(freqs, freqs),
      x*cos + rotate_half(x)*sin, rotate_half R 59-62: cat(-x2, x1) of the
      two halves); scores = q k^T + extended mask; softmax; probs v
  EsmSelfOutput R 484-495: dense(h) + input (no LayerNorm)
  EsmAttention.forward R 528-553: self(LayerNorm(h)) (attention.LayerNorm,
      R 503), output(ctx, h)
  EsmIntermediate R 555-574 (NT v2): dense to 2*intermediate_size, bias =
      add_bias_fnn; x1, x2 = split in halves; silu(x1) * x2.  U: dense +
      gelu, with bias (no add_bias_fnn key upstream)
  EsmOutput R 576-589: dense (bias = add_bias_fnn) + residual
  EsmLayer.feed_forward_chunk R ~680-685: output(intermediate(LayerNorm(a)), a)
      (the layer's own LayerNorm, R 607)
  EsmEncoder R 687-795: hidden_states tuple collected before each layer
      (R 728), then emb_layer_norm_after (R 768-769) and the last entry
      appended after it (R 772)
  EsmLMHead R 1221-1240: dense, gelu (erf, R 71-75), layer_norm,
      decoder (no bias) + lm_head.bias
  EsmModel R 901-935: contact_head.regression (Linear(L*H, 1)) is a
      parameter of every checkpoint, unused by the masked LM
"""
import itertools
import math
import os
import sys

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import famlib as fl  # noqa: E402

T = 16


def kmers(k):
    return ["".join(p) for p in itertools.product("ATCG", repeat=k)]


# ---- vocabularies (tokenization_esm.py: vocab.txt, one token a line) --------
NT1_VOCAB = ["<unk>", "<pad>", "<mask>", "<cls>"] + kmers(6) + list("ATCGN")             # 4105
NT2_VOCAB = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"] + kmers(3) + list("ATCGN")   # 75
ESMTD_VOCAB = ["<cls>", "<pad>", "<eos>", "<unk>", "<mask>"] + kmers(2) + list("ATCG")   # ESM-2 order


def ids_of(vocab):
    return {t: i for i, t in enumerate(vocab)}


def configs():
    nt1 = {"architectures": ["EsmForMaskedLM"], "attention_probs_dropout_prob": 0.0,
           "emb_layer_norm_before": False, "esmfold_config": None, "hidden_dropout_prob": 0.0,
           "hidden_size": 8, "initializer_range": 0.02, "intermediate_size": 16, "is_folding_model": False,
           "layer_norm_eps": 1e-12, "mask_token_id": 2, "max_position_embeddings": T + 2,
           "model_type": "esm", "num_attention_heads": 2, "num_hidden_layers": 2, "pad_token_id": 1,
           "position_embedding_type": "absolute", "tie_word_embeddings": True, "token_dropout": False,
           "torch_dtype": "float16", "transformers_version": "4.26.0.dev0", "use_cache": False,
           "vocab_list": None, "vocab_size": len(NT1_VOCAB)}
    # the NT v2 config.json as published (model/ProtDNA/nt/nt_v2_100m_multi/config.json), tiny
    nt2 = {"add_bias_fnn": False,
           "architectures": ["EsmForMaskedLM", "EsmForTokenClassification", "EsmForSequenceClassification"],
           "attention_probs_dropout_prob": 0.0,
           "auto_map": {"AutoConfig": "esm_config.EsmConfig",
                        "AutoModelForMaskedLM": "modeling_esm.EsmForMaskedLM",
                        "AutoModelForTokenClassification": "modeling_esm.EsmForTokenClassification",
                        "AutoModelForSequenceClassification": "modeling_esm.EsmForSequenceClassification"},
           "emb_layer_norm_before": False, "esmfold_config": None, "hidden_dropout_prob": 0.0,
           "hidden_size": 16, "initializer_range": 0.02, "intermediate_size": 24, "is_folding_model": False,
           "layer_norm_eps": 1e-12, "mask_token_id": 2, "max_position_embeddings": 2 * T + 2,
           "num_attention_heads": 2, "num_hidden_layers": 2, "pad_token_id": 1,
           "position_embedding_type": "rotary", "tie_word_embeddings": False, "token_dropout": False,
           "torch_dtype": "float32", "transformers_version": "4.32.0.dev0", "use_cache": False,
           "vocab_list": None, "vocab_size": len(NT2_VOCAB)}
    esmtd = {"architectures": ["EsmForMaskedLM"], "attention_probs_dropout_prob": 0.0,
             "classifier_dropout": None, "emb_layer_norm_before": False, "esmfold_config": None,
             "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "hidden_size": 24, "initializer_range": 0.02,
             "intermediate_size": 40, "is_folding_model": False, "layer_norm_eps": 1e-05,
             "mask_token_id": 4, "max_position_embeddings": T + 2, "model_type": "esm",
             "num_attention_heads": 3, "num_hidden_layers": 2, "pad_token_id": 1,
             "position_embedding_type": "rotary", "tie_word_embeddings": True, "token_dropout": True,
             "torch_dtype": "float32", "transformers_version": "4.25.0.dev0", "use_cache": True,
             "vocab_list": None, "vocab_size": len(ESMTD_VOCAB)}
    # ESM-1b's flags: absolute positions after a LayerNorm'd embedding
    esmln = dict(esmtd, emb_layer_norm_before=True, token_dropout=False, position_embedding_type="absolute",
                 hidden_size=16, intermediate_size=24, num_attention_heads=2)
    return nt1, nt2, esmtd, esmln


def is_nt_remote(c):
    """NT v2's remote code: config.json names esm_config.EsmConfig and has
    add_bias_fnn; its EsmIntermediate is always the SwiGLU one (R 555-574)"""
    return "add_bias_fnn" in c


def shapes(c):
    V, d, f, L, h = c["vocab_size"], c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"], \
        c["num_attention_heads"]
    glu, fb = is_nt_remote(c), c.get("add_bias_fnn", True)
    s = {"esm.embeddings.word_embeddings.weight": (V, d)}
    if c["position_embedding_type"] == "absolute" or glu:      # R 220-224 builds it unconditionally
        s["esm.embeddings.position_embeddings.weight"] = (c["max_position_embeddings"], d)
    if c.get("emb_layer_norm_before"):
        s["esm.embeddings.layer_norm.weight"] = (d,)
        s["esm.embeddings.layer_norm.bias"] = (d,)
    for l in range(L):
        p = "esm.encoder.layer.%d." % l
        for m in ("query", "key", "value"):
            s[p + "attention.self.%s.weight" % m] = (d, d)
            s[p + "attention.self.%s.bias" % m] = (d,)
        s[p + "attention.output.dense.weight"] = (d, d)
        s[p + "attention.output.dense.bias"] = (d,)
        s[p + "attention.LayerNorm.weight"] = (d,)
        s[p + "attention.LayerNorm.bias"] = (d,)
        s[p + "intermediate.dense.weight"] = (2 * f if glu else f, d)
        if fb:
            s[p + "intermediate.dense.bias"] = (2 * f if glu else f,)
        s[p + "output.dense.weight"] = (d, f)
        if fb:
            s[p + "output.dense.bias"] = (d,)
        s[p + "LayerNorm.weight"] = (d,)
        s[p + "LayerNorm.bias"] = (d,)
    s["esm.encoder.emb_layer_norm_after.weight"] = (d,)
    s["esm.encoder.emb_layer_norm_after.bias"] = (d,)
    s["esm.contact_head.regression.weight"] = (1, L * h)
    s["esm.contact_head.regression.bias"] = (1,)
    s["lm_head.dense.weight"] = (d, d)
    s["lm_head.dense.bias"] = (d,)
    s["lm_head.layer_norm.weight"] = (d,)
    s["lm_head.layer_norm.bias"] = (d,)
    s["lm_head.bias"] = (V,)
    if not c.get("tie_word_embeddings", True):
        s["lm_head.decoder.weight"] = (V, d)
    return s


def inv_freq(dh):
    """RotaryEmbedding.__init__ (R 114-119): float32, as the buffer is saved"""
    return 1.0 / (10000 ** (torch.arange(0, dh, 2).float() / dh))


def rotary(x, inv):
    """RotaryEmbedding._update_cos_sin_tables + apply_rotary_pos_emb (R 59-68, 125-153)"""
    Tn = x.shape[-2]
    t = torch.arange(Tn, dtype=x.dtype)
    freqs = torch.outer(t, inv.to(x.dtype))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def forward(sd, c, ids, am):
    d, h, eps = c["hidden_size"], c["num_attention_heads"], c["layer_norm_eps"]
    dh, pad, glu = d // h, c["pad_token_id"], is_nt_remote(c)
    fb = c.get("add_bias_fnn", True)
    x = F.embedding(ids, sd["esm.embeddings.word_embeddings.weight"])
    if c.get("token_dropout"):
        ism = ids == c["mask_token_id"]
        x = x.masked_fill(ism[..., None], 0.0)
        observed = ism.sum(-1).to(x.dtype) / am.sum(-1)
        x = x * (1 - 0.15 * 0.8) / (1 - observed)[:, None, None]
    if c["position_embedding_type"] == "absolute":
        m = (ids != pad).long()
        pos = torch.cumsum(m, dim=1) * m + pad
        x = x + F.embedding(pos, sd["esm.embeddings.position_embeddings.weight"])
    if c.get("emb_layer_norm_before"):
        x = fl.ln(x, sd, "esm.embeddings.layer_norm", eps)
    x = x * am[..., None].to(x.dtype)
    ext = fl.extended_mask(am, x.dtype)
    inv = inv_freq(dh)
    hid = [x]
    for l in range(c["num_hidden_layers"]):
        p = "esm.encoder.layer.%d." % l
        a_in = fl.ln(x, sd, p + "attention.LayerNorm", eps)
        q = fl.split_heads(fl.lin(a_in, sd, p + "attention.self.query"), h) * dh ** -0.5
        k = fl.split_heads(fl.lin(a_in, sd, p + "attention.self.key"), h)
        v = fl.split_heads(fl.lin(a_in, sd, p + "attention.self.value"), h)
        if c["position_embedding_type"] == "rotary":
            q, k = rotary(q, inv), rotary(k, inv)
        s = torch.matmul(q, k.transpose(-1, -2)) + ext
        ctx = fl.merge_heads(torch.matmul(F.softmax(s, dim=-1), v))
        a = fl.lin(ctx, sd, p + "attention.output.dense") + x
        f_in = fl.ln(a, sd, p + "LayerNorm", eps)
        u = fl.lin(f_in, sd, p + "intermediate.dense", fb)
        if glu:
            x1, x2 = u.split(u.shape[-1] // 2, -1)
            i = F.silu(x1) * x2
        else:
            i = fl.erf_gelu(u)
        x = fl.lin(i, sd, p + "output.dense", fb) + a
        hid.append(x)
    x = fl.ln(x, sd, "esm.encoder.emb_layer_norm_after", eps)
    hid[-1] = x
    t = fl.ln(fl.erf_gelu(fl.lin(x, sd, "lm_head.dense")), sd, "lm_head.layer_norm", eps)
    dec = sd.get("lm_head.decoder.weight", sd["esm.embeddings.word_embeddings.weight"])
    return F.linear(t, dec) + sd["lm_head.bias"], hid


def group_of(n):
    if n.startswith("esm.embeddings."):
        return "embeddings"
    if n.startswith("esm.encoder.layer."):
        return "encoder." + n.split(".")[3]
    if n.startswith("esm.contact_head."):
        return None                     # not on the masked LM's path: gradient 0
    return "head"                       # emb_layer_norm_after and lm_head.*


def special_ids(vocab, names):
    tid = ids_of(vocab)
    return {tid[t] for t in names if t in tid}


def build(outdir, name, c, vocab, seed, store, tok_files, end_token, nwin=6, Tw=T, each=True):
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    tid = ids_of(vocab)
    sd = fl.random_weights(seed, shapes(c), store,
                           pad_rows=[("esm.embeddings.word_embeddings.weight", c["pad_token_id"])] +
                           ([("esm.embeddings.position_embeddings.weight", c["pad_token_id"])]
                            if "esm.embeddings.position_embeddings.weight" in shapes(c) else []))
    extra = {}
    if c["position_embedding_type"] == "rotary":
        for l in range(c["num_hidden_layers"]):     # a persistent buffer (R 119, U too): in the state dict
            extra["esm.encoder.layer.%d.attention.self.rotary_embeddings.inv_freq" % l] = \
                inv_freq(c["hidden_size"] // c["num_attention_heads"])
    fl.save_model(d, sd, store, extra)
    fl.write_json(os.path.join(d, "config.json"), c)
    fl.write_text(os.path.join(d, "vocab.txt"), "\n".join(vocab) + "\n")
    for fn, obj in tok_files.items():
        fl.write_json(os.path.join(d, fn), obj, sort=False)
    special = special_ids(vocab, ["<unk>", "<pad>", "<cls>", "<mask>", "<eos>"])
    content = [i for i, t in enumerate(vocab) if i not in special and not t.startswith("<")]
    wins = fl.make_windows(seed + 100, Tw, nwin, content, tid["<cls>"],
                           tid[end_token] if end_token else None, tid["<pad>"], short=(1, Tw - 3))
    fl.run_reference(outdir, name, sd, c, forward, wins, special, c["mask_token_id"], c["pad_token_id"],
                     group_of, each)
    return sd, wins


def self_checks(sd, c):
    """properties the source implies, checked on the reference itself"""
    dh = c["hidden_size"] // c["num_attention_heads"]
    g = torch.Generator().manual_seed(9)
    q = torch.randn(1, 1, 7, dh, generator=g, dtype=torch.float64)
    k = torch.randn(1, 1, 7, dh, generator=g, dtype=torch.float64)
    inv = inv_freq(dh).double()
    # rotate_half on (x1, x2) halves == rotating each pair (x[i], x[i + dh/2]) by t * inv_freq[i]
    ang = torch.arange(7, dtype=torch.float64)[:, None] * inv[None]
    a, b = q[..., :dh // 2], q[..., dh // 2:]
    ref = torch.cat((a * ang.cos() - b * ang.sin(), b * ang.cos() + a * ang.sin()), -1)
    fl.check(torch.allclose(rotary(q, inv_freq(dh)), ref, atol=1e-13), "rotary = pairwise rotation of (x[i], x[i+dh/2])")
    # scores depend on positions only through i - j: shift both by one
    s0 = rotary(q, inv_freq(dh)) @ rotary(k, inv_freq(dh)).transpose(-1, -2)
    qs, ks = torch.cat((torch.zeros_like(q[..., :1, :]), q), -2), torch.cat((torch.zeros_like(k[..., :1, :]), k), -2)
    s1 = (rotary(qs, inv_freq(dh)) @ rotary(ks, inv_freq(dh)).transpose(-1, -2))[..., 1:, 1:]
    fl.check(torch.allclose(s0, s1, atol=1e-12), "rotary scores are relative (shift invariant)")
    # token dropout with no <mask>: every embedding is scaled by 0.88
    if c.get("token_dropout"):
        ids = torch.tensor([[0, 5, 6, 7, 2]])
        am = torch.ones_like(ids)
        c2 = dict(c, token_dropout=False)
        _, h1 = forward(sd, c, ids, am)
        _, h2 = forward({**sd, "esm.embeddings.word_embeddings.weight":
                         sd["esm.embeddings.word_embeddings.weight"] * 0.88}, c2, ids, am)
        fl.check(torch.allclose(h1[0], h2[0], atol=1e-12), "token_dropout without <mask>: embeddings times 0.88")


def main(outdir):
    torch.set_default_dtype(torch.float64)
    nt1, nt2, esmtd, esmln = configs()
    esm_tok = {"tokenizer_config.json": {"tokenizer_class": "EsmTokenizer", "model_max_length": 1000},
               "special_tokens_map.json": {"unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<cls>",
                                           "mask_token": "<mask>", "eos_token": "<eos>"}}
    # the 4105-token vocabulary makes probabilities big: d 8, 3 windows of 12
    build(outdir, "nt1", nt1, NT1_VOCAB, 31, torch.float16, esm_tok, None, nwin=3, Tw=12, each=False)   # no <eos> in vocab.txt
    sd2, _ = build(outdir, "nt2", nt2, NT2_VOCAB, 32, torch.float32, esm_tok, "<eos>")
    sd3, _ = build(outdir, "esmtd", esmtd, ESMTD_VOCAB, 33, torch.float32,
                   {"tokenizer_config.json": {"tokenizer_class": "EsmTokenizer", "model_max_length": 1024}},
                   "<eos>")
    build(outdir, "esmln", esmln, ESMTD_VOCAB, 34, torch.float32,
          {"tokenizer_config.json": {"tokenizer_class": "EsmTokenizer", "model_max_length": 1024}}, "<eos>")
    self_checks(sd2, nt2)
    self_checks(sd3, esmtd)
    # ESM cannot reproduce the post-LN BERT reference: it has no post-LN
    # switch (EsmLayer is pre-LN only, R 538/680), no embedding LayerNorm by
    # default and positions offset by padding_idx + 1.  GENA-LM with
    # pre_layer_norm false is the family that must (gena_ref.py checks it).


if __name__ == "__main__":
    main(fl.outdir_arg(__doc__, here))
