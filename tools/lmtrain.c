/* lmtrain -- train a BERT masked language model on token windows.
 *
 *   seqtok genome.fa.gz | lmtrain --arch 4M --seed 1 -o m1.tns
 *
 * Data order is a function of --data-seed and the input alone (never of
 * --seed), so the members of an ensemble see the same batches in the same
 * order; MLM masks, dropout and initialisation depend on --seed. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model/adamw.h"
#include "model/bert.h"
#include "model/ckpt.h"
#include "base/cli.h"
#include "base/dist.h"
#include "model/evalmask.h"
#include "model/fisher.h"
#include "model/mlm.h"
#include "model/model.h"
#include "base/par.h"
#include "base/progress.h"
#include "base/rng.h"
#include "io/tns.h"
#include "io/tnsout.h"
#include "tok/vocab.h"
#include "model/winread.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: lmtrain [options] -o MODEL.tns [WINDOWS.tns|-]\n"
"Train a BERT masked language model (HuggingFace BertForMaskedLM semantics)\n"
"on token windows from seqtok, and write the model as a tensor stream.\n"
"\n"
"Model:\n"
"      --arch NAME       4M, 20M or 90M (docs/METHODS.md; default 4M)\n"
"      --layers N        override the number of layers\n"
"      --hidden N        override the hidden size\n"
"      --heads N         override the number of attention heads\n"
"      --ffn N           override the feed-forward size\n"
"      --max-pos N       maximum positions (default 512)\n"
"      --norm P          LayerNorm placement: post (BERT, default) or pre\n"
"                        (before attention and FFN, as GENA-LM and ESM)\n"
"      --final-ln        a LayerNorm after the last layer (with --norm pre)\n"
"      --dropout P       hidden and attention dropout (default 0.1)\n"
"      --pos P           positions: absolute (learned, BERT's; the default),\n"
"                        rotary (on queries and keys, NT v2 / ESM-2), alibi\n"
"                        (linear attention biases, DNABERT-2) or none\n"
"      --ffn-act A       feed-forward: gelu (BERT's, the default), geglu\n"
"                        (DNABERT-2) or swiglu (NT v2): gated, 2 x --ffn inputs\n"
"      --no-bias WHAT    no biases in attn (q, k, v, output), ffn (both dense\n"
"                        layers) or all (both); may be repeated\n"
"      --seed N          initialisation, masking and dropout seed (default 1)\n"
"      --seeds LIST      several members in one process (\"1-5\", \"1,3\"): one read\n"
"                        of the data, identical batches; -o etc. take {seed}\n"
"Training:\n"
"      --steps N         optimiser steps (default: --epochs passes over a file,\n"
"                        one pass over a pipe; see below)\n"
"      --epochs N        passes over the input (needs a file, default 1)\n"
"  -b, --batch N         windows per step (default 64)\n"
"      --accum K         cut each batch into K micro-batches (memory / K)\n"
"      --lr X            peak learning rate (default 1e-4)\n"
"      --min-lr X        learning rate at the end of the cosine (default 0)\n"
"      --warmup X        warm-up: a fraction of the steps if < 1, else steps (0.1)\n"
"                        A pipe without --steps is read once: if it ends within\n"
"                        the shuffle buffer the steps are known (as a file);\n"
"                        if not, the learning rate warms up (a fraction counts\n"
"                        against the steps of one shuffle buffer) and then stays\n"
"                        at --lr, no cosine; progress shows steps and windows\n"
"                        done, no ETA\n"
"      --clip X          gradient-norm clipping, 0 = off (default 0.5)\n"
"      --weight-decay X  AdamW weight decay, not on biases/LayerNorm (default 0)\n"
"      --mask-prob X     MLM selection probability (default 0.15)\n"
"      --mask-replace-prob X  of the selected, the fraction made <MASK>\n"
"                        (default 0.8)\n"
"      --random-replace-prob X  of the selected, the fraction made a random\n"
"                        token (default 0.1); the rest stay as they are\n"
"Data:\n"
"      --data-seed N     data order seed (default 42)\n"
"      --shuffle-buffer N  windows held for shuffling a pipe (default 10000);\n"
"                        a file is shuffled completely every epoch\n"
"Output:\n"
"  -o, --output FILE     the model (required unless stdout is not a terminal)\n"
"      --log FILE        TSV: step lr loss grad_norm tokens_per_s eval_loss\n"
"                        eval_acc batch_hash seed\n"
"Evaluation and checkpoints:\n"
"      --eval FILE       held-out windows: loss and accuracy on a fixed mask;\n"
"                        -o then holds the model with the best eval loss,\n"
"                        written when training ends (until then the best so\n"
"                        far lives in the checkpoint)\n"
"      --eval-every N    evaluate every N steps (default steps/10) and at the end\n"
"      --eval-seed N     seed of the eval mask (default 1, as lmprobe)\n"
"      --eval-mask-prob X  eval mask probability (default 0.15)\n"
"      --fisher-every N  empirical Fisher per group on the eval set every N steps\n"
"      --fisher-log FILE TSV of it (default OUTPUT.fisher.tsv)\n"
"      --fisher-estimator E  window (default), batch or token\n"
"      --checkpoint FILE last state: params, AdamW moments, step, data position,\n"
"                        eval history, best model (default OUTPUT.ckpt)\n"
"      --checkpoint-every N  write the checkpoint every N steps (and at the end)\n"
"      --resume CKPT     continue from a checkpoint, bitwise as if never stopped\n"
"      --precision P     fp32 (default) or bf16: matrix products with bfloat16\n"
"                        inputs and fp32 sums (oneDNN; AVX512-BF16 or AMX)\n"
"  -t, --threads N       threads (default 1); results identical for any N\n"
"  -f, --force           allow binary output to a terminal\n"
"  -q, --quiet           no progress or messages\n"
"  -v, --verbose         a progress line every 10 steps even off a terminal\n"
"      --help            this help\n"
"      --version         version, with htslib and OpenBLAS versions\n"
"\n"
"Ctrl-C (SIGINT), SIGTERM or SIGHUP ends the step under way, writes the\n"
"checkpoint and exits 130, 143 or 129 without -o: add --resume OUTPUT.ckpt to\n"
"the same command to continue.  A second signal stops at once.\n"
"\n"
"Under MPI (mpirun -np N lmtrain ...): one model data-parallel on N ranks,\n"
"the same training as --accum N (sums in rank order, bitwise repeatable);\n"
"with --seeds of M members, N = M x K ranks: each member on K ranks.\n"
"The input must be a file every rank can read.\n"
"\n"
"Exit status: 0 success, 1 error (no model or log written), 2 usage, 128+N\n"
"interrupted by signal N.  See lmtrain(1).\n");
}

enum {
	O_ARCH = 0x2000, O_LAYERS, O_HIDDEN, O_HEADS, O_FFN, O_MAXPOS, O_DROPOUT, O_SEED, O_STEPS,
	O_EPOCHS, O_LR, O_MINLR, O_WARMUP, O_CLIP, O_WD, O_MASKP, O_MASKREP, O_RANDREP, O_DSEED, O_SHUF, O_LOG,
	O_SEEDS, O_ACCUM, O_EVAL, O_EVERY, O_ESEED, O_EMASKP, O_FEVERY, O_FLOG, O_FEST, O_CKPT, O_CKEVERY,
	O_RESUME, O_PREC, O_POS, O_FFNACT, O_NOBIAS, O_NORM, O_FINALLN
};

typedef struct {
	const char *arch;
	int layers, hidden, heads, ffn, max_pos, bf16, norm, final_ln;
	int pos, ffn_kind, attn_nobias, ffn_nobias;   /* the variant (bert.h) */
	double dropout;
	uint64_t seed, data_seed;
	long steps, epochs, batch, shuffle;
	double lr, min_lr, warmup, clip, wd;
	mlm_rule mlm;                 /* --mask-prob, --mask-replace-prob, --random-replace-prob */
	const char *log;
	const char *seeds, *eval, *flog, *ckpt, *resume;
	long accum, eval_every, fisher_every, ckpt_every;
	uint64_t eval_seed;
	double eval_q;
	int fest;
} opts;

/* ---- data: windows in the order fixed by --data-seed --------------------- */

typedef struct {
	const char *path;
	winread w;                  /* one window at a time, checked (winread.h) */
	int T;
	int in_memory;              /* a regular file: all windows held, shuffled per epoch */
	int32_t *all;               /* [n][T] */
	long n, *perm, pos, epoch;
	int32_t *buf;               /* pipe: shuffle buffer [cap][T] */
	long fill, cap;
	int eof;
	int broken;                 /* a read failed after a signal: upstream was interrupted too */
	rng_t rng;
	uint64_t seed;
} data;

/* the next window's tokens, checked (valid until the next read); NULL at
 * the verified end of the stream */
static const int32_t *read_window(data *d)
{
	winread_err e;
	int n = winread_next(&d->w, &e);
	if (n < 0 && cli_interrupted()) { d->broken = 1; return NULL; }   /* Ctrl-C reached seqtok too */
	if (n < 0) winread_die(&e);
	if (n == 0) return NULL;
	d->T = d->w.T;
	return d->w.tok;
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

/* the stream's header and vocabulary; its windows come with data_start */
static void data_open(data *d, const char *path, uint64_t seed)
{
	winread_err e;
	struct stat st;
	memset(d, 0, sizeof *d);
	d->path = path ? path : "-";
	d->seed = seed;
	d->in_memory = path && strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
	if (winread_open_header(&d->w, d->path, -1, 1, &e) < 0) winread_die(&e);
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
	winread_close(&d->w);
	free(d->all); free(d->perm); free(d->buf);
	memset(d, 0, sizeof *d);
}

/* ---- text buffers: the logs are kept whole so a checkpoint can carry them */

/* on = 0: a log nobody asked for, nothing kept */
typedef struct { char *s; size_t n, cap; FILE *fp; int on; const char *path; } textlog;

static void tl_printf(textlog *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tl_printf(textlog *t, const char *fmt, ...)
{
	va_list ap;
	if (!t->on) return;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->n + k + 1 > t->cap) {
		t->cap = (t->n + k + 1) * 2;
		t->s = xrealloc(t->s, t->cap);
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->n, k + 1, fmt, ap);
	va_end(ap);
	if (t->fp && fwrite(t->s + t->n, 1, k, t->fp) != (size_t)k) die_file(t->path, "write failed: %s", strerror(errno));
	t->n += k;
}

static void tl_flush(textlog *t)
{
	if (t->fp && fflush(t->fp) != 0) die_file(t->path, "write failed: %s", strerror(errno));
}

/* the header of a TSV log: the command line and seeds, as # lines */
static void tl_header(textlog *t, int argc, char **argv, const char *seeds, uint64_t data_seed)
{
	tl_printf(t, "# lmtrain %s CL:", SEQLM_VERSION);
	for (int i = 0; i < argc; i++) tl_printf(t, " %s", argv[i]);
	tl_printf(t, "\n# seeds: %s  data_seed: %" PRIu64 "\n", seeds, data_seed);
}

/* ---- ensemble members ----------------------------------------------------- */

typedef struct {
	uint64_t seed;
	const tok_vocab *voc;         /* the windows' vocabulary: special and mask ids */
	char *out, *ckpt;             /* model and checkpoint paths, {seed} expanded */
	bert_model m;
	adamw opt;
	ckpt_state st;
	float *best;                  /* --eval: the parameters of the best eval loss so far */
	int ckpt_written;             /* this run wrote the checkpoint (or resumed from it) */
	double loss, norm;
} member;

/* fail before training, not hours later, if path's folder is missing */
static void check_folder(const char *path)
{
	if (!path) return;
	char *dir = xstrdup(path), *sl = strrchr(dir, '/');
	struct stat st;
	if (sl) {
		*(sl == dir ? sl + 1 : sl) = 0;
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			die_file(path, "cannot be written: the folder %s does not exist", dir);
	}
	free(dir);
}

/* pattern with every "{seed}" replaced */
static char *expand(const char *pat, uint64_t seed)
{
	if (!pat) return NULL;
	char num[32];
	snprintf(num, sizeof num, "%" PRIu64, seed);
	size_t n = strlen(pat) + 1;
	for (const char *p = pat; (p = strstr(p, "{seed}")); p += 6) n += strlen(num);
	char *s = xmalloc(n), *o = s;
	for (const char *p = pat; *p;) {
		if (!strncmp(p, "{seed}", 6)) { o += sprintf(o, "%s", num); p += 6; }
		else *o++ = *p++;
	}
	*o = 0;
	return s;
}

/* ---- the held-out set: every window with its fixed analysis mask -------- */

typedef struct {
	const char *path;
	int n, T;
	int32_t *in, *lab;            /* [n*T] masked input, labels (-1 unmasked) */
	long ntok;                    /* masked positions */
	uint64_t hash;                /* of the windows and the mask */
} evalset;

static void evalset_load(evalset *e, const char *path, uint64_t vocab_hash, int max_pos,
                         uint64_t seed, double q)
{
	winread w;
	winread_err we;
	memset(e, 0, sizeof *e);
	e->path = path;
	if (winread_open(&w, path, -1, 256, &we) < 0) winread_die(&we);
	if (w.vocab.hash != vocab_hash)
		die_file(path, "the eval windows have another vocabulary (hash %016" PRIx64 ", training windows %016" PRIx64 ")",
		         w.vocab.hash, vocab_hash);
	int nb, cap = 0;
	int32_t *pos = NULL;
	while ((nb = winread_next(&w, &we)) > 0) {
		int T = e->T = w.T;
		if (T > max_pos) die_file(path, "eval windows of %d tokens exceed the model's %d positions", T, max_pos);
		pos = xrealloc(pos, (size_t)T * sizeof *pos);
		if (e->n + nb > cap) {
			cap = 2 * (e->n + nb);
			e->in = xrealloc(e->in, (size_t)cap * T * sizeof *e->in);
			e->lab = xrealloc(e->lab, (size_t)cap * T * sizeof *e->lab);
		}
		for (int b = 0; b < nb; b++, e->n++) {
			const int32_t *tok = w.tok + (size_t)b * T;
			int32_t *in = e->in + (size_t)e->n * T, *lab = e->lab + (size_t)e->n * T;
			int P = evalmask_select(&w.vocab, seed, w.name[b], tok, T, q, pos);
			evalmask_apply(&w.vocab, tok, T, pos, P, in);
			for (int t = 0; t < T; t++) lab[t] = -1;
			for (int i = 0; i < P; i++) lab[pos[i]] = tok[pos[i]];
			e->ntok += P;
		}
	}
	if (nb < 0) winread_die(&we);
	free(pos);
	winread_close(&w);
	if (e->n == 0) die_file(path, "no windows in the eval stream");
	if (e->ntok == 0) die_file(path, "no masked positions in %d eval windows (more windows or --eval-mask-prob)", e->n);
	e->hash = rng_fnv1a(e->in, (uint64_t)e->n * e->T * sizeof *e->in) ^ rng_mix(rng_fnv1a(e->lab, (uint64_t)e->n * e->T * sizeof *e->lab));
}

static void evalset_free(evalset *e) { free(e->in); free(e->lab); }

/* mean loss and accuracy (argmax, first of ties) at the masked positions,
 * no dropout, in batches of mb windows; sums in a fixed order.  Under MPI
 * batch i goes to rank i mod N of the group; the sums of each batch are
 * then added in batch order on every rank. */
static void evaluate(bert_model *m, bert_acts *ea, int mb, const evalset *e, double *loss, double *acc,
                     const dist_group *dg)
{
	int V = m->c.vocab_size, T = e->T;
	int *rows = xmalloc((size_t)mb * T * sizeof *rows);
	int32_t *lab = xmalloc((size_t)mb * T * sizeof *lab);
	float *lg = NULL;
	size_t lgcap = 0;
	double L = 0, A = 0;
	int nch = (e->n + mb - 1) / mb;
	double *part = dg->size > 1 ? xcalloc(2 * (size_t)nch, sizeof *part) : NULL;
	for (int i0 = 0; i0 < e->n; i0 += mb) {
		int ci = i0 / mb;
		if (ci % dg->size != dg->rank) continue;
		double *Lp = part ? part + 2 * ci : &L, *Ap = part ? part + 2 * ci + 1 : &A;
		int nb = e->n - i0 < mb ? e->n - i0 : mb, nr = 0;
		for (int r = 0; r < nb * T; r++)
			if (e->lab[(size_t)i0 * T + r] >= 0) lab[nr] = e->lab[(size_t)i0 * T + r], rows[nr++] = r;
		if (!nr) continue;
		bert_forward(m, ea, e->in + (size_t)i0 * T, nb, T, NULL);
		if ((size_t)nr * V > lgcap) lgcap = (size_t)nr * V, lg = xrealloc(lg, lgcap * sizeof *lg);
		bert_head(m, ea, rows, nr, lg, 0);
		for (int j = 0; j < nr; j++) {
			const float *x = lg + (size_t)j * V;
			int am = 0;
			for (int v = 1; v < V; v++) if (x[v] > x[am]) am = v;
			double s = 0;
			for (int v = 0; v < V; v++) s += exp((double)x[v] - x[am]);
			*Lp += log(s) + x[am] - x[lab[j]];
			*Ap += am == lab[j];
		}
	}
	if (part) {
		dist_sum_f64(dg, part, 2 * (size_t)nch);
		for (int ci = 0; ci < nch; ci++) L += part[2 * ci], A += part[2 * ci + 1];
		free(part);
	}
	*loss = L / e->ntok, *acc = A / e->ntok;
	free(rows); free(lab); free(lg);
}

/* ---- progress ------------------------------------------------------------ */

/* steps 0: an open-ended run (a pipe of unknown length): no bar and no
 * ETA (progress_print), the windows done among the figures */
static void progress(int tty, long step, long steps, long windows, double loss, double tps, double eta, int last)
{
	char x[96];
	if (steps) snprintf(x, sizeof x, "loss %.4f  %.0f tok/s", loss, tps);
	else snprintf(x, sizeof x, "%ld windows  loss %.4f  %.0f tok/s", windows, loss, tps);
	progress_print(tty, "step", step, steps, x, eta, last);
}

/* ---- batches --------------------------------------------------------------- */

/* the next batch of up to B windows; its hash is chained into *chain */
static int next_batch(data *d, int32_t *tok, int B, uint64_t *chain, uint64_t *bh)
{
	int nb = 0;
	while (nb < B && data_next(d, tok + (size_t)nb * d->T)) nb++;
	*bh = rng_fnv1a(tok, (uint64_t)nb * d->T * sizeof *tok);
	*chain = rng_mix(*chain ^ *bh);
	return nb;
}

/* one optimiser step of member k on the batch tok[nb*T], in micro-batches
 * of mb windows whose gradients add up to the whole batch's.  Under MPI the
 * micro-batches are dealt out by position, --accum of them to each rank of
 * the member's group in rank order, and the gradients and losses summed in
 * rank order (dist.h): the same step as one process with --accum times the
 * ranks, but for the order of the additions. */
static void train_step(member *k, bert_acts *a, const int32_t *tok, int nb, int T, int mb, long step,
                       const opts *o, long steps, long warm, int32_t *inp, int32_t *lab, double *lr,
                       const dist_group *dg)
{
	bert_model *m = &k->m;
	long nm = 0;
	for (int b = 0; b < nb; b++)
		nm += mlm_mask(k->voc, tok + (size_t)b * T, T, k->seed, (uint64_t)step, (uint64_t)b,
		               &o->mlm, inp + (size_t)b * T, lab + (size_t)b * T);
	bert_zero_grads(m);
	double lsum = 0;
	for (int j = 0, b0 = 0; b0 < nb; j++, b0 += mb) {
		if (j / o->accum != dg->rank) continue;
		int n = nb - b0 < mb ? nb - b0 : mb;
		bert_drop dr = { k->seed, (uint64_t)step, b0 };
		bert_forward(m, a, inp + (size_t)b0 * T, n, T, &dr);
		float l = bert_mlm_loss(m, a, lab + (size_t)b0 * T);
		int nmi = bert_nmasked(a, 0, n);
		lsum += n == nb ? l : (double)l * nmi;
		if (nm) bert_backward(m, a, 0, n, 1.0f / (float)nm);
	}
	dist_sum_f32(dg, m->grads, m->n);
	dist_sum_f64(dg, &lsum, 1);
	k->loss = mb >= nb ? lsum : nm ? lsum / nm : 0;
	k->norm = grad_clip(m->grads, m->n, o->clip);
	*lr = lr_at(step, steps, warm, o->lr, o->min_lr);
	adamw_step(&k->opt, m->params, m->grads, (float)*lr);
	bert_params_changed(m);
}

/* the empirical Fisher of member k on the eval set, in batches of mb
 * windows dealt out over the group's ranks as in evaluate(), the sums then
 * added in rank order */
static void fisher_eval(fisher_acc *f, member *k, bert_acts *ea, int mb, const evalset *es,
                        const dist_group *dg, long step)
{
	for (int i0 = 0, ci = 0; i0 < es->n; i0 += mb, ci++) {
		if (ci % dg->size != dg->rank) continue;
		int n = es->n - i0 < mb ? es->n - i0 : mb;
		if (fisher_add_batch(f, &k->m, ea, es->in + (size_t)i0 * es->T, es->lab + (size_t)i0 * es->T, n, es->T) < 0)
			die("member %" PRIu64 ": non-finite loss at step %ld (diverged: lower --lr?)", k->seed, step);
	}
	if (dg->size > 1) {
		double c[3] = { (double)f->ntokens, (double)f->nwindows, (double)f->nbatches };
		dist_sum_f64(dg, f->sum, f->n);
		dist_sum_f64(dg, c, 3);
		f->ntokens = (long)c[0], f->nwindows = (long)c[1], f->nbatches = (long)c[2];
	}
}

/* the lines this rank's member wrote into step (a leader's; others none)
 * join log t on every rank in rank order, so every checkpoint carries the
 * whole log; only world rank 0 has the file open */
static void tl_share(textlog *t, textlog *step)
{
	if (!t->on) return;
	char *all;
	size_t n;
	dist_share_text(step->s ? step->s : "", step->n, &all, &n);
	if (n) tl_printf(t, "%s", all);
	free(all);
	step->n = 0;
}

/* ---- output files ---------------------------------------------------------- */

/* the options a checkpoint must share with the run that resumes it */
static void set_train_keys(tns_header *h, const opts *o, long steps, long warm, int T, int accum,
                           int ranks, const evalset *e)
{
	if (ranks > 1) tns_header_set(h, "train_ranks", "%d", ranks);   /* MPI ranks per member */
	tns_header_set(h, "train_steps", "%ld", steps);
	tns_header_set(h, "train_batch", "%ld", o->batch);
	tns_header_set(h, "train_accum", "%d", accum);
	tns_header_set(h, "train_lr", "%.17g", o->lr);
	tns_header_set(h, "train_min_lr", "%.17g", o->min_lr);
	tns_header_set(h, "train_warmup_steps", "%ld", warm);
	tns_header_set(h, "train_clip", "%.17g", o->clip);
	tns_header_set(h, "train_weight_decay", "%.17g", o->wd);
	tns_header_set(h, "train_mask_prob", "%.17g", o->mlm.prob);
	const mlm_rule bert = MLM_RULE_BERT(o->mlm.prob);
	if (o->mlm.mask != bert.mask || o->mlm.random != bert.random) {   /* BERT's 80/10/10: not written, as before */
		tns_header_set(h, "train_mask_replace_prob", "%.17g", o->mlm.mask);
		tns_header_set(h, "train_random_replace_prob", "%.17g", o->mlm.random);
	}
	tns_header_set(h, "train_window", "%d", T);
	tns_header_set(h, "train_eval_hash", "%016" PRIx64, e->n ? e->hash : 0);
	tns_header_set(h, "train_eval_every", "%ld", o->eval_every);
	tns_header_set(h, "train_fisher_every", "%ld", o->fisher_every);
}
static const char *const train_keys[] = {
	"seed", "data_seed", "train_steps", "train_batch", "train_accum", "train_lr", "train_min_lr",
	"train_warmup_steps", "train_clip", "train_weight_decay", "train_mask_prob", "train_window",
	"train_eval_hash", "train_eval_every", "train_fisher_every", "hidden_dropout_prob", "train_ranks",
	"train_mask_replace_prob", "train_random_replace_prob", NULL
};

/* the header of member k's model or checkpoint at step */
static void member_header(tns_header *h, const tns_header *ih, const member *k, const opts *o,
                          int argc, char **argv, long step)
{
	char extra[96];
	tns_header_copy(h, ih);
	snprintf(extra, sizeof extra, "\tSD:%" PRIu64 "\tDS:%" PRIu64, k->seed, o->data_seed);
	tns_header_add_pg(h, "lmtrain", SEQLM_VERSION, argc, argv, extra);
	model_set_header(h, &k->m, k->seed, o->data_seed, step);
}

static void write_model(const cli_opts *co, const char *path, const tns_header *h, const bert_model *m)
{
	tns_writer *w = cli_tns_create(co, path, h, 0);
	if (model_write_buffer(w, m, "params", m->params) != 0) {
		char e[512];
		snprintf(e, sizeof e, "%s", tns_werror(w));
		tns_abort(w);
		die_file(path, "%s", e);   /* removes whatever this run finished too */
	}
	cli_tns_close(w);
}

/* what a checkpoint needs besides the member */
typedef struct {
	const tns_header *ih;
	const opts *o;
	int argc;
	char **argv;
	long steps, warm;
	int T, accum, ranks;
	const evalset *e;
	const textlog *lg, *fl;
	long windows;                 /* consumed by the steps done, and their hash chain */
	uint64_t chain;
} train_ctx;

/* the checkpoint of member k after step steps (resumable), see ckpt.h */
static void write_checkpoint(member *k, const train_ctx *c, long step)
{
	tns_header h;
	member_header(&h, c->ih, k, c->o, c->argc, c->argv, step);
	set_train_keys(&h, c->o, c->steps, c->warm, c->T, c->accum, c->ranks, c->e);
	ckpt_state s = k->st;
	s.step = step, s.adam_t = k->opt.t, s.windows = c->windows, s.data_hash = c->chain;
	s.log = c->lg->s, s.loglen = c->lg->n, s.flog = c->fl->s, s.floglen = c->fl->n;
	char err[512];
	struct stat st;
	/* say "intact" only of a checkpoint that is there */
	int there = stat(k->ckpt, &st) == 0 && S_ISREG(st.st_mode);
	if (ckpt_write(k->ckpt, &h, &k->m, &k->opt, &s, k->best, err, sizeof err) != 0)
		die_file(k->ckpt, "%s (%s)", err, !there ? "no checkpoint was written" : k->ckpt_written ?
		         "the previous checkpoint is intact" : "the previous checkpoint, from before this run, is intact");
	k->ckpt_written = 1;
	tns_header_free(&h);
}

/* what an interrupt now keeps (cli_signal_note): no model, the checkpoint
 * at step and how to go on from it; nothing where the rank does not write
 * them (mine 0: under MPI a rank other than its group's rank 0, which says
 * nothing then, cli_signal_quiet_empty) */
static void interrupt_note(const member *mem, int nmem, const char *ckpat, long step, int mine)
{
	if (!mine)
		cli_signal_note("%s", "");
	else if (!ckpat)
		cli_signal_note("no model and no checkpoint (the model was to go to standard output; --checkpoint FILE names one)");
	else if (nmem == 1)
		cli_signal_note("no model (-o is written when training ends); kept the checkpoint %s at step %ld "
		                "(to go on, add --resume %s to the same command)", mem[0].ckpt, step, mem[0].ckpt);
	else
		cli_signal_note("no models (-o is written when training ends); kept the checkpoints %s at step %ld "
		                "(to go on, add --resume '%s' to the same command)", ckpat, step, ckpat);
}

/* a signal arrived: the state after the steps done goes to the checkpoint
 * (save 0: it just did), then the program ends, saying what was kept */
static void interrupted(member *mem, int nmem, const char *ckpat, int save, int mine, long step, const train_ctx *c)
{
	if (ckpat && save)
		for (int i = 0; i < nmem; i++) write_checkpoint(&mem[i], c, step);
	interrupt_note(mem, nmem, ckpat, step, mine);
	cli_interrupt_exit();
}

/* "4M", or "custom (4M with --layers 2)" when options change its sizes */
static void arch_name(char *buf, size_t n, const opts *o, const bert_config *cfg, int V)
{
	bert_config named;
	bert_config_named(&named, o->arch, V);
	size_t k = (size_t)snprintf(buf, n, "%s", o->arch);
	if (named.layers == cfg->layers && named.hidden == cfg->hidden && named.heads == cfg->heads && named.ffn == cfg->ffn)
		return;
	k = (size_t)snprintf(buf, n, "custom (%s with", o->arch);
#define OVR(f, opt) if (k < n && named.f != cfg->f) k += (size_t)snprintf(buf + k, n - k, " " opt " %d", cfg->f)
	OVR(layers, "--layers"); OVR(hidden, "--hidden"); OVR(heads, "--heads"); OVR(ffn, "--ffn");
#undef OVR
	if (k < n) snprintf(buf + k, n - k, ")");
}

static void cfg_mismatch(const char *path, const bert_config *a, const bert_config *b)
{
#define CMP(f, name) if (a->f != b->f) die_file(path, "%s is %d in the checkpoint, %d in this run", name, (int)a->f, (int)b->f)
	CMP(vocab_size, "vocab_size"); CMP(hidden, "hidden_size"); CMP(layers, "num_hidden_layers");
	CMP(heads, "num_attention_heads"); CMP(ffn, "intermediate_size"); CMP(max_pos, "max_position_embeddings");
	CMP(pos, "the position encoding (--pos)"); CMP(ffn_kind, "the feed-forward (--ffn-act)");
	CMP(attn_nobias, "attention without biases"); CMP(ffn_nobias, "feed-forward without biases");
	CMP(norm, "layer_norm_placement (0 post, 1 pre)"); CMP(final_ln, "final_layer_norm");
#undef CMP
}

/* loads member k's checkpoint and checks it belongs to this run */
static void member_resume(member *k, const char *path, const tns_header *want, uint64_t vocab_hash)
{
	char err[512];
	bert_model cm;
	tns_header ch;
	adamw co = { 0 };
	int has_adam = 0;
	if (model_load(path, &cm, &ch, &co, &has_adam, err, sizeof err) != 0) die_file(path, "%s", err);
	if (!has_adam) die_file(path, "no AdamW moments: a model, not a checkpoint");
	cfg_mismatch(path, &cm.c, &k->m.c);
	if (vocab_header_hash(&ch) != vocab_hash)
		die_file(path, "the checkpoint was trained on another vocabulary than these windows");
	for (int i = 0; train_keys[i]; i++) {
		const char *a = tns_header_get(&ch, train_keys[i]), *b = tns_header_get(want, train_keys[i]);
		if (!a && !b) continue;   /* train_ranks: one process both times; the replace probs: 80/10/10 */
		if (!strcmp(train_keys[i], "train_ranks") && (!a || !b || strcmp(a, b)))
			die_file(path, "written by %s MPI ranks per member, resumed with %s: resume with the same mpirun -np",
			         a ? a : "1", b ? b : "1");
		if (!a || !b || strcmp(a, b) != 0)
			die_file(path, "%s is %s in the checkpoint, %s in this run", train_keys[i], a ? a : "missing", b ? b : "missing");
	}
	int r = ckpt_read_state(path, &k->st, err, sizeof err);
	if (r != 0) die_file(path, "%s", err);
	memcpy(k->m.params, cm.params, k->m.n * sizeof *cm.params);
	bert_params_changed(&k->m);
	memcpy(k->opt.m, co.m, k->m.n * sizeof *co.m);
	memcpy(k->opt.v, co.v, k->m.n * sizeof *co.v);
	k->opt.t = k->st.adam_t;
	adamw_free(&co);
	bert_free(&cm);
	tns_header_free(&ch);
}

/* ---- the run: options, then one function per phase ---------------------- */

/* everything a run holds between its phases */
typedef struct {
	opts o;
	cli_opts co;
	int argc;
	char **argv;
	int nranks;
	const char *in;               /* the windows */
	long *seedv;                  /* the members' seeds (this rank's group's) */
	int nmem, nmem_all;           /* members here, members in all */
	char seedstr[256];            /* --seeds as given, or --seed */
	const char *outpat;           /* -o, NULL for standard output */
	char *ckpat;                  /* the checkpoint name ({seed} in it), NULL for none */
	int want_ckpt;
	dist_group dg;
	data d;
	const tns_header *ih;         /* the windows' header */
	const tok_vocab *voc;         /* their vocabulary */
	bert_config cfg;
	evalset es;
	long steps, nominal, warm;    /* steps 0: a pipe's one pass (see plan_steps) */
	int B, T, accum, slices, mb;
	member *mem;
	long start;                   /* the step resumed at */
	bert_acts *a, *ea;
	int32_t *tok, *inp, *lab;     /* the batch, its masked input and labels */
	uint64_t chain, bh;           /* the data's hash chain, the batch's hash */
	long windows, step;
	cli_out logo, flogo;
	textlog lg, fl, slg, sfl;     /* the logs; one step's lines of each (tl_share) */
	char *flogpath;
	int tty;
	double t0, tlast, loss_avg, lr;
	long ntok;
} run;

/* under MPI, a rank other than 0 about to report an error first waits up to
 * 5 seconds for rank 0's word that it is failing too: an error every rank
 * meets (a bad option, a bad input file) is then reported once, by rank 0.
 * This rank then removes its files and waits, silent, for rank 0's
 * MPI_Abort to end it (the minute is only a backstop).  An error of this
 * rank alone is reported after the 5 seconds. */
static void rank_wait(void)
{
	if (!dist_root_failing(5.0)) return;
	util_cleanup();
	cli_signals_restore();
	sleep(60);
	_exit(EXIT_FAILURE);
}

/* the process: program name, MPI, what --version says */
static void init_process(run *r, int argc, char **argv)
{
	char where[32];
	static char vnote[192];       /* cli_version_note keeps the pointer */
	memset(r, 0, sizeof *r);
	par_blas_prefer_avx512(argv);
	cli_init(&r->co, argc, argv);
	r->nranks = dist_init(&argc, &argv);
	r->argc = argc, r->argv = argv;
	if (r->nranks > 1) {
		snprintf(where, sizeof where, "rank %d", dist_rank());
		cli_set_process(where, dist_rank() ? rank_wait : NULL, dist_abort);
	}
	if (dist_built()) snprintf(vnote, sizeof vnote, "MPI: %s (data parallel under mpirun or srun)", dist_library());
	else snprintf(vnote, sizeof vnote, "MPI: not built in (one process)");
	cli_version_note(vnote);
}

static const struct option longopts[] = {
	{ "arch", required_argument, 0, O_ARCH }, { "layers", required_argument, 0, O_LAYERS },
	{ "hidden", required_argument, 0, O_HIDDEN }, { "heads", required_argument, 0, O_HEADS },
	{ "ffn", required_argument, 0, O_FFN }, { "max-pos", required_argument, 0, O_MAXPOS },
	{ "dropout", required_argument, 0, O_DROPOUT }, { "seed", required_argument, 0, O_SEED },
	{ "steps", required_argument, 0, O_STEPS }, { "epochs", required_argument, 0, O_EPOCHS },
	{ "batch", required_argument, 0, 'b' }, { "lr", required_argument, 0, O_LR },
	{ "min-lr", required_argument, 0, O_MINLR }, { "warmup", required_argument, 0, O_WARMUP },
	{ "clip", required_argument, 0, O_CLIP }, { "weight-decay", required_argument, 0, O_WD },
	{ "mask-prob", required_argument, 0, O_MASKP }, { "mask-replace-prob", required_argument, 0, O_MASKREP },
	{ "random-replace-prob", required_argument, 0, O_RANDREP }, { "data-seed", required_argument, 0, O_DSEED },
	{ "shuffle-buffer", required_argument, 0, O_SHUF }, { "log", required_argument, 0, O_LOG },
	{ "seeds", required_argument, 0, O_SEEDS }, { "accum", required_argument, 0, O_ACCUM },
	{ "eval", required_argument, 0, O_EVAL }, { "eval-every", required_argument, 0, O_EVERY },
	{ "eval-seed", required_argument, 0, O_ESEED }, { "eval-mask-prob", required_argument, 0, O_EMASKP },
	{ "fisher-every", required_argument, 0, O_FEVERY }, { "fisher-log", required_argument, 0, O_FLOG },
	{ "fisher-estimator", required_argument, 0, O_FEST }, { "checkpoint", required_argument, 0, O_CKPT },
	{ "checkpoint-every", required_argument, 0, O_CKEVERY }, { "resume", required_argument, 0, O_RESUME },
	{ "precision", required_argument, 0, O_PREC }, { "pos", required_argument, 0, O_POS },
	{ "ffn-act", required_argument, 0, O_FFNACT }, { "no-bias", required_argument, 0, O_NOBIAS },
	{ "norm", required_argument, 0, O_NORM }, { "final-ln", no_argument, 0, O_FINALLN }, CLI_LONGOPTS
};

/* one option into o (c as getopt_long returns it) */
static void set_opt(opts *o, cli_opts *co, int c)
{
	switch (c) {
	case O_ARCH: o->arch = optarg; break;
	case O_LAYERS: o->layers = (int)cli_long("--layers", optarg, 1, 1024); break;
	case O_HIDDEN: o->hidden = (int)cli_long("--hidden", optarg, 1, 65536); break;
	case O_HEADS: o->heads = (int)cli_long("--heads", optarg, 1, 65536); break;
	case O_FFN: o->ffn = (int)cli_long("--ffn", optarg, 1, 1 << 20); break;
	case O_MAXPOS: o->max_pos = (int)cli_long("--max-pos", optarg, 1, 1 << 20); break;
	case O_DROPOUT: o->dropout = cli_double("--dropout", optarg, 0, 0.99); break;
	case O_SEED: o->seed = (uint64_t)cli_long("--seed", optarg, 0, LONG_MAX); break;
	case O_DSEED: o->data_seed = (uint64_t)cli_long("--data-seed", optarg, 0, LONG_MAX); break;
	case O_STEPS: o->steps = cli_long("--steps", optarg, 1, LONG_MAX); break;
	case O_EPOCHS: o->epochs = cli_long("--epochs", optarg, 1, 1000000); break;
	case 'b': o->batch = cli_long("-b", optarg, 1, 1 << 20); break;
	case O_LR: o->lr = cli_double("--lr", optarg, 0, 10); break;
	case O_MINLR: o->min_lr = cli_double("--min-lr", optarg, 0, 10); break;
	case O_WARMUP: o->warmup = cli_double("--warmup", optarg, 0, 1e12); break;
	case O_CLIP: o->clip = cli_double("--clip", optarg, 0, 1e12); break;
	case O_WD: o->wd = cli_double("--weight-decay", optarg, 0, 10); break;
	case O_MASKP: o->mlm.prob = cli_double("--mask-prob", optarg, 1e-6, 1); break;
	case O_MASKREP: o->mlm.mask = cli_double("--mask-replace-prob", optarg, 0, 1); break;
	case O_RANDREP: o->mlm.random = cli_double("--random-replace-prob", optarg, 0, 1); break;
	case O_SHUF: o->shuffle = cli_long("--shuffle-buffer", optarg, 1, 1L << 30); break;
	case O_LOG: o->log = optarg; break;
	case O_SEEDS: o->seeds = optarg; break;
	case O_ACCUM: o->accum = cli_long("--accum", optarg, 1, 1 << 20); break;
	case O_EVAL: o->eval = optarg; break;
	case O_EVERY: o->eval_every = cli_long("--eval-every", optarg, 1, LONG_MAX); break;
	case O_ESEED: o->eval_seed = (uint64_t)cli_long("--eval-seed", optarg, 0, LONG_MAX); break;
	case O_EMASKP: o->eval_q = cli_double("--eval-mask-prob", optarg, 1e-6, 1); break;
	case O_FEVERY: o->fisher_every = cli_long("--fisher-every", optarg, 1, LONG_MAX); break;
	case O_FLOG: o->flog = optarg; break;
	case O_FEST:
		if ((o->fest = fisher_estimator_parse(optarg)) < 0)
			die_usage("--fisher-estimator: window, batch or token, not '%s'", optarg);
		break;
	case O_CKPT: o->ckpt = optarg; break;
	case O_CKEVERY: o->ckpt_every = cli_long("--checkpoint-every", optarg, 1, LONG_MAX); break;
	case O_RESUME: o->resume = optarg; break;
	case O_PREC: o->bf16 = cli_precision(optarg); break;
	case O_POS:           /* the model file's names; offset positions come in by import only */
		o->pos = model_variant_value("position_encoding", optarg);
		if (o->pos < 0 || o->pos == BERT_POS_OFFSET)
			die_usage("--pos %s: not absolute, rotary, alibi or none", optarg);
		break;
	case O_FFNACT:
		if ((o->ffn_kind = model_variant_value("ffn_kind", optarg)) < 0)
			die_usage("--ffn-act %s: not gelu, geglu or swiglu", optarg);
		break;
	case O_NOBIAS:
		if (!strcmp(optarg, "attn") || !strcmp(optarg, "all")) o->attn_nobias = 1;
		if (!strcmp(optarg, "ffn") || !strcmp(optarg, "all")) o->ffn_nobias = 1;
		if (strcmp(optarg, "attn") && strcmp(optarg, "ffn") && strcmp(optarg, "all"))
			die_usage("--no-bias %s: not attn, ffn or all", optarg);
		break;
	case O_NORM:
		if ((o->norm = model_variant_value("layer_norm_placement", optarg)) < 0)
			die_usage("--norm: post or pre, not '%s'", optarg);
		break;
	case O_FINALLN: o->final_ln = 1; break;
	default: cli_common_opt(co, c, optarg, usage);
	}
}

static void parse_opts(run *r)
{
	opts *o = &r->o;
	*o = (opts){ .arch = "4M", .dropout = 0.1, .seed = 1, .data_seed = 42, .epochs = 0, .batch = 64,
	             .shuffle = 10000, .lr = 1e-4, .warmup = 0.1, .clip = 0.5, .mlm = MLM_RULE_BERT(0.15),
	             .accum = 1, .eval_seed = 1, .eval_q = 0.15, .fest = FISHER_WINDOW };
	int c, argc = r->argc;
	while ((c = getopt_long(argc, r->argv, CLI_SHORTOPTS "b:", longopts, NULL)) != -1) set_opt(o, &r->co, c);
	if (argc - optind > 1) die_usage("one input stream at most (got %d)", argc - optind);
	cli_need_input(argc - optind, usage);
	r->in = optind < argc ? r->argv[optind] : "-";
	if (o->min_lr > o->lr) die_usage("--min-lr %g is above --lr %g", o->min_lr, o->lr);
	if (o->mlm.mask + o->mlm.random > 1)
		die_usage("--mask-replace-prob %g and --random-replace-prob %g add up to more than 1", o->mlm.mask, o->mlm.random);
	if (o->accum > o->batch) die_usage("--accum %ld is more than the batch (-b %ld)", o->accum, o->batch);
	if (o->fisher_every && !o->eval) die_usage("--fisher-every measures on the eval set: give --eval FILE");
	/* GENA-LM refuses last_layer_norm without pre_layer_norm (its
	 * BertEncoder); a post-LN model ends in a LayerNorm already */
	if (o->final_ln && o->norm != BERT_NORM_PRE) die_usage("--final-ln goes with --norm pre");
}

/* the members, their output and checkpoint names, and under MPI which of
 * them this rank trains (members dealt out over the ranks, the same
 * number each) */
static void plan_members(run *r)
{
	const opts *o = &r->o;
	r->nmem = 1;
	if (o->seeds) r->nmem = cli_int_list("--seeds", o->seeds, &r->seedv);
	else r->seedv = xmalloc(sizeof *r->seedv), r->seedv[0] = (long)o->seed;
	if (r->nmem < 1 || r->nmem > 1000) die_usage("--seeds: 1 to 1000 members");
	snprintf(r->seedstr, sizeof r->seedstr, "%s", o->seeds ? o->seeds : "");
	if (!o->seeds) snprintf(r->seedstr, sizeof r->seedstr, "%" PRIu64, o->seed);
	r->outpat = r->co.output && strcmp(r->co.output, "-") ? r->co.output : NULL;
	if (r->nmem > 1 && (!r->outpat || !strstr(r->outpat, "{seed}")))
		die_usage("--seeds trains several models: -o needs {seed} in the name (e.g. -o 'm{seed}.tns')");
	/* the checkpoint is written every --checkpoint-every steps and at the
	 * end when asked for (a resumed run keeps its own up to date), and
	 * always when a signal interrupts training */
	r->want_ckpt = o->ckpt || o->ckpt_every || o->eval || o->resume;
	if (o->eval && !r->outpat) die_usage("--eval keeps the best model for the end: -o FILE is required");
	if (r->want_ckpt && !o->ckpt && !r->outpat) die_usage("checkpoints need a name: --checkpoint FILE");
	r->ckpat = o->ckpt ? xstrdup(o->ckpt) : NULL;
	if (!r->ckpat && r->outpat) { r->ckpat = xmalloc(strlen(r->outpat) + 8); sprintf(r->ckpat, "%s.ckpt", r->outpat); }
	for (const char *p, **pp = (const char *[]){ r->ckpat, o->resume, NULL }; (p = *pp); pp++)
		if (r->nmem > 1 && !strstr(p, "{seed}")) die_usage("--seeds: %s needs {seed} in the name", p);
	if (!r->outpat) cli_check_binary_out(&r->co);
	r->nmem_all = r->nmem;
	for (int i = 0; i < r->nmem; i++)
		for (int j = 0; j < i; j++)
			if (r->seedv[j] == r->seedv[i]) die_usage("--seeds: seed %ld twice", r->seedv[i]);
	if (r->nranks > 1 && !strcmp(r->in, "-"))
		die_usage("under MPI every rank reads the windows itself: give a file that every rank can read, not a pipe");
	if (r->nranks > 1 && r->nmem > 1 && r->nranks % r->nmem)
		die_usage("--seeds has %d members: under MPI the ranks (%d) must be a multiple of that, the same number for each member",
		          r->nmem, r->nranks);
	dist_split(&r->dg, r->nranks > 1 && r->nmem > 1 ? r->nmem : 1);
	if (r->dg.ngroups > 1) r->seedv[0] = r->seedv[r->dg.group], r->nmem = 1;
	if (dist_rank() != 0) cli_verbose = -1;   /* rank 0 speaks for all */
}

/* the model's configuration: --arch, the overrides, the vocabulary's */
static void model_config(run *r)
{
	const opts *o = &r->o;
	bert_config *cfg = &r->cfg;
	if (bert_config_named(cfg, o->arch, r->voc->n) != 0) die_usage("unknown --arch %s (4M, 20M or 90M)", o->arch);
	if (o->layers) cfg->layers = o->layers;
	if (o->hidden) cfg->hidden = o->hidden;
	if (o->heads) cfg->heads = o->heads;
	if (o->ffn) cfg->ffn = o->ffn;
	if (o->max_pos) cfg->max_pos = o->max_pos;
	cfg->pos = o->pos, cfg->ffn_kind = o->ffn_kind;
	cfg->attn_nobias = o->attn_nobias, cfg->ffn_nobias = o->ffn_nobias;
	cfg->norm = o->norm, cfg->final_ln = o->final_ln;
	cfg->pad_id = r->voc->id.pad;
	cfg->mask_id = r->voc->id.mask;
	if (r->voc->id.mask < 0 || vocab_ncontent(r->voc) < 1)
		die_file(r->d.path, "the vocabulary has no mask token or no content tokens: it cannot train a masked language model");
	cfg->hidden_drop = cfg->attn_drop = (float)o->dropout;
	const char *why = bert_config_check(cfg);
	if (why) die_usage("model configuration: %s", why);
}

/* the windows (and the eval set) opened, the first of them read, the model
 * configured and the steps planned */
static void open_data(run *r)
{
	opts *o = &r->o;
	data *d = &r->d;
	data_open(d, r->in, o->data_seed);
	r->ih = tns_reader_header(d->w.r);
	r->voc = &d->w.vocab;
	model_config(r);
	if (!d->in_memory && o->epochs > 1)
		die_usage("--epochs %ld needs a file: a pipe can be read only once (save the windows to a file, or use --steps)", o->epochs);
	if (o->eval) evalset_load(&r->es, o->eval, r->voc->hash, bert_max_tokens(&r->cfg), o->eval_seed, o->eval_q);
	data_start(d, o->shuffle);
	if ((d->in_memory && d->n == 0) || (!d->in_memory && d->fill == 0)) die_file(d->path, "no token windows in the input");
	if (d->T > bert_max_tokens(&r->cfg))
		die_file(d->path, "windows of %d tokens exceed the model's %d positions (--max-pos)", d->T, bert_max_tokens(&r->cfg));
	/* the steps; 0 for a pipe without --steps that is longer than the
	 * shuffle buffer: one pass over it, a length nobody knows in advance.
	 * The steps of one buffer-full then stand in for the total where a
	 * fraction of it is asked for (--warmup, --eval-every's default), and
	 * the learning rate stays at --lr after the warm-up (lr_at). */
	r->steps = o->steps ? o->steps
	         : d->in_memory ? (d->n * (o->epochs ? o->epochs : 1) + o->batch - 1) / o->batch
	         : d->eof ? (d->fill + o->batch - 1) / o->batch : 0;
	r->nominal = r->steps ? r->steps : (d->cap + o->batch - 1) / o->batch;
	r->warm = o->warmup < 1 ? (long)ceil(o->warmup * r->nominal) : (long)o->warmup;
	if (o->eval && !o->eval_every) o->eval_every = r->nominal / 10 > 0 ? r->nominal / 10 : 1;
	r->B = (int)o->batch, r->T = d->T, r->accum = (int)o->accum;
	r->slices = r->accum * r->dg.size, r->mb = (r->B + r->slices - 1) / r->slices;
	if (r->slices > r->B)
		die_usage("-b %d windows cannot be cut into %d micro-batches (--accum %d on each of %d ranks)",
		          r->B, r->slices, r->accum, r->dg.size);
}

/* each member's model (initialised from its seed), optimiser and state */
static void setup_members(run *r)
{
	const opts *o = &r->o;
	r->mem = xcalloc(r->nmem, sizeof *r->mem);
	for (int i = 0; i < r->nmem; i++) {
		member *k = &r->mem[i];
		k->seed = (uint64_t)r->seedv[i];
		k->voc = r->voc;
		k->out = expand(r->outpat, k->seed);
		k->ckpt = expand(r->ckpat, k->seed);
		check_folder(k->out);
		check_folder(k->ckpt);
		if (bert_init(&k->m, &r->cfg) != 0) die("cannot build the model");
		bert_set_threads(&k->m, r->co.threads);
		bert_set_precision(&k->m, o->bf16);
		bert_init_weights(&k->m, k->seed);
		bert_alloc_grads(&k->m);
		adamw_init(&k->opt, k->m.n);
		k->opt.weight_decay = (float)o->wd;
		k->opt.nthreads = r->co.threads;
		for (int p = 0; p < k->m.np; p++)
			if (k->m.p[p].ndim == 1) adamw_no_decay(&k->opt, k->m.p[p].off, k->m.p[p].n);
		ckpt_state_init(&k->st);
		if (o->eval) k->best = xmalloc(k->m.n * sizeof *k->best);
	}
}

/* --resume: every member from its checkpoint, all at one step */
static void resume(run *r)
{
	char err[512];
	const opts *o = &r->o;
	for (int i = 0; i < r->nmem; i++) {
		member *k = &r->mem[i];
		char *path = expand(o->resume, k->seed);
		tns_header want;
		member_header(&want, r->ih, k, o, r->argc, r->argv, 0);
		set_train_keys(&want, o, r->steps, r->warm, r->T, r->accum, r->dg.size, &r->es);
		member_resume(k, path, &want, r->voc->hash);
		tns_header_free(&want);
		if (k->best && k->st.best_step >= 0 && ckpt_read_best(path, &k->m, k->best, err, sizeof err) != 0)
			die_file(path, "%s", err);
		k->ckpt_written = k->ckpt && strcmp(k->ckpt, path) == 0;
		if (i && k->st.step != r->start)
			die_file(path, "at step %" PRId64 ", the other members' checkpoints at %ld", k->st.step, r->start);
		r->start = (long)k->st.step;
		free(path);
	}
	if (dist_max_int((int)r->start) != -dist_max_int(-(int)r->start))
		die("the members' checkpoints are at different steps (resume them from one run)");
}

/* the activations (shared by the members) and the batch buffers */
static void alloc_buffers(run *r)
{
	r->a = bert_acts_new(&r->mem[0].m, r->mb, r->T, 1);
	r->ea = r->o.eval ? bert_acts_new(&r->mem[0].m, r->mb, r->es.T, r->o.fisher_every ? 1 : 0) : NULL;
	r->tok = xmalloc((size_t)r->B * r->T * sizeof *r->tok), r->inp = xmalloc((size_t)r->B * r->T * sizeof *r->inp);
	r->lab = xmalloc((size_t)r->B * r->T * sizeof *r->lab);
}

/* the data of the steps already done, replayed: the order is a function
 * of the data seed and the windows, and the hash chain proves they match
 * the checkpoint's */
static void replay(run *r)
{
	for (r->step = 0; r->step < r->start; r->step++) {
		int nb = next_batch(&r->d, r->tok, r->B, &r->chain, &r->bh);
		if (nb == 0) break;
		r->windows += nb;
	}
	const ckpt_state *st = &r->mem[0].st;
	if (r->o.resume && (r->windows != st->windows || r->chain != st->data_hash))
		die_file(r->d.path, "these windows are not the data the checkpoint %s was trained on (%ld windows, hash %016" PRIx64 "; checkpoint %" PRId64 ", %016" PRIx64 ")",
		         r->o.resume, r->windows, r->chain, st->windows, st->data_hash);
}

/* the logs: opened now (a log that cannot be written fails before
 * training), begun with their headers or, resumed, with the checkpoint's
 * copy of what they held */
static void open_logs(run *r)
{
	const opts *o = &r->o;
	if (o->log) r->lg.fp = dist_rank() ? NULL : cli_out_open(&r->logo, o->log), r->lg.on = 1, r->lg.path = o->log;
	r->flogpath = o->flog ? xstrdup(o->flog) : NULL;
	if (o->fisher_every && !r->flogpath) {
		r->flogpath = xmalloc(strlen(r->outpat) + 16);
		sprintf(r->flogpath, "%s.fisher.tsv", r->outpat);
	}
	if (r->flogpath) r->fl.fp = dist_rank() ? NULL : cli_out_open(&r->flogo, r->flogpath), r->fl.on = 1, r->fl.path = r->flogpath;
	r->slg = (textlog){ .on = r->lg.on }, r->sfl = (textlog){ .on = r->fl.on };
	if (o->resume) {
		const ckpt_state *st = &r->mem[0].st;
		tl_printf(&r->lg, "%.*s", (int)st->loglen, st->log ? st->log : "");
		tl_printf(&r->fl, "%.*s", (int)st->floglen, st->flog ? st->flog : "");
		tl_printf(&r->lg, "# resumed from %s at step %ld\n", o->resume, r->start);
	} else {
		tl_header(&r->lg, r->argc, r->argv, r->seedstr, o->data_seed);
		tl_printf(&r->lg, "step\tlr\tloss\tgrad_norm\ttokens_per_s\teval_loss\teval_acc\tbatch_hash\tseed\n");
		if (o->fisher_every) {
			tl_header(&r->fl, r->argc, r->argv, r->seedstr, o->data_seed);
			tl_printf(&r->fl, "step\tgroup\tfisher\tshare\tn_tokens\testimator\tn_windows\tn_params\tseed\n");
		}
	}
	tl_flush(&r->lg);
	tl_flush(&r->fl);
}

/* what is about to be trained, on standard error */
static void announce(const run *r)
{
	if (cli_verbose >= 0) {
		char name[160], what[160];
		const bert_config *cfg = &r->cfg;
		arch_name(name, sizeof name, &r->o, cfg, r->voc->n);
		if (r->steps) snprintf(what, sizeof what, "%ld step%s", r->steps, r->steps == 1 ? "" : "s");
		else snprintf(what, sizeof what, "one pass over the pipe (%ld warm-up steps, then lr %g)", r->warm, r->o.lr);
		info("%s: %d layers, hidden %d, %d heads, ffn %d, vocab %d, %zu parameters (%.2f M); %s of %d windows of %d tokens%s%s",
		     name, cfg->layers, cfg->hidden, cfg->heads, cfg->ffn, cfg->vocab_size, r->mem[0].m.n, r->mem[0].m.n / 1e6,
		     what, r->B, r->T, r->nmem_all > 1 ? "; members " : "", r->nmem_all > 1 ? r->seedstr : "");
		if (r->nranks > 1)
			info("MPI: %d ranks, %d per member; each batch in %d micro-batches of up to %d windows, --accum %d on each rank",
			     r->nranks, r->dg.size, r->slices, r->mb, r->accum);
	}
	if (r->o.resume && cli_verbose >= 0) info("resuming at step %ld from %s", r->start, r->o.resume);
}

/* what a checkpoint written now holds besides the members */
static train_ctx ctx_now(const run *r, long windows, uint64_t chain)
{
	return (train_ctx){ r->ih, &r->o, r->argc, r->argv, r->steps, r->warm, r->T, r->accum, r->dg.size,
	                    &r->es, &r->lg, &r->fl, windows, chain };
}

/* member k's Fisher lines of step (one line per group) into sfl */
static void fisher_lines(run *r, member *k, long step)
{
	fisher_acc f;
	fisher_group *g;
	fisher_init(&f, &k->m, (fisher_estimator)r->o.fest);
	fisher_eval(&f, k, r->ea, r->mb, &r->es, &r->dg, step);
	int ng = fisher_groups(&f, &k->m, FISHER_BY_GROUP, &g);
	double tot = 0;
	for (int j = 0; j < ng; j++) tot += g[j].fisher;
	for (int j = 0; j < ng && r->dg.rank == 0; j++)
		tl_printf(&r->sfl, "%ld\t%s\t%.9g\t%.9g\t%ld\t%s\t%ld\t%zu\t%" PRIu64 "\n", step, g[j].name,
		          g[j].fisher, tot > 0 ? g[j].fisher / tot : 0.0, f.ntokens,
		          fisher_estimator_name(f.est), f.nwindows, g[j].nparams, k->seed);
	free(g);
	fisher_free(&f);
}

/* after step: each member's evaluation (keeping the best), Fisher and log
 * line; then the logs joined over the ranks and flushed */
static void step_reports(run *r, long step, int do_eval, int do_fisher, double tps)
{
	for (int i = 0; i < r->nmem; i++) {
		member *k = &r->mem[i];
		double el = 0, eacc = 0;
		if (do_eval) {
			evaluate(&k->m, r->ea, r->mb, &r->es, &el, &eacc, &r->dg);
			ckpt_state_add_eval(&k->st, step + 1, el, eacc);
			if (el < k->st.best_loss) {
				k->st.best_loss = el, k->st.best_step = step + 1;
				memcpy(k->best, k->m.params, k->m.n * sizeof *k->best);
			}
		}
		if (do_fisher) fisher_lines(r, k, step + 1);
		if (r->dg.rank != 0)
			;
		else if (do_eval)
			tl_printf(&r->slg, "%ld\t%.6g\t%.6f\t%.6f\t%.1f\t%.6f\t%.6f\t%016" PRIx64 "\t%" PRIu64 "\n",
			          step + 1, r->lr, k->loss, k->norm, tps, el, eacc, r->bh, k->seed);
		else
			tl_printf(&r->slg, "%ld\t%.6g\t%.6f\t%.6f\t%.1f\tNA\tNA\t%016" PRIx64 "\t%" PRIu64 "\n",
			          step + 1, r->lr, k->loss, k->norm, tps, r->bh, k->seed);
	}
	tl_share(&r->fl, &r->sfl);   /* the Fisher lines before the step's, as before */
	tl_share(&r->lg, &r->slg);
	/* a full disk under a log shows now, not after the last step */
	tl_flush(&r->lg);
	tl_flush(&r->fl);
}

/* one step of training and what follows it (reports, checkpoint,
 * progress, a signal); returns 0, 1 if the input ended before the step,
 * 2 if the step was the last */
static int train_one(run *r)
{
	const opts *o = &r->o;
	long step = r->step;
	uint64_t chain0 = r->chain;
	int nb = next_batch(&r->d, r->tok, r->B, &r->chain, &r->bh);
	if (r->d.broken) {
		train_ctx cx = ctx_now(r, r->windows, chain0);
		interrupted(r->mem, r->nmem, r->ckpat, 1, r->dg.rank == 0, step, &cx);
	}
	if (nb == 0) return 1;
	r->windows += nb;
	for (int i = 0; i < r->nmem; i++)
		train_step(&r->mem[i], r->a, r->tok, nb, r->T, r->mb, step, o, r->steps, r->warm, r->inp, r->lab, &r->lr, &r->dg);
	r->ntok += (long)nb * r->T * r->nmem;
	/* a pipe tells its end one window ahead: its last step is known */
	int ended = !r->d.in_memory && r->d.fill == 0, last = step + 1 == r->steps || ended;
	int do_eval = o->eval && ((step + 1) % o->eval_every == 0 || last);
	int do_fisher = o->fisher_every && ((step + 1) % o->fisher_every == 0);
	double now = cli_now(), tps = r->ntok / (now - r->t0 + 1e-9);
	step_reports(r, step, do_eval, do_fisher, tps);
	train_ctx cx = ctx_now(r, r->windows, r->chain);
	int saved = r->want_ckpt && ((o->ckpt_every && (step + 1) % o->ckpt_every == 0) || last);
	if (saved) {
		for (int i = 0; i < r->nmem && r->dg.rank == 0; i++) write_checkpoint(&r->mem[i], &cx, step + 1);
		interrupt_note(r->mem, r->nmem, r->ckpat, step + 1, r->dg.rank == 0);
	}
	r->loss_avg = step == r->start ? r->mem[0].loss : 0.95 * r->loss_avg + 0.05 * r->mem[0].loss;
	if ((r->tty && (now - r->tlast > 0.5 || last)) || (cli_verbose > 0 && ((step + 1) % 10 == 0 || last))) {
		progress(r->tty, step + 1, r->steps, r->windows, r->loss_avg, tps,
		         r->steps ? (r->steps - step - 1) * (now - r->t0) / (step + 1 - r->start) : 0, last);
		r->tlast = now;
	}
	/* every rank stops at the same step, whichever got the signal */
	if (dist_max_int(cli_interrupted())) interrupted(r->mem, r->nmem, r->ckpat, !saved && r->dg.rank == 0, r->dg.rank == 0, step + 1, &cx);
	return last ? 2 : 0;
}

/* the steps from r->start on; r->step is then the steps done */
static void train_loop(run *r)
{
	r->tty = isatty(STDERR_FILENO) && cli_verbose >= 0;
	r->t0 = cli_now(), r->tlast = r->t0;
	/* from here a signal waits for the end of the step under way, which is
	 * then saved in the checkpoint (see interrupted()); a second one stops
	 * at once, leaving the last checkpoint */
	if (r->mem[0].ckpt_written) interrupt_note(r->mem, r->nmem, r->ckpat, r->start, r->dg.rank == 0);
	cli_signal_defer(1);
	for (r->step = r->start; !r->steps || r->step < r->steps; r->step++) {
		int rc = train_one(r);
		if (rc == 1) break;                      /* the input ended before this step */
		if (rc == 2) { r->step++; break; }       /* this step was the last */
	}
	if (r->steps && r->step < r->steps)
		warn("%s: the input ended after %ld of %ld steps; stopping there", r->d.path, r->step, r->steps);
}

/* Training is over: a signal now ends the program at once, keeping the
 * models already written and the final checkpoint.  The outputs, all or
 * none: the logs are complete on disk (flushed) before the models are
 * renamed into place, and an error in any of them removes the others
 * (cli.h). */
static void save(run *r)
{
	cli_signal_defer(0);
	if (r->mem[0].ckpt_written && r->dg.rank == 0)
		cli_signal_note(r->nmem == 1 ? "the checkpoint %s at the last step (add --resume %s to the same command to write the model)"
		                             : "the checkpoints %s at the last step (add --resume '%s' to the same command to write the models)",
		                r->nmem == 1 ? r->mem[0].ckpt : r->ckpat, r->nmem == 1 ? r->mem[0].ckpt : r->ckpat);
	else
		cli_signal_note("%s", "");
	for (int i = 0; i < r->nmem && r->dg.rank == 0; i++) {
		member *k = &r->mem[i];
		tns_header h;
		member km = *k;                 /* with --eval: the parameters of the best eval loss */
		int best = k->best && k->st.best_step >= 0;
		if (best) km.m.params = k->best;
		member_header(&h, r->ih, &km, &r->o, r->argc, r->argv, best ? k->st.best_step : r->step);
		if (best) {
			tns_header_set(&h, "eval_loss", "%.9g", k->st.best_loss);
			for (int j = 0; j < k->st.neval; j++)
				if (k->st.eval_step[j] == k->st.best_step) tns_header_set(&h, "eval_acc", "%.9g", k->st.eval_acc[j]);
		}
		write_model(&r->co, k->out, &h, &km.m);
		tns_header_free(&h);
	}
	if (r->lg.fp) cli_out_close(&r->logo);
	if (r->fl.fp) cli_out_close(&r->flogo);
}

/* the closing messages */
static void report(const run *r)
{
	long step = r->step, start = r->start;
	if (cli_verbose >= 0 && !r->tty && cli_verbose == 0 && step > start)
		info("%ld steps, final loss %.4f (smoothed), %.0f tokens/s", step, r->loss_avg, r->ntok / (cli_now() - r->t0));
	if (cli_verbose >= 0 && r->nranks > 1 && step > start)
		info("MPI: %.2f MB sent per step by rank 0 (the sums of gradients, eval and Fisher)", dist_bytes_sent() / 1e6 / (step - start));
	if (cli_verbose >= 0 && r->o.eval)
		for (int i = 0; i < r->nmem; i++)
			info("%s: best eval loss %.4f at step %" PRId64, r->mem[i].out, r->mem[i].st.best_loss, r->mem[i].st.best_step);
}

static void run_free(run *r)
{
	free(r->lg.s); free(r->fl.s); free(r->slg.s); free(r->sfl.s); free(r->flogpath); free(r->ckpat); free(r->seedv);
	free(r->tok); free(r->inp); free(r->lab);
	bert_acts_free(r->a);
	if (r->ea) bert_acts_free(r->ea);
	for (int i = 0; i < r->nmem; i++) {
		adamw_free(&r->mem[i].opt);
		bert_free(&r->mem[i].m);
		ckpt_state_free(&r->mem[i].st);
		free(r->mem[i].out); free(r->mem[i].ckpt); free(r->mem[i].best);
	}
	free(r->mem);
	evalset_free(&r->es);
	data_close(&r->d);
	dist_group_free(&r->dg);
}

int main(int argc, char **argv)
{
	static run r;     /* large; one per process */
	init_process(&r, argc, argv);
	parse_opts(&r);
	plan_members(&r);
	open_data(&r);
	setup_members(&r);
	if (r.o.resume) resume(&r);
	alloc_buffers(&r);
	replay(&r);
	open_logs(&r);
	announce(&r);
	train_loop(&r);
	save(&r);
	report(&r);
	run_free(&r);
	dist_finalize();
	return 0;
}
