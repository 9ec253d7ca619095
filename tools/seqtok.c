/* seqtok -- sequences (FASTA/FASTQ/SAM/BAM/CRAM) or text to token windows:
 * k-mers, single nucleotides or bytes, or BPE; also learns BPE vocabularies.
 * Output: a tensor stream, one record per window with tensor "tokens"
 * i32[T], the vocabulary in the header (man/seqtok.1, man/tns.5). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include "tok/bpe.h"
#include "base/cli.h"
#include "tok/hftok.h"
#include "tok/kmer.h"
#include "io/seqread.h"
#include "io/tns.h"
#include "io/tnsout.h"
#include "tok/tokenizers.h"
#include "tok/vocab.h"
#include "tok/window.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqtok [options] [FILE...]\n"
"       seqtok --train-bpe N [options] -o VOCAB.tns [FILE...]\n"
"Cut sequences (FASTA, FASTQ, SAM, BAM, CRAM; plain, gzip or BGZF) or text\n"
"into token windows: <CLS> tokens <SEP> <PAD>..., one tns record per window\n"
"named seqname:beg-end, with the vocabulary in the stream header.\n"
"\n"
"Tokenizer (default: non-overlapping 6-mers):\n"
"  -k, --kmer K           k-mers of K bases (1..10; default 6)\n"
"      --stride S         overlapping k-mers starting every S bases (default K)\n"
"  -c, --char             one token per nucleotide (per byte with --text)\n"
"      --vocab FILE       use the vocabulary in FILE's header (a --train-bpe\n"
"                         output, a token stream or a model file, also one\n"
"                         imported from Hugging Face) or in a Hugging Face\n"
"                         tokenizer folder (vocab.txt or tokenizer.json)\n"
"      --train-bpe N      learn a BPE vocabulary of N tokens (specials\n"
"                         included) and write it, header only, to -o\n"
"      --max-train-bytes N  learn from at most N bytes (default 50000000)\n"
"Input:\n"
"      --text             plain UTF-8 text, one document per line\n"
"      --para             with --text: one document per blank-line paragraph\n"
"      --pack             with --text: fill every window with consecutive\n"
"                         documents, each followed by <SEP> (by default a\n"
"                         window holds one document and is padded); the\n"
"                         train/eval split is drawn per document\n"
"      --binary-ok        with --text: take input that is not UTF-8 text (by\n"
"                         default a NUL byte or invalid UTF-8 in the first\n"
"                         64 KiB is an error)\n"
"  -r, --region REG       only chr:beg-end of an indexed FASTA, BAM or CRAM\n"
"      --reference FA     reference FASTA for CRAM that needs one\n"
"Windows:\n"
"  -T, --window T         tokens per window, <CLS> and <SEP> included (default 512)\n"
"      --max-bp N         cut sequences into pieces of N bases first (default 2000)\n"
"      --overlap N        consecutive pieces share N bases (default 0)\n"
"      --skip-n[=F]       drop windows with more than a fraction F of N (default 0.5);\n"
"                         an output with no window left is an error\n"
"      --split S          train, eval or all (default all): keep the windows of\n"
"                         that part of a deterministic split by record name\n"
"      --eval-frac F      fraction of windows in the eval part (default 0.01)\n"
"      --split-seed S     seed of the split (default 42)\n"
"  -n, --max-windows N    stop after N windows\n"
"Output:\n"
"  -o, --output FILE      write to FILE (default: standard output)\n"
"  -z, --bgzf             BGZF-compress the stream\n"
"  -f, --force            allow binary output to a terminal\n"
"  -t, --threads N        threads (BGZF and htslib decompression)\n"
"  -q, --quiet            no messages but errors\n"
"  -v, --verbose          more messages\n"
"      --help             this help\n"
"      --version          version, with htslib and OpenBLAS versions\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage.  See seqtok(1).\n");
}

typedef struct {
	cli_opts co;
	seqread_opts ro;
	win_opts wo;
	int text, max_bp, overlap, bgzf, train_bpe;
	int64_t max_train;
	const char *vocab_file;
} options;

typedef struct {
	tns_writer *w;
} out_ctx;

/* an error after the output was created: remove it, then die */
static void fail_file(tns_writer *w, const char *file, const char *msg) __attribute__((noreturn));
static void fail_file(tns_writer *w, const char *file, const char *msg)
{
	if (w) tns_abort(w);
	die_file(file, "%s", msg);
}

/* the vocabulary of --vocab: a stream's header or an HF tokenizer folder */
static void load_vocab(tokenizer *t, options *o)
{
	char err[512];
	tok_vocab v;
	struct stat st;
	if (stat(o->vocab_file, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (hftok_load_dir(o->vocab_file, &v, err, sizeof err) < 0) die_file(o->vocab_file, "%s", err);
	} else {
		tns_reader *r = tns_open(o->vocab_file, err, sizeof err);
		if (!r) die_file(o->vocab_file, "not a vocabulary file: %s", err);
		int rc = vocab_from_header(&v, tns_reader_header(r), err, sizeof err);
		tns_close_reader(r);
		if (rc == -1) die_file(o->vocab_file, "no tokenizer vocabulary (@TK/@VO lines) in its header");
		if (rc < 0) die_file(o->vocab_file, "%s", err);
	}
	if (tokenizer_init(t, &v, err, sizeof err) < 0) die_file(o->vocab_file, "%s", err);
	if (t->input == TOKIN_TEXT) o->text = 1;
	else if (t->input == TOKIN_BOTH) t->input = o->text ? TOKIN_TEXT : TOKIN_DNA;
	else if (o->text) die_usage("%s is a DNA vocabulary; it cannot encode --text", o->vocab_file);
	if (t->v.id.pad < 0) die_file(o->vocab_file, "the vocabulary has no padding token to fill windows with");
}

/* a tokenizer built here (no --vocab) */
static void own_tokenizer(tokenizer *t, tok_vocab *v)
{
	char err[256];
	if (tokenizer_init(t, v, err, sizeof err) < 0) die("%s", err);   /* not reached: our own vocabularies */
}

static int write_window(void *ctx, const char *name, const int32_t *tokens, int T)
{
	out_ctx *c = ctx;
	tns_tensor x = tns_tensor_1d("tokens", TNS_I32, T, tokens);
	return tns_write(c->w, name, 1, &x);
}

/* a growing buffer for one text document */
typedef struct { char *s; long n, m; } docbuf;

static long read_doc(seqread *r, docbuf *d)
{
	long k;
	d->n = 0;
	for (;;) {
		if (d->m - d->n < 65536) { d->m = d->m * 2 + 65536; d->s = xrealloc(d->s, d->m); }
		if ((k = seqread_bases(r, d->s + d->n, d->m - d->n)) <= 0) break;
		d->n += k;
	}
	return k < 0 ? -1 : d->n;
}

/* Calls f on every piece of every record of every input: DNA in pieces of
 * max_bp bases (consecutive pieces share `overlap`), text a document at a
 * time.  f returns nonzero to stop.  Errors kill the program. */
typedef int (*piece_fn)(void *ctx, const char *name, int64_t offset, const char *s, long n);

static void each_piece(options *o, char **files, int nfiles, piece_fn f, void *ctx, tns_writer *w)
{
	char err[512];
	char *buf = xmalloc(o->max_bp + 1);
	docbuf doc = {0};
	char *dname = NULL;
	for (int fi = 0; fi < nfiles; fi++) {
		const char *path = files[fi];
		seqread *r = seqread_open(path, &o->ro, err, sizeof err);
		if (!r) { free(buf); fail_file(w, path, err); }
		const char *name;
		int rc = 0, stop = 0;
		int64_t total = 0;
		while (!stop && (rc = seqread_next(r, &name)) > 0) {
			if (o->text) {
				long n = read_doc(r, &doc);
				if (n < 0) { rc = -1; break; }
				total += n;
				free(dname);
				/* the file's base name: the split must not depend on how
				 * the path was spelled */
				const char *base = strrchr(path, '/');
				base = strcmp(path, "-") == 0 ? "stdin" : base ? base + 1 : path;
				if (asprintf(&dname, "%s:%lld", base, (long long)seqread_line(r)) < 0) die("out of memory");
				stop = f(ctx, dname, 0, doc.s, n);
				continue;
			}
			int64_t off = seqread_offset(r), beg = 0;
			long have = 0, k = 0;
			for (;;) {
				/* fill the piece after the kept overlap */
				int got_new = 0;
				while (have < o->max_bp && (k = seqread_bases(r, buf + have, o->max_bp - have)) > 0) {
					have += k;
					got_new = 1;
				}
				if (k < 0) { rc = -1; break; }
				if (!got_new) break;
				total += have - (beg ? o->overlap : 0);
				if ((stop = f(ctx, name, off + beg, buf, have))) break;
				if (have < o->max_bp) break;       /* the record ended */
				memmove(buf, buf + have - o->overlap, o->overlap);
				beg += have - o->overlap;
				have = o->overlap;
			}
			if (rc < 0) break;
		}
		if (rc < 0) {
			snprintf(err, sizeof err, "%s", seqread_error(r));
			seqread_close(r);
			free(buf);
			fail_file(w, path, err);
		}
		if (total == 0 && !stop) {
			seqread_close(r);
			free(buf);
			fail_file(w, path, o->text ? "no text" : "no sequence data");
		}
		seqread_close(r);
		if (stop) break;
	}
	free(buf);
	free(doc.s);
	free(dname);
}

/* ---- encoding ---- */

typedef struct {
	tokenizer *t;
	win_writer ww;
	int32_t *ids, *pos, *len;
	long cap;
	int text;
} enc_ctx;

static int encode_piece(void *vc, const char *name, int64_t offset, const char *s, long n)
{
	enc_ctx *c = vc;
	long need = tokenizer_capacity(c->t, n);
	if (need > c->cap) {
		c->cap = need + need / 4;
		c->ids = xrealloc(c->ids, c->cap * sizeof *c->ids);
		c->pos = xrealloc(c->pos, c->cap * sizeof *c->pos);
		c->len = xrealloc(c->len, c->cap * sizeof *c->len);
	}
	long nt = tokenizer_encode(c->t, s, n, c->ids, c->pos, c->len);
	int rc = win_chunk(&c->ww, name, offset, c->text ? NULL : s, n, c->ids, c->pos, c->len, nt);
	if (rc < 0) {
		out_ctx *oc = c->ww.ctx;
		cli_tns_close(oc->w);       /* reports the write error and removes the output */
	}
	return rc;
}

/* Every window was dropped (--skip-n, --split): a stream of none would
 * look finished and fail later, in lmtrain, far from the cause.  Say why,
 * with the counts, and leave no output. */
static void no_windows(const options *o, const win_writer *ww, tns_writer *w, char **files, int nfiles)
	__attribute__((noreturn));
static void no_windows(const options *o, const win_writer *ww, tns_writer *w, char **files, int nfiles)
{
	char msg[512];
	long long nn = ww->n_dropped_n, ns = ww->n_other_split;
	const char *part = o->wo.split == WIN_EVAL ? "train" : "eval";
	if (!nn && !ns)
		snprintf(msg, sizeof msg, "no windows: the input has no tokens");
	else if (nn && !ns)
		snprintf(msg, sizeof msg, "no windows: every window was skipped by --skip-n (%lld of %lld had more than %g N)",
		         nn, nn, o->wo.skip_n);
	else if (ns && !nn)
		snprintf(msg, sizeof msg, "no windows: all %lld windows fall in the %s part of the split (--eval-frac %g, --split-seed %llu)",
		         ns, part, o->wo.eval_frac, (unsigned long long)o->wo.split_seed);
	else
		snprintf(msg, sizeof msg, "no windows: %lld were skipped by --skip-n (more than %g N), the other %lld fall in the %s part of the split",
		         nn, o->wo.skip_n, ns, part);
	tns_abort(w);
	if (nfiles == 1) die_file(files[0], "%s", msg);
	die("%s", msg);
}

/* ---- BPE training ---- */

typedef struct {
	bpe_trainer *tr;
	const options *o;
	int64_t bytes;
	int64_t skipped;
} train_ctx;

static int train_piece(void *vc, const char *name, int64_t offset, const char *s, long n)
{
	train_ctx *c = vc;
	(void)name; (void)offset;
	if (!c->o->text && c->o->wo.skip_n >= 0) {
		long nn = 0;
		for (long i = 0; i < n; i++) nn += s[i] == 'N';
		if (nn > c->o->wo.skip_n * (double)n) { c->skipped++; return 0; }
	}
	if (c->bytes + n > c->o->max_train) n = (long)(c->o->max_train - c->bytes);
	bpe_trainer_add(c->tr, s, n);
	c->bytes += n;
	return c->bytes >= c->o->max_train;
}

static void add_common_header(tns_header *h, const options *o)
{
	tns_header_set(h, "window", "%d", o->wo.T);
	tns_header_set(h, "max_bp", "%d", o->max_bp);
	tns_header_set(h, "overlap", "%d", o->overlap);
	tns_header_set(h, "split", "%s", o->wo.split == WIN_ALL ? "all" : o->wo.split == WIN_TRAIN ? "train" : "eval");
	tns_header_set(h, "eval_frac", "%g", o->wo.eval_frac);
	tns_header_set(h, "split_seed", "%llu", (unsigned long long)o->wo.split_seed);
	if (o->wo.skip_n >= 0) tns_header_set(h, "skip_n", "%g", o->wo.skip_n);
	if (o->wo.pack) tns_header_set(h, "pack", "documents");
	char sd[64];
	snprintf(sd, sizeof sd, "\tSD:%llu", (unsigned long long)o->wo.split_seed);
	tns_header_add_pg(h, "seqtok", SEQLM_VERSION, o->co.argc, o->co.argv, sd);
}

static int train(options *o, char **files, int nfiles)
{
	if (!o->co.output) die_usage("--train-bpe writes a vocabulary file: give it with -o");
	int alphabet = o->text ? BPE_TEXT : BPE_DNA;
	bpe_model m;
	bpe_init(&m, alphabet);
	if (o->train_bpe <= m.n_base)
		die_usage("--train-bpe %d: the %s alphabet and specials already take %d ids", o->train_bpe,
		          o->text ? "byte" : "nucleotide", m.n_base);
	train_ctx c = {bpe_trainer_new(alphabet), o, 0, 0};
	double t0 = cli_now();
	each_piece(o, files, nfiles, train_piece, &c, NULL);
	double t1 = cli_now();
	if (c.bytes == 0)     /* each_piece() found sequence, so --skip-n took it all */
		die("no training data: every piece was skipped by --skip-n (%lld pieces had more than %g N)",
		    (long long)c.skipped, o->wo.skip_n);
	int nm = bpe_train(c.tr, o->train_bpe, &m);
	double t2 = cli_now();
	if (m.n < o->train_bpe)
		warn("only %d merges occur twice or more: the vocabulary has %d tokens, not %d", nm, m.n, o->train_bpe);
	if (cli_verbose > 0)
		info("read %lld bytes in %.2f s, learned %d merges in %.2f s", (long long)c.bytes, t1 - t0, nm, t2 - t1);
	tok_vocab v;
	bpe_to_vocab(&m, &v);
	tns_header h;
	tns_header_init(&h);
	vocab_to_header(&v, &h);
	tns_header_set(&h, "bpe_train_bytes", "%lld", (long long)c.bytes);
	add_common_header(&h, o);
	tns_writer *w = cli_tns_create(&o->co, o->co.output, &h, o->bgzf ? TNS_W_BGZF : 0);
	cli_tns_close(w);
	tns_header_free(&h);
	vocab_free(&v);
	bpe_free(&m);
	bpe_trainer_free(c.tr);
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_STRIDE = 0x2000, O_VOCAB, O_TRAIN, O_MAXTRAIN, O_TEXT, O_PARA, O_PACK, O_REF, O_MAXBP,
	       O_OVERLAP, O_SKIPN, O_SPLIT, O_EVALFRAC, O_SEED, O_BINOK };
	static const struct option longopts[] = {
		{"kmer", required_argument, 0, 'k'}, {"stride", required_argument, 0, O_STRIDE},
		{"char", no_argument, 0, 'c'}, {"vocab", required_argument, 0, O_VOCAB},
		{"train-bpe", required_argument, 0, O_TRAIN}, {"max-train-bytes", required_argument, 0, O_MAXTRAIN},
		{"text", no_argument, 0, O_TEXT}, {"para", no_argument, 0, O_PARA}, {"pack", no_argument, 0, O_PACK},
		{"region", required_argument, 0, 'r'}, {"reference", required_argument, 0, O_REF},
		{"window", required_argument, 0, 'T'}, {"max-bp", required_argument, 0, O_MAXBP},
		{"overlap", required_argument, 0, O_OVERLAP}, {"skip-n", optional_argument, 0, O_SKIPN},
		{"split", required_argument, 0, O_SPLIT}, {"eval-frac", required_argument, 0, O_EVALFRAC},
		{"split-seed", required_argument, 0, O_SEED}, {"max-windows", required_argument, 0, 'n'},
		{"bgzf", no_argument, 0, 'z'}, {"binary-ok", no_argument, 0, O_BINOK},
		CLI_LONGOPTS
	};
	options o;
	memset(&o, 0, sizeof o);
	cli_init(&o.co, argc, argv);
	o.wo.T = 512;
	o.wo.skip_n = -1;
	o.wo.split = WIN_ALL;
	o.wo.eval_frac = 0.01;
	o.wo.split_seed = 42;
	o.wo.max_windows = -1;
	o.max_bp = 2000;
	o.max_train = 50000000;
	int k = 6, stride = 0, use_char = 0, c;
	int set_kmer = 0;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "k:cr:T:n:z", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': k = (int)cli_long("--kmer", optarg, 1, KMER_MAXK); set_kmer = 1; break;
		case O_STRIDE: stride = (int)cli_long("--stride", optarg, 1, KMER_MAXK); set_kmer = 1; break;
		case 'c': use_char = 1; break;
		case O_VOCAB: o.vocab_file = optarg; break;
		case O_TRAIN: o.train_bpe = (int)cli_long("--train-bpe", optarg, 1, 1 << 20); break;
		case O_MAXTRAIN: o.max_train = cli_long("--max-train-bytes", optarg, 1, (1L << 31) - 1); break;
		case O_TEXT: o.text = 1; break;
		case O_PARA: o.ro.para = 1; break;
		case O_PACK: o.wo.pack = 1; break;
		case O_BINOK: o.ro.binary_ok = 1; break;
		case 'r': o.ro.region = optarg; break;
		case O_REF: o.ro.reference = optarg; break;
		case 'T': o.wo.T = (int)cli_long("--window", optarg, 3, 1 << 20); break;
		case O_MAXBP: o.max_bp = (int)cli_long("--max-bp", optarg, 1, 1 << 30); break;
		case O_OVERLAP: o.overlap = (int)cli_long("--overlap", optarg, 0, 1 << 30); break;
		case O_SKIPN: o.wo.skip_n = optarg ? cli_double("--skip-n", optarg, 0, 1) : 0.5; break;
		case O_SPLIT:
			if (!strcmp(optarg, "train")) o.wo.split = WIN_TRAIN;
			else if (!strcmp(optarg, "eval")) o.wo.split = WIN_EVAL;
			else if (!strcmp(optarg, "all")) o.wo.split = WIN_ALL;
			else die_usage("--split: '%s' is not train, eval or all", optarg);
			break;
		case O_EVALFRAC: o.wo.eval_frac = cli_double("--eval-frac", optarg, 0, 1); break;
		case O_SEED: o.wo.split_seed = (uint64_t)cli_long("--split-seed", optarg, 0, 0x7fffffffffffffffL); break;
		case 'n': o.wo.max_windows = cli_long("--max-windows", optarg, 0, 0x7fffffffffffffffL); break;
		case 'z': o.bgzf = 1; break;
		default:
			if (!cli_common_opt(&o.co, c, optarg, usage)) { usage(stderr); return EXIT_USAGE; }
		}
	}
	/* -t is for (de)compression: seqtok does no linear algebra */
	o.ro.threads = o.co.threads;
	o.ro.text = 0;
	if (o.overlap >= o.max_bp) die_usage("--overlap must be smaller than --max-bp");
	if (stride > k) die_usage("--stride %d is larger than --kmer %d", stride, k);
	if ((o.vocab_file != NULL) + (o.train_bpe > 0) + use_char > 1)
		die_usage("choose one of --vocab, --train-bpe and --char");
	if (set_kmer && (o.vocab_file || o.train_bpe || use_char || o.text))
		die_usage("--kmer and --stride make k-mers of sequences; they do not go with --vocab, --train-bpe, --char or --text");
	if (o.ro.binary_ok && !o.text) die_usage("--binary-ok goes with --text");
	int nfiles = argc - optind;
	cli_need_input(nfiles, usage);
	char *stdin_only[] = {"-"};
	char **files = nfiles ? argv + optind : stdin_only;
	if (!nfiles) nfiles = 1;

	if (o.train_bpe) {
		if (o.ro.para && !o.text) die_usage("--para goes with --text");
		o.ro.text = o.text;
		return train(&o, files, nfiles);
	}
	tokenizer t;
	tok_vocab own;
	if (o.vocab_file) load_vocab(&t, &o);
	else if (o.text && !use_char) die_usage("--text needs --char or a BPE --vocab");
	else {
		if (use_char && o.text) tok_text_char_vocab(&own);
		else if (use_char) kmer_char_vocab(&own);
		else kmer_vocab(&own, k, stride ? stride : k);
		own_tokenizer(&t, &own);
	}
	o.ro.text = o.text;
	if (o.ro.para && !o.text) die_usage("--para goes with --text");
	if (o.wo.pack && !o.text) die_usage("--pack goes with --text (a genome's sequences already fill their windows)");
	cli_check_binary_out(&o.co);

	tns_header h;
	tns_header_init(&h);
	vocab_to_header(&t.v, &h);
	add_common_header(&h, &o);
	out_ctx oc;
	oc.w = cli_tns_create(&o.co, o.co.output, &h, o.bgzf ? TNS_W_BGZF : 0);
	if (o.co.threads > 1) tns_writer_threads(oc.w, o.co.threads);
	enc_ctx ec;
	memset(&ec, 0, sizeof ec);
	ec.t = &t;
	ec.text = o.text;
	win_init(&ec.ww, &o.wo, &t.v.id, write_window, &oc);
	if (o.wo.max_windows != 0) {
		each_piece(&o, files, nfiles, encode_piece, &ec, oc.w);
		if (win_finish(&ec.ww) < 0) cli_tns_close(oc.w);  /* reports the write error, removes the output */
	}
	if (cli_verbose > 0)
		info("%lld windows written; %lld mostly N, %lld in the other split", (long long)tns_writer_nrecords(oc.w),
		     (long long)ec.ww.n_dropped_n, (long long)ec.ww.n_other_split);
	if (tns_writer_nrecords(oc.w) == 0 && o.wo.max_windows != 0) no_windows(&o, &ec.ww, oc.w, files, nfiles);
	cli_tns_close(oc.w);
	win_free(&ec.ww);
	free(ec.ids); free(ec.pos); free(ec.len);
	tokenizer_free(&t);
	tns_header_free(&h);
	return 0;
}
