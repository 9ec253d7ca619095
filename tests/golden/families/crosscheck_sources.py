#!/usr/bin/python3
"""crosscheck_sources.py -- runs the models' OWN modeling code (files you
fetch yourself; none is committed here) on the committed family folders
and compares with the references' expected outputs: an independent check
that nt_ref.py, gena_ref.py and dnabert2_ref.py re-implement the source.

transformers is not installed: the few names the files import from it are
stubbed below (ACT2FN["gelu"] = the exact GELU, apply_chunking_to_forward
= a plain call, PreTrainedModel/PretrainedConfig/ModelOutput = inert
bases, docstring decorators = identity), and einops' rearrange/repeat for
the handful of patterns DNABERT-2's files use.  Only nn.Module parts are
built (embeddings, encoder, LM head), fed the extended attention mask
BertModel/EsmModel would make, in float64.

    /usr/bin/python3 tests/golden/families/crosscheck_sources.py \\
        [--nt modeling_esm.py esm_config.py]          NT v2 remote code (R)
        [--gena modeling_bert.py]                     GENA_LM src/gena_lm (G)
        [--dnabert2 bert_layers.py bert_padding.py]   DNABERT-2-117M (D)

For nt1, esmtd and esmln (upstream ESM) the NT v2 file is used with its
EsmIntermediate/EsmOutput swapped for upstream's dense + gelu / dense +
residual with biases (the only difference in the parts used).
Also NAME.each.tns (every position masked alone) and the autograd Fisher (window estimator) per parameter tensor through
the source's modules vs NAME.fisher_params.tsv.  Exit 0 when the
probabilities and hidden states agree to 1e-6 (the fixtures are f32) and
the Fisher sums to 1e-6 relative."""
import json
import os
import shutil
import sys
import tempfile
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))
sys.path.insert(0, here)
import famlib as fl  # noqa: E402
from tns_io import read_tns  # noqa: E402

# ---- stubs --------------------------------------------------------------------
class _Inert:
    def __init__(self, *a, **k):
        nn.Module.__init__(self) if isinstance(self, nn.Module) else None
        for key, v in k.items():
            setattr(self, key, v)

    def post_init(self):
        pass

    def init_weights(self):
        pass


class _StubModule(types.ModuleType):
    SPECIAL = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self.SPECIAL:
            return self.SPECIAL[name]
        if name.startswith("add_") or name.startswith("replace_") or name == "auto_docstring":
            return lambda *a, **k: (lambda f: f)
        if name.endswith("Model") or name.endswith("PreTrainedModel"):
            return type(name, (_Inert, nn.Module), {})
        return type(name, (_Inert,), {})


def install_stubs():
    import logging
    special = {
        "ACT2FN": {"gelu": lambda x: F.gelu(x)},
        "apply_chunking_to_forward": lambda fn, chunk, dim, *inp: fn(*inp),
        "logging": types.SimpleNamespace(get_logger=logging.getLogger),
        "find_pruneable_heads_and_indices": None, "prune_linear_layer": None,
    }
    _StubModule.SPECIAL = special
    for name in ["transformers", "transformers.activations", "transformers.file_utils", "transformers.utils",
                 "transformers.modeling_outputs", "transformers.modeling_utils", "transformers.pytorch_utils",
                 "transformers.configuration_utils", "transformers.models", "transformers.models.bert",
                 "transformers.models.bert.configuration_bert", "transformers.models.bert.modeling_bert"]:
        sys.modules[name] = _StubModule(name)
    ein = types.ModuleType("einops")

    def rearrange(x, pattern, **k):
        p = " ".join(pattern.split())
        if p == "b s (t h d) -> b s t h d":
            return x.view(x.shape[0], x.shape[1], k["t"], k["h"], -1)
        if p in ("nnz h d -> nnz (h d)", "b ... -> b (...)"):
            return x.reshape(x.shape[0], -1)
        if p == "b s ... -> (b s) ...":
            return x.reshape(-1, *x.shape[2:])
        if p in ("(b s) ... -> b s ...", "(b s) d -> b s d"):
            return x.reshape(k["b"], -1, *x.shape[1:])
        raise NotImplementedError("einops stub: " + pattern)

    def repeat(x, pattern, **k):
        if " ".join(pattern.split()) == "z -> z d":
            return x[:, None].expand(-1, k["d"])
        raise NotImplementedError("einops stub: " + pattern)
    ein.rearrange, ein.repeat = rearrange, repeat
    sys.modules["einops"] = ein


def load_package(name, files):
    """the given files as one package in a scratch folder (relative imports work)"""
    tmp = tempfile.mkdtemp(prefix="xcheck.")
    pkg = os.path.join(tmp, name)
    os.makedirs(pkg)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    for f in files:
        shutil.copy(f, pkg)
    sys.path.insert(0, tmp)
    mods = {}
    for f in files:
        m = os.path.splitext(os.path.basename(f))[0]
        mods[m] = __import__(name + "." + m, fromlist=[m])
    return mods


# ---- the committed fixtures ----------------------------------------------------------
def fixture(name):
    w = json.load(open(os.path.join(here, name + ".windows.json")))
    _, probs = read_tns(os.path.join(here, name + ".probs.tns"))
    _, hid = read_tns(os.path.join(here, name + ".hidden.tns"))
    cfg = json.load(open(os.path.join(here, name, "config.json")))
    return w, probs, hid, cfg, fl.read_safetensors(os.path.join(here, name, "model.safetensors"))


def ns(c, **extra):
    d = dict(is_decoder=False, add_cross_attention=False, chunk_size_feed_forward=0, output_attentions=False,
             output_hidden_states=True, use_return_dict=False, hidden_act="gelu", type_vocab_size=1,
             hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, _attn_implementation="eager")
    d.update(c)
    d.update(extra)
    return types.SimpleNamespace(**d)


def load(module, sd, allowed_missing=(), allowed_extra=()):
    module.double()
    missing, extra = module.load_state_dict(sd, strict=False)
    bad = [m for m in missing if not any(a in m for a in allowed_missing)] + \
          [e for e in extra if not any(a in e for a in allowed_extra)]
    if bad:
        sys.exit("crosscheck: state dict mismatch: %s" % bad)
    module.eval()


def compare(name, w, probs, hid, run):
    worst = 0.0
    for (wn, tok), (pn, pr), (hn, hr) in zip(zip(w["names"], w["tokens"]), probs, hid):
        pos = pr["mask_pos"].astype(np.int64)
        ids = torch.tensor(tok)[None]
        inp = ids.clone()
        inp[0, pos] = w["mask_id"]
        am = (ids != w["pad_id"]).long()
        with torch.no_grad():
            logits, hs = run(inp, am)
        p = F.softmax(logits[0, pos], -1).numpy()
        worst = max(worst, float(np.abs(p - pr["probs"][0]).max()))
        keep = am[0].numpy().astype(bool)
        for l, h in enumerate(hs):
            ref = hr["hidden.%d.m0" % l].astype(np.float64)[keep]
            worst = max(worst, float(np.abs(h[keep].numpy() - ref).max() / max(1.0, np.abs(ref).max())))
    # the fixtures are f32: compare at f32 precision, the sources in f64
    ok = worst < 1e-6
    print("crosscheck: %s: the source's probabilities and hidden states vs the fixture: largest difference %.2g %s"
          % (name, worst, "ok" if ok else "FAIL"))
    return ok


def verify(name, w, probs, hid, run, module):
    a = compare(name, w, probs, hid, run)
    b = compare_each(name, w, run)
    return compare_fisher(name, w, probs, run, module) and a and b


def compare_each(name, w, run):
    """NAME.each.tns (lmprobe --mask-each) from the source, one position at a time"""
    path = os.path.join(here, name + ".each.tns")
    if not os.path.exists(path):
        return True
    _, each = read_tns(path)
    worst = 0.0
    for (wn, tok), (en, er) in zip(zip(w["names"], w["tokens"]), each):
        ids = torch.tensor(tok)[None]
        for i, t in enumerate(er["mask_pos"]):
            inp = ids.clone()
            inp[0, t] = w["mask_id"]
            with torch.no_grad():
                logits, _ = run(inp, (ids != w["pad_id"]).long())
            worst = max(worst, float(np.abs(F.softmax(logits[0, t], -1).numpy() - er["probs"][0, i]).max()))
    ok = worst < 1e-6
    print("crosscheck: %s: the source's --mask-each probabilities vs the fixture: largest difference %.2g %s"
          % (name, worst, "ok" if ok else "FAIL"))
    return ok


def compare_fisher(name, w, probs, run, module):
    """autograd through the source's modules (DNABERT-2: its unpad/pad
    autograd Functions too): the window estimator per parameter vs
    NAME.fisher_params.tsv"""
    params = dict(module.named_parameters())
    acc = {n: 0.0 for n in params}
    nwin = 0
    for (wn, tok), (pn, pr) in zip(zip(w["names"], w["tokens"]), probs):
        pos = pr["mask_pos"].astype(np.int64)
        if not len(pos):
            continue
        nwin += 1
        ids = torch.tensor(tok)[None]
        inp = ids.clone()
        inp[0, pos] = w["mask_id"]
        logits, _ = run(inp, (ids != w["pad_id"]).long())
        loss = F.cross_entropy(logits[0, pos], ids[0, pos])
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        for n, g in zip(params, grads):
            acc[n] += 0.0 if g is None else float((g ** 2).sum())
    want = dict(l.split("\t") for l in open(os.path.join(here, name + ".fisher_params.tsv")).read().split("\n")[1:] if l)
    worst, missing = 0.0, [n for n in want if n not in acc and float(want[n]) != 0]   # contact_head: 0
    for n, v in want.items():
        if n in acc:
            v = float(v)
            worst = max(worst, abs(acc[n] / nwin - v) / max(abs(v), 1e-12))
    ok = not missing and worst < 1e-6
    print("crosscheck: %s: the source's autograd Fisher per tensor vs the fixture: largest relative difference %.2g%s %s"
          % (name, worst, (", missing " + str(missing)) if missing else "", "ok" if ok else "FAIL"))
    return ok


# ---- families --------------------------------------------------------------------------
def ext_mask(am):
    return (1.0 - am[:, None, None, :].double()) * torch.finfo(torch.float64).min


def container(base, embeddings, encoder, head_name, head):
    """the source's modules under the checkpoint's names (esm.|bert.
    embeddings/encoder, lm_head|cls)"""
    m = nn.Module()
    setattr(m, base, nn.Module())
    getattr(m, base).embeddings = embeddings
    getattr(m, base).encoder = encoder
    setattr(m, head_name, head(getattr(m, base).embeddings))
    return m


def hf_run(embed, encoder, head):
    """EsmModel/BertModel.forward's path: embeddings, the encoder with the
    extended mask and every hidden state, the LM head on the last"""
    def run(inp, am):
        out = encoder(embed(inp, am), attention_mask=ext_mask(am), output_hidden_states=True, return_dict=False)
        hs = [t for t in out if isinstance(t, tuple)][0]
        return head(out[0]), [h[0] for h in hs]
    return run


def check_nt(files):
    mods = load_package("ntpkg", files)
    R = mods["modeling_esm"]

    class UpIntermediate(nn.Module):        # upstream EsmIntermediate / EsmOutput
        def __init__(self, config):
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

        def forward(self, h):
            return R.gelu(self.dense(h))

    class UpOutput(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.dense = nn.Linear(config.intermediate_size, config.hidden_size)

        def forward(self, h, inp):
            return self.dense(h) + inp
    ok = True
    for name in ("nt1", "nt2", "esmtd", "esmln"):
        w, probs, hid, c, sd = fixture(name)
        remote = "add_bias_fnn" in c
        saved = R.EsmIntermediate, R.EsmOutput
        if not remote:
            R.EsmIntermediate, R.EsmOutput = UpIntermediate, UpOutput
        cfg = ns(c, add_bias_fnn=c.get("add_bias_fnn", True))
        m = container("esm", R.EsmEmbeddings(cfg), R.EsmEncoder(cfg), "lm_head", lambda e: R.EsmLMHead(cfg))
        R.EsmIntermediate, R.EsmOutput = saved
        if c.get("tie_word_embeddings", True):
            sd = dict(sd, **{"lm_head.decoder.weight": sd["esm.embeddings.word_embeddings.weight"]})
        load(m, sd, allowed_missing=("position_embeddings",), allowed_extra=("contact_head",))
        if c.get("tie_word_embeddings", True):
            m.lm_head.decoder.weight = m.esm.embeddings.word_embeddings.weight      # tie_weights()
        run = hf_run(lambda inp, am: m.esm.embeddings(input_ids=inp, attention_mask=am), m.esm.encoder, m.lm_head)
        ok &= verify(name, w, probs, hid, run, m)
    return ok


def check_gena(files):
    G = load_package("genapkg", files)["modeling_bert"]
    ok = True
    for name in ("gena", "gena_lastln"):
        w, probs, hid, c, sd = fixture(name)
        cfg = ns(c)
        m = container("bert", G.BertEmbeddings(cfg), G.BertEncoder(cfg), "cls", lambda e: G.BertOnlyMLMHead(cfg))
        sd = dict(sd, **{"cls.predictions.decoder.weight": sd["bert.embeddings.word_embeddings.weight"],
                         "cls.predictions.decoder.bias": sd["cls.predictions.bias"]})   # decoder.bias = self.bias
        load(m, sd)
        m.cls.predictions.decoder.weight = m.bert.embeddings.word_embeddings.weight     # tie_weights()
        run = hf_run(lambda inp, am: m.bert.embeddings(input_ids=inp), m.bert.encoder, m.cls)
        ok &= verify(name, w, probs, hid, run, m)
    return ok


def check_dnabert2(files):
    D = load_package("dnabert2pkg", files)["bert_layers"]
    ok = True
    for name in ("dnabert2", "dnabert2_h6"):
        w, probs, hid, c, sd = fixture(name)
        cfg = ns(c, pad_token_id=0)
        m = container("bert", D.BertEmbeddings(cfg), D.BertEncoder(cfg), "cls",
                      lambda e: D.BertOnlyMLMHead(cfg, e.word_embeddings.weight))
        load(m, sd, allowed_missing=("cls.predictions.decoder.weight",))
        m.bert.encoder.alibi = m.bert.encoder.alibi.double()

        def run(inp, am):
            x = m.bert.embeddings(inp, torch.zeros_like(inp), None)
            layers = m.bert.encoder(x, am, output_all_encoded_layers=True)      # unpadded [nnz, d] each
            keep = am[0].bool()
            hs = [x[0]]
            for h in layers:
                full = torch.zeros_like(x[0])
                full[keep] = h
                hs.append(full)
            return m.cls(hs[-1][None]), hs
        ok &= verify(name, w, probs, hid, run, m)
    return ok


def main(argv):
    install_stubs()
    ok, ran, i = True, 0, 0
    while i < len(argv):
        if argv[i] == "--nt":
            ok &= check_nt(argv[i + 1:i + 3]); i += 3
        elif argv[i] == "--gena":
            ok &= check_gena(argv[i + 1:i + 2]); i += 2
        elif argv[i] == "--dnabert2":
            ok &= check_dnabert2(argv[i + 1:i + 3]); i += 3
        elif argv[i] in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            sys.exit(__doc__)
        ran += 1
    if not ran:
        sys.exit(__doc__)
    return 0 if ok else 1


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    sys.exit(main(sys.argv[1:]))
