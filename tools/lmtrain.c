/* lmtrain -- train a BERT masked language model on token windows.
 *
 *   seqtok genome.fa.gz | lmtrain --arch 4M --seed 1 --steps 2000 -o m1.tns
 *
 * Data order is a function of --data-seed and the input alone (never of
 * --seed), so the members of an ensemble see the same batches in the same
 * order; MLM masks, dropout and initialisation depend on --seed. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "adamw.h"
#include "bert.h"
#include "cli.h"
#include "mlm.h"
#include "model.h"
#include "par.h"
#include "rng.h"
#include "tns.h"
#include "vocab.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: lmtrain [options] -o MODEL.tns [WINDOWS.tns|-]\n"
"Train a BERT masked language model (HuggingFace BertForMaskedLM semantics)\n"
"on token windows from seqtok, and write the model as a tensor stream.\n"
"\n"
"Model:\n"
"      --arch NAME       4M, 20M or 90M (PAPER.md; default 4M)\n"
"      --layers N        override the number of layers\n"
"      --hidden N        override the hidden size\n"
"      --heads N         override the number of attention heads\n"
"      --ffn N           override the feed-forward size\n"
"      --max-pos N       maximum positions (default 512)\n"
"      --dropout P       hidden and attention dropout (default 0.1)\n"
"      --seed N          initialisation, masking and dropout seed (default 1)\n"
"Training:\n"
"      --steps N         optimiser steps (default: --epochs passes over a file)\n"
"      --epochs N        passes over the input (needs a file, default 1)\n"
"  -b, --batch N         windows per step (default 64)\n"
"      --lr X            peak learning rate (default 1e-4)\n"
"      --min-lr X        learning rate at the end of the cosine (default 0)\n"
"      --warmup X        warm-up: a fraction of the steps if < 1, else steps (0.1)\n"
"      --clip X          gradient-norm clipping, 0 = off (default 0.5)\n"
"      --weight-decay X  AdamW weight decay, not on biases/LayerNorm (default 0)\n"
"      --mask-prob X     MLM selection probability (default 0.15)\n"
"Data:\n"
"      --data-seed N     data order seed (default 42)\n"
"      --shuffle-buffer N  windows held for shuffling a pipe (default 10000);\n"
"                        a file is shuffled completely every epoch\n"
"Output:\n"
"  -o, --output FILE     the model (required unless stdout is not a terminal)\n"
"      --log FILE        TSV: step lr loss grad_norm tokens_per_s\n"
"  -t, --threads N       threads (default 1); results identical for any N\n"
"  -f, --force           allow binary output to a terminal\n"
"  -q, --quiet           no progress or messages\n"
"  -v, --verbose         a progress line every 10 steps even off a terminal\n"
"      --help            this help\n"
"      --version         version, with htslib and OpenBLAS versions\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage.  See lmtrain(1).\n");
}

enum {
	O_ARCH = 0x2000, O_LAYERS, O_HIDDEN, O_HEADS, O_FFN, O_MAXPOS, O_DROPOUT, O_SEED, O_STEPS,
	O_EPOCHS, O_LR, O_MINLR, O_WARMUP, O_CLIP, O_WD, O_MASKP, O_DSEED, O_SHUF, O_LOG
};

typedef struct {
	const char *arch;
	int layers, hidden, heads, ffn, max_pos;
	double dropout;
	uint64_t seed, data_seed;
	long steps, epochs, batch, shuffle;
	double lr, min_lr, warmup, clip, wd, mask_prob;
	const char *log;
} opts;

/* ---- data: windows in the order fixed by --data-seed --------------------- */

typedef struct {
	const char *path;
	tns_reader *r;
	int T, V;
	int in_memory;              /* a regular file: all windows held, shuffled per epoch */
	int32_t *all;               /* [n][T] */
	long n, *perm, pos, epoch;
	int32_t *buf;               /* pipe: shuffle buffer [cap][T] */
	long fill, cap;
	int eof;
	rng_t rng;
	uint64_t seed;
} data;

/* the next record's tokens, checked (valid until the next read); NULL at
 * the verified end of the stream */
static const int32_t *read_window(data *d)
{
	tns_record rec;
	int rr = tns_read(d->r, &rec);
	if (rr < 0) die_file(d->path, "%s", tns_error(d->r));
	if (rr == 0) return NULL;
	const tns_tensor *t = tns_get(&rec, "tokens");
	if (!t) die_file(d->path, "record %s has no tokens tensor", rec.name);
	if (t->dtype != TNS_I32 || t->ndim != 1 || t->dim[0] < 1)
		die_file(d->path, "record %s: tokens is not a non-empty 1-d i32 tensor", rec.name);
	if (d->T == 0) d->T = (int)t->dim[0];
	if (t->dim[0] != d->T)
		die_file(d->path, "record %s has %" PRId64 " tokens, earlier windows %d (windows must have one length)",
		         rec.name, t->dim[0], d->T);
	const int32_t *x = t->data;
	for (int i = 0; i < d->T; i++)
		if (x[i] < 0 || x[i] >= d->V)
			die_file(d->path, "record %s: token id %d outside the vocabulary (size %d)", rec.name, x[i], d->V);
	return x;
}

/* epoch e of a file: a Fisher-Yates permutation drawn from (data seed, e) */
static void shuffle_epoch(data *d)
{
	rng_t r;
	rng_seed(&r, d->seed, (uint64_t)d->epoch);
	for (long i = 0; i < d->n; i++) d->perm[i] = i;
	for (long i = d->n - 1; i > 0; i--) {
		long j = (long)rng_below(rng_next(&r), (uint32_t)(i + 1));
		long t = d->perm[i]; d->perm[i] = d->perm[j]; d->perm[j] = t;
	}
}

static void data_open(data *d, const char *path, int V, uint64_t seed)
{
	char err[512];
	struct stat st;
	memset(d, 0, sizeof *d);
	d->path = path ? path : "-";
	d->V = V, d->seed = seed;
	d->in_memory = path && strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
	d->r = tns_open(path, err, sizeof err);
	if (!d->r) die_file(d->path, "%s", err);
}

/* a file: every window into memory; a pipe: the first buffer-full */
static void data_start(data *d, long shuffle)
{
	const int32_t *x;
	long cap = 0;
	if (d->in_memory) {
		while ((x = read_window(d))) {
			if (d->n == cap) {
				cap = cap ? 2 * cap : 1024;
				d->all = xrealloc(d->all, (size_t)cap * d->T * sizeof *d->all);
			}
			memcpy(d->all + (size_t)d->n++ * d->T, x, d->T * sizeof *x);
		}
		d->perm = xmalloc((d->n ? d->n : 1) * sizeof *d->perm);
		if (d->n) shuffle_epoch(d);
	} else {
		rng_seed(&d->rng, d->seed, 0x70697065);
		d->cap = shuffle < 1 ? 1 : shuffle;
		while (d->fill < d->cap && (x = read_window(d))) {
			if (!d->buf) d->buf = xmalloc((size_t)d->cap * d->T * sizeof *d->buf);
			memcpy(d->buf + (size_t)d->fill++ * d->T, x, d->T * sizeof *x);
		}
		if (d->fill < d->cap) d->eof = 1;
	}
}

/* the next window in training order; 0 when a pipe is exhausted */
static int data_next(data *d, int32_t *out)
{
	if (d->in_memory) {
		if (d->pos == d->n) { d->epoch++, d->pos = 0; shuffle_epoch(d); }
		memcpy(out, d->all + (size_t)d->perm[d->pos++] * d->T, d->T * sizeof *out);
		return 1;
	}
	if (d->fill == 0) return 0;
	long j = (long)rng_below(rng_next(&d->rng), (uint32_t)d->fill);
	int32_t *slot = d->buf + (size_t)j * d->T;
	memcpy(out, slot, d->T * sizeof *out);
	const int32_t *x = d->eof ? NULL : read_window(d);
	if (x) {
		memcpy(slot, x, d->T * sizeof *x);
	} else {
		d->eof = 1;
		d->fill--;
		memcpy(slot, d->buf + (size_t)d->fill * d->T, d->T * sizeof *slot);
	}
	return 1;
}

static void data_close(data *d)
{
	if (d->r) tns_close_reader(d->r);
	free(d->all); free(d->perm); free(d->buf);
	memset(d, 0, sizeof *d);
}

/* ---- progress ------------------------------------------------------------ */

static void fmt_eta(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);
	if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void progress(int tty, long step, long steps, double loss, double tps, double eta, int last)
{
	char e[32];
	fmt_eta(eta, e, sizeof e);
	fprintf(stderr, "%slmtrain: step %ld/%ld  loss %.4f  %.0f tok/s  ETA %s%s",
	        tty ? "\r" : "", step, steps, loss, tps, e, tty && !last ? "" : "\n");
	fflush(stderr);
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	cli_opts co;
	par_blas_prefer_avx512(argv);
	cli_init(&co, argc, argv);
	opts o = { .arch = "4M", .dropout = 0.1, .seed = 1, .data_seed = 42, .epochs = 0, .batch = 64,
	           .shuffle = 10000, .lr = 1e-4, .warmup = 0.1, .clip = 0.5, .mask_prob = 0.15 };
	static const struct option longopts[] = {
		{ "arch", required_argument, 0, O_ARCH }, { "layers", required_argument, 0, O_LAYERS },
		{ "hidden", required_argument, 0, O_HIDDEN }, { "heads", required_argument, 0, O_HEADS },
		{ "ffn", required_argument, 0, O_FFN }, { "max-pos", required_argument, 0, O_MAXPOS },
		{ "dropout", required_argument, 0, O_DROPOUT }, { "seed", required_argument, 0, O_SEED },
		{ "steps", required_argument, 0, O_STEPS }, { "epochs", required_argument, 0, O_EPOCHS },
		{ "batch", required_argument, 0, 'b' }, { "lr", required_argument, 0, O_LR },
		{ "min-lr", required_argument, 0, O_MINLR }, { "warmup", required_argument, 0, O_WARMUP },
		{ "clip", required_argument, 0, O_CLIP }, { "weight-decay", required_argument, 0, O_WD },
		{ "mask-prob", required_argument, 0, O_MASKP }, { "data-seed", required_argument, 0, O_DSEED },
		{ "shuffle-buffer", required_argument, 0, O_SHUF }, { "log", required_argument, 0, O_LOG },
		CLI_LONGOPTS
	};
	int c;
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "b:", longopts, NULL)) != -1) {
		switch (c) {
		case O_ARCH: o.arch = optarg; break;
		case O_LAYERS: o.layers = (int)cli_long("--layers", optarg, 1, 1024); break;
		case O_HIDDEN: o.hidden = (int)cli_long("--hidden", optarg, 1, 65536); break;
		case O_HEADS: o.heads = (int)cli_long("--heads", optarg, 1, 65536); break;
		case O_FFN: o.ffn = (int)cli_long("--ffn", optarg, 1, 1 << 20); break;
		case O_MAXPOS: o.max_pos = (int)cli_long("--max-pos", optarg, 1, 1 << 20); break;
		case O_DROPOUT: o.dropout = cli_double("--dropout", optarg, 0, 0.99); break;
		case O_SEED: o.seed = (uint64_t)cli_long("--seed", optarg, 0, LONG_MAX); break;
		case O_DSEED: o.data_seed = (uint64_t)cli_long("--data-seed", optarg, 0, LONG_MAX); break;
		case O_STEPS: o.steps = cli_long("--steps", optarg, 1, LONG_MAX); break;
		case O_EPOCHS: o.epochs = cli_long("--epochs", optarg, 1, 1000000); break;
		case 'b': o.batch = cli_long("-b", optarg, 1, 1 << 20); break;
		case O_LR: o.lr = cli_double("--lr", optarg, 0, 10); break;
		case O_MINLR: o.min_lr = cli_double("--min-lr", optarg, 0, 10); break;
		case O_WARMUP: o.warmup = cli_double("--warmup", optarg, 0, 1e12); break;
		case O_CLIP: o.clip = cli_double("--clip", optarg, 0, 1e12); break;
		case O_WD: o.wd = cli_double("--weight-decay", optarg, 0, 10); break;
		case O_MASKP: o.mask_prob = cli_double("--mask-prob", optarg, 1e-6, 1); break;
		case O_SHUF: o.shuffle = cli_long("--shuffle-buffer", optarg, 1, 1L << 30); break;
		case O_LOG: o.log = optarg; break;
		default: cli_common_opt(&co, c, optarg, usage);
		}
	}
	if (argc - optind > 1) die_usage("one input stream at most (got %d)", argc - optind);
	cli_need_input(argc - optind, usage);
	cli_apply(&co);
	cli_check_binary_out(&co);
	const char *in = optind < argc ? argv[optind] : "-";
	if (o.min_lr > o.lr) die_usage("--min-lr %g is above --lr %g", o.min_lr, o.lr);

	data d;
	data_open(&d, in, 0, o.data_seed);
	const tns_header *ih = tns_reader_header(d.r);
	tok_vocab voc;
	char err[512];
	int vr = vocab_from_header(&voc, ih, err, sizeof err);
	if (vr == -1) die_file(d.path, "no vocabulary in the header (not a seqtok token stream?)");
	if (vr < 0) die_file(d.path, "%s", err);
	d.V = voc.n;

	bert_config cfg;
	if (bert_config_named(&cfg, o.arch, voc.n) != 0) die_usage("unknown --arch %s (4M, 20M or 90M)", o.arch);
	if (o.layers) cfg.layers = o.layers;
	if (o.hidden) cfg.hidden = o.hidden;
	if (o.heads) cfg.heads = o.heads;
	if (o.ffn) cfg.ffn = o.ffn;
	if (o.max_pos) cfg.max_pos = o.max_pos;
	cfg.hidden_drop = cfg.attn_drop = (float)o.dropout;
	const char *why = bert_config_check(&cfg);
	if (why) die_usage("model configuration: %s", why);
	if (!d.in_memory && !o.steps)
		die_usage("--steps is required when the input is a pipe (the schedule needs the total)");
	if (!d.in_memory && o.epochs)
		die_usage("--epochs needs a file: a pipe can be read only once (use --steps)");

	data_start(&d, o.shuffle);
	if ((d.in_memory && d.n == 0) || (!d.in_memory && d.fill == 0)) die_file(d.path, "no token windows in the input");
	if (d.T > cfg.max_pos)
		die_file(d.path, "windows of %d tokens exceed the model's %d positions (--max-pos)", d.T, cfg.max_pos);
	long steps = o.steps ? o.steps : (d.n * (o.epochs ? o.epochs : 1) + o.batch - 1) / o.batch;
	long warm = o.warmup < 1 ? (long)ceil(o.warmup * steps) : (long)o.warmup;

	bert_model m;
	if (bert_init(&m, &cfg) != 0) die("cannot build the model");
	bert_set_threads(&m, co.threads);
	bert_init_weights(&m, o.seed);
	bert_alloc_grads(&m);
	adamw opt;
	adamw_init(&opt, m.n);
	opt.weight_decay = (float)o.wd;
	opt.nthreads = co.threads;
	for (int i = 0; i < m.np; i++)
		if (m.p[i].ndim == 1) adamw_no_decay(&opt, m.p[i].off, m.p[i].n);
	int B = (int)o.batch, T = d.T;
	bert_acts *a = bert_acts_new(&m, B, T, 1);
	int32_t *tok = xmalloc((size_t)B * T * sizeof *tok), *inp = xmalloc((size_t)B * T * sizeof *inp);
	int32_t *lab = xmalloc((size_t)B * T * sizeof *lab);

	cli_out logo;
	FILE *logf = NULL;
	if (o.log) {
		logf = cli_out_open(&logo, o.log);
		fprintf(logf, "step\tlr\tloss\tgrad_norm\ttokens_per_s\n");
	}
	if (cli_verbose >= 0)
		info("%s: %d layers, hidden %d, %d heads, ffn %d, vocab %d, %zu parameters; %ld steps of %d windows of %d tokens",
		     o.arch, cfg.layers, cfg.hidden, cfg.heads, cfg.ffn, cfg.vocab_size, m.n, steps, B, T);
	int tty = isatty(STDERR_FILENO) && cli_verbose >= 0;
	double t0 = cli_now(), tlast = t0, loss_avg = 0;
	long step, ntok = 0;
	for (step = 0; step < steps; step++) {
		int nb = 0;
		while (nb < B && data_next(&d, tok + (size_t)nb * T)) nb++;
		if (nb == 0) {
			warn("%s: the input ended after %ld of %ld steps; writing the model as it is", d.path, step, steps);
			break;
		}
		for (int b = 0; b < nb; b++)
			mlm_mask(tok + (size_t)b * T, T, cfg.vocab_size, o.seed, (uint64_t)step, (uint64_t)b,
			         o.mask_prob, inp + (size_t)b * T, lab + (size_t)b * T);
		bert_drop dr = { o.seed, (uint64_t)step, 0 };
		bert_forward(&m, a, inp, nb, T, &dr);
		float loss = bert_mlm_loss(&m, a, lab);
		int nm = bert_nmasked(a, 0, nb);
		bert_zero_grads(&m);
		if (nm) bert_backward(&m, a, 0, nb, 1.0f / nm);
		double norm = grad_clip(m.grads, m.n, o.clip);
		double lr = lr_at(step, steps, warm, o.lr, o.min_lr);
		adamw_step(&opt, m.params, m.grads, (float)lr);
		ntok += (long)nb * T;
		loss_avg = step == 0 ? loss : 0.95 * loss_avg + 0.05 * loss;
		double now = cli_now(), tps = ntok / (now - t0 + 1e-9);
		if (logf) fprintf(logf, "%ld\t%.6g\t%.6f\t%.6f\t%.1f\n", step + 1, lr, loss, norm, tps);
		int last = step + 1 == steps;
		if ((tty && (now - tlast > 0.5 || last)) || (cli_verbose > 0 && ((step + 1) % 10 == 0 || last))) {
			progress(tty, step + 1, steps, loss_avg, tps, (steps - step - 1) * (now - t0) / (step + 1), last);
			tlast = now;
		}
	}

	tns_header h;
	tns_header_copy(&h, ih);
	char extra[96];
	snprintf(extra, sizeof extra, "\tSD:%" PRIu64 "\tDS:%" PRIu64, o.seed, o.data_seed);
	tns_header_add_pg(&h, "lmtrain", SEQLM_VERSION, argc, argv, extra);
	model_set_header(&h, &m, o.seed, o.data_seed, step);
	tns_writer *w = cli_tns_create(&co, co.output, &h, 0);
	if (model_write_buffer(w, &m, "params", m.params) != 0) {
		fprintf(stderr, "%s: error: %s\n", cli_prog, tns_werror(w));
		tns_abort(w);
		exit(EXIT_FAILURE);
	}
	cli_tns_close(w);
	if (logf) cli_out_close(&logo);
	if (cli_verbose >= 0 && !tty && cli_verbose == 0)
		info("%ld steps, final loss %.4f (smoothed), %.0f tokens/s", step, loss_avg, ntok / (cli_now() - t0));
	tns_header_free(&h);
	free(tok); free(inp); free(lab);
	bert_acts_free(a);
	adamw_free(&opt);
	bert_free(&m);
	vocab_free(&voc);
	data_close(&d);
	return 0;
}
