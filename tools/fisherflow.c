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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"input", required_argument, 0, 'i'}, {"model", required_argument, 0, 'm'},
		{"max-windows", required_argument, 0, 'n'}, {"mask-prob", required_argument, 0, O_PROB},
		{"mask-seed", required_argument, 0, O_SEED}, {"estimator", required_argument, 0, O_EST},
		{"batch", required_argument, 0, 'b'}, {"by", required_argument, 0, O_BY},
		{"normalize", required_argument, 0, O_NORM}, {"precision", required_argument, 0, O_PREC},
		CLI_LONGOPTS
	};
	cli_opts co;
	const char *input = "-";
	char **models = NULL;
	int nmodels = 0, c, B = 64, by = FISHER_BY_GROUP, norm = 0;
	int est = FISHER_WINDOW, bf16 = 0;
	long maxwin = -1;
	double q = 0.15;
	uint64_t mask_seed = 1;

	par_blas_prefer_avx512(argv);     /* may re-exec with OpenBLAS's AVX-512 kernels */
	cli_init(&co, argc, argv);
	models = xmalloc((argc + 1) * sizeof *models);
	while ((c = getopt_long(argc, argv, "-" CLI_SHORTOPTS "i:m:n:b:", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': input = optarg; break;
		case 1: case 'm': models[nmodels++] = optarg; break;
		case 'n': maxwin = cli_long("-n", optarg, 1, 1L << 50); break;
		case O_PROB: q = cli_double("--mask-prob", optarg, 0, 1); break;
		case O_SEED: mask_seed = (uint64_t)cli_long("--mask-seed", optarg, 0, 1L << 62); break;
		case O_EST:
			if ((est = fisher_estimator_parse(optarg)) < 0) die_usage("--estimator: batch, window or token, not '%s'", optarg);
			break;
		case 'b': B = (int)cli_long("-b", optarg, 1, 1 << 16); break;
		case O_BY:
			if (!strcmp(optarg, "group")) by = FISHER_BY_GROUP;
			else if (!strcmp(optarg, "layer-part")) by = FISHER_BY_LAYER_PART;
			else if (!strcmp(optarg, "param")) by = FISHER_BY_PARAM;
			else die_usage("--by: group, layer-part or param, not '%s'", optarg);
			break;
		case O_NORM:
			if (!strcmp(optarg, "params")) norm = 1;
			else if (!strcmp(optarg, "none")) norm = 0;
			else die_usage("--normalize: none or params, not '%s'", optarg);
			break;
		case O_PREC: bf16 = cli_precision(optarg); break;
		default: cli_common_opt(&co, c, optarg, usage);
		}
	}
	for (int i = optind; i < argc; i++) models[nmodels++] = argv[i];
	if (nmodels == 0) { usage(stderr); exit(EXIT_USAGE); }
	if (strcmp(input, "-") == 0) cli_need_input(0, usage);

	/* every input is checked before the work, and the TSV is kept in memory
	 * until the last model is done (a few lines per model), so a failure
	 * leaves no output at all, not even a header */
	winread_model *mi = xmalloc(nmodels * sizeof *mi);
	winread_err we;
	if (winread_check_model_files(models, nmodels, mi, &we) < 0) winread_die(&we);
	/* several models read the windows several times: a pipe is spooled */
	int spool = nmodels > 1 && strcmp(input, "-") == 0 ? winread_spool_stdin(&we) : -1;
	if (nmodels > 1 && strcmp(input, "-") == 0 && spool < 0) winread_die(&we);
	if (nmodels > 1) {      /* (one model is checked at once below) */
		winread w;
		if (spool >= 0 && lseek(spool, 0, SEEK_SET) != 0) die("cannot rewind the spooled input");
		if (winread_open(&w, input, spool >= 0 ? dup(spool) : -1, 1, &we) < 0) winread_die(&we);
		for (int k = 0; k < nmodels; k++)
			if (winread_check_model(&w, &mi[k], &we) < 0) winread_die(&we);
		winread_close(&w);
	}
	free(mi);
	int tty = progress_tty();
	long total = tty ? count_windows(input, spool, maxwin) : -1, done = 0;
	if (total > 0) total *= nmodels;
	double tstart = cli_now(), tlast = 0;
	cli_out out;              /* opened now: an unwritable -o fails at once */
	FILE *dest = cli_out_open(&out, co.output);
	char *tsv = NULL;
	size_t tsvlen = 0;
	FILE *fp = open_memstream(&tsv, &tsvlen);
	if (!fp) die("out of memory");
	fprintf(fp, "model\tgroup\tfisher\tshare\tn_tokens\testimator\tn_windows\tn_params\n");
	int32_t *pos = NULL, *in = NULL, *lab = NULL;
	for (int k = 0; k < nmodels; k++) {
		winread w;
		if (spool >= 0 && lseek(spool, 0, SEEK_SET) != 0) die("cannot rewind the spooled input");
		if (winread_open(&w, input, spool >= 0 ? dup(spool) : -1, B, &we) < 0) winread_die(&we);
		bert_model m;
		if (winread_load_model(&w, models[k], &m, NULL, &we) < 0) winread_die(&we);
		bert_set_threads(&m, co.threads);
		bert_set_precision(&m, bf16);
		bert_alloc_grads(&m);
		int T = w.T;
		bert_acts *a = bert_acts_new(&m, B, T, 1);
		pos = xrealloc(pos, (size_t)T * sizeof *pos);
		in = xrealloc(in, (size_t)B * T * sizeof *in);
		lab = xrealloc(lab, (size_t)B * T * sizeof *lab);
		fisher_acc f;
		fisher_init(&f, &m, est);
		long seen = 0;
		double t0 = cli_now();
		int nb;
		while ((nb = winread_next(&w, &we)) > 0) {
			if (maxwin >= 0 && seen + nb > maxwin) nb = (int)(maxwin - seen);
			for (int b = 0; b < nb; b++) {
				const int32_t *tok = w.tok + (size_t)b * T;
				int P = evalmask_select(&w.vocab, mask_seed, w.name[b], tok, T, q, pos);
				evalmask_apply(&w.vocab, tok, T, pos, P, in + (size_t)b * T);
				int32_t *l = lab + (size_t)b * T;
				for (int t = 0; t < T; t++) l[t] = -1;
				for (int i = 0; i < P; i++) l[pos[i]] = tok[pos[i]];
			}
			if (nb > 0 && fisher_add_batch(&f, &m, a, in, lab, nb, T) < 0)
				die_file(models[k], "non-finite loss (a corrupt or diverged model)");
			seen += nb;
			done += nb;
			double now = cli_now();
			if (tty && now - tlast > 0.5) {
				char x[64];
				snprintf(x, sizeof x, "model %d/%d  %.1f windows/s", k + 1, nmodels, done / (now - tstart + 1e-9));
				progress_print(tty, "windows", done, total, x, done ? (total - done) * (now - tstart) / done : 0, 0);
				tlast = now;
			}
			if (maxwin >= 0 && seen >= maxwin) break;
		}
		if (nb < 0) winread_die(&we);
		if (f.ntokens == 0) die_file(input, "no masked positions in %ld windows (raise --mask-prob or give more windows)", seen);
		if (cli_verbose > 0)
			info("%s: %s Fisher on %ld windows, %ld masked tokens, %.1f s", models[k],
			     fisher_estimator_name(est), seen, f.ntokens, cli_now() - t0);
		fisher_group *g;
		int ng = fisher_groups(&f, &m, by, &g);
		double tot = 0;
		for (int i = 0; i < ng; i++) {
			if (norm) g[i].fisher /= (double)g[i].nparams;
			tot += g[i].fisher;
		}
		for (int i = 0; i < ng; i++)
			fprintf(fp, "%s\t%s\t%.9g\t%.9g\t%ld\t%s\t%ld\t%zu\n", models[k], g[i].name, g[i].fisher,
			        tot > 0 ? g[i].fisher / tot : 0.0, f.ntokens, fisher_estimator_name(est), f.nwindows, g[i].nparams);
		free(g);
		fisher_free(&f);
		bert_acts_free(a);
		bert_free(&m);
		winread_close(&w);
	}
	if (tty && tlast > 0) {
		double now = cli_now();
		char x[64];
		snprintf(x, sizeof x, "%d models  %.1f windows/s", nmodels, done / (now - tstart + 1e-9));
		progress_print(tty, "windows", done, total > 0 ? done : -1, x, 0, 1);
	}
	if (fclose(fp) != 0) die("out of memory");
	fwrite(tsv, 1, tsvlen, dest);
	free(tsv);
	if (spool >= 0) close(spool);
	free(pos);
	free(in);
	free(lab);
	free(models);
	cli_out_close(&out);
	return 0;
}
