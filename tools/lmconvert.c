/* lmconvert -- HuggingFace masked LM folders in and out (BERT, GENA-LM,
 * ESM / Nucleotide Transformer, DNABERT-2): config.json, model.safetensors
 * (or shards) and the tokenizer files <-> a seqlm model file whose header
 * carries the config, the vocabulary and the tokenization rule.  The
 * family comes from config.json (hfconfig.c); parameters travel under the
 * table's names, mapped from and to the family's (hfnames.c); nothing is
 * fetched. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model/bert.h"
#include "base/cli.h"
#include "model/hfconfig.h"
#include "model/hfnames.h"
#include "tok/hftok.h"
#include "model/model.h"
#include "base/rng.h"
#include "io/safetensors.h"
#include "io/tns.h"
#include "io/tnsout.h"
#include "tok/tokenizers.h"
#include "tok/vocab.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: lmconvert --from-hf DIR [-o model.tns]\n"
"       lmconvert --to-hf DIR model.tns\n"
"Convert a HuggingFace masked language model folder into a seqlm model, or a\n"
"seqlm model into such a folder.  Families (from config.json's keys): BERT,\n"
"GENA-LM (pre_layer_norm, last_layer_norm), ESM / Nucleotide Transformer v1\n"
"(model_type esm) and v2 (auto_map esm_config, add_bias_fnn: rotary, SwiGLU),\n"
"DNABERT-2 (MosaicBERT: alibi_starting_size; ALiBi, fused Wqkv, GeGLU).\n"
"Refused with the reason: sparse attention (GENA-LM's BigBird), configs mixing\n"
"families' keys, relative positions, rotary with an odd head size.\n"
"\n"
"  --from-hf DIR       read DIR/config.json, DIR/model.safetensors (or the\n"
"                      shards DIR/model.safetensors.index.json names) and the\n"
"                      tokenizer (DIR/tokenizer.json or DIR/vocab.txt); write\n"
"                      the model to -o (default standard output)\n"
"  --to-hf DIR         write config.json, model.safetensors and the tokenizer\n"
"                      files of model.tns into DIR (new, or an empty folder),\n"
"                      in the family's own names and config keys, for its\n"
"                      from_pretrained(DIR) and AutoTokenizer.from_pretrained(DIR)\n"
"Options:\n"
"  -o, --output FILE   --from-hf: the model file (written whole or not at all)\n"
"  -f, --force         allow binary output to a terminal\n"
"  -q, --quiet         no messages but errors\n"
"  -v, --verbose       say what is converted and which tensors are ignored\n"
"      --help          this help\n"
"      --version       version, with htslib and OpenBLAS versions\n"
"\n"
"Weights: F32, F16, BF16 or F64 (converted to f32).  A folder holding only\n"
"pytorch_model.bin must be converted to safetensors with PyTorch first\n"
"(examples/hf-bin-to-safetensors.py).\n"
"Exit status: 0 success, 1 error (bad or unsupported input, I/O), 2 usage.\n"
"See lmconvert(1).\n");
}

/* ---- no partial output on a signal --------------------------------------
 * The paths to remove are fixed before the work starts, so the handler
 * only calls unlink/rmdir (async-signal-safe).  die() removes the .tmp of
 * the model output itself (cli.c); the --to-hf folder is removed by
 * rm_tmpdir() before any error is reported. */
static char sig_file[4096];               /* the model's OUT.tmp */
static char sig_dir[4096];                /* the --to-hf temporary folder */
static const char *const dir_files[] = {
	"config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
	"special_tokens_map.json", "vocab.txt.tmp", "tokenizer.json.tmp", "tokenizer_config.json.tmp",
	"special_tokens_map.json.tmp",
};

static void rm_tmpdir(void)
{
	char p[4200];
	if (!sig_dir[0]) return;
	for (size_t i = 0; i < sizeof dir_files / sizeof dir_files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", sig_dir, dir_files[i]);
		unlink(p);
	}
	rmdir(sig_dir);
}

static void on_signal(int sig)
{
	if (sig_file[0]) unlink(sig_file);
	rm_tmpdir();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGXFSZ };   /* SIGXFSZ: past ulimit -f */
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* ---- --from-hf ------------------------------------------------------------ */
static void shape_str(char *s, size_t len, int ndim, const int64_t *dim)
{
	size_t k = 0;
	k += snprintf(s + k, len - k, "[");
	for (int d = 0; d < ndim && k < len; d++) k += snprintf(s + k, len - k, "%s%" PRId64, d ? ", " : "", dim[d]);
	if (k < len) snprintf(s + k, len - k, "]");
}

/* the old TensorFlow spelling of LayerNorm parameters (gamma/beta) */
static const st_tensor *find_param(const st_set *s, const char *name, const st_file **file, char *used, size_t ulen)
{
	snprintf(used, ulen, "%s", name);
	const st_tensor *t = st_set_find(s, name, file);
	size_t n = strlen(name);
	const char *alt = NULL;
	if (n > 16 && strcmp(name + n - 16, "LayerNorm.weight") == 0) alt = "gamma";
	if (n > 14 && strcmp(name + n - 14, "LayerNorm.bias") == 0) alt = "beta";
	if (!alt) return t;
	char old[160];
	snprintf(old, sizeof old, "%.*s%s", (int)(n - (alt[0] == 'g' ? 6 : 4)), name, alt);
	const st_file *f2;
	const st_tensor *t2 = st_set_find(s, old, &f2);
	if (t && t2) die_file(f2->path, "both %s and %s: which one is meant?", name, old);
	if (t2) { *file = f2; snprintf(used, ulen, "%s", old); return t2; }
	return t;
}

/* t as f32: a pointer into the mapping when it already is f32 (nothing
 * copied), else converted into *owned and the file pages released */
static const float *as_f32(const st_file *f, const st_tensor *t, const char *name, float **owned)
{
	*owned = NULL;
	if (t->dtype == ST_F32) return (const float *)(const void *)t->data;
	if (t->dtype == ST_OTHER)
		die_file(f->path, "tensor %s: dtype %s is not supported (F32, F16, BF16 or F64)", name, t->dtype_name);
	*owned = xmalloc((size_t)t->numel * sizeof(float) + 1);
	st_to_f32(t, *owned);
	st_release(f, t);
	return *owned;
}

/* the weights: DIR/model.safetensors or the shards of its index (a
 * PyTorch pickle alone gets the way to convert it); returns the file to
 * name for a missing tensor */
static const char *open_weights(st_set *s, const char *dir, char *idx, size_t idxlen)
{
	char st1[4200], bin[4200], e[1024];
	snprintf(st1, sizeof st1, "%s/model.safetensors", dir);
	snprintf(idx, idxlen, "%s/model.safetensors.index.json", dir);
	snprintf(bin, sizeof bin, "%s/pytorch_model.bin", dir);
	if (access(st1, F_OK) != 0 && access(idx, F_OK) != 0) {
		if (access(bin, F_OK) == 0) {
			fprintf(stderr, "%s: error: %s: a PyTorch pickle, which seqlm does not read; convert it to safetensors with PyTorch:\n"
			        "  python3 -m pip install torch    # if PyTorch is missing\n"
			        "  python3 examples/hf-bin-to-safetensors.py %s    # seqlm's source folder; writes %s\n",
			        cli_prog, bin, dir, st1);
			exit(EXIT_FAILURE);
		}
		die_file(dir, "no model.safetensors (nor model.safetensors.index.json for shards)");
	}
	if (st_set_open(s, dir, e, sizeof e) != 0) die("%s", e);
	for (int i = 0; i < s->nfile; i++) {      /* TF and Flax lay weights out otherwise */
		const char *fmt = st_meta(&s->file[i], "format");
		if (fmt && strcmp(fmt, "pt") != 0)
			die_file(s->file[i].path, "__metadata__ format \"%.40s\": not a PyTorch checkpoint (format \"pt\")", fmt);
	}
	return s->nfile == 1 ? s->file[0].path : idx;
}

/* The word embeddings decide the vocabulary size: config and tokenizer
 * must agree with them.  The special ids are the tokenizer's; config.json's
 * pad_token_id, when given, must name the same token. */
static void load_tokenizer(tok_vocab *v, const char *dir, const st_set *s, hf_config *hc, const char *cfgpath)
{
	char e[1024];
	bert_config *c = &hc->c;
	const st_file *f;
	char wname[200];
	int part;
	hfname_of(hc->family, "bert.embeddings.word_embeddings.weight", -1, wname, sizeof wname, &part);
	const st_tensor *wte = st_set_find(s, wname, &f);
	if (wte && wte->ndim == 2 && wte->dim[0] != c->vocab_size)
		die_file(f->path, "%s has %" PRId64 " rows but config.json's vocab_size is %d", wname, wte->dim[0], c->vocab_size);
	if (hftok_load_dir(dir, v, e, sizeof e) != 0) die_file(dir, "%s", e);   /* e names the file in DIR */
	if (v->n != c->vocab_size)
		die_file(dir, "the tokenizer has %d tokens but the model's vocabulary (vocab_size, embedding rows) is %d",
		         v->n, c->vocab_size);
	if (hc->has_pad && hc->pad_token_id != v->id.pad)
		die_file(cfgpath, "pad_token_id %d is not the tokenizer's pad token (%d)", hc->pad_token_id, v->id.pad);
	/* ESM's token dropout finds <mask> by config.json's mask_token_id */
	if (hc->mask_token_id >= 0 && hc->mask_token_id != v->id.mask)
		die_file(cfgpath, "mask_token_id %d is not the tokenizer's mask token (%d)", hc->mask_token_id, v->id.mask);
	c->pad_id = v->id.pad;
	c->mask_id = v->id.mask;
	if (c->pos == BERT_POS_OFFSET) c->pos_offset = c->pad_id + 1;
}

/* the tensors taken from the files: m's parameters (as f32), the names
 * they were found under, and what they hash to */
typedef struct {
	tns_tensor *tt;               /* [np] */
	float **owned;                /* [np] converted copies */
	char **names;                 /* [nused] the file's names used */
	int nused;
	uint64_t hash;
} taken;

/* t must have shape dim[0..ndim); else die naming the file and the tensor */
static void check_shape(const st_file *f, const st_tensor *t, int ndim, const int64_t *dim, const char *name)
{
	char sh[200], want[200];
	int same = t->ndim == ndim;
	for (int d = 0; same && d < ndim; d++) same = t->dim[d] == dim[d];
	if (same) return;
	shape_str(want, sizeof want, ndim, dim);
	shape_str(sh, sizeof sh, t->ndim, t->dim);
	die_file(f->path, "tensor %s has shape %s but the config wants %s", name, sh, want);
}

/* every parameter of m from the files, under the family's names (old
 * LayerNorm names too); a fused tensor (DNABERT-2's Wqkv) gives each of
 * its parts its block of rows */
static void take_params(taken *k, const bert_model *m, int family, const st_set *s, const char *wfile)
{
	const st_file *f;
	char hf[200], used[200], want[200];
	k->tt = xcalloc(m->np, sizeof *k->tt);
	k->owned = xcalloc(m->np, sizeof *k->owned);
	k->names = xcalloc((size_t)s->n + m->np, sizeof *k->names);     /* the tensors used, to find the rest */
	k->hash = 0xcbf29ce484222325ULL;
	for (int i = 0; i < m->np; i++) {
		const bert_param *p = &m->p[i];
		int part, nparts = hfname_of(family, bert_specs[p->spec].name, p->layer, hf, sizeof hf, &part);
		int64_t dim[2] = { p->dim[0] * nparts, p->dim[1] };
		const st_tensor *t = find_param(s, hf, &f, used, sizeof used);
		shape_str(want, sizeof want, p->ndim, dim);
		if (!t) die_file(wfile, "tensor %s is missing (the config wants shape %s)", hf, want);
		check_shape(f, t, p->ndim, dim, used);
		const float *x = as_f32(f, t, used, &k->owned[i]) + (size_t)part * p->n;
		k->tt[i] = tns_tensor_make(p->name, TNS_F32, p->ndim, p->dim, x);
		k->hash = rng_fnv1a_more(k->hash, x, p->n * sizeof(float));
		k->names[k->nused++] = xstrdup(used);
		if (cli_verbose > 0 && strcmp(used, p->name) != 0) {
			if (nparts > 1) info("%s <- %s (rows %" PRId64 "-%" PRId64 ")", p->name, used, part * p->dim[0], (part + 1) * p->dim[0] - 1);
			else info("%s <- %s", p->name, used);
		}
	}
}

/* rotary frequency i of head size dh: 1/10000^(2i/dh) in float32 (R 59-68) */
static float inv_freq(int i, int dh) { return 1.0f / powf(10000.0f, (float)(2 * i) / (float)dh); }

/* ESM's rotary buffer: inv_freq = 1/10000^(arange(0, dh, 2)/dh) (R 59-68,
 * in float32); another base or size would be another model */
static void check_inv_freq(const st_file *f, const st_tensor *t, const bert_model *m)
{
	int dh = m->c.hidden / m->c.heads;
	if (m->c.pos != BERT_POS_ROTARY)
		die_file(f->path, "unexpected tensor %s (a rotary buffer, but position_embedding_type is not rotary)", t->name);
	int64_t want = dh / 2;
	check_shape(f, t, 1, &want, t->name);
	float *buf;
	const float *x = as_f32(f, t, t->name, &buf);
	for (int i = 0; i < dh / 2; i++) {
		float e = inv_freq(i, dh);
		if (!(fabsf(x[i] - e) <= 1e-6f * e))
			die_file(f->path, "tensor %s: entry %d is %g, not 1/10000^(%d/%d) = %g: only rotary base 10000 is supported",
			         t->name, i, (double)x[i], 2 * i, dh, (double)e);
	}
	free(buf);
}

/* the tied tensors, where the file has them, equal to what they are tied
 * to; then every tensor not used must be one a masked LM ignores */
static void check_rest(taken *k, const bert_model *m, int family, const st_set *s)
{
	const st_file *f;
	char tn[200];
	int part;
	for (int j = 0; j < m->np; j++) {
		const bert_param *p = &m->p[j];
		const char *tied = bert_specs[p->spec].tied;
		/* an untied decoder is a parameter of its own; a family may have
		 * no tied copy (DNABERT-2's decoder bias is the bias itself) */
		if (!tied || bert_param_find(m, tied) >= 0 || !hfname_of(family, tied, -1, tn, sizeof tn, &part)) continue;
		const st_tensor *t = st_set_find(s, tn, &f);
		if (!t) continue;
		check_shape(f, t, p->ndim, p->dim, tn);
		float *buf;
		const float *x = as_f32(f, t, tn, &buf);
		if (memcmp(x, k->tt[j].data, p->n * sizeof(float)) != 0)
			die_file(f->path, "tensor %s differs from %s, to which config.json ties it (tie_word_embeddings false unties a decoder weight)",
			         tn, k->names[j]);
		free(buf);
		st_release(f, t);
		k->names[k->nused++] = xstrdup(tn);
		if (cli_verbose > 0) info("%s equals %s (tied)", tn, k->names[j]);
	}
	for (int i = 0; i < s->n; i++) {
		int seen = 0;
		const char *name = s->t[i]->name;
		const st_file *fi = &s->file[s->fileof[i]];
		for (int j = 0; j < k->nused && !seen; j++) seen = strcmp(k->names[j], name) == 0;
		if (seen) continue;
		if (hfname_is_inv_freq(name)) {
			check_inv_freq(fi, s->t[i], m);
			if (cli_verbose > 0) info("%s: the rotary frequencies seqlm computes (checked)", name);
			continue;
		}
		if (!hfname_ignored(family, &m->c, name))
			die_file(fi->path, "unexpected tensor %s (not a %s parameter)", name, hfcfg_family_class(family));
		if (cli_verbose > 0) info("ignoring %s (not used by a masked language model)", name);
	}
}

static void taken_free(taken *k, int np)
{
	for (int i = 0; i < np; i++) free(k->owned[i]);
	for (int i = 0; i < k->nused; i++) free(k->names[i]);
	free(k->names); free(k->owned); free(k->tt);
}

/* the seqlm model file: header (config, vocabulary, hash) and parameters */
static void write_converted(const cli_opts *o, const bert_model *m, const bert_config *c, const tok_vocab *v,
                            const taken *k)
{
	tns_header h;
	tns_header_init(&h);
	tns_header_add_pg(&h, "lmconvert", SEQLM_VERSION, o->argc, o->argv, NULL);
	vocab_to_header(v, &h);
	model_set_header_hash(&h, c, k->hash, 0, 0, 0);
	tns_header_remove(&h, "@KV\tseed\t");       /* not trained here: no seeds */
	tns_header_remove(&h, "@KV\tdata_seed\t");
	if (o->output && strcmp(o->output, "-") != 0) snprintf(sig_file, sizeof sig_file, "%s.tmp", o->output);
	tns_writer *w = cli_tns_create(o, o->output, &h, 0);
	if (tns_write(w, "params", m->np, k->tt) != 0) die_file(o->output, "%s", tns_werror(w));
	cli_tns_close(w);
	sig_file[0] = 0;
	if (cli_verbose > 0)
		info("%s: %d tensors, %zu parameters, vocabulary of %d (%s)", o->output ? o->output : "-", m->np, m->n, v->n, v->kind);
	tns_header_free(&h);
}

static void from_hf(const char *dir, const cli_opts *o)
{
	char path[4200], idx[4200], e[1024];
	struct stat st;
	if (stat(dir, &st) != 0) die_file(dir, "%s", strerror(errno));
	if (!S_ISDIR(st.st_mode)) die_file(dir, "not a folder (--from-hf takes a model folder)");

	hf_config hc;
	snprintf(path, sizeof path, "%s/config.json", dir);
	if (hfcfg_read(&hc, path, e, sizeof e) != 0) die("%s", e);
	bert_config *c = &hc.c;
	st_set s;
	const char *wfile = open_weights(&s, dir, idx, sizeof idx);
	bert_model m;
	if (bert_init_table(&m, c) != 0) die_file(path, "unusable config: %s", bert_config_check(c));
	tok_vocab v;
	load_tokenizer(&v, dir, &s, &hc, path);
	taken k = { 0 };
	take_params(&k, &m, hc.family, &s, wfile);
	check_rest(&k, &m, hc.family, &s);
	write_converted(o, &m, c, &v, &k);
	taken_free(&k, m.np);
	vocab_free(&v);
	st_set_close(&s);
	bert_free(&m);
}

/* ---- --to-hf -------------------------------------------------------------- */
static void fail_dir(const char *file, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void fail_dir(const char *file, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rm_tmpdir();
	sig_dir[0] = 0;
	die_file(file, "%s", msg);
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) return 0;
	struct dirent *de;
	int empty = 1;
	while (empty && (de = readdir(d)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* one more tensor for --to-hf: name (a copy), shape, zeroed data that
 * fused[] owns */
static float *add_tensor(st_wtensor *wt, float **own, int *nw, const char *name, int64_t d0, int64_t d1)
{
	st_wtensor *t = &wt[*nw];
	t->name = xstrdup(name);
	t->ndim = d1 ? 2 : 1, t->dim[0] = d0, t->dim[1] = d1;
	t->data = own[*nw] = xcalloc((size_t)d0 * (d1 ? d1 : 1), sizeof(float));
	(*nw)++;
	return own[*nw - 1];
}

/* What EsmForMaskedLM's state_dict holds besides the masked LM's
 * parameters, so that from_pretrained finds every key: the contact head
 * (zeros: seqlm has none to give), the persistent rotary inv_freq buffers
 * (R 59-68, as float32 computes them) and the position embeddings the NT
 * v2 code keeps beside rotary ones (zeros, unused, R 220-224). */
static int esm_buffers(const bert_config *c, int family, st_wtensor *wt, float **own, int nw)
{
	char name[200];
	add_tensor(wt, own, &nw, "esm.contact_head.regression.weight", 1, (int64_t)c->layers * c->heads);
	add_tensor(wt, own, &nw, "esm.contact_head.regression.bias", 1, 0);
	if (c->pos != BERT_POS_ROTARY) return nw;
	int dh = c->hidden / c->heads;
	for (int l = 0; l < c->layers; l++) {
		snprintf(name, sizeof name, "esm.encoder.layer.%d.attention.self.rotary_embeddings.inv_freq", l);
		float *x = add_tensor(wt, own, &nw, name, dh / 2, 0);
		for (int i = 0; i < dh / 2; i++) x[i] = inv_freq(i, dh);
	}
	if (family == HF_NT2) add_tensor(wt, own, &nw, "esm.embeddings.position_embeddings.weight", c->max_pos, c->hidden);
	return nw;
}

static void to_hf(const char *dir, const char *model_path)
{
	char e[1024], p[4200];
	bert_model m;
	tns_header h;
	tok_vocab v;
	if (model_load(model_path, &m, &h, NULL, NULL, e, sizeof e) != 0) die_file(model_path, "%s", e);
	int vr = vocab_from_header(&v, &h, e, sizeof e);
	if (vr == -1) die_file(model_path, "no tokenizer vocabulary in the header: no tokenizer files to write");
	if (vr != 0) die_file(model_path, "vocabulary: %s", e);

	struct stat st;
	if (stat(dir, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_is_empty(dir)))
		die_file(dir, "%s", S_ISDIR(st.st_mode) ? "exists and is not empty" : "exists and is not a folder");
	/* a temporary folder beside DIR, renamed at the end */
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/') dl--;
	snprintf(sig_dir, sizeof sig_dir, "%.*s.tmpXXXXXX", (int)dl, dir);
	if (!mkdtemp(sig_dir)) {
		int err = errno;
		sig_dir[0] = 0;
		die_file(dir, "cannot create a temporary folder beside it: %s", strerror(err));
	}
	chmod(sig_dir, 0755);

	const char *why;
	int family = hfcfg_family_of(&m.c, &why);
	if (family < 0) fail_dir(model_path, "no Hugging Face model family holds this model: %s", why);
	hf_config hc = { .c = m.c, .family = family, .pad_token_id = m.c.pad_id, .mask_token_id = m.c.mask_id };
	char *cfg = hfcfg_format(&hc);
	snprintf(p, sizeof p, "%s/config.json", sig_dir);
	FILE *fp = fopen(p, "w");
	if (!fp || fputs(cfg, fp) < 0 || fclose(fp) != 0) fail_dir(p, "%s", strerror(errno));
	free(cfg);

	/* as HF saves a BertForMaskedLM: PreTrainedModel.save_pretrained
	 * (transformers, src/transformers/modeling_utils.py) finds tensors that
	 * share storage and deletes the names matching the model's
	 * _tied_weights_keys (["predictions.decoder.bias",
	 * "cls.predictions.decoder.weight"]) before safe_save_file(...,
	 * metadata={"format": "pt"}); so the file holds exactly the parameters
	 * seqlm has, and from_pretrained ties the decoder again.  Each under
	 * the family's name; the parts of a fused tensor (DNABERT-2's Wqkv)
	 * are put together in one. */
	int cap = m.np + m.c.layers + 3;
	st_wtensor *wt = xcalloc(cap, sizeof *wt);
	float **fused = xcalloc(cap, sizeof *fused);
	int nw = 0;
	for (int i = 0; i < m.np; i++) {
		const bert_param *q = &m.p[i];
		char hf[200];
		int part, nparts = hfname_of(family, bert_specs[q->spec].name, q->layer, hf, sizeof hf, &part), w = 0;
		while (w < nw && strcmp(wt[w].name, hf) != 0) w++;
		if (w == nw) {
			wt[w].name = xstrdup(hf);
			wt[w].ndim = q->ndim;
			for (int d = 0; d < q->ndim; d++) wt[w].dim[d] = q->dim[d];
			wt[w].dim[0] *= nparts;
			wt[w].data = m.params + q->off;
			if (nparts > 1) wt[w].data = fused[w] = xmalloc((size_t)nparts * q->n * sizeof(float));
			nw++;
		}
		if (fused[w]) memcpy(fused[w] + (size_t)part * q->n, m.params + q->off, q->n * sizeof(float));
	}
	if (family == HF_ESM || family == HF_NT2) nw = esm_buffers(&m.c, family, wt, fused, nw);
	static const char *const meta[] = { "format", "pt" };
	snprintf(p, sizeof p, "%s/model.safetensors", sig_dir);
	if (st_write(p, nw, wt, 1, meta, e, sizeof e) != 0) fail_dir(p, "%s", e);
	for (int w = 0; w < nw; w++) free((char *)wt[w].name), free(fused[w]);
	free(wt); free(fused);
	if (tokenizer_save_hf(sig_dir, &v, e, sizeof e) != 0) fail_dir(dir, "tokenizer files: %s", e);
	if (rename(sig_dir, dir) != 0) fail_dir(dir, "%s", strerror(errno));
	sig_dir[0] = 0;
	if (cli_verbose > 0)
		info("%s: %s config.json, model.safetensors (%d tensors, %zu parameters), tokenizer (%s, %d tokens)",
		     dir, hfcfg_family_name(family), nw, m.n, v.kind, v.n);
	vocab_free(&v);
	tns_header_free(&h);
	bert_free(&m);
}

int main(int argc, char **argv)
{
	cli_opts o;
	cli_init(&o, argc, argv);
	enum { O_FROM = 0x2000, O_TO };
	static const struct option lo[] = {
		{ "from-hf", required_argument, 0, O_FROM }, { "to-hf", required_argument, 0, O_TO },
		CLI_LONGOPTS
	};
	const char *from = NULL, *to = NULL;
	int c;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS, lo, NULL)) != -1) {
		if (c == O_FROM) from = optarg;
		else if (c == O_TO) to = optarg;
		else cli_common_opt(&o, c, optarg, usage);
	}
	if (!!from + !!to != 1) die_usage("give one of --from-hf DIR or --to-hf DIR");
	catch_signals();
	if (from) {
		if (optind != argc) die_usage("--from-hf takes no further arguments (the output is -o FILE)");
		cli_check_binary_out(&o);
		from_hf(from, &o);
	} else {
		if (optind + 1 != argc) die_usage("--to-hf DIR takes one model file");
		if (o.output) die_usage("--to-hf writes into DIR; -o is for --from-hf");
		to_hf(to, argv[optind]);
	}
	return 0;
}
