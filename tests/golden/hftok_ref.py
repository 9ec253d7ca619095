#!/usr/bin/python3
"""hftok_ref.py -- a plain-Python reference of how Hugging Face tokenizes DNA
and text with the tokenizer files seqtok reads (common/hftok.c), written
from the transformers and tokenizers sources (cited per rule below), not
from seqlm's C code.  It makes the fixtures under tests/data/hftok/ and the
token ids seqtok must give:

    hftok_ref.py fixtures DIR     write the tokenizer folders, inputs and
                                  *.expected files into DIR

Each *.expected line is one window as `tnsview -n -1` shows it: the record
name, a tab, and the window's T ids.  Windows are seqtok's layout (the
tokenizer's own start/end tokens around each window's tokens, then its pad
token); the tokens inside are what HF gives for the whole sequence.
"""
import itertools, json, os, sys, unicodedata

# ---------------------------------------------------------------- input ----
def normalise_dna(s):
    """what seqtok's reader delivers (seqtok(1)): ACGT either case (U as T)
    upper-cased, white space and control bytes dropped, any other byte N"""
    out = []
    for c in s:
        if c.isspace() or ord(c) < 32 or ord(c) == 127:
            continue
        c = c.upper()
        out.append("T" if c == "U" else c if c in "ACGT" else "N")
    return "".join(out)

def read_fasta(path):
    recs, name, seq = [], None, []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if line.startswith(">"):
                if name is not None:
                    recs.append((name, normalise_dna("".join(seq))))
                name, seq = line[1:].split()[0], []
            else:
                seq.append(line)
    if name is not None:
        recs.append((name, normalise_dna("".join(seq))))
    return recs

# ------------------------------------------------------ special tokens ----
def special_names(folder, defaults):
    """tokenization_utils_base.py, PreTrainedTokenizerBase._from_pretrained:
    tokenizer_config.json gives the class's keyword arguments; without an
    "added_tokens_decoder" there (the legacy branch) every entry of
    special_tokens_map.json overwrites init_kwargs[key].  A value is a
    string, an AddedToken dict (its "content") or None."""
    cfg, stm = {}, {}
    p = os.path.join(folder, "tokenizer_config.json")
    if os.path.exists(p):
        cfg = json.load(open(p))
    p = os.path.join(folder, "special_tokens_map.json")
    if os.path.exists(p):
        stm = json.load(open(p))
    names = dict(defaults)
    def val(x):
        return x["content"] if isinstance(x, dict) else x
    for k in names:
        if k in cfg:
            names[k] = val(cfg[k])
        if "added_tokens_decoder" not in cfg and k in stm:
            names[k] = val(stm[k])
    return names, cfg

# ---------------------------------------------- BertTokenizer (DNABERT) ----
def seq2kmer(seq, k):
    """DNABERT's motif_utils.seq2kmer: the overlapping k-mers, space-joined"""
    return " ".join(seq[x:x + k] for x in range(len(seq) + 1 - k))

def bert_load_vocab(path):
    """tokenization_bert.py load_vocab: token = line.rstrip("\\n"), index in
    file order"""
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for i, tok in enumerate(f.readlines()):
            vocab[tok.rstrip("\n")] = i
    return vocab

def wordpiece(word, vocab, unk, max_chars=100):
    """tokenization_bert.py WordpieceTokenizer.tokenize: greedy longest
    prefix, then "##" pieces; a word that cannot be covered is unk"""
    if len(word) > max_chars:
        return [unk]
    out, start = [], 0
    while start < len(word):
        end, cur = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                cur = sub
                break
            end -= 1
        if cur is None:
            return [unk]
        out.append(cur)
        start = end
    return out

def bert_encode(folder, seq):
    """BertTokenizer on DNABERT's input.  BasicTokenizer (whitespace split;
    do_lower_case lower-cases) then WordPiece per word; the ids framed by
    build_inputs_with_special_tokens: [CLS] X [SEP]."""
    vocab = bert_load_vocab(os.path.join(folder, "vocab.txt"))
    names, cfg = special_names(folder, {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                                        "cls_token": "[CLS]", "mask_token": "[MASK]"})
    specials = set(v for v in names.values() if v)
    k = {len(t) for t in vocab if t not in specials}
    assert len(k) == 1
    k = k.pop()
    # DNABERT's k-mers are upper case and its tokenizer case-sensitive:
    # seqlm keeps the vocabulary's case when the config does not say
    lower = cfg.get("do_lower_case", all(t == t.lower() for t in vocab if t not in specials))
    text = seq2kmer(seq, k)
    ids = []
    for w in text.split():
        if lower:
            w = w.lower()
        ids += [vocab.get(t, vocab[names["unk_token"]]) for t in wordpiece(w, vocab, names["unk_token"])]
    toks = [(i, x, k) for x, i in enumerate(ids)]    # (id, first base, bases covered)
    return toks, vocab[names["cls_token"]], vocab[names["sep_token"]], vocab[names["pad_token"]]

# -------------------------------------------------------- EsmTokenizer ----
class Trie:
    """tokenization_utils.py Trie (add, split, cut_text), as written there"""
    def __init__(self):
        self.data = {}

    def add(self, word):
        if not word:
            return
        ref = self.data
        for char in word:
            ref[char] = char in ref and ref[char] or {}
            ref = ref[char]
        ref[""] = 1

    def split(self, text):
        states, offsets, skip = {}, [0], 0
        for current, current_char in enumerate(text):
            if skip and current < skip:
                continue
            to_remove, reset = set(), False
            for start, trie_pointer in states.items():
                if "" in trie_pointer:
                    for lookstart, looktrie_pointer in states.items():
                        if lookstart > start:
                            break
                        elif lookstart < start:
                            lookahead_index = current + 1
                            end = current + 1
                        else:
                            lookahead_index = current
                            end = current
                        next_char = text[lookahead_index] if lookahead_index < len(text) else None
                        if "" in looktrie_pointer:
                            start = lookstart
                            end = lookahead_index
                            skip = lookahead_index
                        while next_char in looktrie_pointer:
                            looktrie_pointer = looktrie_pointer[next_char]
                            lookahead_index += 1
                            if "" in looktrie_pointer:
                                start = lookstart
                                end = lookahead_index
                                skip = lookahead_index
                            if lookahead_index == len(text):
                                break
                            next_char = text[lookahead_index]
                    offsets.append(start)
                    offsets.append(end)
                    reset = True
                    break
                elif current_char in trie_pointer:
                    trie_pointer = trie_pointer[current_char]
                    states[start] = trie_pointer
                else:
                    to_remove.add(start)
            if reset:
                states = {}
            else:
                for start in to_remove:
                    del states[start]
            if current >= skip and current_char in self.data:
                states[current] = self.data[current_char]
        for start, trie_pointer in states.items():
            if "" in trie_pointer:
                end = len(text)
                offsets.append(start)
                offsets.append(end)
                break
        offsets.append(len(text))
        tokens, start = [], 0
        for end in offsets:
            if start > end:
                continue
            elif start == end:
                continue
            tokens.append(text[start:end])
            start = end
        return tokens

def esm_encode(folder, seq):
    """models/esm/tokenization_esm.py: all_tokens = stripped lines of
    vocab.txt; unique_no_split_tokens = all_tokens, so the Trie cuts the
    text at every vocabulary token (PreTrainedTokenizer.tokenize); the rest
    goes to _tokenize (text.split()) and unknown words to <unk>.
    build_inputs_with_special_tokens: cls + ids (+ eos when eos_token_id is
    not None).  An eos token that is not in vocab.txt is not appended here
    (hftok.c says why)."""
    with open(os.path.join(folder, "vocab.txt")) as f:
        all_tokens = [l.strip() for l in f.read().splitlines()]
    tid = {t: i for i, t in enumerate(all_tokens)}
    names, _ = special_names(folder, {"unk_token": "<unk>", "cls_token": "<cls>", "pad_token": "<pad>",
                                      "mask_token": "<mask>", "eos_token": "<eos>"})
    trie = Trie()
    for t in all_tokens:
        trie.add(t)
    unk = tid[names["unk_token"]]
    toks, at = [], 0
    for piece in trie.split(seq):
        if piece in tid:
            toks.append((tid[piece], at, len(piece)))
        else:
            for w in piece.split():       # no white space in normalised DNA: one word
                toks.append((unk, at + piece.index(w), len(w)))
        at += len(piece)
    eos = tid.get(names["eos_token"]) if names.get("eos_token") else None
    return toks, tid[names["cls_token"]], eos, tid[names["pad_token"]]

# ------------------------------------------------------------- windows ----
def windows(name, toks, beg, end, pad, T):
    """seqtok's layout (window.h): per window [beg] + up to T - (beg, end
    present) tokens + [end], padded; named name:first-last base (1-based)"""
    per = T - (beg is not None) - (end is not None)
    out = []
    for a in range(0, len(toks), per):
        w = toks[a:a + per]
        first, last = w[0][1] + 1, w[-1][1] + w[-1][2]
        ids = ([beg] if beg is not None else []) + [t[0] for t in w] + ([end] if end is not None else [])
        ids += [pad] * (T - len(ids))
        out.append("%s:%d-%d\t%s" % (name, first, last, " ".join(map(str, ids))))
    return out

# ------------------------------------------------------------ fixtures ----
DNA_FA = """>plain a 70 bp sequence
ACGTACGTTAGCCGATCGATCGGGATCCATTAGCAGCTTAGGCATCGACTGACTAGCTAGCATCGATCGA
>nruns N runs inside, at the start and at the end
NNACGTAGCTNNNNNACGATCGATGCATGCAGTCAGNACGTACGATCGATNN
>lower soft-masked bases and IUPAC codes
acgtagctagRYKMacgatcgaTGCAtgcagtUuu

>short
AC
>onlyn
NNNN
>wrapped sequence over lines with an empty line

ACGTAGCTAGCATCGATCG
ATCGATCGATGCATGCAG

TCAGTACGATCG
"""

def write(path, text):
    with open(path, "w") as f:
        f.write(text)

def kmers(alpha, k):
    return ["".join(p) for p in itertools.product(alpha, repeat=k)]

def make_fixtures(d):
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "dna.fa"), DNA_FA)
    folders = {}
    # DNABERT k = 3: a bare vocab.txt (the layout of DNABERT's repository)
    f = os.path.join(d, "dnabert3"); os.makedirs(f, exist_ok=True)
    write(os.path.join(f, "vocab.txt"), "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + kmers("ACGT", 3)) + "\n")
    folders["dnabert3"] = bert_encode
    # DNABERT k = 6 with the configs a transformers save_pretrained writes
    f = os.path.join(d, "dnabert6"); os.makedirs(f, exist_ok=True)
    write(os.path.join(f, "vocab.txt"), "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + kmers("ACGT", 6)) + "\n")
    write(os.path.join(f, "tokenizer_config.json"), json.dumps({"do_lower_case": False, "tokenizer_class": "BertTokenizer",
                                                                  "model_max_length": 512}, indent=2) + "\n")
    write(os.path.join(f, "special_tokens_map.json"), json.dumps({"unk_token": "[UNK]", "sep_token": "[SEP]",
          "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}, indent=2) + "\n")
    folders["dnabert6"] = bert_encode
    # Nucleotide Transformer 6-mers, 4105 tokens (no <eos> in vocab.txt)
    f = os.path.join(d, "nt6"); os.makedirs(f, exist_ok=True)
    write(os.path.join(f, "vocab.txt"), "\n".join(["<unk>", "<pad>", "<mask>", "<cls>"] + kmers("ATCG", 6) + list("ATCGN")))
    write(os.path.join(f, "tokenizer_config.json"), json.dumps({"tokenizer_class": "EsmTokenizer", "model_max_length": 1000}) + "\n")
    write(os.path.join(f, "special_tokens_map.json"), json.dumps({"unk_token": "<unk>", "pad_token": "<pad>",
          "cls_token": "<cls>", "mask_token": "<mask>", "eos_token": "<eos>"}) + "\n")
    folders["nt6"] = esm_encode
    # the NT v2 layout, 4107 tokens: <eos> and <bos> in vocab.txt, so <eos> ends each sequence
    f = os.path.join(d, "nt6eos"); os.makedirs(f, exist_ok=True)
    write(os.path.join(f, "vocab.txt"), "\n".join(["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"] + kmers("ATCG", 6) + list("ATCGN")) + "\n")
    folders["nt6eos"] = esm_encode
    # a k-mer vocabulary without N: an N run is one <unk>
    f = os.path.join(d, "esm3non"); os.makedirs(f, exist_ok=True)
    write(os.path.join(f, "vocab.txt"), "\n".join(["<cls>", "<pad>", "<eos>", "<unk>", "<mask>"] + kmers("ACGT", 3) + list("ACGT")) + "\n")
    write(os.path.join(f, "tokenizer_config.json"), json.dumps({"tokenizer_class": "EsmTokenizer"}) + "\n")
    folders["esm3non"] = esm_encode
    recs = read_fasta(os.path.join(d, "dna.fa"))
    for name, enc in folders.items():
        lines = []
        for rn, seq in recs:
            toks, beg, end, pad = enc(os.path.join(d, name), seq)
            lines += windows(rn, toks, beg, end, pad, 20)
        write(os.path.join(d, name + ".expected"), "".join(l + "\n" for l in lines))

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        make_fixtures(sys.argv[2])
    else:
        sys.exit(__doc__)
