#!/bin/sh
# Hugging Face tokenizers (common/tok/hftok.c, hfenc.c, hfbpe.c): seqtok --vocab
# on DNABERT and Nucleotide Transformer vocab.txt folders and tokenizer.json
# BPE folders gives the ids of the Python reference written from the
# transformers/tokenizers sources (tests/golden/hftok_ref.py); the special
# ids of the files travel with the stream and the model; bad folders fail
# cleanly.
. "$(dirname "$0")/lib.sh"
H=$DATA/hftok
cd "$H" || exit 1

# ids of `seqtok ARGS` as name<TAB>ids lines, the form of the *.expected files
ids() { seqtok -q "$@" | tnsview -n -1 --no-header | awk -F'\t' '/^#/ { n = $2 } /^\ttokens/ { print n "\t" $5 }'; }
golden() { # golden DESCRIPTION EXPECTED SEQTOK-ARGS...
	_d=$1 _e=$2; shift 2
	if ids "$@" > "$T/g.txt" 2> "$T/g.err" && cmp -s "$T/g.txt" "$_e"; then ok 0 "$_d"
	else ok 1 "$_d"; sed 's/^/# /' "$T/g.err" | head -5; diff "$T/g.txt" "$_e" | head -6 | sed 's/^/# /'; fi
}

golden "DNABERT 3-mers, a bare vocab.txt: overlapping k-mers, N k-mers [UNK], a sequence shorter than k no window" \
	dnabert3.expected --vocab dnabert3 -T 20 dna.fa
golden "DNABERT 6-mers with tokenizer_config.json and special_tokens_map.json" dnabert6.expected --vocab dnabert6 -T 20 dna.fa
golden "Nucleotide Transformer 6-mers (4105 tokens): greedy longest match, N its own token, <cls> first, no <eos>" \
	nt6.expected --vocab nt6 -T 20 dna.fa
golden "NT v2 layout with <eos> in vocab.txt: <cls> ... <eos>" nt6eos.expected --vocab nt6eos -T 20 dna.fa
golden "an EsmTokenizer vocabulary without N: an N run is one <unk>" esm3non.expected --vocab esm3non -T 20 dna.fa
golden "tokenizer.json BPE on DNA (Whitespace, TemplateProcessing, a repeated merge)" dnabpe.expected --vocab dnabpe -T 20 dna.fa
golden "tokenizer.json ByteLevel BPE on English: contractions, Unicode, bad bytes, <mask> with lstrip, RobertaProcessing" \
	textbl.expected --text --binary-ok --vocab textbl -T 24 text.txt
golden "Lowercase + WhitespaceSplit + ByteLevel prefix space, fused [UNK], ignore_merges, normalized [MASK], BertProcessing" \
	textlc.expected --text --binary-ok --vocab textlc -T 24 text.txt

# the vocabulary travels in the stream: --vocab STREAM tokenizes the same way
# (text.txt holds invalid UTF-8 on purpose: --binary-ok)
seqtok -q --vocab nt6 -T 20 -o "$T/nt.tns" dna.fa
golden "--vocab a stream made with an HF vocabulary gives the same windows" nt6.expected --vocab "$T/nt.tns" -T 20 dna.fa
seqtok -q --text --binary-ok --vocab textbl -T 24 -o "$T/bl.tns" text.txt
golden "... and so does a text BPE one" textbl.expected --text --binary-ok --vocab "$T/bl.tns" -T 24 text.txt
# the decoder (DC:) is kept for writing tokenizer.json back but stays out of
# the vocabulary hash: a model converted before decoders were kept (this
# hash) still takes streams made now
is "$(tnsview --header "$T/bl.tns" | grep '^@TK' | grep -o 'DC:[^	]*	.*H:[0-9a-f]*' | sed 's/	.*H:/ H:/')" "DC:bl111 H:76bb21692a1d93b7" \
	"a ByteLevel decoder is kept in the @TK line, and the hash is the one it had without it"
grep -q . /dev/null; tnsview --header "$T/nt.tns" | grep -q "^@TK	TY:hf-esm	N:4105	UNK:0	PAD:1	CLS:3	SEP:-1	MASK:2	BEG:3	END:-1	H:"
ok $? "the @TK line names the kind and the files' special ids"
is "$(tnsview --decode "$T/nt.tns" | head -1 | cut -f2 | cut -d' ' -f1-3) $(tnsview --decode "$T/nt.tns" | grep -c '<pad>')" \
	"<cls> ACGTAC GTTAGC 0" "tnsview --decode shows the tokens and leaves out the file's pad id (1, not seqlm's)"

# entropy --tokens skips the file's framing ids (<pad> 1, <mask> 2, <cls> 3), not seqlm's 1..4
want=$(awk -F'\t' '{ n = split($2, a, " "); for (i = 1; i <= n; i++) if (a[i] != 1 && a[i] != 2 && a[i] != 3) c++ } END { print c }' nt6.expected)
is "$(entropy --tokens "$T/nt.tns" | awk -F'\t' '$1 == 0 { print $2 }')" "$want" "entropy --tokens counts the tokens between an HF vocabulary's own framing ids"

# the special ids reach training and probing: DNABERT's [PAD] is 0, [MASK] 4
seqtok -q --vocab dnabert3 -T 20 -o "$T/d3.tns" dna.fa
if lmtrain -q --layers 1 --hidden 16 --heads 2 --ffn 32 --max-pos 32 --steps 2 -b 4 -o "$T/d3.model" "$T/d3.tns" 2> "$T/lt.err"; then
	is "$(tnsview --header "$T/d3.model" | awk -F'\t' '$2 == "pad_token_id" || $2 == "mask_token_id" { printf "%s=%s ", $2, $3 }')" \
		"pad_token_id=0 mask_token_id=4 " "lmtrain writes the vocabulary's pad and mask ids into the model"
	lmprobe "$T/d3.model" -i "$T/d3.tns" > "$T/p.tns" 2> "$T/lp.err"
	ok $? "lmprobe runs the model on its windows"; sed 's/^/# /' "$T/lp.err" | head -3
else
	ok 1 "lmtrain on DNABERT windows"; sed 's/^/# /' "$T/lt.err" | head -5
	ok 1 "lmprobe (not run)"
fi

# hftok_save_dir (tests/helpers/hfsave): every fixture written back as HF
# files and read again tokenizes the same
HS=$SEQLM_TESTBIN/hfsave
for f in dnabert3 dnabert6 nt6 nt6eos esm3non dnabpe; do
	rm -rf "$T/rt"; "$HS" "$f" "$T/rt" && ids --vocab "$T/rt" -T 20 dna.fa | cmp -s - "$f.expected"
	ok $? "$f saved and read back: the same windows"
done
for f in textbl textlc; do
	rm -rf "$T/rt"; "$HS" "$f" "$T/rt" && ids --text --binary-ok --vocab "$T/rt" -T 24 text.txt | cmp -s - "$f.expected"
	ok $? "$f saved and read back: the same windows"
done
# seqtok's own vocabularies as HF files: the reference tokenizes with them
# as seqtok does with its own (non-overlapping 6-mers as EsmTokenizer,
# DNA BPE as a tokenizer.json BPE)
exported() { # exported DESCRIPTION VOCAB-STREAM SEQTOK-ARGS...
	_d=$1 _v=$2; shift 2
	rm -rf "$T/ex"
	if "$HS" "$_v" "$T/ex" 2> "$T/ex.err" && ids "$@" dna.fa > "$T/ex.own" &&
	   "$PYTHON" "$TOP/tests/golden/hftok_ref.py" encode "$T/ex" dna.fa 20 > "$T/ex.ref" && cmp -s "$T/ex.own" "$T/ex.ref" &&
	   ids --vocab "$T/ex" -T 20 dna.fa | cmp -s - "$T/ex.own"; then ok 0 "$_d"
	else ok 1 "$_d"; sed 's/^/# /' "$T/ex.err" | head -3; diff "$T/ex.own" "$T/ex.ref" | head -4 | sed 's/^/# /'; fi
}
seqtok -q -T 20 -n 0 -o "$T/k6.tns" dna.fa
exported "seqtok's 6-mers saved as EsmTokenizer files: transformers' rule gives seqtok's windows" "$T/k6.tns" -T 20
seqtok -q -T 20 --char -n 0 -o "$T/ch.tns" dna.fa
exported "seqtok's nucleotide vocabulary likewise" "$T/ch.tns" -T 20 --char
exported "seqtok's DNA BPE saved as tokenizer.json: tokenizers' rule gives seqtok's windows" \
	"$DATA/seqtok/dna_bpe300.tns" -T 20 --vocab "$DATA/seqtok/dna_bpe300.tns"
seqtok -q -T 20 -k 3 --stride 1 -n 0 -o "$T/k3s1.tns" dna.fa
"$HS" "$T/k3s1.tns" "$T/no1" 2> "$T/no.err"; test $? = 1 && grep -q "overlapping k-mers" "$T/no.err"
ok $? "overlapping seqtok k-mers are not saved (no HF tokenizer cuts them so)"
"$HS" "$DATA/seqtok/text_bpe400.tns" "$T/no2" 2> "$T/no.err"; test $? = 1 && grep -q "pre-split is not GPT-2" "$T/no.err"
ok $? "nor is seqtok's text BPE"
seqtok -q --text --char -T 20 -n 0 -o "$T/tc.tns" "$DATA/readme/book.txt"
"$HS" "$T/tc.tns" "$T/no3" 2> "$T/no.err"; test $? = 1 && grep -q "a text-char vocabulary has no Hugging Face tokenizer files" "$T/no.err"
ok $? "nor a byte vocabulary: its kind has no save_hf in the tokenizer table"

# bad folders: exit 1, one 'seqtok: error: DIR: ...' line, no output
bad() { # bad DESCRIPTION REGEX DIR [SEQTOK ARGS]
	_d=$1 _re=$2 _dir=$3; shift 3
	fails_with "$_d" 1 "^seqtok: error: .*$_re" seqtok "$@" --vocab "$_dir" -o "$T/out.tns" dna.fa
	test ! -e "$T/out.tns" && test ! -e "$T/out.tns.tmp"; ok $? "  ... and no output file"
}
mk() { rm -rf "$T/$1"; mkdir -p "$T/$1"; }
mk wp; printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n##s\n' > "$T/wp/vocab.txt"
bad "a WordPiece vocab.txt with ## sub-words" "##s is a WordPiece sub-word" "$T/wp"
mk dup; { printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'; printf 'AAA\nAAC\nAAA\n'; } > "$T/dup/vocab.txt"
bad "a repeated token in vocab.txt" "line 8: token AAA repeats line 6" "$T/dup"
mk mix; printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nAAA\nAACG\n' > "$T/mix/vocab.txt"
bad "k-mers of two lengths" "not a 3-mer" "$T/mix"
mk crlf; printf '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nAAA\r\n' > "$T/crlf/vocab.txt"
bad "CRLF vocab.txt" "control byte in a token" "$T/crlf"
mk lc; cp dnabert3/vocab.txt "$T/lc/"; echo '{"do_lower_case": true}' > "$T/lc/tokenizer_config.json"
bad "do_lower_case with upper-case k-mers" "every k-mer \\[UNK\\]" "$T/lc"
mk atd; cp dnabert3/vocab.txt "$T/atd/"
echo '{"tokenizer_class": "BertTokenizer", "do_lower_case": false, "added_tokens_decoder": {"0": {"content": "[UNK]", "special": true}}}' > "$T/atd/tokenizer_config.json"
bad "added_tokens_decoder naming another token than vocab.txt" "added_tokens_decoder says id 0 is \\[UNK\\], vocab.txt says \\[PAD\\]" "$T/atd"
echo '{"tokenizer_class": "BertTokenizer", "do_lower_case": false, "added_tokens_decoder": {"0": {"content": "[PAD]", "special": true}, "69": {"content": "<extra>", "special": true}}}' > "$T/atd/tokenizer_config.json"
golden "added_tokens_decoder agreeing with vocab.txt (an id past it ignored): the same windows" dnabert3.expected --vocab "$T/atd" -T 20 dna.fa
mk empty
bad "a folder without tokenizer files" "no tokenizer.json or vocab.txt" "$T/empty"
mk badjson; printf '{"model": {"type": "BPE", "vocab": {"a": 0,}}' > "$T/badjson/tokenizer.json"
bad "malformed tokenizer.json" "tokenizer.json: malformed JSON near byte" "$T/badjson"
mk wpj; sed 's/"type": "BPE"/"type": "WordPiece"/' dnabpe/tokenizer.json > "$T/wpj/tokenizer.json"
bad "an unknown model type" "model type WordPiece is not supported" "$T/wpj"
mk nfkc; sed 's/"normalizer": null/"normalizer": {"type": "NFKC"}/' dnabpe/tokenizer.json > "$T/nfkc/tokenizer.json"
bad "an NFKC normalizer" "normalizer NFKC is not supported" "$T/nfkc"
mk range; sed 's/"A": 5,/"A": 16777216,/' dnabpe/tokenizer.json > "$T/range/tokenizer.json"
bad "an id out of range" "A has no valid id" "$T/range"
mk hole; sed 's/"A": 5,/"A": 500,/' dnabpe/tokenizer.json > "$T/hole/tokenizer.json"
bad "ids with a gap" "id 5 has no token" "$T/hole"
mk dupj; sed 's/"A": 5,/"A": 5, "A": 6,/' dnabpe/tokenizer.json > "$T/dupj/tokenizer.json"
bad "a token twice in the model's vocab" "token A appears twice" "$T/dupj"
mk mrg; sed 's/"merges": \[/"merges": ["A Q",/' dnabpe/tokenizer.json > "$T/mrg/tokenizer.json"
bad "a merge of a token not in the vocab" "merge 1: Q is not in the model's vocab" "$T/mrg"
mk pre; "$PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); j["pre_tokenizer"] = {"type": "Metaspace"}; json.dump(j, open(sys.argv[2], "w"))' \
	dnabpe/tokenizer.json "$T/pre/tokenizer.json"
bad "an unsupported pre-tokenizer" "pre_tokenizer Metaspace is not supported" "$T/pre"
mk nopad; sed 's/"padding": null/"padding": null/' dnabpe/tokenizer.json > "$T/nopad/tokenizer.json"
bad "a tokenizer with no pad token (no tokenizer_config.json, no padding section)" "no padding token" "$T/nopad"
mk sw; sed 's/"single_word": false/"single_word": true/' dnabpe/tokenizer.json > "$T/sw/tokenizer.json"
bad "an added token with single_word" "single_word is not supported" "$T/sw"
# ---- the published genomic families' tokenizers (issue 23) ---------------
# fam.fa: real human DNA with N runs of 10 and more and of fewer, soft-masked
# bases, IUPAC codes, lengths not a multiple of 6 (hftok_ref.py fixtures)
golden "GENA-LM's tokenizer.json (Strip, Replace N{10,} -> '-', Split '-' Isolated, BertProcessing) on real DNA" \
	genabpe.expected --vocab genabpe -T 20 fam.fa
FAM=$TOP/tests/golden/families
refwin() { # refwin FOLDER FILE T [--text]: the reference's windows
	"$PYTHON" "$TOP/tests/golden/hftok_ref.py" encode "$@"
}
same_as_ref() { # same_as_ref DESCRIPTION FOLDER FILE T [--text]
	_d=$1; shift
	if ids ${4:+--text --binary-ok} --vocab "$1" -T "$3" "$2" > "$T/s.txt" 2> "$T/s.err" && refwin "$@" > "$T/r.txt" &&
	   test -s "$T/r.txt" && cmp -s "$T/s.txt" "$T/r.txt"; then ok 0 "$_d"
	else ok 1 "$_d"; sed 's/^/# /' "$T/s.err" | head -3; diff "$T/s.txt" "$T/r.txt" | head -6 | sed 's/^/# /'; fi
}
for f in nt1 nt2 esmtd esmln gena gena_lastln dnabert2 dnabert2_h6; do
	same_as_ref "tests/golden/families/$f: seqtok --vocab gives the reference's ids on real DNA" "$FAM/$f" fam.fa 16
done
# the layout the family references assume (NAME.windows.json): the first
# token, the end token (none for NT v1), pad, mask and the special ids
for f in nt1 nt2 esmtd esmln gena gena_lastln dnabert2 dnabert2_h6; do
	seqtok -q --vocab "$FAM/$f" -T 16 -o "$T/fam.tns" fam.fa && tnsview --header "$T/fam.tns" > "$T/fam.hdr"
	"$PYTHON" - "$FAM/$f.windows.json" "$T/fam.hdr" > "$T/lay.txt" 2>&1 <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
tk = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.startswith("@TK\t")][0]
f = dict(x.split(":", 1) for x in tk[1:])
vo = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.startswith("@VO\t")]
special = [i for i, x in enumerate(vo) if len(x) > 2 and x[2].startswith("A:") and "s" in x[2][2:]]
t0 = w["tokens"][0]
end = t0[-1] if t0[-1] not in (w["pad_id"],) and t0[-1] in w["special"] else -1
got = (int(f["BEG"]), int(f["END"]), int(f["PAD"]), int(f["MASK"]), special)
want = (t0[0], end, w["pad_id"], w["mask_id"], w["special"])
print("same" if got == want else "got %s want %s" % (got, want))
PY
	is "$(cat "$T/lay.txt")" same "tests/golden/families/$f: begin, end, pad, mask and special ids are the ones of $f.windows.json"
done
# the Nucleotide Transformer's own rule (its repository's
# NucleotidesKmersTokenizer: split at N, k-mers from each part's start, the
# tail as single bases) is what EsmTokenizer's longest match gives
for x in "$FAM/nt1 6" "$FAM/nt2 3" "nt6 6"; do
	set -- $x
	is "$("$PYTHON" "$TOP/tests/golden/hftok_ref.py" ntcheck "$1" fam.fa "$2" 2>&1)" same "$(basename "$1"): EsmTokenizer's tokens are NT's own $2-mer rule on fam.fa"
done

# every Split behavior, with and without invert, on String and Regex
# patterns: seqtok = the reference written from split.rs / normalizer.rs
jpatch() { # jpatch SRC DST PYTHON: a copy of folder SRC whose tokenizer.json j the statements change
	rm -rf "$2"; cp -r "$1" "$2"
	"$PYTHON" -c 'import json, sys
p = sys.argv[1] + "/tokenizer.json"
j = json.load(open(p, encoding="utf-8"))
exec(sys.argv[2])
json.dump(j, open(p, "w", encoding="utf-8"), ensure_ascii=False)' "$2" "$3"
}
for pat in '{"String": "-"}' '{"Regex": "[AT]{3}"}' '{"Regex": "N+"}'; do
	for beh in Removed Isolated MergedWithPrevious MergedWithNext Contiguous; do
		for inv in False True; do
			case "$pat$inv" in *'"-"'*True|*N+*True) continue ;; esac
			jpatch genabpe "$T/sp" "j['pre_tokenizer'] = {'type': 'Split', 'pattern': $pat, 'behavior': '$beh', 'invert': $inv}"
			same_as_ref "Split $pat $beh invert $inv" "$T/sp" fam.fa 20
		done
	done
done
# normalizers on text: Strip of one side, Replace of a String by a
# multi-byte content and of a Regex, a Split Regex before ByteLevel; the
# normalized added token <Mask> is matched as the whole normalizer leaves
# it (<MASK>, as the text's <mask> becomes)
jpatch textlc "$T/nt" "j['normalizer'] = {'type': 'Sequence', 'normalizers': [{'type': 'Strip', 'strip_left': True, 'strip_right': False},
	{'type': 'Lowercase'}, {'type': 'Replace', 'pattern': {'String': '  '}, 'content': ' \u00e9 '},
	{'type': 'Replace', 'pattern': {'Regex': '[0-9]+'}, 'content': '#'}, {'type': 'Replace', 'pattern': {'String': 'mask'}, 'content': 'MASK'}]}
j['pre_tokenizer']['pretokenizers'].insert(0, {'type': 'Split', 'pattern': {'Regex': '[,.;:!?]+'}, 'behavior': 'MergedWithNext', 'invert': False})
n = max(list(j['model']['vocab'].values()) + [a['id'] for a in j['added_tokens']]) + 1
j['added_tokens'].append({'id': n, 'content': '<Mask>', 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': True, 'special': True})"
same_as_ref "text: Strip left, Lowercase, Replace String and Regex, Split Regex, a normalized added token" "$T/nt" text.txt 24 --text
# GENA's tokenizer on text: no pre-tokenizer drops white space, so what
# Strip leaves is [UNK] (each piece between added tokens stripped alone)
same_as_ref "text through GENA's tokenizer: Strip both sides" genabpe text.txt 24 --text
for lr in "True False" "False True"; do
	set -- $lr
	jpatch genabpe "$T/nt2" "j['normalizer']['normalizers'][0] = {'type': 'Strip', 'strip_left': $1, 'strip_right': $2}"
	same_as_ref "text through GENA's tokenizer: Strip left $1, right $2" "$T/nt2" text.txt 24 --text
done

# all of them chained: each Replace sees what the one before left, Split
# after Split, an rstrip'd normalized added token that the normalizer turns
# into <-> (as it turns the text's <nn>)
jpatch genabpe "$T/ch" "j['normalizer'] = {'type': 'Sequence', 'normalizers': [{'type': 'Strip', 'strip_left': True, 'strip_right': False},
	{'type': 'Lowercase'}, {'type': 'Replace', 'pattern': {'String': 'n'}, 'content': 'NN'},
	{'type': 'Replace', 'pattern': {'Regex': 'N{2,4}'}, 'content': '-'}, {'type': 'Replace', 'pattern': {'Regex': '[acgt]+'}, 'content': 'A'}]}
j['pre_tokenizer'] = {'type': 'Sequence', 'pretokenizers': [{'type': 'Split', 'pattern': {'Regex': '[AT]{3}'}, 'behavior': 'MergedWithNext', 'invert': True},
	{'type': 'Split', 'pattern': {'String': '-'}, 'behavior': 'Contiguous', 'invert': False},
	{'type': 'Split', 'pattern': {'String': 'G'}, 'behavior': 'MergedWithPrevious', 'invert': False},
	{'type': 'Split', 'pattern': {'String': 'C'}, 'behavior': 'Removed', 'invert': False}]}
j['added_tokens'].append({'id': len(j['model']['vocab']), 'content': '<Nn>', 'single_word': False, 'lstrip': False, 'rstrip': True, 'normalized': True, 'special': True})"
printf 'ACGTNNNNNNNNNNNNNNACGTAAATTTCCCGGG <nn> acgtn\n  nnnAATTTGGGCCC--AC<Nn>  GATTACA \n' > "$T/ch.txt"
same_as_ref "a chain of Strip, Lowercase, three Replaces and four Splits" "$T/ch" "$T/ch.txt" 30 --text
same_as_ref "... on the test text too" "$T/ch" text.txt 24 --text

# written back (tokenizer_save_hf, what lmconvert --to-hf uses): the same
# pieces, the same ids, the same @TK line; the reference agrees on the copy
for f in genabpe "$FAM/gena" "$T/nt"; do
	rm -rf "$T/rt"; "$HS" "$f" "$T/rt" 2> "$T/rt.err"
	a=$(seqtok -q --vocab "$f" -T 20 fam.fa | tnsview --header | grep '^@TK'; ids --text --binary-ok --vocab "$f" -T 24 text.txt | md5sum)
	b=$(seqtok -q --vocab "$T/rt" -T 20 fam.fa | tnsview --header | grep '^@TK'; ids --text --binary-ok --vocab "$T/rt" -T 24 text.txt | md5sum)
	test -n "$a" && test "$a" = "$b"; ok $? "$(basename "$f") written back: the same @TK line and windows"; sed 's/^/# /' "$T/rt.err" | head -3
done
same_as_ref "... and the reference reads the written tokenizer.json as the original" "$T/rt" text.txt 24 --text
rm -rf "$T/rt"; "$HS" genabpe "$T/rt"
"$PYTHON" -c 'import json, sys
a, b = (json.load(open(d + "/tokenizer.json")) for d in sys.argv[1:])
seq = lambda x, k: x[k] if x and x["type"] == "Sequence" else [x]
same = seq(a["normalizer"], "normalizers") == seq(b["normalizer"], "normalizers") and \
    seq(a["pre_tokenizer"], "pretokenizers") == seq(b["pre_tokenizer"], "pretokenizers") and a["decoder"] == b["decoder"]
print("same" if same else "%s\n%s" % (b["normalizer"], b["pre_tokenizer"]))' genabpe "$T/rt" > "$T/cmp.txt" 2>&1
is "$(cat "$T/cmp.txt")" same "GENA's normalizer, pre-tokenizer and BPEDecoder written back as they were"

# lmconvert imports and exports the tokenizer with the same code: a BERT
# checkpoint whose tokenizer.json has GENA's pieces keeps them in the model
# (seqtok --vocab MODEL = --vocab FOLDER) and writes them back with --to-hf
jpatch "$DATA/lmconvert/bpe" "$T/lmc" "g = json.load(open('genabpe/tokenizer.json'))
for k in ('normalizer', 'pre_tokenizer', 'decoder'): j[k] = g[k]"
if lmconvert -q --from-hf "$T/lmc" -o "$T/lmc.tns" 2> "$T/lmc.err" && lmconvert -q --to-hf "$T/lmc_hf" "$T/lmc.tns" 2>> "$T/lmc.err"; then
	a=$(ids --vocab "$T/lmc" -T 20 fam.fa) b=$(ids --vocab "$T/lmc.tns" -T 20 fam.fa) c=$(ids --vocab "$T/lmc_hf" -T 20 fam.fa)
	test -n "$a" && test "$a" = "$b" && test "$a" = "$c"; ok $? "lmconvert --from-hf keeps GENA's pieces in the model, --to-hf writes them back: the same windows"
	is "$("$PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["decoder"], [n["type"] for n in j["normalizer"]["normalizers"]], [p["type"] for p in j["pre_tokenizer"]["pretokenizers"]])' "$T/lmc_hf/tokenizer.json")" \
		"{'type': 'BPEDecoder', 'suffix': ' '} ['Strip', 'Replace'] ['Split']" "... the written tokenizer.json has Strip, Replace, Split and the BPEDecoder"
else
	ok 1 "lmconvert with GENA's tokenizer pieces"; sed 's/^/# /' "$T/lmc.err" | head -5
	ok 1 "... (not run)"
fi

# pieces seqlm cannot run exactly: refused by name, exit 1, no output
for re in 'N.' '(NN)+' 'A|T' '\\d+' '[^N]+' 'N*' 'A+T+' 'N{,5}' '^N' '[[:alpha:]]+' 'N+?' ''; do
	jpatch genabpe "$T/rx" "j['normalizer']['normalizers'][1]['pattern'] = {'Regex': '$re'}"
	bad "Replace regex /$re/" "normalizer Replace: (regex /.*/ is not supported|an empty pattern)" "$T/rx"
done
jpatch genabpe "$T/rx" "j['pre_tokenizer'] = {'type': 'Split', 'pattern': {'Regex': 'N{3}|A'}, 'behavior': 'Isolated', 'invert': False}"
bad "Split regex with an alternative" "pre_tokenizer Split: regex /N\\{3\\}\\|A/ is not supported: \\| \\(POSIX takes the longest" "$T/rx"
jpatch genabpe "$T/rx" "j['pre_tokenizer']['behavior'] = 'Merged'"
bad "an unknown Split behavior" "pre_tokenizer Split: behavior Merged is not one of Removed, Isolated" "$T/rx"
jpatch genabpe "$T/rx" "del j['pre_tokenizer']['invert']"
bad "a Split without invert (split.rs requires it)" "pre_tokenizer Split: invert must be true or false" "$T/rx"
jpatch genabpe "$T/rx" "del j['normalizer']['normalizers'][0]['strip_right']"
bad "a Strip without strip_right" "normalizer Strip: strip_left and strip_right must be true or false" "$T/rx"
jpatch genabpe "$T/rx" "j['normalizer']['normalizers'][1]['pattern'] = {'Glob': 'N*'}"
bad "a Replace pattern that is neither String nor Regex" "normalizer Replace: pattern must be" "$T/rx"
jpatch genabpe "$T/rx" "j['decoder'] = {'type': 'BPEDecoder'}"
bad "a BPEDecoder without its suffix" "decoder BPEDecoder without a suffix string" "$T/rx"
jpatch genabpe "$T/rx" "j['normalizer']['normalizers'].append({'type': 'Prepend', 'prepend': '_'})"
bad "a Prepend normalizer" "normalizer Prepend is not supported" "$T/rx"
fails_with "a DNA-only HF vocabulary cannot encode --text" 2 "DNA vocabulary" seqtok --text --vocab nt6 text.txt

done_testing
