/* disagree -- do the members of an ensemble agree?  On lmprobe output:
 * pairwise Jensen-Shannon distance (also after top-p truncation), argmax
 * agreement, KL both ways and the ensemble's mutual information.  With
 * --embeddings on model files: neighbour, Procrustes and CKA comparisons
 * of the word-embedding matrices. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/cli.h"
#include "analysis/embed.h"
#include "analysis/metrics.h"
#include "base/par.h"
#include "analysis/probs.h"
#include "analysis/report.h"
#include "io/tns.h"
#include "tok/vocab.h"

#define DEFAULT_TOP_P "0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1"
#define DEFAULT_K "1,3,5,10,20,50,100,1000,4000"
#define EMB_TENSOR "bert.embeddings.word_embeddings.weight"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: disagree [options] [PROBES.tns|-]\n"
"       disagree --embeddings [options] MODEL.tns MODEL.tns...\n"
"On lmprobe output with M >= 2 models, for every pair a < b and every\n"
"top-p value: the Jensen-Shannon distance (base 2, sqrt of the divergence,\n"
"in [0,1]) averaged over the masked positions, after truncating each\n"
"distribution to its top-p nucleus (smallest top set with mass >= p, at\n"
"least the top token, renormalised; p = 1: no truncation); the argmax\n"
"agreement and mean KL both ways (bits) of the full distributions.  Then a\n"
"summary row per top-p (model_a = model_b = *): means over pairs, the\n"
"population std of the JS distance over pairs, and the ensemble's mutual\n"
"information H(mean p) - mean H(p) in bits, averaged over positions.\n"
"TSV columns: model_a model_b top_p js_distance js_distance_std\n"
"argmax_agree kl_ab_bits kl_ba_bits mutual_info_bits n (NA: not defined);\n"
"a model is named by its file as given to lmprobe (@MO PA:).\n"
"\n"
"Options:\n"
"  -p, --top-p LIST     top-p values (default " DEFAULT_TOP_P ")\n"
"      --top-p-authors  the authors' truncation: the largest top prefix with\n"
"                       cumulative mass <= p (top-1 always kept)\n"
"      --matrix         print the M x M JS distance matrix per top-p instead\n"
"                       (columns top_p model, then one per model)\n"
"Embeddings (--embeddings, model files as arguments):\n"
"  -k LIST              neighbour counts (default " DEFAULT_K ";\n"
"                       values >= the rows used are dropped from the default)\n"
"      --one-sided      local Spearman over A's neighbours only (the authors')\n"
"                       instead of A's and B's, averaged\n"
"      --exclude-specials  drop the vocabulary's special ids first (seqlm's:\n"
"                       0..4, <UNK> <PAD> <CLS> <SEP> <MASK>)\n"
"                       (the default)\n"
"      --include-specials  keep them\n"
"      --no-rbf         skip RBF CKA (it needs a V x V matrix per model)\n"
"  Metrics (TSV model_a model_b metric k value std, the model files as\n"
"  given; summary rows * * with mean and population std over pairs):\n"
"  jaccard, spearman (per k; NA for k = 1), procrustes_disparity,\n"
"  procrustes_cosine, cka_linear, cka_rbf.\n"
"Common:\n"
"  -o, --output FILE    write to FILE (atomically) instead of stdout\n"
"  -t, --threads N      threads (positions; rows and matrix tiles for embeddings)\n"
"  -q, --quiet / -v, --verbose / --help / --version\n"
"\n"
"Inputs: probs f32 or f16 [M,P,V].  Nothing here can be computed from\n"
"top-K streams (lmprobe --top K) except argmax agreement: JS, KL and\n"
"mutual information need the whole distribution, so a top-K stream is an\n"
"error.  Exit status: 0 success, 1 error (one model only, no probs, V\n"
"changing between records, NaN...), 2 usage.  See disagree(1).\n");
}

enum { O_AUTHORS = 0x2000, O_MATRIX, O_EMB, O_ONESIDED, O_EXCL, O_INCL, O_NORBF };

/* the most top-p values -p takes (disagree(1)) */
#define MAX_TOP_P 256

/* what every position shares: the shapes, the top-p values and the record */
typedef struct pos_work pos_work;
typedef struct {
	int M, V, ntp, npair, mode;
	const double *tp;
	int full;                     /* a top-p value >= 1 (-1: none) */
	int nl;                       /* top-p values below 1 ... */
	const int *lv;                /* ... their indices in tp, ascending by value */
	const probs_stream *ps;
	const probs_rec *pr;
	pos_work *work;               /* one per thread */
	int nval, *off;               /* values per position; metric i's first */
	double *val;                  /* P x nval: each position's values */
	int *bad;                     /* P: 0, or 1 + model, with badsum */
	double *badsum;
} pos_ctx;

/* ---- the metrics ---------------------------------------------------------
 * A metric is a row of metrics[] below: its TSV column, how many values a
 * position gives (one per pair, per pair and top-p value, or per top-p
 * value for the whole ensemble) and the function computing them at one
 * position from the rows in pos_work.  The rest follows from the shape:
 * the values are summed over positions in position order, each pair row
 * prints the mean (NA for an ensemble metric) and the summary row (* *)
 * the mean over pairs (with std_col, the next column: their population
 * std) or the ensemble's mean. */
enum { PER_PAIR, PER_PAIR_TP, PER_TP };

typedef struct {
	const char *col;              /* TSV column */
	const char *std_col;          /* if not NULL: NA, then the std over pairs */
	int shape;                    /* PER_* */
	/* one position's values: out[k] (pair k), out[t * npair + k] (top-p
	 * t, pair k) or out[t] (top-p t) */
	void (*at)(const pos_ctx *c, pos_work *w, double *out);
} dis_metric;

/* one thread's scratch, and what it has found at the current position */
struct pos_work {
	float *buf, *lp, *lf;         /* M x V: rows (f16 converted), log2 p, log2 max(p, 1e-10) */
	float *tmp;                   /* V */
	int32_t *order, *lev;         /* M x V: each row's order (met_nucleus), met_levels() */
	uint32_t *key;                /* M x V: each row's sort keys */
	uint64_t *tmp64;              /* V: a bucket being sorted */
	met_nucleus *nuc;             /* M */
	/* the mean distribution over the union of small kept sets: per-token
	 * sums (kept zero between uses), which tokens are in it, and its
	 * values gathered */
	float *acc, *gm;
	int32_t *uni;                 /* V + 16: also met_jsd_levels()'s scratch */
	uint8_t *mark;
	/* the position */
	const float **p;              /* M rows */
	int *am;                      /* M: argmax */
	double *h;                    /* M: entropy */
	int *kept;                    /* M x nl: the truncations' sizes, */
	double *mass, *hq;            /* kept mass and entropy */
	double *jsdl;                 /* nl */
	int pairs_done;               /* jsd, klab, klba hold this position's */
	double *jsd, *klab, *klba;    /* npair: of the full distributions */
};

static void pos_work_init(pos_work *w, const pos_ctx *c)
{
	size_t M = c->M, V = c->V, nl = c->nl ? c->nl : 1;
	memset(w, 0, sizeof *w);
	w->buf = xaligned(sizeof(float) * M * V);
	w->lp = xaligned(sizeof(float) * M * V);
	w->lf = xaligned(sizeof(float) * M * V);
	w->tmp = xaligned(sizeof(float) * V);
	w->order = xaligned(sizeof(int32_t) * M * V);
	w->lev = xaligned(sizeof(int32_t) * M * V);
	w->key = xaligned(sizeof(uint32_t) * M * V);
	w->tmp64 = xaligned(sizeof(uint64_t) * V);
	w->nuc = xaligned(sizeof(met_nucleus) * M);
	w->acc = xaligned(sizeof(float) * V);
	memset(w->acc, 0, sizeof(float) * V);
	w->gm = xaligned(sizeof(float) * V);
	w->uni = xaligned(sizeof(int32_t) * (V + 16));
	w->mark = xcalloc(V, 1);
	w->p = xmalloc(sizeof(float *) * M);
	w->am = xmalloc(sizeof(int) * M);
	w->h = xmalloc(sizeof(double) * M);
	w->kept = xmalloc(sizeof(int) * M * nl);
	w->mass = xmalloc(sizeof(double) * M * nl);
	w->hq = xmalloc(sizeof(double) * M * nl);
	w->jsdl = xmalloc(sizeof(double) * nl);
	w->jsd = xmalloc(sizeof(double) * c->npair);
	w->klab = xmalloc(sizeof(double) * c->npair);
	w->klba = xmalloc(sizeof(double) * c->npair);
}

static void pos_work_free(pos_work *w)
{
	free(w->buf); free(w->lp); free(w->lf); free(w->tmp); free(w->order); free(w->lev); free(w->key);
	free(w->tmp64); free(w->nuc); free(w->acc); free(w->gm); free(w->uni); free(w->mark);
	free(w->p); free(w->am); free(w->h); free(w->kept); free(w->mass); free(w->hq); free(w->jsdl);
	free(w->jsd); free(w->klab); free(w->klba);
}

/* where model m's row starts in an M x V scratch */
static inline size_t ro(const pos_ctx *c, int m) { return (size_t)m * c->V; }

/* the full distributions of every pair: JS divergence and KL both ways,
 * in one pass when a top-p value is 1 (else KL only); once a position */
static void pairs_full(const pos_ctx *c, pos_work *w)
{
	int M = c->M, V = c->V, k = 0;
	if (w->pairs_done) return;
	for (int a = 0; a < M; a++)
		for (int b = a + 1; b < M; b++, k++) {
			if (c->full >= 0)
				met_jsd_kl(w->p[a], w->lp + ro(c, a), w->lf + ro(c, a), w->p[b], w->lp + ro(c, b), w->lf + ro(c, b), V, &w->jsd[k], &w->klab[k],
				           &w->klba[k]);
			else {
				w->klab[k] = met_kl_lp(w->p[a], w->lp + ro(c, a), w->lf + ro(c, b), V);
				w->klba[k] = met_kl_lp(w->p[b], w->lp + ro(c, b), w->lf + ro(c, a), V);
			}
		}
	w->pairs_done = 1;
}

/* the JS distance: at top-p 1 from pairs_full(); at the values below 1,
 * ascending, each row keeps nested prefixes of its order, so a pair's
 * divergences at all of them come from one pass over the two rows' kept
 * tokens (met_jsd_levels) */
static void at_js(const pos_ctx *c, pos_work *w, double *out)
{
	int M = c->M, np = c->npair, nl = c->nl, k = 0;
	if (c->full >= 0) {
		pairs_full(c, w);
		for (k = 0; k < np; k++)
			for (int t = 0; t < c->ntp; t++)
				if (c->tp[t] >= 1) out[(size_t)t * np + k] = sqrt(w->jsd[k]);
	}
	if (!nl) return;
	k = 0;
	for (int a = 0; a < M; a++)
		for (int b = a + 1; b < M; b++, k++) {
			met_jsd_levels(w->p[a], w->order + ro(c, a), w->lev + ro(c, a), w->kept + a * nl, w->mass + a * nl, w->p[b], w->order + ro(c, b),
			               w->lev + ro(c, b), w->kept + b * nl, w->mass + b * nl, nl, w->jsdl, w->uni);
			for (int u = 0; u < nl; u++) out[(size_t)c->lv[u] * np + k] = sqrt(w->jsdl[u]);
		}
}

static void at_agree(const pos_ctx *c, pos_work *w, double *out)
{
	for (int a = 0, k = 0; a < c->M; a++)
		for (int b = a + 1; b < c->M; b++, k++) out[k] = w->am[a] == w->am[b];
}

static void at_kl_ab(const pos_ctx *c, pos_work *w, double *out)
{
	pairs_full(c, w);
	memcpy(out, w->klab, sizeof(double) * c->npair);
}

static void at_kl_ba(const pos_ctx *c, pos_work *w, double *out)
{
	pairs_full(c, w);
	memcpy(out, w->klba, sizeof(double) * c->npair);
}

/* the entropy of the mean of M truncations (row m: wt[m] p[m] on its
 * first kept[m] tokens) over the union of their kept sets only (elsewhere
 * it is 0): each token's sum over the models in model order, as
 * met_mean_entropy_levels() adds them over all V, so the mean is the same
 * bits and only the entropy's rounding depends on the path */
static double union_mean_entropy(const pos_ctx *c, pos_work *w, const float *wt, const int *kept)
{
	int M = c->M, nu = 0;
	for (int m = 0; m < M; m++) {
		const int32_t *o = w->order + ro(c, m);
		for (int i = 0; i < kept[m]; i++) {
			int j = o[i];
			if (!w->mark[j]) { w->mark[j] = 1; w->uni[nu++] = j; }
			w->acc[j] += w->p[m][j] * wt[m];
		}
	}
	for (int u = 0; u < nu; u++) {
		int j = w->uni[u];
		w->gm[u] = w->acc[j];
		w->acc[j] = 0; w->mark[j] = 0;
	}
	met_row r;
	met_row_stats(w->gm, nu, &r);
	return r.entropy;
}

/* the ensemble's mutual information H(mean p) - mean H(p) at each top-p;
 * below 1 the mean's entropy over all V in vectors (every level at once, a
 * block of tokens at a time), or, when the kept sets are small, over
 * their union only (the same mean, so only the entropy's rounding depends
 * on the path) */
static void at_mi(const pos_ctx *c, pos_work *w, double *out)
{
	int M = c->M, V = c->V, nl = c->nl;
	if (c->full >= 0) {
		met_row r;
		met_mean_rows(w->p, M, V, w->tmp);
		met_row_stats(w->tmp, V, &r);
		double mh = 0;
		for (int m = 0; m < M; m++) mh += w->h[m];
		double mi = r.entropy - mh / M;
		for (int t = 0; t < c->ntp; t++)
			if (c->tp[t] >= 1) out[t] = mi < 0 ? 0 : mi;
	}
	if (!nl) return;
	float wt[M * nl];
	uint8_t dense[nl];
	double hm[nl];
	const int32_t *lev[M];
	for (int m = 0; m < M; m++) lev[m] = w->lev + ro(c, m);
	for (int u = 0; u < nl; u++) {
		long nk = 0;
		for (int m = 0; m < M; m++) {
			wt[m * nl + u] = (float)(1 / (M * w->mass[m * nl + u]));
			nk += w->kept[m * nl + u];
		}
		dense[u] = nk > V / 4;
	}
	met_mean_entropy_levels(w->p, lev, wt, M, V, nl, dense, hm);
	for (int u = 0; u < nl; u++) {
		float wu[M];
		int ku[M];
		double mh = 0;
		for (int m = 0; m < M; m++) {
			wu[m] = wt[m * nl + u];
			ku[m] = w->kept[m * nl + u];
			mh += w->hq[m * nl + u];
		}
		if (!dense[u]) hm[u] = union_mean_entropy(c, w, wu, ku);
		double mi = hm[u] - mh / M;
		out[c->lv[u]] = mi < 0 ? 0 : mi;
	}
}

/* the columns, in TSV order (the matrix of --matrix is the first's) */
static const dis_metric metrics[] = {
	/* column            std column          shape        at one position */
	{"js_distance",      "js_distance_std",  PER_PAIR_TP, at_js},
	{"argmax_agree",     NULL,               PER_PAIR,    at_agree},
	{"kl_ab_bits",       NULL,               PER_PAIR,    at_kl_ab},
	{"kl_ba_bits",       NULL,               PER_PAIR,    at_kl_ba},
	{"mutual_info_bits", NULL,               PER_TP,      at_mi},
};
#define NMETRIC (int)(sizeof metrics / sizeof *metrics)
#define MATRIX_METRIC 0

static int metric_nval(const dis_metric *d, int ntp, int np)
{
	return d->shape == PER_PAIR ? np : d->shape == PER_PAIR_TP ? ntp * np : ntp;
}

/* ---- one position ------------------------------------------------------ */

/* model m's row at position j: logs, entropy, argmax, the sum checked
 * (-1: bad, in c->bad), its top-p order begun */
static int row_prepare(const pos_ctx *c, pos_work *w, int j, int m)
{
	int V = c->V;
	met_row row;
	w->p[m] = probs_row(c->ps, c->pr, m, j, w->buf + ro(c, m));
	met_row_logs(w->p[m], V, w->lp + ro(c, m), w->lf + ro(c, m), &row);
	if (report_bad_sum(c->ps->kind, row.sum)) {
		c->bad[j] = 1 + m; c->badsum[j] = row.sum;
		return -1;
	}
	w->am[m] = row.argmax;
	w->h[m] = row.entropy;
	if (c->nl) met_nucleus_init(&w->nuc[m], w->p[m], NULL, V, w->order + ro(c, m), w->key + ro(c, m), w->tmp64);
	return 0;
}

/* model m's truncations at the top-p values below 1: sizes, masses,
 * met_levels(), and entropies from the sums over their tokens */
static void row_levels(const pos_ctx *c, pos_work *w, int m)
{
	int V = c->V, nl = c->nl;
	int *kept = w->kept + m * nl;
	double *mass = w->mass + m * nl, plp[nl], none;     /* met_levels() gives the sums of p log2 p */
	for (int u = 0; u < nl; u++) kept[u] = met_nucleus_count(&w->nuc[m], c->tp[c->lv[u]], c->mode, &mass[u], &none);
	met_levels(w->p[m], w->lp + ro(c, m), w->order + ro(c, m), kept, nl, V, w->lev + ro(c, m), plp);
	for (int u = 0; u < nl; u++) {
		double ht = log2(mass[u]) - plp[u] / mass[u];
		w->hq[m * nl + u] = ht > 0 ? ht : 0;
	}
}

static void do_position(void *arg, int j, int tid)
{
	pos_ctx *c = arg;
	pos_work *w = &c->work[tid];
	c->bad[j] = 0;
	for (int m = 0; m < c->M; m++)
		if (row_prepare(c, w, j, m) < 0) return;
	if (c->nl)
		for (int m = 0; m < c->M; m++) row_levels(c, w, m);
	w->pairs_done = 0;
	double *v = c->val + (size_t)j * c->nval;
	for (int i = 0; i < NMETRIC; i++) metrics[i].at(c, w, v + c->off[i]);
}

/* ---- the stream ---------------------------------------------------------- */

typedef struct {
	int ntp, mode, matrix, threads;
	const double *tp;
} probs_opts;

/* the sums over the positions of the stream */
typedef struct {
	pos_ctx c;
	int lv[MAX_TOP_P];
	int cap;                      /* positions c.val has room for */
	double *sum, n;               /* nval sums; positions */
} probs_acc;

/* the shapes are known (the first record with positions) */
static void acc_setup(probs_acc *s, const probs_opts *o, const probs_stream *ps)
{
	pos_ctx *c = &s->c;
	c->M = ps->M; c->V = ps->V; c->npair = c->M * (c->M - 1) / 2;
	c->ntp = o->ntp; c->tp = o->tp; c->mode = o->mode; c->ps = ps;
	c->full = -1;
	for (int t = 0; t < o->ntp; t++) if (o->tp[t] >= 1) c->full = t;
	/* the top-p values below 1 by ascending value (ties in list order) */
	for (int t = 0; t < o->ntp; t++) {
		if (o->tp[t] >= 1) continue;
		int u = c->nl++;
		for (; u > 0 && o->tp[s->lv[u - 1]] > o->tp[t]; u--) s->lv[u] = s->lv[u - 1];
		s->lv[u] = t;
	}
	c->lv = s->lv;
	c->off = xmalloc(sizeof(int) * NMETRIC);
	for (int i = 0; i < NMETRIC; i++) {
		c->off[i] = c->nval;
		c->nval += metric_nval(&metrics[i], c->ntp, c->npair);
	}
	s->sum = xcalloc(c->nval, sizeof(double));
	c->work = xmalloc(sizeof(pos_work) * o->threads);
	for (int t = 0; t < o->threads; t++) pos_work_init(&c->work[t], c);
}

static void acc_free(probs_acc *s, int threads)
{
	if (s->c.work)
		for (int t = 0; t < threads; t++) pos_work_free(&s->c.work[t]);
	free(s->c.work); free(s->c.off); free(s->c.val); free(s->c.bad); free(s->c.badsum); free(s->sum);
}

/* one record's positions, computed in parallel, summed in position order:
 * the same bytes for any -t */
static void acc_record(probs_acc *s, const probs_opts *o, probs_stream *ps, const probs_rec *pr, const char *file,
                       const tns_record *rec, cli_out *co)
{
	pos_ctx *c = &s->c;
	int P = pr->P;
	if (P > s->cap) {
		s->cap = P;
		c->val = xrealloc(c->val, sizeof(double) * s->cap * c->nval);
		c->bad = xrealloc(c->bad, sizeof(int) * s->cap);
		c->badsum = xrealloc(c->badsum, sizeof(double) * s->cap);
	}
	c->pr = pr;
	par_dynamic(o->threads, P, do_position, c);
	for (int j = 0; j < P; j++) {
		if (c->bad[j]) {
			char err[2048];
			report_pos_error(err, sizeof err, rec->name, probs_model(ps, c->bad[j] - 1), pr->mask_pos[j],
			                 report_bad_sum(ps->kind, c->badsum[j]), c->badsum[j]);
			report_die(co, NULL, file, "%s", err);
		}
		const double *v = c->val + (size_t)j * c->nval;
		for (int i = 0; i < c->nval; i++) s->sum[i] += v[i];
		s->n++;
	}
}

/* --matrix: the first metric's M x M matrix per top-p */
static void print_matrix(FILE *out, const probs_acc *s, probs_stream *ps)
{
	const pos_ctx *c = &s->c;
	int M = c->M, np = c->npair;
	const double *sum = s->sum + c->off[MATRIX_METRIC];
	fputs("top_p\tmodel", out);
	for (int m = 0; m < M; m++) fprintf(out, "\t%s", probs_model(ps, m));
	fputc('\n', out);
	for (int t = 0; t < c->ntp; t++)
		for (int a = 0; a < M; a++) {
			fprintf(out, "%.9g\t%s", c->tp[t], probs_model(ps, a));
			for (int b = 0; b < M; b++) {
				if (a == b) { fputs("\t0", out); continue; }
				int x = a < b ? a : b, y = a < b ? b : a;
				int k = x * M - x * (x + 1) / 2 + (y - x - 1);
				report_num(out, sum[(size_t)t * np + k] / s->n, 0);
			}
			fputc('\n', out);
		}
}

/* metric d's mean over positions for top-p t and pair k (-1: the
 * ensemble's, or NaN for a metric of pairs) */
static double metric_mean(const probs_acc *s, int i, int t, int k)
{
	const dis_metric *d = &metrics[i];
	const double *sum = s->sum + s->c.off[i];
	if (d->shape == PER_TP) return k < 0 ? sum[t] / s->n : NAN;
	if (k < 0) return NAN;
	return sum[(d->shape == PER_PAIR_TP ? (size_t)t * s->c.npair : 0) + k] / s->n;
}

/* the TSV: per top-p value, a row per pair, then the summary row */
static void print_pairs(FILE *out, const probs_acc *s, probs_stream *ps)
{
	const pos_ctx *c = &s->c;
	int np = c->npair;
	fputs("model_a\tmodel_b\ttop_p", out);
	for (int i = 0; i < NMETRIC; i++) {
		fprintf(out, "\t%s", metrics[i].col);
		if (metrics[i].std_col) fprintf(out, "\t%s", metrics[i].std_col);
	}
	fputs("\tn\n", out);
	for (int t = 0; t < c->ntp; t++) {
		double ps1[NMETRIC], ps2[NMETRIC];
		memset(ps1, 0, sizeof ps1); memset(ps2, 0, sizeof ps2);
		for (int a = 0, k = 0; a < c->M; a++)
			for (int b = a + 1; b < c->M; b++, k++) {
				fprintf(out, "%s\t%s\t%.9g", probs_model(ps, a), probs_model(ps, b), c->tp[t]);
				for (int i = 0; i < NMETRIC; i++) {
					double v = metric_mean(s, i, t, k);
					ps1[i] += v; ps2[i] += v * v;
					report_num(out, v, 0);
					if (metrics[i].std_col) report_num(out, NAN, 0);
				}
				fprintf(out, "\t%.0f\n", s->n);
			}
		fprintf(out, "*\t*\t%.9g", c->tp[t]);
		for (int i = 0; i < NMETRIC; i++) {
			double mean, std;
			report_mean_std(ps1[i], ps2[i], np, &mean, &std);
			if (metrics[i].shape == PER_TP) mean = metric_mean(s, i, t, -1);
			report_num(out, mean, 0);
			if (metrics[i].std_col) report_num(out, std, 0);
		}
		fprintf(out, "\t%.0f\n", s->n);
	}
}

static void run_probs(const char *file, FILE *out, cli_out *co, const probs_opts *o)
{
	char err[1024];
	tns_reader *r = tns_open(file, err, sizeof err);
	if (!r) report_die(co, NULL, file, "%s", err);
	probs_stream ps;
	if (probs_init(&ps, tns_reader_header(r), file, err, sizeof err) < 0) report_die(co, NULL, file, "%s", err);
	if (ps.M == 1) report_die(co, NULL, file, "one model only (@KV probe_models 1): disagree compares at least 2");
	tns_record rec;
	probs_rec pr;
	probs_acc s = {0};
	int rc;
	while ((rc = tns_read(r, &rec)) > 0) {
		if (probs_get(&ps, &rec, &pr, err, sizeof err) < 0) report_die(co, NULL, file, "%s", err);
		if (pr.P == 0) continue;
		if (ps.kind == PROBS_TOPK)
			report_die(co, NULL, file, "this stream has top-K probabilities only (lmprobe --top K): the JS distance, KL and mutual information need full probs");
		if (!s.c.M) {
			if (ps.M < 2) report_die(co, NULL, file, "one model only: disagree compares at least 2");
			acc_setup(&s, o, &ps);
		}
		acc_record(&s, o, &ps, &pr, file, &rec, co);
	}
	if (rc < 0) report_die(co, NULL, file, "%s", tns_error(r));
	if (!s.c.M) report_die(co, NULL, file, "no masked positions in the stream: nothing to compare");
	if (o->matrix) print_matrix(out, &s, &ps);
	else print_pairs(out, &s, &ps);
	acc_free(&s, o->threads);
	probs_free(&ps);
	tns_close_reader(r);
}

/* ---- --embeddings -------------------------------------------------------- */

/* the special ids that --exclude-specials drops: the vocabulary's leading
 * block of specials (seqlm's 0..4; an HF vocabulary's own) */
static int leading_specials(const char *file, const tns_header *h)
{
	char err[512];
	tok_vocab v;
	int rc = vocab_from_header(&v, h, err, sizeof err);
	if (rc == -1) return TOK_NSPECIAL;            /* no vocabulary: seqlm's order */
	if (rc < 0) die_file(file, "%s", err);
	int n = vocab_nlead(&v);
	vocab_free(&v);
	if (n < 0) die_file(file, "the vocabulary's special tokens are not its first ids: use --include-specials");
	return n;
}

/* prepare model m from a model file's word-embedding matrix, read in place
 * (no copy: fresh memory is slow to fault in); first != 0: drop the
 * leading special ids, whose count is returned in *first */
static void load_embeddings(const char *file, emb_model *m, int *firstp, int flags, int threads,
                            int *V, int *d, uint64_t *vhash)
{
	char err[1024];
	tns_reader *r = tns_open(file, err, sizeof err);
	if (!r) die_file(file, "%s", err);
	const tns_header *h = tns_reader_header(r);
	*vhash = vocab_header_hash(h);
	int first = *firstp ? leading_specials(file, h) : 0;
	*firstp = first;
	int64_t hv = 0, hd = 0;
	tns_header_get_int(h, "vocab_size", &hv);
	tns_header_get_int(h, "hidden_size", &hd);
	tns_record rec;
	int rc, found = 0;
	while (!found && (rc = tns_read(r, &rec)) > 0) {
		if (strcmp(rec.name, "params")) continue;
		const tns_tensor *t = tns_get(&rec, EMB_TENSOR);
		if (!t) die_file(file, "record params has no %s: not a model file?", EMB_TENSOR);
		if (t->dtype != TNS_F32 || t->ndim != 2) die_file(file, "%s must be f32[V,d]", EMB_TENSOR);
		if ((hv && hv != t->dim[0]) || (hd && hd != t->dim[1]))
			die_file(file, "%s is %lldx%lld but the header says vocab_size %lld, hidden_size %lld", EMB_TENSOR,
			         (long long)t->dim[0], (long long)t->dim[1], (long long)hv, (long long)hd);
		*V = (int)t->dim[0]; *d = (int)t->dim[1];
		if (first >= *V) die_file(file, "only %d rows", *V);
		double t0 = cli_now();
		if (emb_model_init(m, t->data, *V, *d, first, flags, threads, err, sizeof err) < 0) die_file(file, "%s", err);
		if (cli_verbose > 0) info("%s: %dx%d embeddings prepared in %.2f s", file, *V - first, *d, cli_now() - t0);
		found = 1;
	}
	if (!found && rc < 0) die_file(file, "%s", tns_error(r));
	if (!found) die_file(file, "no record named params: not a model file?");
	tns_close_reader(r);
}

static int run_embeddings(int nf, char **files, FILE *out, cli_out *co, long *ks, int nk, int user_k,
                          int one_sided, int first, int flags, int threads)
{
	char err[1024];
	if (nf < 2) { cli_out_abort(co); die_usage("--embeddings needs at least 2 model files"); }
	emb_model *m = xmalloc(sizeof(emb_model) * nf);
	int V0 = 0, d0 = 0;
	uint64_t h0 = 0;
	for (int i = 0; i < nf; i++) {
		int V, d, fi = first;
		uint64_t vh;
		load_embeddings(files[i], &m[i], &fi, flags, threads, &V, &d, &vh);
		if (i == nf - 1) first = fi;      /* one vocabulary (hash checked below): one count */
		if (i == 0) { V0 = V; d0 = d; h0 = vh; }
		else if (V != V0 || d != d0) { cli_out_abort(co); die_file(files[i], "embeddings are %dx%d, %s's %dx%d", V, d, files[0], V0, d0); }
		else if (vh != h0) { cli_out_abort(co); die_file(files[i], "a different vocabulary from %s's (@TK hash)", files[0]); }
	}
	int rows = V0 - first, *k = xmalloc(sizeof(int) * (nk ? nk : 1)), n = 0;
	for (int i = 0; i < nk; i++) {
		if (ks[i] < 1 || ks[i] >= rows) {
			if (user_k) { cli_out_abort(co); die_usage("-k %ld: need 1 <= k < %d (the rows compared)", ks[i], rows); }
			continue;
		}
		k[n++] = (int)ks[i];
	}
	int np = nf * (nf - 1) / 2, nmet = 2 * n + 4;
	double *val = xmalloc(sizeof(double) * np * nmet), *jac = xmalloc(sizeof(double) * (n ? n : 1)),
	       *sp = xmalloc(sizeof(double) * (n ? n : 1));
	fputs("model_a\tmodel_b\tmetric\tk\tvalue\tstd\n", out);
	int pi = 0;
	for (int a = 0; a < nf; a++)
		for (int b = a + 1; b < nf; b++, pi++) {
			emb_pair ep;
			double t0 = cli_now();
			if (emb_compare(&m[a], &m[b], n, k, one_sided, threads, jac, sp, &ep, err, sizeof err) < 0) {
				cli_out_abort(co);
				die_file(files[b], "%s", err);
			}
			if (cli_verbose > 0) info("pair %d-%d compared in %.2f s", a, b, cli_now() - t0);
			double *v = val + (size_t)pi * nmet;
			for (int i = 0; i < n; i++) { v[2 * i] = jac[i]; v[2 * i + 1] = sp[i]; }
			v[2 * n] = ep.disparity; v[2 * n + 1] = ep.procrustes_cos;
			v[2 * n + 2] = ep.cka_linear; v[2 * n + 3] = ep.cka_rbf;
		}
	static const char *tail[] = {"procrustes_disparity", "procrustes_cosine", "cka_linear", "cka_rbf"};
	int *pa = xmalloc(sizeof(int) * np), *pb = xmalloc(sizeof(int) * np);
	for (int a = 0, q = 0; a < nf; a++)
		for (int b = a + 1; b < nf; b++, q++) { pa[q] = a; pb[q] = b; }
	for (int p = 0; p <= np; p++) {
		/* pair rows, then the summary (p == np) */
		int a = p < np ? pa[p] : 0, b = p < np ? pb[p] : 0;
		for (int x = 0; x < nmet; x++) {
			const char *metric = x < 2 * n ? (x % 2 ? "spearman" : "jaccard") : tail[x - 2 * n];
			if (p < np) fprintf(out, "%s\t%s\t%s\t", files[a], files[b], metric);
			else fprintf(out, "*\t*\t%s\t", metric);
			if (x < 2 * n) fprintf(out, "%d", k[x / 2]);
			else fputs("NA", out);
			if (p < np) {
				report_num(out, val[(size_t)p * nmet + x], 0);
				report_num(out, NAN, 0);
			} else {
				double s = 0, s2 = 0;
				for (int q = 0; q < np; q++) { double v = val[(size_t)q * nmet + x]; s += v; s2 += v * v; }
				double mean, std;
				report_mean_std(s, s2, np, &mean, &std);
				report_num(out, mean, 0);
				report_num(out, std, 0);
			}
			fputc('\n', out);
		}
	}
	for (int i = 0; i < nf; i++) emb_model_free(&m[i]);
	free(m); free(k); free(val); free(jac); free(sp); free(pa); free(pb);
	return 0;
}

/* the command line */
typedef struct {
	cli_opts co;
	int mode, matrix, emb, one_sided, first, flags, user_k;
	const char *tps, *klist;
} dis_opts;

static void parse_opts(dis_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"top-p", required_argument, 0, 'p'}, {"top-p-authors", no_argument, 0, O_AUTHORS},
		{"matrix", no_argument, 0, O_MATRIX}, {"embeddings", no_argument, 0, O_EMB},
		{"one-sided", no_argument, 0, O_ONESIDED}, {"exclude-specials", no_argument, 0, O_EXCL},
		{"include-specials", no_argument, 0, O_INCL}, {"no-rbf", no_argument, 0, O_NORBF},
		CLI_LONGOPTS
	};
	int c;
	*o = (dis_opts){.mode = MET_TOPP_NUCLEUS, .first = TOK_NSPECIAL, .tps = DEFAULT_TOP_P, .klist = DEFAULT_K};
	cli_init(&o->co, argc, argv);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "p:k:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->tps = optarg; break;
		case 'k': o->klist = optarg; o->user_k = 1; break;
		case O_AUTHORS: o->mode = MET_TOPP_AUTHORS; break;
		case O_MATRIX: o->matrix = 1; break;
		case O_EMB: o->emb = 1; break;
		case O_ONESIDED: o->one_sided = 1; break;
		case O_EXCL: o->first = TOK_NSPECIAL; break;
		case O_INCL: o->first = 0; break;
		case O_NORBF: o->flags |= EMB_NO_RBF; break;
		default:
			if (!cli_common_opt(&o->co, c, optarg, usage)) { usage(stderr); exit(EXIT_USAGE); }
		}
	}
}

static void main_embeddings(const dis_opts *o, int nf, char **files)
{
	cli_out out = {0};
	long *ks;
	int nk = cli_int_list("-k", o->klist, &ks);
	if (nf < 2) die_usage("--embeddings needs at least 2 model files");
	for (int i = 0; i < nf; i++)
		if (strpbrk(files[i], "\t\n")) die_usage("model path with a tab or newline: it names the model in the TSV's columns");
	FILE *fp = cli_out_open(&out, o->co.output);
	run_embeddings(nf, files, fp, &out, ks, nk, o->user_k, o->one_sided, o->first, o->flags, o->co.threads);
	free(ks);
	cli_out_close(&out);
}

/* the top-p list: numbers in (0, 1], MAX_TOP_P at most */
static int parse_top_p(const char *list, double *tp)
{
	int ntp = 0;
	char *s = xstrdup(list), *save = NULL;
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (ntp == MAX_TOP_P) die_usage("--top-p: %d values at most", MAX_TOP_P);
		tp[ntp++] = cli_double("--top-p", tok, 1e-9, 1);
	}
	free(s);
	if (!ntp) die_usage("--top-p: empty list");
	return ntp;
}

int main(int argc, char **argv)
{
	dis_opts o;
	par_blas_prefer_avx512(argv);     /* may re-exec with OpenBLAS's AVX-512 kernels */
	parse_opts(&o, argc, argv);
	if (o.emb) {
		main_embeddings(&o, argc - optind, argv + optind);
		return 0;
	}
	double tp[MAX_TOP_P];
	probs_opts po = {parse_top_p(o.tps, tp), o.mode, o.matrix, o.co.threads, tp};
	if (argc - optind > 1) die_usage("one input file at most (model files go with --embeddings)");
	cli_need_input(argc - optind, usage);
	const char *file = optind < argc ? argv[optind] : "-";
	cli_out out = {0};
	FILE *fp = cli_out_open(&out, o.co.output);
	run_probs(file, fp, &out, &po);
	cli_out_close(&out);
	return 0;
}
