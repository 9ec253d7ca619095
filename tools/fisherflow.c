/* fisherflow -- where does a model keep its Fisher information?  The
 * empirical Fisher diagonal of each model (or each checkpoint of a run, in
 * order: the flow) on masked token windows, summed per parameter group. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "model/bert.h"
#include "base/cli.h"
#include "model/evalmask.h"
#include "model/fisher.h"
#include "base/par.h"
#include "base/progress.h"
#include "model/winread.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: fisherflow [options] MODEL.tns... [-i WINDOWS.tns]\n"
"       seqtok --split eval x.fa | fisherflow m*.tns\n"
"For each model (or each checkpoint of one run, in the order given: the\n"
"Fisher flow), the empirical Fisher information diagonal on token windows\n"
"(true labels, masked positions), summed over parameter groups, as TSV:\n"
"  model group fisher share n_tokens estimator n_windows n_params\n"
"model is the model file as given; share is the group's part of the\n"
"model's total.  Nothing is written unless every model and window checks.\n"
"\n"
"Input:\n"
"  -i, --input FILE      token windows (seqtok output; default stdin)\n"
"  -m, --model FILE      a model; may repeat; models may also be positional\n"
"  -n, --max-windows N   use the first N windows only\n"
"Masking (the same for every model; as lmprobe):\n"
"      --mask-prob X     probability a position is masked (default 0.15)\n"
"      --mask-seed N     mask seed (default 1)\n"
"Estimate:\n"
"      --estimator E     window (default): each window one example, the\n"
"                        textbook empirical Fisher; batch: the paper's, the\n"
"                        squared gradient of each batch's mean loss, summed,\n"
"                        over the masked tokens; token: each masked token one\n"
"                        example (one backward pass per masked token)\n"
"  -b, --batch N         windows per batch (default 64); the batch estimator's\n"
"                        batch size, otherwise only a matter of speed\n"
"      --by G            group (default: embeddings, encoder.0.., head),\n"
"                        layer-part (attention / ffn / layernorm per layer),\n"
"                        param (every parameter tensor)\n"
"      --normalize W     none (default) or params: divide each group's Fisher\n"
"                        by its number of parameters\n"
"Output:\n"
"  -o, --output FILE     the TSV (default stdout)\n"
"      --precision P     fp32 (default) or bf16: matrix products with bfloat16\n"
"                        inputs and fp32 sums (oneDNN; AVX512-BF16 or AMX)\n"
"  -t, --threads N       threads (default 1); results identical for any N\n"
"  -q, --quiet           no messages (and no progress line on a terminal)\n"
"  -v, --verbose         more messages\n"
"      --help            this help\n"
"      --version         version, with htslib and OpenBLAS versions\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage.  See fisherflow(1).\n");
}

enum { O_SEED = 0x2000, O_PROB, O_EST, O_BY, O_NORM, O_PREC };

/* the windows a run will use, for the progress line's ETA: counted in the
 * file (or the spooled pipe) up to -n; -1 for a pipe read once */
static long count_windows(const char *input, int spool, long maxwin)
{
	char err[512];
	if (spool < 0 && strcmp(input, "-") == 0) return maxwin;
	if (spool >= 0 && lseek(spool, 0, SEEK_SET) != 0) return -1;
	tns_reader *r = spool >= 0 ? tns_open_fd(dup(spool), input, err, sizeof err) : tns_open(input, err, sizeof err);
	if (!r) return -1;
	tns_record rec;
	long n = 0;
	while ((maxwin < 0 || n < maxwin) && tns_read(r, &rec) > 0) n++;
	tns_close_reader(r);
	return n;
}

/* the command line */
typedef struct {
	cli_opts co;
	const char *input;
	char **models;
	int nmodels, B, by, norm, est, bf16;
	long maxwin;
	double q;
	uint64_t mask_seed;
} ff_opts;

static void parse_opts(ff_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"input", required_argument, 0, 'i'}, {"model", required_argument, 0, 'm'},
		{"max-windows", required_argument, 0, 'n'}, {"mask-prob", required_argument, 0, O_PROB},
		{"mask-seed", required_argument, 0, O_SEED}, {"estimator", required_argument, 0, O_EST},
		{"batch", required_argument, 0, 'b'}, {"by", required_argument, 0, O_BY},
		{"normalize", required_argument, 0, O_NORM}, {"precision", required_argument, 0, O_PREC},
		CLI_LONGOPTS
	};
	int c;
	*o = (ff_opts){.input = "-", .B = 64, .by = FISHER_BY_GROUP, .est = FISHER_WINDOW, .maxwin = -1, .q = 0.15,
	               .mask_seed = 1};
	cli_init(&o->co, argc, argv);
	o->models = xmalloc((argc + 1) * sizeof *o->models);
	while ((c = getopt_long(argc, argv, "-" CLI_SHORTOPTS "i:m:n:b:", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o->input = optarg; break;
		case 1: case 'm': o->models[o->nmodels++] = optarg; break;
		case 'n': o->maxwin = cli_long("-n", optarg, 1, 1L << 50); break;
		case O_PROB: o->q = cli_double("--mask-prob", optarg, 0, 1); break;
		case O_SEED: o->mask_seed = (uint64_t)cli_long("--mask-seed", optarg, 0, 1L << 62); break;
		case O_EST:
			if ((o->est = fisher_estimator_parse(optarg)) < 0) die_usage("--estimator: batch, window or token, not '%s'", optarg);
			break;
		case 'b': o->B = (int)cli_long("-b", optarg, 1, 1 << 16); break;
		case O_BY:
			if (!strcmp(optarg, "group")) o->by = FISHER_BY_GROUP;
			else if (!strcmp(optarg, "layer-part")) o->by = FISHER_BY_LAYER_PART;
			else if (!strcmp(optarg, "param")) o->by = FISHER_BY_PARAM;
			else die_usage("--by: group, layer-part or param, not '%s'", optarg);
			break;
		case O_NORM:
			if (!strcmp(optarg, "params")) o->norm = 1;
			else if (!strcmp(optarg, "none")) o->norm = 0;
			else die_usage("--normalize: none or params, not '%s'", optarg);
			break;
		case O_PREC: o->bf16 = cli_precision(optarg); break;
		default: cli_common_opt(&o->co, c, optarg, usage);
		}
	}
	for (int i = optind; i < argc; i++) o->models[o->nmodels++] = argv[i];
	if (o->nmodels == 0) { usage(stderr); exit(EXIT_USAGE); }
	if (strcmp(o->input, "-") == 0) cli_need_input(0, usage);
}

/* every model against the windows before the work (one model is checked
 * when it is loaded); several models read the windows several times: a
 * pipe is spooled (the fd, or -1) */
static int check_inputs(const ff_opts *o)
{
	winread_model *mi = xmalloc(o->nmodels * sizeof *mi);
	winread_err we;
	if (winread_check_model_files(o->models, o->nmodels, mi, &we) < 0) winread_die(&we);
	int spool = o->nmodels > 1 && strcmp(o->input, "-") == 0 ? winread_spool_stdin(&we) : -1;
	if (o->nmodels > 1 && strcmp(o->input, "-") == 0 && spool < 0) winread_die(&we);
	if (o->nmodels > 1) {
		winread w;
		if (spool >= 0 && lseek(spool, 0, SEEK_SET) != 0) die("cannot rewind the spooled input");
		if (winread_open(&w, o->input, spool >= 0 ? dup(spool) : -1, 1, &we) < 0) winread_die(&we);
		for (int k = 0; k < o->nmodels; k++)
			if (winread_check_model(&w, &mi[k], &we) < 0) winread_die(&we);
		winread_close(&w);
	}
	free(mi);
	return spool;
}

/* the progress line on a terminal */
typedef struct {
	int tty;
	long total, done;             /* windows of all models (total -1: unknown) */
	double tstart, tlast;
} ff_progress;

static void progress_step(ff_progress *pg, long nb, int k, int nmodels)
{
	pg->done += nb;
	double now = cli_now();
	if (!pg->tty || now - pg->tlast <= 0.5) return;
	char x[64];
	snprintf(x, sizeof x, "model %d/%d  %.1f windows/s", k + 1, nmodels, pg->done / (now - pg->tstart + 1e-9));
	progress_print(pg->tty, "windows", pg->done, pg->total, x,
	               pg->done ? (pg->total - pg->done) * (now - pg->tstart) / pg->done : 0, 0);
	pg->tlast = now;
}

static void progress_end(const ff_progress *pg, int nmodels)
{
	if (!pg->tty || pg->tlast <= 0) return;
	double now = cli_now();
	char x[64];
	snprintf(x, sizeof x, "%d models  %.1f windows/s", nmodels, pg->done / (now - pg->tstart + 1e-9));
	progress_print(pg->tty, "windows", pg->done, pg->total > 0 ? pg->done : -1, x, 0, 1);
}

/* the masked inputs and labels (-1: not masked) of the batch's nb windows */
typedef struct {
	int32_t *pos, *in, *lab;      /* T; B x T; B x T */
} ff_batch;

static void mask_batch(const ff_opts *o, const winread *w, int nb, ff_batch *b)
{
	int T = w->T;
	for (int i = 0; i < nb; i++) {
		const int32_t *tok = w->tok + (size_t)i * T;
		int P = evalmask_select(&w->vocab, o->mask_seed, w->name[i], tok, T, o->q, b->pos);
		evalmask_apply(&w->vocab, tok, T, b->pos, P, b->in + (size_t)i * T);
		int32_t *l = b->lab + (size_t)i * T;
		for (int t = 0; t < T; t++) l[t] = -1;
		for (int p = 0; p < P; p++) l[b->pos[p]] = tok[b->pos[p]];
	}
}

/* the model's groups as TSV rows */
static void print_groups(FILE *fp, const ff_opts *o, const char *model, const fisher_acc *f, bert_model *m)
{
	fisher_group *g;
	int ng = fisher_groups(f, m, o->by, &g);
	double tot = 0;
	for (int i = 0; i < ng; i++) {
		if (o->norm) g[i].fisher /= (double)g[i].nparams;
		tot += g[i].fisher;
	}
	for (int i = 0; i < ng; i++)
		fprintf(fp, "%s\t%s\t%.9g\t%.9g\t%ld\t%s\t%ld\t%zu\n", model, g[i].name, g[i].fisher,
		        tot > 0 ? g[i].fisher / tot : 0.0, f->ntokens, fisher_estimator_name(o->est), f->nwindows, g[i].nparams);
	free(g);
}

/* model k's Fisher over the windows, as rows of fp */
static void run_model(const ff_opts *o, int k, int spool, FILE *fp, ff_batch *b, ff_progress *pg)
{
	winread w;
	if (spool >= 0 && lseek(spool, 0, SEEK_SET) != 0) die("cannot rewind the spooled input");
	winread_err we;
	if (winread_open(&w, o->input, spool >= 0 ? dup(spool) : -1, o->B, &we) < 0) winread_die(&we);
	bert_model m;
	if (winread_load_model(&w, o->models[k], &m, NULL, &we) < 0) winread_die(&we);
	bert_set_threads(&m, o->co.threads);
	bert_set_precision(&m, o->bf16);
	bert_alloc_grads(&m);
	int T = w.T;
	bert_acts *a = bert_acts_new(&m, o->B, T, 1);
	b->pos = xrealloc(b->pos, (size_t)T * sizeof *b->pos);
	b->in = xrealloc(b->in, (size_t)o->B * T * sizeof *b->in);
	b->lab = xrealloc(b->lab, (size_t)o->B * T * sizeof *b->lab);
	fisher_acc f;
	fisher_init(&f, &m, o->est);
	long seen = 0;
	double t0 = cli_now();
	int nb;
	while ((nb = winread_next(&w, &we)) > 0) {
		if (o->maxwin >= 0 && seen + nb > o->maxwin) nb = (int)(o->maxwin - seen);
		mask_batch(o, &w, nb, b);
		if (nb > 0 && fisher_add_batch(&f, &m, a, b->in, b->lab, nb, T) < 0)
			die_file(o->models[k], "non-finite loss (a corrupt or diverged model)");
		seen += nb;
		progress_step(pg, nb, k, o->nmodels);
		if (o->maxwin >= 0 && seen >= o->maxwin) break;
	}
	if (nb < 0) winread_die(&we);
	if (f.ntokens == 0) die_file(o->input, "no masked positions in %ld windows (raise --mask-prob or give more windows)", seen);
	if (cli_verbose > 0)
		info("%s: %s Fisher on %ld windows, %ld masked tokens, %.1f s", o->models[k], fisher_estimator_name(o->est), seen,
		     f.ntokens, cli_now() - t0);
	print_groups(fp, o, o->models[k], &f, &m);
	fisher_free(&f);
	bert_acts_free(a);
	bert_free(&m);
	winread_close(&w);
}

int main(int argc, char **argv)
{
	ff_opts o;
	par_blas_prefer_avx512(argv);     /* may re-exec with OpenBLAS's AVX-512 kernels */
	parse_opts(&o, argc, argv);
	/* every input is checked before the work, and the TSV is kept in memory
	 * until the last model is done (a few lines per model), so a failure
	 * leaves no output at all, not even a header */
	int spool = check_inputs(&o);
	ff_progress pg = {.tty = progress_tty(), .total = -1};
	if (pg.tty) pg.total = count_windows(o.input, spool, o.maxwin);
	if (pg.total > 0) pg.total *= o.nmodels;
	pg.tstart = cli_now();
	cli_out out;              /* opened now: an unwritable -o fails at once */
	FILE *dest = cli_out_open(&out, o.co.output);
	char *tsv = NULL;
	size_t tsvlen = 0;
	FILE *fp = open_memstream(&tsv, &tsvlen);
	if (!fp) die("out of memory");
	fprintf(fp, "model\tgroup\tfisher\tshare\tn_tokens\testimator\tn_windows\tn_params\n");
	ff_batch b = {0};
	for (int k = 0; k < o.nmodels; k++) run_model(&o, k, spool, fp, &b, &pg);
	progress_end(&pg, o.nmodels);
	if (fclose(fp) != 0) die("out of memory");
	fwrite(tsv, 1, tsvlen, dest);
	free(tsv);
	if (spool >= 0) close(spool);
	free(b.pos); free(b.in); free(b.lab);
	free(o.models);
	cli_out_close(&out);
	return 0;
}
