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
#include "analysis/report.h"
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

typedef struct {
	cli_opts co;
	int per_pos, rank, hist, stream, tokens, eps, klrev, pplnll, bins, nboot;
	uint64_t seed;
	long *orders;
	int norders;
	const char *file;
	int argc;
	char **argv;
} opts;

/* ---- what one position gives -----------------------------------------------
 * A per-position quantity is a row of quantities[]: its name (the
 * --per-position column and the --stream tensor), the function computing
 * it at one position of one model, whether it needs the whole
 * distribution (from top-K input: NA, and no tensor), how it prints and
 * whether --stream appends it.  Every quantity is summed per model and
 * record, so the per-model table (columns[] below) can show its mean with a
 * bootstrap interval. */
enum { Q_H, Q_KL, Q_NLL, Q_TOP1, Q_ARGMAX, Q_CORRECT, NQ };   /* quantities[] in this order */
enum { T_NUM, T_INT };        /* %.9g and f32, or %d and i32 */

typedef struct {
	const float *p;               /* the distribution; NULL from top-K */
	int V, label;
	met_row row;                  /* top-K: pmax and argmax only */
	const opts *o;
} ent_at;

typedef struct {
	const char *name;
	double (*at)(const ent_at *x, const double *v);   /* v: the quantities above it */
	int full, type, stream;
} ent_quantity;

static double q_entropy(const ent_at *x, const double *v)
{
	(void)v;
	return x->o->eps ? met_entropy_eps(x->p, x->V) : x->row.entropy;
}

static double q_kl_uniform(const ent_at *x, const double *v)
{
	return x->o->klrev ? met_kl_uniform_rev(x->p, x->V) : log2((double)x->V) - v[Q_H];
}

static double q_nll(const ent_at *x, const double *v) { (void)v; return met_nll_bits(x->p[x->label]); }
static double q_top1(const ent_at *x, const double *v) { (void)v; return x->row.pmax; }
static double q_argmax(const ent_at *x, const double *v) { (void)v; return x->row.argmax; }
static double q_correct(const ent_at *x, const double *v) { (void)v; return x->row.argmax == x->label; }

static const ent_quantity quantities[NQ] = {
	/* name              at one position  full  prints  --stream */
	{"entropy_bits",     q_entropy,       1,    T_NUM,  1},
	{"kl_uniform_bits",  q_kl_uniform,    1,    T_NUM,  0},
	{"nll_bits",         q_nll,           1,    T_NUM,  1},
	{"top1_prob",        q_top1,          0,    T_NUM,  1},
	{"argmax",           q_argmax,        0,    T_INT,  1},
	{"correct",          q_correct,       0,    T_INT,  0},
};

/* ---- the per-model table ---------------------------------------------------
 * A column is a row of columns[]: its name (then NAME_lo, NAME_hi), whether
 * it needs the whole distribution (NA from top-K), and the function giving
 * its value and interval from the quantities' means and bootstrap
 * intervals. */
typedef struct {
	const double *mean, *lo, *hi; /* per quantity */
	double log2V;
	const opts *o;
} ent_stats;

typedef struct {
	const char *name;
	int full;
	void (*get)(const ent_stats *s, double v[3]);     /* value, lo, hi */
} ent_column;

static void stat_of(const ent_stats *s, int q, double v[3]) { v[0] = s->mean[q]; v[1] = s->lo[q]; v[2] = s->hi[q]; }
static void col_entropy(const ent_stats *s, double v[3]) { stat_of(s, Q_H, v); }
static void col_nll(const ent_stats *s, double v[3]) { stat_of(s, Q_NLL, v); }
static void col_accuracy(const ent_stats *s, double v[3]) { stat_of(s, Q_CORRECT, v); }
static void col_top1(const ent_stats *s, double v[3]) { stat_of(s, Q_TOP1, v); }

/* KL(p || U) = log2 V - H, so the interval turns over; --kl-reverse its own */
static void col_kl_uniform(const ent_stats *s, double v[3])
{
	if (s->o->klrev) { stat_of(s, Q_KL, v); return; }
	v[0] = s->log2V - s->mean[Q_H]; v[1] = s->log2V - s->hi[Q_H]; v[2] = s->log2V - s->lo[Q_H];
}

/* 2^(mean entropy), or with --ppl-nll 2^(mean NLL) (= exp of it in nats) */
static void col_perplexity(const ent_stats *s, double v[3])
{
	stat_of(s, s->o->pplnll ? Q_NLL : Q_H, v);
	for (int i = 0; i < 3; i++) v[i] = met_perplexity(v[i]);
}

static const ent_column columns[] = {
	{"entropy_bits",    1, col_entropy},
	{"kl_uniform_bits", 1, col_kl_uniform},
	{"perplexity",      1, col_perplexity},
	{"nll_bits",        1, col_nll},
	{"accuracy",        0, col_accuracy},
	{"top1_prob",       0, col_top1},
};
#define NCOLUMN (int)(sizeof columns / sizeof *columns)

/* ---- a run over lmprobe output ------------------------------------------- */

typedef struct {
	int M, V;
	double *tot;                  /* M x NQ sums */
	double *n;                    /* M positions */
	int64_t R, cap;
	double *rec;                  /* R x M x (1 + NQ): n then the sums, per record */
	double *rank;                 /* M x V (or K) */
	uint64_t *hist;               /* M x bins */
} acc;

typedef struct ent_run ent_run;
/* an output: hooks called at the first record with positions (the shapes
 * known), at each position of each model, after each record (P may be 0)
 * and at the end; any may be NULL */
typedef struct {
	void (*start)(ent_run *e);
	void (*at)(ent_run *e, int m, int j, const ent_at *x, const double *v);
	void (*record)(ent_run *e, const tns_record *rec);
	void (*finish)(ent_run *e);
} ent_mode;

struct ent_run {
	const opts *o;
	const ent_mode *mode;
	const char *file;
	probs_stream ps;
	const probs_rec *pr;
	int topk;
	acc a;
	cli_out out;
	FILE *fp;                     /* the TSV, or */
	tns_writer *w;                /* the stream (--stream) */
	float *buf;                   /* V: an f16 row converted */
	uint32_t *scratch;            /* 4 V: met_argsort_desc */
	int32_t *order;               /* V */
	double *sums;                 /* M x (1 + NQ): this record's */
	size_t ecap;                  /* M x P the stream's tensors have room for */
	float *ebuf[NQ];              /* per --stream quantity, M x P (T_NUM) */
	int32_t *ibuf[NQ];            /* (T_INT) */
};

static void acc_record(acc *a, const double *sums)
{
	if (a->R == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 1024;
		a->rec = xrealloc(a->rec, sizeof(double) * a->cap * a->M * (1 + NQ));
	}
	memcpy(a->rec + (size_t)a->R * a->M * (1 + NQ), sums, sizeof(double) * a->M * (1 + NQ));
	a->R++;
}

/* the default: the per-model table */
static void finish_models(ent_run *e)
{
	const acc *a = &e->a;
	const opts *o = e->o;
	FILE *out = e->fp;
	fputs("model\tn", out);
	for (int c = 0; c < NCOLUMN; c++) fprintf(out, "\t%s\t%s_lo\t%s_hi", columns[c].name, columns[c].name, columns[c].name);
	fputc('\n', out);
	double *num = xmalloc(sizeof(double) * NQ * (a->R ? a->R : 1)), *den = xmalloc(sizeof(double) * (a->R ? a->R : 1));
	double lo[NQ], hi[NQ], mean[NQ];
	ent_stats st = {mean, lo, hi, log2((double)a->V), o};
	for (int m = 0; m < a->M; m++) {
		for (int64_t r = 0; r < a->R; r++) {
			const double *s = a->rec + ((size_t)r * a->M + m) * (1 + NQ);
			den[r] = s[0];
			for (int k = 0; k < NQ; k++) num[(size_t)k * a->R + r] = s[1 + k];
		}
		met_bootstrap_ratios(num, NQ, den, a->R, o->nboot, o->seed + (uint64_t)m * 0x9e3779b97f4a7c15ULL, 0.95, lo, hi);
		double n = a->n[m];
		for (int k = 0; k < NQ; k++) mean[k] = n > 0 ? a->tot[(size_t)m * NQ + k] / n : NAN;
		fprintf(out, "%s\t%.0f", probs_model(&e->ps, m), n);
		for (int c = 0; c < NCOLUMN; c++) {
			double v[3];
			columns[c].get(&st, v);
			for (int i = 0; i < 3; i++) report_num(out, v[i], columns[c].full && e->topk);
		}
		fputc('\n', out);
	}
	free(num); free(den);
}

/* --per-position: a row per position and model */
static void start_per_pos(ent_run *e)
{
	fputs("record\tposition\tmodel\tlabel", e->fp);
	for (int q = 0; q < NQ; q++) fprintf(e->fp, "\t%s", quantities[q].name);
	fputc('\n', e->fp);
}

static void at_per_pos(ent_run *e, int m, int j, const ent_at *x, const double *v)
{
	fprintf(e->fp, "%s\t%d\t%s\t%d", e->pr->name, e->pr->mask_pos[j], probs_model(&e->ps, m), x->label);
	for (int q = 0; q < NQ; q++) {
		if (quantities[q].type == T_INT) fprintf(e->fp, "\t%d", (int)v[q]);
		else report_num(e->fp, v[q], quantities[q].full && e->topk);
	}
	fputc('\n', e->fp);
}

/* --rank-curve: the rank-sorted distributions summed */
static void start_rank(ent_run *e)
{
	e->a.rank = xcalloc((size_t)e->a.M * (e->topk ? e->ps.K : e->a.V), sizeof(double));
}

static int cmp_float_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x > y ? -1 : x < y;
}

static void at_rank(ent_run *e, int m, int j, const ent_at *x, const double *v)
{
	(void)v;
	if (x->p) {
		met_argsort_desc(x->p, x->V, e->order, e->scratch);
		met_rank_accumulate(x->p, e->order, x->V, e->a.rank + (size_t)m * x->V);
		return;
	}
	int K = e->ps.K;
	float *sorted = xmalloc(sizeof(float) * K);
	memcpy(sorted, e->pr->top_probs + ((size_t)m * e->pr->P + j) * K, sizeof(float) * K);
	qsort(sorted, K, sizeof(float), cmp_float_desc);
	for (int k = 0; k < K; k++) e->a.rank[(size_t)m * K + k] += sorted[k];
	free(sorted);
}

static void finish_rank(ent_run *e)
{
	int n = e->topk ? e->ps.K : e->a.V;
	fputs("model\trank\tmean_prob\n", e->fp);
	for (int m = 0; m < e->a.M; m++)
		for (int k = 0; k < n; k++)
			fprintf(e->fp, "%s\t%d\t%.9g\n", probs_model(&e->ps, m), k + 1, e->a.rank[(size_t)m * n + k] / e->a.n[m]);
}

/* --hist: the per-position entropies binned over [0, log2 V] */
static void start_hist(ent_run *e)
{
	if (e->topk) report_die(&e->out, NULL, e->file, "--hist needs full probabilities (probs); this stream has top-K only");
	e->a.hist = xcalloc((size_t)e->a.M * e->o->bins, sizeof(uint64_t));
}

static void at_hist(ent_run *e, int m, int j, const ent_at *x, const double *v)
{
	(void)j;
	int bins = e->o->bins, b = (int)(v[Q_H] / log2((double)x->V) * bins);
	e->a.hist[(size_t)m * bins + (b < 0 ? 0 : b >= bins ? bins - 1 : b)]++;
}

static void finish_hist(ent_run *e)
{
	int bins = e->o->bins;
	double w2 = log2((double)e->a.V) / bins;
	fputs("model\tbin_lo\tbin_hi\tcount\n", e->fp);
	for (int m = 0; m < e->a.M; m++)
		for (int b = 0; b < bins; b++)
			fprintf(e->fp, "%s\t%.9g\t%.9g\t%llu\n", probs_model(&e->ps, m), b * w2, (b + 1) * w2,
			        (unsigned long long)e->a.hist[(size_t)m * bins + b]);
}

/* --stream: each record passed on with the streamed quantities [M,P] */
static int streamed(const ent_run *e, int q) { return quantities[q].stream && !(quantities[q].full && e->topk); }

static void at_stream(ent_run *e, int m, int j, const ent_at *x, const double *v)
{
	(void)x;
	size_t at = (size_t)m * e->pr->P + j;
	if ((size_t)e->a.M * e->pr->P > e->ecap) {
		e->ecap = (size_t)e->a.M * e->pr->P;
		for (int q = 0; q < NQ; q++) {
			if (quantities[q].type == T_INT) e->ibuf[q] = xrealloc(e->ibuf[q], sizeof(int32_t) * e->ecap);
			else e->ebuf[q] = xrealloc(e->ebuf[q], sizeof(float) * e->ecap);
		}
	}
	for (int q = 0; q < NQ; q++) {
		if (!streamed(e, q)) continue;
		if (quantities[q].type == T_INT) e->ibuf[q][at] = (int32_t)v[q];
		else e->ebuf[q][at] = (float)v[q];
	}
}

static void record_stream(ent_run *e, const tns_record *rec)
{
	int P = e->pr->P, nt = 0;
	int64_t dim[2] = {e->a.M, P};
	tns_tensor t[NQ];
	for (int q = 0; P && q < NQ; q++)
		if (streamed(e, q))
			t[nt++] = tns_tensor_make(quantities[q].name, quantities[q].type == T_INT ? TNS_I32 : TNS_F32, 2, dim,
			                          quantities[q].type == T_INT ? (void *)e->ibuf[q] : (void *)e->ebuf[q]);
	if (tns_write_record(e->w, rec, nt, t) < 0) cli_tns_close(e->w);
}

static void finish_stream(ent_run *e) { cli_tns_close(e->w); }

static const ent_mode mode_models = {NULL, NULL, NULL, finish_models};
static const ent_mode mode_per_pos = {start_per_pos, at_per_pos, NULL, NULL};
static const ent_mode mode_rank = {start_rank, at_rank, NULL, finish_rank};
static const ent_mode mode_hist = {start_hist, at_hist, NULL, finish_hist};
static const ent_mode mode_stream = {NULL, at_stream, record_stream, finish_stream};

/* model m at position j of the record: its quantities in v, or a bad
 * distribution's end */
static void position_values(ent_run *e, int m, int j, ent_at *x, double *v)
{
	const probs_rec *pr = e->pr;
	*x = (ent_at){.V = e->a.V, .label = pr->labels[j], .o = e->o};
	if (!e->topk) {
		x->p = probs_row(&e->ps, pr, m, j, e->buf);
		met_row_stats(x->p, x->V, &x->row);
		const char *bad = report_bad_sum(e->ps.kind, x->row.sum);
		if (bad) {
			char err[2048];
			report_pos_error(err, sizeof err, pr->name, probs_model(&e->ps, m), pr->mask_pos[j], bad, x->row.sum);
			report_die(&e->out, e->w, e->file, "%s", err);
		}
	} else {
		int K = e->ps.K, best = 0;
		const float *tp = pr->top_probs + ((size_t)m * pr->P + j) * K;
		double s = pr->top_rest[(size_t)m * pr->P + j];
		for (int k = 0; k < K; k++) { s += tp[k]; if (tp[k] > tp[best]) best = k; }
		if (isnan(s)) {
			char err[2048];
			report_pos_error(err, sizeof err, pr->name, probs_model(&e->ps, m), pr->mask_pos[j], "NaN in top_probs or top_rest", s);
			report_die(&e->out, e->w, e->file, "%s", err);
		}
		x->row.pmax = tp[best];
		x->row.argmax = pr->top_ids[((size_t)m * pr->P + j) * K + best];
	}
	for (int q = 0; q < NQ; q++) v[q] = quantities[q].full && e->topk ? NAN : quantities[q].at(x, v);
}

/* the first record with positions fixes the shapes */
static void run_setup(ent_run *e)
{
	int M = e->ps.M, V = e->ps.V;
	e->topk = e->ps.kind == PROBS_TOPK;
	e->a.M = M; e->a.V = V;
	e->a.tot = xcalloc((size_t)M * NQ, sizeof(double));
	e->a.n = xcalloc(M, sizeof(double));
	e->sums = xmalloc(sizeof(double) * M * (1 + NQ));
	if (!e->topk) {
		e->buf = xaligned(sizeof(float) * V);
		e->scratch = xmalloc(sizeof(uint32_t) * 4 * V);
		e->order = xmalloc(sizeof(int32_t) * V);
	}
	if (e->mode->start) e->mode->start(e);
}

/* one record's positions: each model's quantities, summed per model */
static void run_record(ent_run *e)
{
	int M = e->a.M, P = e->pr->P;
	memset(e->sums, 0, sizeof(double) * M * (1 + NQ));
	for (int j = 0; j < P; j++)
		for (int m = 0; m < M; m++) {
			ent_at x;
			double v[NQ], *s = e->sums + (size_t)m * (1 + NQ);
			position_values(e, m, j, &x, v);
			s[0] += 1;
			for (int q = 0; q < NQ; q++) s[1 + q] += v[q];
			if (e->mode->at) e->mode->at(e, m, j, &x, v);
		}
	for (int m = 0; m < M; m++) {
		e->a.n[m] += e->sums[(size_t)m * (1 + NQ)];
		for (int q = 0; q < NQ; q++) e->a.tot[(size_t)m * NQ + q] += e->sums[(size_t)m * (1 + NQ) + 1 + q];
	}
	acc_record(&e->a, e->sums);
}

static void run_open_output(ent_run *e, const tns_header *h)
{
	const opts *o = e->o;
	if (!o->stream) { e->fp = cli_out_open(&e->out, o->co.output); return; }
	cli_check_binary_out(&o->co);
	tns_header hh;
	tns_header_copy(&hh, h);
	tns_header_add_pg(&hh, "entropy", SEQLM_VERSION, o->argc, o->argv, o->eps ? "\tEP:1e-10" : NULL);
	e->w = cli_tns_create(&o->co, o->co.output, &hh, 0);
	tns_writer_threads(e->w, o->co.threads);
	tns_header_free(&hh);
}

static void run_free(ent_run *e)
{
	probs_free(&e->ps);
	free(e->a.tot); free(e->a.n); free(e->a.rec); free(e->a.rank); free(e->a.hist);
	free(e->buf); free(e->scratch); free(e->order); free(e->sums);
	for (int q = 0; q < NQ; q++) { free(e->ebuf[q]); free(e->ibuf[q]); }
}

static void run_probs(tns_reader *r, const opts *o, const ent_mode *mode)
{
	char err[1024];
	ent_run e = {.o = o, .mode = mode, .file = o->file};
	if (probs_init(&e.ps, tns_reader_header(r), o->file, err, sizeof err) < 0) die_file(o->file, "%s", err);
	run_open_output(&e, tns_reader_header(r));
	tns_record rec;
	probs_rec pr;
	int rc;
	e.pr = &pr;
	while ((rc = tns_read(r, &rec)) > 0) {
		if (probs_get(&e.ps, &rec, &pr, err, sizeof err) < 0) report_die(&e.out, e.w, o->file, "%s", err);
		if (pr.P > 0 && !e.a.M) run_setup(&e);
		if (pr.P > 0) run_record(&e);
		if (mode->record) mode->record(&e, &rec);
	}
	if (rc < 0) report_die(&e.out, e.w, o->file, "%s", tns_error(r));
	if (!e.a.M && !e.w) report_die(&e.out, NULL, o->file, "no masked positions in the stream: nothing to measure");
	if (e.ps.kind == PROBS_TOPK && !o->rank)
		warn("%s: top-K input: entropy, KL to uniform, perplexity and NLL need full probabilities (printed NA)", o->file);
	if (mode->finish) mode->finish(&e);
	if (!e.w) cli_out_close(&e.out);
	else cli_close_stdout();
	run_free(&e);
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
		report_num(out, res.plugin, 0);
		report_num(out, res.miller_madow, 0);
		report_num(out, res.majority, 0);
		fputc('\n', out);
		met_ngram_free(&g[i]);
	}
	free(g); free(seq); free(framing);
}

static void parse_opts(opts *o, int argc, char **argv)
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
	int c;
	*o = (opts){.bins = 50, .nboot = 1000, .seed = 42, .argc = argc, .argv = argv};
	cli_init(&o->co, argc, argv);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "b:s:", longopts, NULL)) != -1) {
		switch (c) {
		case O_PERPOS: o->per_pos = 1; break;
		case O_RANK: o->rank = 1; break;
		case O_HIST: o->hist = 1; break;
		case O_STREAM: o->stream = 1; break;
		case O_TOKENS: o->tokens = 1; break;
		case O_BINS: o->bins = (int)cli_long("--bins", optarg, 1, 1000000); break;
		case O_ORDER:
			free(o->orders);
			o->norders = cli_int_list("--order", optarg, &o->orders);
			for (int i = 0; i < o->norders; i++)
				if (o->orders[i] < 0 || o->orders[i] > 16) die_usage("--order: orders 0..16, got %ld", o->orders[i]);
			break;
		case O_EPS: o->eps = 1; break;
		case O_KLREV: o->klrev = 1; break;
		case O_PPLNLL: o->pplnll = 1; break;
		case O_AUTHORS: o->eps = o->klrev = o->pplnll = 1; break;
		case 'b': o->nboot = (int)cli_long("--bootstrap", optarg, 0, 1000000); break;
		case 's': o->seed = (uint64_t)cli_long("--seed", optarg, 0, (1L << 62)); break;
		default:
			if (!cli_common_opt(&o->co, c, optarg, usage)) { usage(stderr); exit(EXIT_USAGE); }
		}
	}
	if (o->per_pos + o->rank + o->hist + o->stream + o->tokens > 1)
		die_usage("choose one of --per-position, --rank-curve, --hist, --stream, --tokens");
	if (argc - optind > 1) die_usage("one input file at most");
	cli_need_input(argc - optind, usage);
	if (!o->norders) o->norders = cli_int_list("--order", "0-3", &o->orders);
	o->file = optind < argc ? argv[optind] : "-";
}

int main(int argc, char **argv)
{
	opts o;
	char err[1024];
	parse_opts(&o, argc, argv);
	tns_reader *r = tns_open(o.file, err, sizeof err);
	if (!r) die_file(o.file, "%s", err);
	if (o.tokens) {
		cli_out out;
		FILE *fp = cli_out_open(&out, o.co.output);
		run_tokens(r, o.file, fp, &o);
		cli_out_close(&out);
	} else
		run_probs(r, &o, o.per_pos ? &mode_per_pos : o.rank ? &mode_rank : o.hist ? &mode_hist :
		                 o.stream ? &mode_stream : &mode_models);
	tns_close_reader(r);
	free(o.orders);
	return 0;
}
