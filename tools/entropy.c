/* entropy -- how close to uniform are a model's predictions?  Reads lmprobe
 * output and reports, per model, entropy, KL to uniform, perplexity, NLL,
 * accuracy and top-1 probability at the masked positions with bootstrap
 * confidence intervals; or per position, the rank curve, a histogram, or
 * the stream with per-position results appended.  With --tokens it reads
 * a token stream instead and reports the data's own entropy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/cli.h"
#include "analysis/metrics.h"
#include "analysis/probs.h"
#include "io/tns.h"
#include "io/tnsout.h"
#include "tok/vocab.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: entropy [options] [PROBES.tns|-]\n"
"       entropy --tokens [options] [WINDOWS.tns|-]\n"
"Per model, over every masked position of lmprobe output: n, mean entropy\n"
"(bits), KL to uniform (bits), perplexity, mean NLL of the true token\n"
"(bits), top-1 accuracy and mean top-1 probability, each with a 95%%\n"
"bootstrap interval over records (columns NAME_lo, NAME_hi).  TSV with a\n"
"header line; model is the model file as given to lmprobe (@MO PA:; its\n"
"index 0, 1... if the stream does not say).\n"
"\n"
"Output (default: one row per model):\n"
"      --per-position   one row per masked position and model\n"
"      --rank-curve     mean probability by rank 1..V, per model\n"
"      --hist           histogram of the per-position entropies\n"
"      --stream         pass the stream through with per-position tensors\n"
"                       appended: entropy_bits, nll_bits, top1_prob f32[M,P],\n"
"                       argmax i32[M,P] (so: entropy --stream | disagree)\n"
"      --tokens         input is a token stream (seqtok): unigram and k-th\n"
"                       order conditional entropy of the tokens, plug-in and\n"
"                       Miller-Madow corrected, bits/token, and the accuracy\n"
"                       of the most frequent token after each context\n"
"                       (order 0: the majority baseline)\n"
"Options:\n"
"  -b, --bootstrap N    bootstrap resamples (default 1000; 0: no intervals)\n"
"  -s, --seed N         bootstrap seed (default 42)\n"
"      --bins N         histogram bins over [0, log2 V] (default 50)\n"
"      --order LIST     --tokens: context lengths (default 0,1,2,3)\n"
"The authors' code (docs/METHODS.md), each off by default:\n"
"      --eps            entropy as -sum p log2(p + 1e-10)\n"
"      --kl-reverse     kl_uniform_bits as KL(U||p), p floored at 1e-10\n"
"      --ppl-nll        perplexity as exp(mean NLL) (token level), not\n"
"                       2^(mean entropy)\n"
"      --authors        all three\n"
"Common:\n"
"  -o, --output FILE    write to FILE (atomically) instead of stdout\n"
"  -f, --force          --stream: binary output to a terminal\n"
"  -t, --threads N      threads (BGZF output)\n"
"  -q, --quiet / -v, --verbose / --help / --version\n"
"\n"
"Inputs: probs f32 or f16 [M,P,V], or top-K (lmprobe --top K).  From top-K\n"
"only accuracy, top1_prob and the rank curve up to K are exact: entropy,\n"
"KL, perplexity and NLL print NA, --stream appends only top1_prob and\n"
"argmax, and --hist is an error.\n"
"Exit status: 0 success, 1 error (bad input: no probs, V changing between\n"
"records, NaN or negative probabilities...), 2 usage.  See entropy(1).\n");
}

enum { O_PERPOS = 0x2000, O_RANK, O_HIST, O_STREAM, O_TOKENS, O_BINS, O_ORDER, O_EPS, O_KLREV, O_PPLNLL, O_AUTHORS };
enum { S_H, S_NLL, S_CORRECT, S_TOP1, S_KLREV, NSTAT };

typedef struct {
	int per_pos, rank, hist, stream, tokens, eps, klrev, pplnll, bins, nboot;
	uint64_t seed;
	long *orders;
	int norders;
} opts;

typedef struct {
	int M, V;
	double *tot;                  /* M x NSTAT sums */
	double *n;                    /* M positions */
	int64_t R, cap;
	double *rec;                  /* R x M x (1 + NSTAT): n then the sums, per record */
	double *rank;                 /* M x V (or K) */
	uint64_t *hist;               /* M x bins */
} acc;

static void die_rec(const char *file, const char *rec, const char *model, int pos, const char *what, double sum)
{
	die_file(file, "record %s, model %s, position %d: %s (sum of probabilities %g)", rec, model, pos, what, sum);
}

/* tolerance on the sum of a distribution: f16 rounding is 2^-11 per entry */
static double sum_tol(int kind) { return kind == PROBS_F16 ? 1e-2 : 1e-3; }

static void acc_record(acc *a, const double *sums)
{
	if (a->R == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 1024;
		a->rec = xrealloc(a->rec, sizeof(double) * a->cap * a->M * (1 + NSTAT));
	}
	memcpy(a->rec + (size_t)a->R * a->M * (1 + NSTAT), sums, sizeof(double) * a->M * (1 + NSTAT));
	a->R++;
}

static void put_num(FILE *out, double v, int na)
{
	if (na || isnan(v)) fputs("\tNA", out);
	else fprintf(out, "\t%.9g", v);
}

/* the per-model table */
static void report_models(FILE *out, const acc *a, const opts *o, int topk, probs_stream *ps)
{
	fputs("model\tn", out);
	const char *col[] = {"entropy_bits", "kl_uniform_bits", "perplexity", "nll_bits", "accuracy", "top1_prob"};
	for (int c = 0; c < 6; c++) fprintf(out, "\t%s\t%s_lo\t%s_hi", col[c], col[c], col[c]);
	fputc('\n', out);
	double *num = xmalloc(sizeof(double) * NSTAT * (a->R ? a->R : 1)), *den = xmalloc(sizeof(double) * (a->R ? a->R : 1));
	double lo[NSTAT], hi[NSTAT];
	double log2V = log2((double)a->V);
	for (int m = 0; m < a->M; m++) {
		for (int64_t r = 0; r < a->R; r++) {
			const double *s = a->rec + ((size_t)r * a->M + m) * (1 + NSTAT);
			den[r] = s[0];
			for (int k = 0; k < NSTAT; k++) num[(size_t)k * a->R + r] = s[1 + k];
		}
		met_bootstrap_ratios(num, NSTAT, den, a->R, o->nboot, o->seed + (uint64_t)m * 0x9e3779b97f4a7c15ULL,
		                     0.95, lo, hi);
		double n = a->n[m], mean[NSTAT];
		for (int k = 0; k < NSTAT; k++) mean[k] = n > 0 ? a->tot[(size_t)m * NSTAT + k] / n : NAN;
		fprintf(out, "%s\t%.0f", probs_model(ps, m), n);
		/* entropy */
		put_num(out, mean[S_H], topk); put_num(out, lo[S_H], topk); put_num(out, hi[S_H], topk);
		/* KL to uniform */
		if (o->klrev) { put_num(out, mean[S_KLREV], topk); put_num(out, lo[S_KLREV], topk); put_num(out, hi[S_KLREV], topk); }
		else { put_num(out, log2V - mean[S_H], topk); put_num(out, log2V - hi[S_H], topk); put_num(out, log2V - lo[S_H], topk); }
		/* perplexity */
		int pk = o->pplnll ? S_NLL : S_H;
		put_num(out, met_perplexity(mean[pk]), topk); put_num(out, met_perplexity(lo[pk]), topk);
		put_num(out, met_perplexity(hi[pk]), topk);
		put_num(out, mean[S_NLL], topk); put_num(out, lo[S_NLL], topk); put_num(out, hi[S_NLL], topk);
		put_num(out, mean[S_CORRECT], 0); put_num(out, lo[S_CORRECT], 0); put_num(out, hi[S_CORRECT], 0);
		put_num(out, mean[S_TOP1], 0); put_num(out, lo[S_TOP1], 0); put_num(out, hi[S_TOP1], 0);
		fputc('\n', out);
	}
	free(num); free(den);
}

/* ---- --tokens ------------------------------------------------------------ */

/* the framing ids of the stream's vocabulary: its specials but the unknown
 * token (seqlm's <PAD> <CLS> <SEP> <MASK>, ids 1..4, without one) */
static unsigned char *framing_ids(tns_reader *r, const char *file, int *n)
{
	char err[512];
	tok_vocab v;
	int rc = vocab_from_header(&v, tns_reader_header(r), err, sizeof err);
	if (rc == -2) die_file(file, "%s", err);
	if (rc == -1) {
		unsigned char *f = xmalloc(TOK_NSPECIAL);
		for (int i = 0; i < TOK_NSPECIAL; i++) f[i] = i != TOK_UNK;
		*n = TOK_NSPECIAL;
		return f;
	}
	unsigned char *f = xmalloc(v.n);
	for (int i = 0; i < v.n; i++) f[i] = v.special[i] && i != v.id.unk;
	*n = v.n;
	vocab_free(&v);
	return f;
}

static void run_tokens(tns_reader *r, const char *file, FILE *out, const opts *o)
{
	int nframe;
	unsigned char *framing = framing_ids(r, file, &nframe);
	met_ngram *g = xmalloc(sizeof(met_ngram) * o->norders);
	for (int i = 0; i < o->norders; i++) met_ngram_init(&g[i], (int)o->orders[i]);
	tns_record rec;
	int rc;
	int32_t *seq = NULL;
	int64_t cap = 0, nrec = 0;
	while ((rc = tns_read(r, &rec)) > 0) {
		const tns_tensor *t = tns_get(&rec, "tokens");
		if (!t) die_file(file, "record %s has no tokens: not a token stream (seqtok output)?", rec.name);
		if (t->dtype != TNS_I32 || t->ndim != 1) die_file(file, "record %s: tokens must be i32[T]", rec.name);
		const int32_t *tok = t->data;
		int64_t n = 0, T = t->dim[0];
		if (T > cap) { cap = T; seq = xrealloc(seq, sizeof(int32_t) * cap); }
		/* the text itself: <PAD> <CLS> <SEP> <MASK> are framing, <UNK> is data */
		for (int64_t i = 0; i < T; i++) {
			if (tok[i] < 0) die_file(file, "record %s: negative token id %d", rec.name, tok[i]);
			if (tok[i] < nframe && framing[tok[i]]) continue;
			seq[n++] = tok[i];
		}
		for (int i = 0; i < o->norders; i++) met_ngram_add(&g[i], seq, n);
		nrec++;
	}
	if (rc < 0) die_file(file, "%s", tns_error(r));
	if (!nrec) die_file(file, "no records: nothing to measure");
	fputs("order\tn\tcontexts\tgrams\tentropy_bits\tentropy_mm_bits\tmajority_acc\n", out);
	for (int i = 0; i < o->norders; i++) {
		met_ngram_result res;
		met_ngram_entropy(&g[i], &res);
		fprintf(out, "%d\t%llu\t%llu\t%llu", g[i].order, (unsigned long long)res.n,
		        (unsigned long long)res.contexts, (unsigned long long)res.grams);
		put_num(out, res.plugin, 0);
		put_num(out, res.miller_madow, 0);
		put_num(out, res.majority, 0);
		fputc('\n', out);
		met_ngram_free(&g[i]);
	}
	free(g); free(seq); free(framing);
}

static int cmp_float_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x > y ? -1 : x < y;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"per-position", no_argument, 0, O_PERPOS}, {"rank-curve", no_argument, 0, O_RANK},
		{"hist", no_argument, 0, O_HIST}, {"stream", no_argument, 0, O_STREAM},
		{"tokens", no_argument, 0, O_TOKENS}, {"bins", required_argument, 0, O_BINS},
		{"order", required_argument, 0, O_ORDER}, {"eps", no_argument, 0, O_EPS},
		{"kl-reverse", no_argument, 0, O_KLREV}, {"ppl-nll", no_argument, 0, O_PPLNLL},
		{"authors", no_argument, 0, O_AUTHORS}, {"bootstrap", required_argument, 0, 'b'},
		{"seed", required_argument, 0, 's'},
		CLI_LONGOPTS
	};
	cli_opts co;
	opts o = {.bins = 50, .nboot = 1000, .seed = 42};
	int c;
	char err[1024];
	cli_init(&co, argc, argv);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "b:s:", longopts, NULL)) != -1) {
		switch (c) {
		case O_PERPOS: o.per_pos = 1; break;
		case O_RANK: o.rank = 1; break;
		case O_HIST: o.hist = 1; break;
		case O_STREAM: o.stream = 1; break;
		case O_TOKENS: o.tokens = 1; break;
		case O_BINS: o.bins = (int)cli_long("--bins", optarg, 1, 1000000); break;
		case O_ORDER:
			free(o.orders);
			o.norders = cli_int_list("--order", optarg, &o.orders);
			for (int i = 0; i < o.norders; i++)
				if (o.orders[i] < 0 || o.orders[i] > 16) die_usage("--order: orders 0..16, got %ld", o.orders[i]);
			break;
		case O_EPS: o.eps = 1; break;
		case O_KLREV: o.klrev = 1; break;
		case O_PPLNLL: o.pplnll = 1; break;
		case O_AUTHORS: o.eps = o.klrev = o.pplnll = 1; break;
		case 'b': o.nboot = (int)cli_long("--bootstrap", optarg, 0, 1000000); break;
		case 's': o.seed = (uint64_t)cli_long("--seed", optarg, 0, (1L << 62)); break;
		default:
			if (!cli_common_opt(&co, c, optarg, usage)) { usage(stderr); return EXIT_USAGE; }
		}
	}
	if (o.per_pos + o.rank + o.hist + o.stream + o.tokens > 1)
		die_usage("choose one of --per-position, --rank-curve, --hist, --stream, --tokens");
	if (argc - optind > 1) die_usage("one input file at most");
	cli_need_input(argc - optind, usage);
	if (!o.norders) o.norders = cli_int_list("--order", "0-3", &o.orders);
	const char *file = optind < argc ? argv[optind] : "-";

	tns_reader *r = tns_open(file, err, sizeof err);
	if (!r) die_file(file, "%s", err);
	const tns_header *h = tns_reader_header(r);
	cli_out out = {0};
	tns_writer *w = NULL;
	FILE *fp = NULL;
	if (o.tokens) {
		fp = cli_out_open(&out, co.output);
		run_tokens(r, file, fp, &o);
		tns_close_reader(r);
		cli_out_close(&out);
		free(o.orders);
		return 0;
	}

	probs_stream ps;
	if (probs_init(&ps, h, file, err, sizeof err) < 0) die_file(file, "%s", err);
	if (o.stream) {
		cli_check_binary_out(&co);
		tns_header hh;
		tns_header_copy(&hh, h);
		tns_header_add_pg(&hh, "entropy", SEQLM_VERSION, argc, argv, o.eps ? "\tEP:1e-10" : NULL);
		w = cli_tns_create(&co, co.output, &hh, 0);
		tns_writer_threads(w, co.threads);
		tns_header_free(&hh);
	} else fp = cli_out_open(&out, co.output);
	/* --per-position streams its rows: its header waits for the first
	 * record that checks, so a stream broken from the start leaves no
	 * output at all */
	int pp_head = o.per_pos;

	acc a = {0};
	tns_record rec;
	probs_rec pr;
	int rc;
	float *buf = NULL, *ebuf = NULL;
	uint32_t *scratch = NULL;
	int32_t *order = NULL, *ibuf = NULL;
	size_t ecap = 0;
	double *sums = NULL;
	while ((rc = tns_read(r, &rec)) > 0) {
		if (probs_get(&ps, &rec, &pr, err, sizeof err) < 0) { if (w) tns_abort(w); cli_out_abort(&out); die_file(file, "%s", err); }
		int M = ps.M, V = ps.V, P = pr.P, topk = ps.kind == PROBS_TOPK;
		if (P > 0 && !a.M) {
			/* the first record with positions fixes the shapes */
			a.M = M; a.V = V;
			a.tot = xcalloc((size_t)M * NSTAT, sizeof(double));
			a.n = xcalloc(M, sizeof(double));
			sums = xmalloc(sizeof(double) * M * (1 + NSTAT));
			if (!topk) { buf = xaligned(sizeof(float) * V); scratch = xmalloc(sizeof(uint32_t) * 4 * V); order = xmalloc(sizeof(int32_t) * V); }
			if (o.rank) a.rank = xcalloc((size_t)M * (topk ? ps.K : V), sizeof(double));
			if (o.hist) {
				if (topk) { cli_out_abort(&out); die_file(file, "--hist needs full probabilities (probs); this stream has top-K only"); }
				a.hist = xcalloc((size_t)M * o.bins, sizeof(uint64_t));
			}
			if (topk && !V) a.V = V = 0;
		}
		if (P == 0) {
			if (w && tns_write_record(w, &rec, 0, NULL) < 0) cli_tns_close(w);
			continue;
		}
		if (pp_head) {
			fputs("record\tposition\tmodel\tlabel\tentropy_bits\tkl_uniform_bits\tnll_bits\ttop1_prob\targmax\tcorrect\n", fp);
			pp_head = 0;
		}
		if (sums) memset(sums, 0, sizeof(double) * M * (1 + NSTAT));
		if (w && (size_t)M * P > ecap) {
			ecap = (size_t)M * P;
			ebuf = xrealloc(ebuf, sizeof(float) * 3 * ecap);
			ibuf = xrealloc(ibuf, sizeof(int32_t) * ecap);
		}
		for (int j = 0; j < P; j++) {
			int label = pr.labels[j];
			for (int m = 0; m < M; m++) {
				double H = NAN, nll = NAN, klrev = 0, top1;
				int am;
				if (!topk) {
					const float *p = probs_row(&ps, &pr, m, j, buf);
					met_row row;
					met_row_stats(p, V, &row);
					if (isnan(row.sum)) { if (w) tns_abort(w); cli_out_abort(&out); die_rec(file, rec.name, probs_model(&ps, m), pr.mask_pos[j], "NaN or negative probabilities", row.sum); }
					if (fabs(row.sum - 1) > sum_tol(ps.kind)) { if (w) tns_abort(w); cli_out_abort(&out); die_rec(file, rec.name, probs_model(&ps, m), pr.mask_pos[j], "probabilities do not sum to 1", row.sum); }
					H = o.eps ? met_entropy_eps(p, V) : row.entropy;
					nll = met_nll_bits(p[label]);
					if (o.klrev) klrev = met_kl_uniform_rev(p, V);
					top1 = row.pmax;
					am = row.argmax;
					if (a.rank) { met_argsort_desc(p, V, order, scratch); met_rank_accumulate(p, order, V, a.rank + (size_t)m * V); }
					if (a.hist) {
						int b = (int)(H / log2((double)V) * o.bins);
						a.hist[(size_t)m * o.bins + (b < 0 ? 0 : b >= o.bins ? o.bins - 1 : b)]++;
					}
				} else {
					const float *tp = pr.top_probs + ((size_t)m * P + j) * ps.K;
					const int32_t *ti = pr.top_ids + ((size_t)m * P + j) * ps.K;
					int best = 0;
					double s = pr.top_rest[(size_t)m * P + j];
					for (int k = 0; k < ps.K; k++) { s += tp[k]; if (tp[k] > tp[best]) best = k; }
					if (isnan(s)) { if (w) tns_abort(w); cli_out_abort(&out); die_rec(file, rec.name, probs_model(&ps, m), pr.mask_pos[j], "NaN in top_probs or top_rest", s); }
					top1 = tp[best];
					am = ti[best];
					if (a.rank) {
						float *sorted = xmalloc(sizeof(float) * ps.K);
						memcpy(sorted, tp, sizeof(float) * ps.K);
						qsort(sorted, ps.K, sizeof(float), cmp_float_desc);
						for (int k = 0; k < ps.K; k++) a.rank[(size_t)m * ps.K + k] += sorted[k];
						free(sorted);
					}
				}
				double *s = sums + (size_t)m * (1 + NSTAT);
				s[0] += 1;
				s[1 + S_H] += H; s[1 + S_NLL] += nll; s[1 + S_CORRECT] += am == label;
				s[1 + S_TOP1] += top1; s[1 + S_KLREV] += klrev;
				if (o.per_pos) {
					fprintf(fp, "%s\t%d\t%s\t%d", rec.name, pr.mask_pos[j], probs_model(&ps, m), label);
					put_num(fp, H, topk);
					put_num(fp, o.klrev ? klrev : log2((double)V) - H, topk);
					put_num(fp, nll, topk);
					put_num(fp, top1, 0);
					fprintf(fp, "\t%d\t%d\n", am, am == label);
				}
				if (w) {
					size_t at = (size_t)m * P + j;
					ebuf[at] = (float)H; ebuf[ecap + at] = (float)nll; ebuf[2 * ecap + at] = top1;
					ibuf[at] = am;
				}
			}
		}
		for (int m = 0; m < M; m++) {
			a.n[m] += sums[(size_t)m * (1 + NSTAT)];
			for (int k = 0; k < NSTAT; k++) a.tot[(size_t)m * NSTAT + k] += sums[(size_t)m * (1 + NSTAT) + 1 + k];
		}
		acc_record(&a, sums);
		if (w) {
			int64_t dim[2] = {M, P};
			tns_tensor t[4];
			int nt = 0;
			if (!topk) {
				t[nt++] = tns_tensor_make("entropy_bits", TNS_F32, 2, dim, ebuf);
				t[nt++] = tns_tensor_make("nll_bits", TNS_F32, 2, dim, ebuf + ecap);
			}
			t[nt++] = tns_tensor_make("top1_prob", TNS_F32, 2, dim, ebuf + 2 * ecap);
			t[nt++] = tns_tensor_make("argmax", TNS_I32, 2, dim, ibuf);
			if (tns_write_record(w, &rec, nt, t) < 0) cli_tns_close(w);
		}
	}
	if (rc < 0) { if (w) tns_abort(w); cli_out_abort(&out); die_file(file, "%s", tns_error(r)); }
	if (!a.M && !w) { cli_out_abort(&out); die_file(file, "no masked positions in the stream: nothing to measure"); }
	int topk = ps.kind == PROBS_TOPK;
	if (topk && !o.rank)
		warn("%s: top-K input: entropy, KL to uniform, perplexity and NLL need full probabilities (printed NA)", file);
	if (w) cli_tns_close(w);
	else if (o.rank) {
		int n = topk ? ps.K : a.V;
		fputs("model\trank\tmean_prob\n", fp);
		for (int m = 0; m < a.M; m++)
			for (int k = 0; k < n; k++) fprintf(fp, "%s\t%d\t%.9g\n", probs_model(&ps, m), k + 1, a.rank[(size_t)m * n + k] / a.n[m]);
	} else if (o.hist) {
		double w2 = log2((double)a.V) / o.bins;
		fputs("model\tbin_lo\tbin_hi\tcount\n", fp);
		for (int m = 0; m < a.M; m++)
			for (int b = 0; b < o.bins; b++)
				fprintf(fp, "%s\t%.9g\t%.9g\t%llu\n", probs_model(&ps, m), b * w2, (b + 1) * w2, (unsigned long long)a.hist[(size_t)m * o.bins + b]);
	} else if (!o.per_pos) report_models(fp, &a, &o, topk, &ps);
	if (!w) cli_out_close(&out);
	else cli_close_stdout();
	tns_close_reader(r);
	probs_free(&ps);
	free(a.tot); free(a.n); free(a.rec); free(a.rank); free(a.hist);
	free(buf); free(scratch); free(order); free(sums); free(ebuf); free(ibuf); free(o.orders);
	return 0;
}
