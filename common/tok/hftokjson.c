/* hftokjson.c -- tokenizer.json (Hugging Face tokenizers) into an hf-bpe
 * vocabulary: the BPE model's vocab and merges, the added tokens, and the
 * normalizer, pre-tokenizer and post-processor as @TK fields that hfbpe.c
 * encodes with, and the decoder (for writing the file back).  Every field
 * is checked; whatever hfbpe.c cannot do exactly is refused by name.  Field
 * names and defaults: tokenizers (Rust) src/models/bpe/serialization.rs,
 * src/tokenizer/serialization.rs, src/pre_tokenizers/byte_level.rs,
 * src/processors/template.rs, src/normalizers/{strip,replace}.rs,
 * src/pre_tokenizers/split.rs, src/decoders/bpe.rs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "tok/hftokint.h"
#include "base/strmap.h"
#include "tok/hfpat.h"

#define FAIL(...) do { snprintf(err, errlen, "tokenizer.json: " __VA_ARGS__); goto bad; } while (0)

typedef struct {
	char **tok;                   /* by id */
	char *flags;                  /* by id: added-token flags, "" if none */
	int n, cap;
	int nmodel;                   /* ids of the model's vocab */
	strmap all, model;            /* token -> id: everything, the model's vocab */
} idtab;

static int tab_set(idtab *t, long id, const char *s)
{
	if (id >= t->cap) {
		int c = t->cap ? t->cap : 1024;
		while (c <= id) c *= 2;
		t->tok = xrealloc(t->tok, c * sizeof *t->tok);
		t->flags = xrealloc(t->flags, c * 8);
		for (int i = t->cap; i < c; i++) { t->tok[i] = NULL; t->flags[8 * i] = 0; }
		t->cap = c;
	}
	if (t->tok[id]) return -1;
	t->tok[id] = xstrdup(s);
	if (id >= t->n) t->n = (int)id + 1;
	return 0;
}

static void tab_free(idtab *t)
{
	for (int i = 0; i < t->n; i++) free(t->tok[i]);
	free(t->tok);
	free(t->flags);
	strmap_free(&t->all);
	strmap_free(&t->model);
}

/* an integer id in [0, 2^24) */
static int get_id(const cJSON *x, long *id)
{
	/* the range first: casting a huge or NaN double to long is undefined */
	if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0 && x->valuedouble < (1 << 24)) ||
	    x->valuedouble != (double)(long)x->valuedouble)
		return -1;
	*id = (long)x->valuedouble;
	return 0;
}

static const char *type_of(const cJSON *o)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
	return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* a boolean field: dflt when absent or null; -1 when not a boolean */
static int get_bool(const cJSON *o, const char *k, int dflt)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!x || cJSON_IsNull(x)) return dflt;
	return cJSON_IsBool(x) ? cJSON_IsTrue(x) : -1;
}

static int add_field(char *params, size_t cap, const char *f)
{
	if (strlen(params) + strlen(f) + 1 > cap) return -1;
	strcat(params, f);
	return 0;
}

/* a Replace or Split pattern -> "s" or "r" and its escaped text (hfpat.h),
 * checked as hfpat_init will take it */
static int pattern_spec(const cJSON *o, const char *what, char *out, size_t cap, char *err, size_t errlen)
{
	const cJSON *pt = cJSON_GetObjectItemCaseSensitive(o, "pattern");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(pt, "String"), *re = cJSON_GetObjectItemCaseSensitive(pt, "Regex");
	const cJSON *x = st ? st : re;
	if (!cJSON_IsObject(pt) || cJSON_GetArraySize(pt) != 1 || !cJSON_IsString(x))
		FAIL("%s: pattern must be {\"String\": ...} or {\"Regex\": ...}", what);
	hfpat p;
	char e[384];
	if (hfpat_init(&p, x->valuestring, re != NULL, e, sizeof e) < 0) FAIL("%s: %s", what, e);
	hfpat_free(&p);
	out[0] = re ? 'r' : 's';
	if (hfpat_escape(x->valuestring, (long)strlen(x->valuestring), out + 1, cap - 1) < 0) FAIL("%s: pattern too long", what);
	return 0;
bad:
	return -1;
}

/* normalizer -> "lc,st11,rrN{10%2C}=-,..." (normalizers/mod.rs
 * NormalizerWrapper): Lowercase "lc"; Strip "st<left><right>"; Replace
 * "r<s|r><pattern>=<content>", escaped.  NFKC and the rest are Unicode
 * tables seqlm does not carry. */
static int normalizer(const cJSON *n, char *spec, size_t cap, char *err, size_t errlen)
{
	char f[320];
	if (!n || cJSON_IsNull(n)) return 0;
	const char *ty = type_of(n);
	if (!ty) FAIL("normalizer without a type");
	if (!strcmp(ty, "Sequence")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(n, "normalizers"), *x;
		if (!cJSON_IsArray(l)) FAIL("normalizer Sequence without a normalizers list");
		cJSON_ArrayForEach(x, l) if (normalizer(x, spec, cap, err, errlen) < 0) return -1;
		return 0;
	}
	if (!strcmp(ty, "Lowercase")) snprintf(f, sizeof f, "lc");
	else if (!strcmp(ty, "Strip")) {
		/* normalizers/strip.rs: both fields plain bools, no defaults */
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(n, "strip_left"), *r = cJSON_GetObjectItemCaseSensitive(n, "strip_right");
		if (!cJSON_IsBool(l) || !cJSON_IsBool(r)) FAIL("normalizer Strip: strip_left and strip_right must be true or false");
		snprintf(f, sizeof f, "st%d%d", cJSON_IsTrue(l), cJSON_IsTrue(r));
	} else if (!strcmp(ty, "Replace")) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(n, "content");
		if (!cJSON_IsString(c)) FAIL("normalizer Replace without a content string");
		f[0] = 'r';
		if (pattern_spec(n, "normalizer Replace", f + 1, sizeof f - 1, err, errlen) < 0) return -1;
		size_t k = strlen(f);
		f[k++] = '=';
		if (hfpat_escape(c->valuestring, (long)strlen(c->valuestring), f + k, sizeof f - k) < 0) FAIL("normalizer Replace: content too long");
	} else
		FAIL("normalizer %s is not supported (seqlm reproduces Lowercase, Strip, Replace and Sequence of them exactly; "
		     "NFC/NFD/NFKC/NFKD, BertNormalizer, Prepend ... it does not)", ty);
	if ((*spec && add_field(spec, cap, ",") < 0) || add_field(spec, cap, f) < 0) FAIL("normalizer too long for the @TK line");
	return 0;
bad:
	return -1;
}

/* pre_tokenizer -> "ws" Whitespace, "wss" WhitespaceSplit, "bl<p><r>"
 * ByteLevel (add_prefix_space, use_regex; tokenizers' defaults true, true),
 * "s<s|r><behavior><invert><pattern>" Split (behavior R I P N C: Removed,
 * Isolated, MergedWithPrevious, MergedWithNext, Contiguous) */
static int pretok(const cJSON *p, char *spec, size_t cap, char *err, size_t errlen)
{
	if (!p || cJSON_IsNull(p)) return 0;
	const char *ty = type_of(p);
	char f[320];
	if (!ty) FAIL("pre_tokenizer without a type");
	if (!strcmp(ty, "Sequence")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"), *x;
		if (!cJSON_IsArray(l)) FAIL("pre_tokenizer Sequence without a pretokenizers list");
		cJSON_ArrayForEach(x, l) if (pretok(x, spec, cap, err, errlen) < 0) return -1;
		return 0;
	}
	if (!strcmp(ty, "Whitespace")) snprintf(f, sizeof f, "ws");
	else if (!strcmp(ty, "WhitespaceSplit")) snprintf(f, sizeof f, "wss");
	else if (!strcmp(ty, "ByteLevel")) {
		int ap = get_bool(p, "add_prefix_space", 1), re = get_bool(p, "use_regex", 1);
		if (ap < 0 || re < 0) FAIL("pre_tokenizer ByteLevel: add_prefix_space and use_regex must be true or false");
		snprintf(f, sizeof f, "bl%d%d", ap, re);
	} else if (!strcmp(ty, "Split")) {
		/* pre_tokenizers/split.rs SplitHelper: pattern, behavior and invert
		 * are all required; behavior is a SplitDelimiterBehavior
		 * (tokenizer/normalizer.rs) */
		static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(p, "behavior"), *inv = cJSON_GetObjectItemCaseSensitive(p, "invert");
		int k = -1;
		for (int i = 0; i < 5 && cJSON_IsString(b); i++) if (!strcmp(b->valuestring, names[i])) k = i;
		if (k < 0) FAIL("pre_tokenizer Split: behavior %s is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous",
		                cJSON_IsString(b) ? b->valuestring : "(missing)");
		if (!cJSON_IsBool(inv)) FAIL("pre_tokenizer Split: invert must be true or false");
		f[0] = 's';
		if (pattern_spec(p, "pre_tokenizer Split", f + 1, sizeof f - 3, err, errlen) < 0) return -1;
		memmove(f + 4, f + 2, strlen(f + 2) + 1);          /* s<kind><behavior><invert><pattern> */
		f[2] = "RIPNC"[k];
		f[3] = cJSON_IsTrue(inv) ? '1' : '0';
	} else
		FAIL("pre_tokenizer %s is not supported (Whitespace, WhitespaceSplit, ByteLevel, Split and Sequence of them are)", ty);
	if ((*spec && add_field(spec, cap, ",") < 0) || add_field(spec, cap, f) < 0) FAIL("pre_tokenizer too long for the @TK line");
	return 0;
bad:
	return -1;
}

/* decoder -> "bpe<suffix>" BPEDecoder, "bl<p><t><r>" ByteLevel (its
 * add_prefix_space, trim_offsets, use_regex), "" for none.  Decoding does
 * not change the ids: it is kept only to write tokenizer.json back
 * (hftoksave.c).  Other decoders are dropped (decoders/mod.rs has nine). */
static int decoder(const cJSON *d, char *spec, size_t cap, char *err, size_t errlen)
{
	if (!d || cJSON_IsNull(d)) return 0;
	const char *ty = type_of(d);
	if (!ty) FAIL("decoder without a type");
	if (!strcmp(ty, "BPEDecoder")) {
		/* decoders/bpe.rs: suffix is a required string */
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(d, "suffix");
		if (!cJSON_IsString(s)) FAIL("decoder BPEDecoder without a suffix string");
		snprintf(spec, cap, "bpe");
		if (hfpat_escape(s->valuestring, (long)strlen(s->valuestring), spec + 3, cap - 3) < 0) FAIL("decoder BPEDecoder: suffix too long");
	} else if (!strcmp(ty, "ByteLevel")) {
		int ap = get_bool(d, "add_prefix_space", 1), tr = get_bool(d, "trim_offsets", 1), re = get_bool(d, "use_regex", 1);
		if (ap < 0 || tr < 0 || re < 0) FAIL("decoder ByteLevel: add_prefix_space, trim_offsets and use_regex must be true or false");
		snprintf(spec, cap, "bl%d%d%d", ap, tr, re);
	}
	return 0;
bad:
	return -1;
}

/* the id of a post-processor's special token */
static int special_of(const cJSON *sp, const char *name, long *id)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(sp, name);
	const cJSON *ids = e ? cJSON_GetObjectItemCaseSensitive(e, "ids") : NULL;
	if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) != 1) return -1;
	return get_id(cJSON_GetArrayItem(ids, 0), id);
}

/* post_processor -> the ids before and after a sequence (-1 none) */
static int postproc(const cJSON *p, long *beg, long *end, char *err, size_t errlen)
{
	if (!p || cJSON_IsNull(p)) return 0;
	const char *ty = type_of(p);
	if (!ty) FAIL("post_processor without a type");
	if (!strcmp(ty, "ByteLevel")) return 0;        /* offsets only */
	if (!strcmp(ty, "Sequence")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "processors"), *x;
		if (!cJSON_IsArray(l)) FAIL("post_processor Sequence without a processors list");
		cJSON_ArrayForEach(x, l) if (postproc(x, beg, end, err, errlen) < 0) return -1;
		return 0;
	}
	if (!strcmp(ty, "BertProcessing") || !strcmp(ty, "RobertaProcessing")) {
		/* single sequence: cls $A sep (processors/bert.rs, roberta.rs) */
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "cls"), *s = cJSON_GetObjectItemCaseSensitive(p, "sep");
		if (!cJSON_IsArray(c) || !cJSON_IsArray(s) || get_id(cJSON_GetArrayItem(c, 1), beg) < 0 ||
		    get_id(cJSON_GetArrayItem(s, 1), end) < 0)
			FAIL("post_processor %s: cls and sep must be [token, id]", ty);
		return 0;
	}
	if (!strcmp(ty, "TemplateProcessing")) {
		/* "single": [SpecialToken]? Sequence A [SpecialToken]? */
		const cJSON *single = cJSON_GetObjectItemCaseSensitive(p, "single"), *sp = cJSON_GetObjectItemCaseSensitive(p, "special_tokens"), *x;
		if (!cJSON_IsArray(single)) FAIL("post_processor TemplateProcessing without a single template");
		int seen_seq = 0, k = 0;
		cJSON_ArrayForEach(x, single) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(x, "SpecialToken"), *sq = cJSON_GetObjectItemCaseSensitive(x, "Sequence");
			if (sq && !st && !seen_seq) { seen_seq = 1; continue; }
			const cJSON *nm = st ? cJSON_GetObjectItemCaseSensitive(st, "id") : NULL;
			long id;
			if (!cJSON_IsString(nm) || special_of(sp, nm->valuestring, &id) < 0 || (seen_seq ? *end >= 0 : *beg >= 0))
				FAIL("post_processor TemplateProcessing: only a single template of at most one special token of "
				     "one id before and after $A is supported");
			if (seen_seq) *end = id; else *beg = id;
			k++;
		}
		if (!seen_seq) FAIL("post_processor TemplateProcessing: the single template has no $A");
		return 0;
	}
	FAIL("post_processor %s is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel)", ty);
bad:
	return -1;
}

/* the model's vocab and merges */
static int model_vocab(const cJSON *m, idtab *t, char *err, size_t errlen)
{
	const cJSON *vo = cJSON_GetObjectItemCaseSensitive(m, "vocab"), *x;
	if (!cJSON_IsObject(vo)) FAIL("model has no vocab object");
	cJSON_ArrayForEach(x, vo) {
		long id;
		if (get_id(x, &id) < 0) FAIL("model vocab: %s has no valid id (an integer in 0..2^24)", x->string);
		if (!*x->string) FAIL("model vocab: an empty token");
		int j = strmap_put(&t->model, x->string, strlen(x->string), (int)id);
		if (j >= 0) FAIL("model vocab: token %s appears twice", x->string);
		if (tab_set(t, id, x->string) < 0) FAIL("model vocab: id %ld given to %s and %s", id, t->tok[id], x->string);
	}
	t->nmodel = t->n;
	return 0;
bad:
	return -1;
}

static int model_merges(const cJSON *m, idtab *t, tok_vocab *v, char *err, size_t errlen)
{
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(m, "merges"), *x;
	if (!me || cJSON_IsNull(me)) return 0;
	if (!cJSON_IsArray(me)) FAIL("model merges is not a list");
	int r = 0;
	cJSON_ArrayForEach(x, me) {
		/* "a b" (split on ' ', exactly two parts: serialization.rs /
		 * convert_merges_to_hashmap) or ["a", "b"] */
		char *a = NULL, *b = NULL, *ab = NULL;
		if (cJSON_IsString(x)) {
			a = xstrdup(x->valuestring);
			char *sp = strchr(a, ' ');
			if (!sp || strchr(sp + 1, ' ')) { free(a); FAIL("merge %d (\"%s\") is not two tokens separated by one space", r + 1, x->valuestring); }
			*sp = 0;
			b = xstrdup(sp + 1);
		} else if (cJSON_IsArray(x) && cJSON_GetArraySize(x) == 2 && cJSON_IsString(cJSON_GetArrayItem(x, 0)) &&
		           cJSON_IsString(cJSON_GetArrayItem(x, 1))) {
			a = xstrdup(cJSON_GetArrayItem(x, 0)->valuestring);
			b = xstrdup(cJSON_GetArrayItem(x, 1)->valuestring);
		} else FAIL("merge %d is neither \"a b\" nor [\"a\", \"b\"]", r + 1);
		if (asprintf(&ab, "%s%s", a, b) < 0) die("out of memory");
		int l = strmap_get(&t->model, a, strlen(a)), rr = strmap_get(&t->model, b, strlen(b)),
		    m2 = strmap_get(&t->model, ab, strlen(ab));
		if (l < 0 || rr < 0 || m2 < 0) {
			snprintf(err, errlen, "tokenizer.json: merge %d: %s is not in the model's vocab", r + 1, l < 0 ? a : rr < 0 ? b : ab);
			free(a); free(b); free(ab);
			return -1;
		}
		free(a); free(b); free(ab);
		vocab_add_merge(v, l, rr);
		r++;
	}
	return 0;
bad:
	return -1;
}

/* added_tokens: ids and flags s(pecial) n(ormalized) l(strip) r(strip),
 * x for a token that is not in the model's vocab (BPE never produces it) */
static int added_tokens(const cJSON *j, idtab *t, char *err, size_t errlen)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "added_tokens"), *x;
	if (!at || cJSON_IsNull(at)) return 0;
	if (!cJSON_IsArray(at)) FAIL("added_tokens is not a list");
	cJSON_ArrayForEach(x, at) {
		long id;
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(x, "content");
		if (get_id(cJSON_GetObjectItemCaseSensitive(x, "id"), &id) < 0 || !cJSON_IsString(c) || !*c->valuestring)
			FAIL("an added token without a valid id and content");
		int sw = get_bool(x, "single_word", 0), ls = get_bool(x, "lstrip", 0), rs = get_bool(x, "rstrip", 0),
		    no = get_bool(x, "normalized", 1), sp = get_bool(x, "special", 0);
		if (sw < 0 || ls < 0 || rs < 0 || no < 0 || sp < 0) FAIL("added token %s: flags must be true or false", c->valuestring);
		if (sw) FAIL("added token %s: single_word is not supported", c->valuestring);
		int mid = strmap_get(&t->model, c->valuestring, strlen(c->valuestring));
		if (mid >= 0 && mid != id) FAIL("added token %s has id %ld but the model's vocab says %d", c->valuestring, id, mid);
		if (mid < 0 && tab_set(t, id, c->valuestring) < 0)
			FAIL("added token %s: id %ld is already %s", c->valuestring, id, t->tok[id]);
		char *f = t->flags + 8 * id;
		snprintf(f, 8, "%s%s%s%s%s", sp ? "s" : "", no ? "n" : "", ls ? "l" : "", rs ? "r" : "", mid < 0 ? "x" : "");
		if (!*f) strcpy(f, "-");
	}
	return 0;
bad:
	return -1;
}

/* defaults of the classes a tokenizer_config.json names: BertTokenizerFast
 * (models/bert/tokenization_bert_fast.py __init__); others none */
static const char *const bert_dflt[HF_NSPECIAL] = {"[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", NULL, NULL};
static const char *const no_dflt[HF_NSPECIAL] = {NULL};

int hf_load_tokenizer_json(const char *dir, tok_vocab *v, char *err, size_t errlen)
{
	int missing, rc = -1;
	idtab t;
	char *name[HF_NSPECIAL] = {0};
	char nm[256] = "", pt[256] = "", dc[256] = "", f[800];
	long beg = -1, end = -1;
	memset(&t, 0, sizeof t);
	strmap_init(&t.all);
	strmap_init(&t.model);
	vocab_init(v, "hf-bpe");
	cJSON *cfg = NULL, *stm = NULL, *j = hf_read_json(dir, "tokenizer.json", &missing, err, errlen);
	if (!j) goto out;
	if (!cJSON_IsObject(j)) FAIL("not a JSON object");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "model");
	if (!cJSON_IsObject(m)) FAIL("no model object");
	const char *ty = type_of(m);
	if (ty ? strcmp(ty, "BPE") != 0 : !cJSON_GetObjectItemCaseSensitive(m, "merges"))
		FAIL("model type %s is not supported (BPE only; WordPiece, Unigram and WordLevel are not read)", ty ? ty : "(none)");
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(m, "dropout");
	if (x && !cJSON_IsNull(x) && !(cJSON_IsNumber(x) && x->valuedouble == 0))
		FAIL("BPE dropout is not supported (it makes encoding random)");
	for (const char *const *k = (const char *const[]){"continuing_subword_prefix", "end_of_word_suffix", NULL}; *k; k++) {
		x = cJSON_GetObjectItemCaseSensitive(m, *k);
		if (x && !cJSON_IsNull(x) && !(cJSON_IsString(x) && !*x->valuestring)) FAIL("BPE %s is not supported", *k);
	}
	int fuse = get_bool(m, "fuse_unk", 0), bfb = get_bool(m, "byte_fallback", 0), ign = get_bool(m, "ignore_merges", 0);
	if (fuse < 0 || bfb < 0 || ign < 0) FAIL("BPE fuse_unk, byte_fallback and ignore_merges must be true or false");
	if (bfb) FAIL("BPE byte_fallback is not supported");
	if (model_vocab(m, &t, err, errlen) < 0 || added_tokens(j, &t, err, errlen) < 0) goto out;
	for (int i = 0; i < t.n; i++) {
		if (!t.tok[i]) FAIL("id %d has no token (the ids must run 0..%d without gaps)", i, t.n - 1);
		strmap_put(&t.all, t.tok[i], strlen(t.tok[i]), i);
	}
	if (t.n == 0) FAIL("an empty vocabulary");
	const cJSON *unk = cJSON_GetObjectItemCaseSensitive(m, "unk_token");
	int munk = -1;
	if (unk && !cJSON_IsNull(unk)) {
		if (!cJSON_IsString(unk)) FAIL("model unk_token is not a string");
		munk = strmap_get(&t.model, unk->valuestring, strlen(unk->valuestring));
		if (munk < 0) FAIL("model unk_token %s is not in the model's vocab", unk->valuestring);
	}
	if (normalizer(cJSON_GetObjectItemCaseSensitive(j, "normalizer"), nm, sizeof nm, err, errlen) < 0 ||
	    pretok(cJSON_GetObjectItemCaseSensitive(j, "pre_tokenizer"), pt, sizeof pt, err, errlen) < 0 ||
	    postproc(cJSON_GetObjectItemCaseSensitive(j, "post_processor"), &beg, &end, err, errlen) < 0 ||
	    decoder(cJSON_GetObjectItemCaseSensitive(j, "decoder"), dc, sizeof dc, err, errlen) < 0)
		goto out;
	if (beg >= t.n || end >= t.n) FAIL("post_processor: a special token id outside the vocabulary");
	/* DC: only where there is a decoder: the vocabularies without one keep
	 * the @TK line (and hash) they had before decoders were kept */
	snprintf(f, sizeof f, "\tNM:%s\tPT:%s\tMU:%d\tFU:%d\tIM:%d%s%s", *nm ? nm : "-", *pt ? pt : "-", munk, fuse, ign,
	         *dc ? "\tDC:" : "", dc);
	if (add_field(v->params, sizeof v->params, f) < 0) FAIL("normalizer, pre_tokenizer and decoder too long for the @TK line");
	for (int i = 0; i < t.n; i++) vocab_add(v, t.tok[i], (int)strlen(t.tok[i]), NULL);
	if (model_merges(m, &t, v, err, errlen) < 0) goto out;

	/* the special tokens' roles: tokenizer_config.json /
	 * special_tokens_map.json (hftok.c); else the model's unk, the
	 * padding section's pad token and the post-processor's cls/sep */
	cfg = hf_read_json(dir, "tokenizer_config.json", &missing, err, errlen);
	if (!cfg && !missing) goto out;
	stm = hf_read_json(dir, "special_tokens_map.json", &missing, err, errlen);
	if (!stm && !missing) goto out;
	const cJSON *cls = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "tokenizer_class") : NULL;
	int bert = cJSON_IsString(cls) && !strcmp(cls->valuestring, "BertTokenizerFast");
	if (hf_special_names(cfg, stm, bert ? bert_dflt : no_dflt, name, err, errlen) < 0) goto out;
	int id[HF_NSPECIAL];
	for (int k = 0; k < HF_NSPECIAL; k++) id[k] = name[k] ? strmap_get(&t.all, name[k], strlen(name[k])) : -1;
	if (id[HF_UNK] < 0) id[HF_UNK] = munk;
	const cJSON *pad = cJSON_GetObjectItemCaseSensitive(j, "padding");
	long pid;
	if (id[HF_PAD] < 0 && cJSON_IsObject(pad) && get_id(cJSON_GetObjectItemCaseSensitive(pad, "pad_id"), &pid) == 0 && pid < t.n)
		id[HF_PAD] = (int)pid;
	if (id[HF_CLS] < 0) id[HF_CLS] = (int)beg;
	if (id[HF_SEP] < 0) id[HF_SEP] = (int)end;
	v->id = (tok_ids){id[HF_UNK], id[HF_PAD], id[HF_CLS], id[HF_SEP], id[HF_MASK], (int)beg, (int)end};
	/* specials: added tokens marked special and every named role */
	for (int k = 0; k < HF_NSPECIAL; k++)
		if (id[k] >= 0 && !strchr(t.flags + 8 * id[k], 's')) {
			char *fl = t.flags + 8 * id[k];
			if (!strcmp(fl, "-")) *fl = 0;
			memmove(fl + 1, fl, strlen(fl) + 1);
			*fl = 's';
		}
	for (int i = 0; i < t.n; i++)
		if (t.flags[8 * i]) {
			char e[16];
			snprintf(e, sizeof e, "A:%s", t.flags + 8 * i);
			free(v->extra[i]);
			v->extra[i] = xstrdup(e);
		}
	vocab_finish(v);
	rc = 0;
	goto out;
bad:
	rc = -1;
out:
	if (rc < 0) vocab_free(v);
	hf_special_names_free(name);
	tab_free(&t);
	cJSON_Delete(j);
	cJSON_Delete(cfg);
	cJSON_Delete(stm);
	return rc;
}
