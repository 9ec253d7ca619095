#!/usr/bin/python3
"""hftok_ref.py -- a plain-Python reference of how Hugging Face tokenizes DNA
and text with the tokenizer files seqtok reads (common/tok/hftok.c), written
from the transformers and tokenizers sources (cited per rule below), not
from seqlm's C code.  It makes the fixtures under tests/data/hftok/ and the
token ids seqtok must give:

    hftok_ref.py fixtures DIR     write the tokenizer folders, inputs and
                                  *.expected files into DIR
    hftok_ref.py encode FOLDER FILE T [--text]
                                  print the windows of FILE (FASTA, or text
                                  with --text) for the tokenizer in FOLDER
    hftok_ref.py ntcheck FOLDER FILE K
                                  "same" if EsmTokenizer's tokens for an NT
                                  vocab.txt are the Nucleotide Transformer's
                                  own K-mer rule on every sequence of FILE

tokenizer.json pieces followed from huggingface/tokenizers @3ba8ad0 (Rust,
tokenizers/src/): normalizers Lowercase, Strip, Replace; pre-tokenizers
Whitespace, WhitespaceSplit, ByteLevel, Split; BPE; added tokens; the
Bert/Roberta/Template post-processors (line numbers at each rule).

Each *.expected line is one window as `tnsview -n -1` shows it: the record
name, a tab, and the window's T ids.  Windows are seqtok's layout (the
tokenizer's own start/end tokens around each window's tokens, then its pad
token); the tokens inside are what HF gives for the whole sequence.
"""
import itertools, json, os, re, sys, unicodedata

# ---------------------------------------------------------------- input ----
# what seqtok's reader delivers (seqtok(1)): ACGT either case (U as T)
# upper-cased, white space and control bytes dropped, any other byte N
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seqtok_ref import normalise as normalise_dna  # noqa: E402


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

# ------------------------------------------------- tokenizer.json BPE ----
# A document is a list of units (char, first input byte, end input byte):
# every rule below keeps each char's input span, and a token is named by
# the span from its first unit's start to its last unit's end.

WHITE = set([0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] +
            list(range(0x09, 0x0E)) + list(range(0x2000, 0x200B)))

def is_space(c):
    """Rust char::is_whitespace and Oniguruma's \s: the White_Space property"""
    return ord(c) in WHITE

def is_letter(c):
    return unicodedata.category(c)[0] == "L"

def is_number(c):
    return unicodedata.category(c)[0] == "N"

OTHER_ALPHA_SO = [(0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189)]

def is_word(c):
    """Oniguruma's Unicode \w: Alphabetic (L*, Nl, Other_Alphabetic), M*,
    Nd, Pc, Join_Control"""
    cat, o = unicodedata.category(c), ord(c)
    return (cat[0] in "LM" or cat in ("Nd", "Nl", "Pc") or o in (0x200C, 0x200D)
            or any(a <= o <= b for a, b in OTHER_ALPHA_SO))

def decode(doc):
    """bytes -> units, as bytes.decode("utf-8", errors="replace"): one U+FFFD
    per maximal invalid subsequence (checked against Python's decoder)"""
    units, i = [], 0
    while i < len(doc):
        c = doc[i]
        if c < 0x80:
            units.append((chr(c), i, i + 1)); i += 1; continue
        if 0xC2 <= c <= 0xDF: need, lo, hi = 1, 0x80, 0xBF
        elif 0xE0 <= c <= 0xEF: need, lo, hi = 2, 0xA0 if c == 0xE0 else 0x80, 0x9F if c == 0xED else 0xBF
        elif 0xF0 <= c <= 0xF4: need, lo, hi = 3, 0x90 if c == 0xF0 else 0x80, 0x8F if c == 0xF4 else 0xBF
        else:
            units.append(("\ufffd", i, i + 1)); i += 1; continue
        k = 1
        while k <= need and i + k < len(doc) and lo <= doc[i + k] <= hi:
            k += 1; lo, hi = 0x80, 0xBF
        if k == need + 1:
            units.append((doc[i:i + k].decode("utf-8"), i, i + k))
        else:
            units.append(("\ufffd", i, i + k))
        i += k
    assert "".join(u[0] for u in units) == doc.decode("utf-8", errors="replace")
    return units

def text(units):
    return "".join(u[0] for u in units)

class HFBPE:
    """tokenizer.json with a BPE model, as tokenizers' Tokenizer::encode"""
    def __init__(self, folder):
        j = json.load(open(os.path.join(folder, "tokenizer.json")))
        m = j["model"]
        self.vocab = dict(m["vocab"])                      # the model's vocab
        self.unk = m.get("unk_token")
        self.fuse = bool(m.get("fuse_unk"))
        self.ignore = bool(m.get("ignore_merges"))
        # models/bpe/serialization.rs: "a b" or ["a", "b"]; a HashMap, so a
        # repeated pair keeps its last rank
        self.merges = {}
        for rank, x in enumerate(m.get("merges") or []):
            a, b = x.split(" ") if isinstance(x, str) else x
            self.merges[(self.vocab[a], self.vocab[b])] = (rank, self.vocab[a + b])
        self.added = [(t["content"], t["id"], t.get("normalized", True), t.get("lstrip", False), t.get("rstrip", False))
                      for t in j.get("added_tokens") or []]
        self.normalizers = self.flat(j.get("normalizer"), "normalizers")
        self.pretoks = self.flat(j.get("pre_tokenizer"), "pretokenizers")
        self.beg, self.end = self.post(j.get("post_processor"))
        # the pad token: the configs (BertTokenizerFast's default "[PAD]"),
        # else the padding section of tokenizer.json
        cfg = os.path.join(folder, "tokenizer_config.json")
        cls = json.load(open(cfg)).get("tokenizer_class") if os.path.exists(cfg) else None
        names, _ = special_names(folder, {"pad_token": "[PAD]" if cls == "BertTokenizerFast" else None})
        alltok = dict(self.vocab)
        for c, i, *_ in self.added:
            alltok[c] = i
        self.pad = alltok.get(names["pad_token"]) if names.get("pad_token") else None
        if self.pad is None and j.get("padding"):
            self.pad = j["padding"]["pad_id"]

    @staticmethod
    def flat(x, key):
        if x is None:
            return []
        if x["type"] == "Sequence":
            return [y for z in x[key] for y in HFBPE.flat(z, key)]
        return [x]

    @staticmethod
    def post(p):
        """processors: TemplateProcessing's single template, Bert/Roberta:
        cls $A sep"""
        if p is None or p["type"] == "ByteLevel":
            return None, None
        if p["type"] in ("BertProcessing", "RobertaProcessing"):
            return p["cls"][1], p["sep"][1]
        beg = end = None
        seen = False
        for x in p["single"]:
            if "Sequence" in x:
                seen = True
            else:
                i = p["special_tokens"][x["SpecialToken"]["id"]]["ids"][0]
                if seen: end = i
                else: beg = i
        return beg, end

    def split_added(self, pieces, normalized):
        """added_vocabulary.rs find_matches: leftmost-longest matches of the
        added tokens of this kind; lstrip/rstrip eat the white space beside"""
        # added_vocabulary.rs refresh_added_tokens: a normalized token is
        # matched by its content passed through the normalizer
        toks = [(self.norm_str(c) if n else c, i, l, r) for c, i, n, l, r in self.added if bool(n) == normalized]
        out = []
        for p in pieces:
            if p[0] is not None or not toks:
                out.append(p); continue
            u, s = p[1], text(p[1])
            off, i = 0, 0
            while i < len(s):
                best = None
                for c, tid, l, r in toks:
                    if s.startswith(c, i) and (best is None or len(c) > len(best[0])):
                        best = (c, tid, l, r)
                if best is None:
                    i += 1; continue
                st, stop = i, i + len(best[0])
                if best[2]:
                    while st > off and is_space(s[st - 1]):
                        st -= 1
                if best[3]:
                    while stop < len(s) and is_space(s[stop]):
                        stop += 1
                if st > off:
                    out.append((None, u[off:st]))
                out.append((best[1], u[st:stop]))
                off = i = stop
            if off < len(s):
                out.append((None, u[off:]))
        return out

    def norm_str(self, c):
        """added_vocabulary.rs refresh_normalized_tokens (355-373): a
        normalized added token's content through the whole normalizer"""
        return text(self.normalize([(x, 0, 1) for x in c]))

    @staticmethod
    def regex_of(pattern):
        """normalizers/replace.rs Replace::new (69-72), pre_tokenizers/
        split.rs Split::new (82-85): a String is regex::escape'd, a Regex
        taken as written, both compiled by Oniguruma.  Python's re is a
        backtracking, leftmost-first engine as Oniguruma is; on the
        expressions seqlm accepts (common/tok/hfpat.h) the two read alike."""
        if "String" in pattern:
            return re.compile(re.escape(pattern["String"]))
        return re.compile(pattern["Regex"])

    @staticmethod
    def find_matches(rx, s):
        """tokenizer/pattern.rs, Pattern for &SysRegex (63-83): the
        matches of find_iter and the text between them, in order, flagged
        True for a match"""
        if not s:
            return [((0, 0), False)]
        out, prev = [], 0
        for m in rx.finditer(s):
            if prev != m.start():
                out.append(((prev, m.start()), False))
            out.append(((m.start(), m.end()), True))
            prev = m.end()
        if prev != len(s):
            out.append(((prev, len(s)), False))
        return out

    def normalize(self, units):
        """the normalizers in order on one piece (added_vocabulary.rs
        extract_and_normalize 548-553: each piece between the added tokens
        that are not normalized is normalized on its own)"""
        for n in self.normalizers:
            if n["type"] == "Lowercase":
                units = self.lowercase(units)
            elif n["type"] == "Strip":
                # normalizers/strip.rs 26-40, normalizer.rs lrstrip
                # (800-835): leading / trailing char::is_whitespace removed
                a, b = 0, len(units)
                if n["strip_left"]:
                    while a < b and is_space(units[a][0]): a += 1
                if n["strip_right"]:
                    while b > a and is_space(units[b - 1][0]): b -= 1
                units = units[a:b]
            elif n["type"] == "Replace":
                # normalizers/replace.rs 82-86, normalizer.rs replace
                # (570-674): each match by the content.  The source aligns
                # the content with the match's last char; seqtok names a
                # token by the whole match (the ids are the same)
                out = []
                for (a, b), m in self.find_matches(self.regex_of(n["pattern"]), text(units)):
                    if m:
                        out += [(c, units[a][1], units[b - 1][2]) for c in n["content"]]
                    else:
                        out += units[a:b]
                units = out
            else:
                raise ValueError(n["type"])
        return units

    def split(self, pt, units):
        """pre_tokenizers/split.rs 96-103 and normalizer.rs split
        (694-783): find_matches, the flags flipped by invert (pattern.rs
        Invert), then the behavior's fold, written as the source has it;
        "removed" pieces go, empty ones are dropped by
        PreTokenizedString::split"""
        matches = self.find_matches(self.regex_of(pt["pattern"]), text(units))
        if pt["invert"]:
            matches = [(o, not m) for o, m in matches]
        beh = pt["behavior"]
        if beh == "Isolated":
            splits = [(o, False) for o, _ in matches]
        elif beh == "Removed":
            splits = matches
        elif beh in ("Contiguous", "MergedWithPrevious"):
            splits, prev = [], False
            for (a, b), m in matches:
                join = m == prev if beh == "Contiguous" else m and not prev
                if join and splits:
                    splits[-1] = ((splits[-1][0][0], b), False)
                else:
                    splits.append(((a, b), False))
                prev = m
        elif beh == "MergedWithNext":
            splits, prev = [], False
            for (a, b), m in reversed(matches):
                if m and not prev and splits:
                    splits[-1] = ((a, splits[-1][0][1]), False)
                else:
                    splits.append(((a, b), False))
                prev = m
            splits.reverse()
        else:
            raise ValueError(beh)
        return [units[a:b] for (a, b), rm in splits if not rm]

    @staticmethod
    def lowercase(units):
        """normalizers Lowercase: each char's char::to_lowercase (here one
        char's str.lower(), which has no context to apply final sigma to)"""
        return [(x, a, b) for c, a, b in units for x in c.lower()]

    @staticmethod
    def gpt2_split(units):
        """byte_level.rs: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
        ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ with find_iter, each match a piece"""
        s, out, i = text(units), [], 0
        def run(j, pred):
            k = j
            while k < len(s) and pred(s[k]):
                k += 1
            return k
        other = lambda c: not is_space(c) and not is_letter(c) and not is_number(c)
        while i < len(s):
            l = None
            for con in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
                if s.startswith(con, i):
                    l = len(con); break
            if l is None:
                for pred in (is_letter, is_number, other):
                    for j in ([i + 1, i] if s[i] == " " else [i]):
                        k = run(j, pred)
                        if k > j:
                            l = k - i; break
                    if l is not None:
                        break
            if l is None and is_space(s[i]):
                k = run(i, is_space)
                if k == len(s) or k - i == 1:
                    l = k - i                    # to the end, or \s+ of one
                else:
                    l = k - 1 - i                # (?!\S): leave the last one
            out.append(units[i:i + l])
            i += l
        return out

    @staticmethod
    def bytes_char():
        """GPT-2's bytes_to_unicode"""
        bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
        cs, n = bs[:], 0
        for b in range(256):
            if b not in bs:
                bs.append(b); cs.append(256 + n); n += 1
        return {b: chr(c) for b, c in zip(bs, cs)}

    def pre_tokenize(self, units):
        pieces = [units]
        bc = self.bytes_char()
        for pt in self.pretoks:
            out = []
            for u in pieces:
                s = text(u)
                if pt["type"] == "WhitespaceSplit":
                    i = 0
                    while i < len(s):
                        if is_space(s[i]): i += 1; continue
                        j = i
                        while j < len(s) and not is_space(s[j]): j += 1
                        out.append(u[i:j]); i = j
                elif pt["type"] == "Whitespace":        # \w+|[^\w\s]+
                    i = 0
                    while i < len(s):
                        if is_space(s[i]): i += 1; continue
                        w, j = is_word(s[i]), i
                        while j < len(s) and not is_space(s[j]) and is_word(s[j]) == w: j += 1
                        out.append(u[i:j]); i = j
                elif pt["type"] == "ByteLevel":
                    if pt.get("add_prefix_space", True) and not s.startswith(" "):
                        u = [(" ", u[0][1], u[0][1])] + u
                    parts = self.gpt2_split(u) if pt.get("use_regex", True) else [u]
                    for p in parts:
                        out.append([(bc[b], a, e) for c, a, e in p for b in c.encode("utf-8")])
                elif pt["type"] == "Split":
                    out += self.split(pt, u)
                else:
                    raise ValueError(pt["type"])
            pieces = [p for p in out if p]
        return pieces

    def bpe(self, units):
        """models/bpe/model.rs merge_word + word.rs merge_all"""
        s = text(units)
        if self.ignore and s in self.vocab:
            return [(self.vocab[s], units[0][1], units[-1][2])]
        syms, unk = [], None         # [id, first unit, end unit]
        for k, c in enumerate(s):
            if c in self.vocab:
                if unk: syms.append(unk); unk = None
                syms.append([self.vocab[c], k, k + 1])
            elif self.unk is not None:
                if unk and self.fuse:
                    unk[2] = k + 1
                else:
                    if unk: syms.append(unk)
                    unk = [self.vocab[self.unk], k, k + 1]
        if unk: syms.append(unk)
        n = len(syms)
        prev, nxt, alive = list(range(-1, n - 1)), list(range(1, n)) + [-1], [True] * n
        heap = []
        import heapq
        for p in range(n - 1):
            m = self.merges.get((syms[p][0], syms[p + 1][0]))
            if m: heapq.heappush(heap, (m[0], p, m[1]))
        while heap:
            rank, p, nid = heapq.heappop(heap)
            if not alive[p] or nxt[p] == -1:
                continue
            q = nxt[p]
            m = self.merges.get((syms[p][0], syms[q][0]))
            if m is None or m[1] != nid:
                continue
            syms[p][0], syms[p][2] = nid, syms[q][2]
            alive[q] = False
            nxt[p] = nxt[q]
            if nxt[q] != -1: prev[nxt[q]] = p
            if prev[p] != -1:
                m = self.merges.get((syms[prev[p]][0], nid))
                if m: heapq.heappush(heap, (m[0], prev[p], m[1]))
            if nxt[p] != -1:
                m = self.merges.get((nid, syms[nxt[p]][0]))
                if m: heapq.heappush(heap, (m[0], p, m[1]))
        return [(i, units[a][1], units[b - 1][2]) for (i, a, b), ok in zip(syms, alive) if ok]

    def encode(self, units):
        pieces = self.split_added([(None, units)], False)
        pieces = [(i, u if i is not None else self.normalize(u)) for i, u in pieces]
        pieces = self.split_added([(i, u) for i, u in pieces if u], True)
        toks = []
        for i, u in pieces:
            if not u:
                continue
            if i is not None:
                toks.append((i, u[0][1], u[-1][2]))
            else:
                for p in self.pre_tokenize(u):
                    toks += self.bpe(p)
        return [(i, a, b - a) for i, a, b in toks]

def read_text(path):
    """seqtok --text: one document per line; blank lines skipped; a
    document named file:line; trailing CR/LF removed"""
    docs = []
    with open(path, "rb") as f:
        for n, line in enumerate(f.read().split(b"\n"), 1):
            line = line.rstrip(b"\r\n")
            if line.strip(b" \t\r"):
                docs.append(("%s:%d" % (os.path.basename(path), n), line))
    return docs

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

TEXT = ("The quick brown fox jumps over the lazy dog. It's 42, isn't it?\n"
        "\n"
        "   leading spaces,\ttabs\tand  double  spaces   \n"
        "Don't split <mask> tokens; they're special: <mask>!\n"
        "Numbers 3.14159 and 2024-12-07, emails a.b@c.org.\n"
        "  \t \n"
        "Unicode: caf\u00e9, na\u00efve, \u0395\u039b\u039b\u0391\u03a3, \u0130stanbul, \u6771\u4eac, \U0001F600 ok\n"
        "K\u212aelvin and \u2163 roman, \u24b6\u24b7 circled, x\u00b2 squared\n").encode("utf-8") + \
       b"bad bytes \xff\xfe here, cut \xe2\x82 and \xf0\x9f end\n" + \
       b"a line with a CR at the end\r\n" + \
       b"last line without a new line"

CORPUS = ("the quick brown fox jumps over the lazy dog and the cat sat on the mat "
          "it is the best of times it is the worst of times they're here don't go "
          "numbers 123 456 and 2024 the end of the day is near the river bank "
          "special tokens are special and spaces matter in byte level encoding ") * 3

def train(words, nmerges):
    """a plain BPE trainer (most frequent pair, ties to the smaller pair):
    it only has to give a valid vocabulary and merge list"""
    seqs = [list(w) for w in words]
    merges = []
    for _ in range(nmerges):
        cnt = {}
        for w in seqs:
            for a, b in zip(w, w[1:]):
                cnt[(a, b)] = cnt.get((a, b), 0) + 1
        if not cnt:
            break
        best = min(cnt, key=lambda p: (-cnt[p], p))
        if cnt[best] < 2:
            break
        merges.append(best)
        for w in seqs:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == best:
                    w[i:i + 2] = [w[i] + w[i + 1]]
                i += 1
    return merges

def added(content, i, special=True, normalized=False, lstrip=False, rstrip=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}

def bpe_model(vocab, merges, unk, pair_form, fuse=False, ignore=False):
    return {"type": "BPE", "dropout": None, "unk_token": unk, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": fuse, "byte_fallback": False, "ignore_merges": ignore,
            "vocab": vocab, "merges": [list(m) if pair_form else "%s %s" % m for m in merges]}

def make_bpe_fixtures(d):
    bc = HFBPE.bytes_char()
    # DNA, Whitespace pre-tokenizer, the paper's five specials as ids 0..4
    f = os.path.join(d, "dnabpe"); os.makedirs(f, exist_ok=True)
    specials = ["<UNK>", "<PAD>", "<CLS>", "<SEP>", "<MASK>"]
    vocab = {t: i for i, t in enumerate(specials + list("ACGTN"))}
    dna = [seq for _, seq in read_fasta(os.path.join(d, "dna.fa"))] + ["ACGTTGCAACGGTACCGTAGCTAGGATCCGATCGTAGCTAGCTAGCTAGGCT" * 3]
    merges = train(dna, 60)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    merges.append(merges[3])          # a repeated pair: its later rank counts
    j = {"version": "1.0", "truncation": None, "padding": None,
         "added_tokens": [added(t, i) for i, t in enumerate(specials)],
         "normalizer": None, "pre_tokenizer": {"type": "Whitespace"},
         "post_processor": {"type": "TemplateProcessing",
                            "single": [{"SpecialToken": {"id": "<CLS>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                       {"SpecialToken": {"id": "<SEP>", "type_id": 0}}],
                            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                            "special_tokens": {"<CLS>": {"id": "<CLS>", "ids": [2], "tokens": ["<CLS>"]},
                                               "<SEP>": {"id": "<SEP>", "ids": [3], "tokens": ["<SEP>"]}}},
         "decoder": None, "model": bpe_model(vocab, merges, "<UNK>", False)}
    write(os.path.join(f, "tokenizer.json"), json.dumps(j, indent=1, ensure_ascii=False) + "\n")
    write(os.path.join(f, "tokenizer_config.json"), json.dumps({"tokenizer_class": "PreTrainedTokenizerFast",
          "unk_token": "<UNK>", "pad_token": "<PAD>", "cls_token": "<CLS>", "sep_token": "<SEP>", "mask_token": "<MASK>"}) + "\n")
    # English, RoBERTa-style ByteLevel, merges as pairs, <mask> with lstrip
    f = os.path.join(d, "textbl"); os.makedirs(f, exist_ok=True)
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>"])}
    for b in range(256):
        vocab[bc[b]] = len(vocab)
    bl = HFBPE.__new__(HFBPE)
    bl.pretoks = [{"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}]
    words = [text(p) for p in bl.pre_tokenize([(c, 0, 0) for c in CORPUS])]
    merges = train(words, 120)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["<mask>"] = len(vocab)
    j = {"version": "1.0", "truncation": None, "padding": None,
         "added_tokens": [added("<s>", 0), added("<pad>", 1), added("</s>", 2), added("<unk>", 3),
                          added("<mask>", vocab["<mask>"], lstrip=True)],
         "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
         "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True, "add_prefix_space": False},
         "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
         "model": bpe_model(vocab, merges, None, True)}
    write(os.path.join(f, "tokenizer.json"), json.dumps(j, indent=1, ensure_ascii=False) + "\n")
    write(os.path.join(f, "special_tokens_map.json"), json.dumps({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
          "sep_token": "</s>", "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}) + "\n")
    # lower-cased, WhitespaceSplit then ByteLevel with a prefix space, an
    # alphabet of printable ASCII only (other bytes: [UNK], fused), merges
    # ignored for whole words, BERT's post-processor, a normalized [MASK]
    f = os.path.join(d, "textlc"); os.makedirs(f, exist_ok=True)
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])}
    for b in list(range(0x20, 0x7f)):
        vocab[bc[b]] = len(vocab)
    lc = HFBPE.__new__(HFBPE)
    lc.pretoks = [{"type": "WhitespaceSplit"}, {"type": "ByteLevel", "add_prefix_space": True, "use_regex": True}]
    words = [text(p) for p in lc.pre_tokenize([(c, 0, 0) for c in CORPUS.lower()])]
    merges = train(words, 80)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    vocab["\u0120lazy"] = len(vocab)          # whole in the vocabulary, with no merge path: ignore_merges finds it
    j = {"version": "1.0", "truncation": None, "padding": {"pad_id": 0, "pad_token": "[PAD]"},
         "added_tokens": [added("[PAD]", 0), added("[UNK]", 1), added("[CLS]", 2), added("[SEP]", 3),
                          added("[MASK]", 4, normalized=True)],
         "normalizer": {"type": "Sequence", "normalizers": [{"type": "Lowercase"}]},
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
                           {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}]},
         "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
         "decoder": None, "model": bpe_model(vocab, merges, "[UNK]", False, fuse=True, ignore=True)}
    write(os.path.join(f, "tokenizer.json"), json.dumps(j, indent=1, ensure_ascii=False) + "\n")
    write(os.path.join(f, "tokenizer_config.json"), json.dumps({"tokenizer_class": "BertTokenizerFast"}) + "\n")
    write(os.path.join(d, "text.txt"), TEXT.decode("latin-1"), enc="latin-1")
    docs = read_text(os.path.join(d, "text.txt"))
    for name, T in (("textbl", 24), ("textlc", 24)):
        tk = HFBPE(os.path.join(d, name))
        lines = []
        for dn, doc in docs:
            lines += windows(dn, tk.encode(decode(doc)), tk.beg, tk.end, tk.pad, T)
        write(os.path.join(d, name + ".expected"), "".join(l + "\n" for l in lines))
    tk = HFBPE(os.path.join(d, "dnabpe"))
    lines = []
    for rn, seq in read_fasta(os.path.join(d, "dna.fa")):
        lines += windows(rn, tk.encode(decode(seq.encode())), tk.beg, tk.end, tk.pad, 20)
    write(os.path.join(d, "dnabpe.expected"), "".join(l + "\n" for l in lines))

def human_dna():
    """the demo's 100 kb of human chr20 (tests/data/demo), as one string"""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "demo", "human_chr20_100k.fa")
    return "".join(l.strip() for l in open(path) if not l.startswith(">"))

def family_fasta():
    """real DNA for the published families' tokenizers: N runs of 10 and
    more (GENA's Replace N{10,}) and of fewer, soft-masked (lower-case)
    bases, IUPAC codes, lengths that are not a multiple of 6 (the NT
    tokenizer's single-base tail), a sequence of only N"""
    h = human_dna()[100:]
    recs = [("real149", h[0:149]),
            ("nruns", h[200:260] + "N" * 12 + h[300:337] + "N" * 9 + h[400:431] + "N" * 10 + h[500:523] + "NNNNNNNNNNN"),
            ("softmasked", "N" * 25 + h[600:640].lower() + h[640:700] + h[700:733].lower() + "NNNNN"),
            ("iupac", h[800:830] + "RYKMSWNNNNNN" + h[830:871] + "NBDHVN" + h[871:880]),
            ("short", h[900:905]),
            ("onlyn", "N" * 15),
            ("long", h[1000:1613] + "N" * 40 + h[1700:1900])]
    return "".join(">%s\n%s\n" % (n, "\n".join(q[i:i + 60] for i in range(0, len(q), 60))) for n, q in recs)

def make_family_fixtures(d):
    """fam.fa and genabpe/: GENA-LM's tokenizer.json layout (AIRI-Institute/
    GENA_LM data/tokenizers/t2t_1000h_multi_32k/tokenizer.json: added
    [UNK] [CLS] [SEP] [PAD] [MASK] "-", normalizer Sequence[Strip,
    Replace Regex N{10,} -> "-"], pre_tokenizer Split String "-" Isolated,
    BertProcessing, BPEDecoder " "; its alphabet with the IUPAC letters)
    with merges trained on the demo's human DNA"""
    write(os.path.join(d, "fam.fa"), family_fasta())
    f = os.path.join(d, "genabpe"); os.makedirs(f, exist_ok=True)
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "-"]
    vocab = {t: i for i, t in enumerate(specials + list("ABCGKMNRSTWY"))}
    h = human_dna()[5000:]
    merges = train([h[i:i + 400] for i in range(0, 16000, 400)], 90)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    j = {"version": "1.0", "truncation": None, "padding": None,
         "added_tokens": [added(t, i) for i, t in enumerate(specials)],
         "normalizer": {"type": "Sequence", "normalizers": [{"type": "Strip", "strip_left": True, "strip_right": True},
                                                            {"type": "Replace", "pattern": {"Regex": "N{10,}"}, "content": "-"}]},
         "pre_tokenizer": {"type": "Split", "pattern": {"String": "-"}, "behavior": "Isolated", "invert": False},
         "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
         "decoder": {"type": "BPEDecoder", "suffix": " "},
         "model": bpe_model(vocab, merges, "[UNK]", False)}
    write(os.path.join(f, "tokenizer.json"), json.dumps(j, indent=2, ensure_ascii=False) + "\n")
    write(os.path.join(f, "tokenizer_config.json"), json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}) + "\n")
    write(os.path.join(f, "special_tokens_map.json"), json.dumps({"unk_token": "[UNK]", "sep_token": "[SEP]",
          "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}) + "\n")
    write(os.path.join(d, "genabpe.expected"), "".join(l + "\n" for l in encode_file(f, os.path.join(d, "fam.fa"), 20, False)))

def nt_kmers(seq, k, tid):
    """the Nucleotide Transformer's own rule (instadeepai/nucleotide-
    transformer @393d793, nucleotide_transformer/tokenizers.py,
    NucleotidesKmersTokenizer.tokenize): split at every N; each part in
    k-mers from its start, a shorter tail as single nucleotides; an N
    between parts.  EsmTokenizer's longest match on the HF vocab.txt must
    give the same tokens (checked by `hftok_ref.py ntcheck`)."""
    toks, at = [], 0
    parts = seq.split("N")
    for i, part in enumerate(parts):
        full = len(part) // k * k
        toks += [(tid[part[j:j + k]], at + j, k) for j in range(0, full, k)]
        toks += [(tid[c], at + full + j, 1) for j, c in enumerate(part[full:])]
        at += len(part)
        if i < len(parts) - 1:
            toks.append((tid["N"], at, 1))
            at += 1
    return toks

def write(path, text, enc="utf-8"):
    with open(path, "w", encoding=enc, newline="") as f:
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
    make_bpe_fixtures(d)
    make_family_fixtures(d)

def encode_file(folder, path, T, is_text):
    """the windows of a file for whatever tokenizer the folder holds"""
    if os.path.exists(os.path.join(folder, "tokenizer.json")):
        tk = HFBPE(folder)
        enc = lambda b: (tk.encode(decode(b)), tk.beg, tk.end, tk.pad)
    else:
        cfg = os.path.join(folder, "tokenizer_config.json")
        cls = json.load(open(cfg)).get("tokenizer_class") if os.path.exists(cfg) else None
        f = esm_encode if cls == "EsmTokenizer" else bert_encode
        enc = lambda b: f(folder, b.decode())
    recs = read_text(path) if is_text else [(n, s.encode()) for n, s in read_fasta(path)]
    out = []
    for name, b in recs:
        toks, beg, end, pad = enc(b)
        out += windows(name, toks, beg, end, pad, T)
    return out

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        make_fixtures(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "ntcheck":
        # ntcheck FOLDER FILE K: EsmTokenizer's tokens = NT's own k-mer rule
        folder, k = sys.argv[2], int(sys.argv[4])
        tid = {t.strip(): i for i, t in enumerate(open(os.path.join(folder, "vocab.txt")).read().splitlines())}
        for name, seq in read_fasta(sys.argv[3]):
            a, b = esm_encode(folder, seq)[0], nt_kmers(seq, k, tid)
            if a != b:
                sys.exit("%s: EsmTokenizer %s, NT %s" % (name, a[:8], b[:8]))
        print("same")
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "encode":
        for l in encode_file(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:] == ["--text"]):
            print(l)
    else:
        sys.exit(__doc__)
