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

typedef struct {
	int M, V, ntp, npair, mode;
	const double *tp;
	int nl;                       /* top-p values below 1 ... */
	const int *lv;                /* ... their indices in tp, ascending by value */
	const probs_stream *ps;
	const probs_rec *pr;
	/* per thread scratch */
	float **buf, **lp, **lf, **tmp;
	int32_t **order;              /* M x V, each row's order (met_nucleus) */
	uint32_t **key;               /* M x V, each row's sort keys */
	uint64_t **tmp64;             /* V, a bucket being sorted */
	met_nucleus **nuc;            /* M */
	int32_t **lev;                /* M x V, met_levels() of each row */
	/* the mean distribution over the union of small kept sets: per-token
	 * sums (kept zero between uses), which tokens are in it, and its
	 * values gathered */
	float **acc, **gm;
	int32_t **uni;                /* V + 16: also met_jsd_levels()'s scratch */
	uint8_t **mark;
	/* per position results */
	double *js;                   /* P x ntp x npair */
	double *mi;                   /* P x ntp */
	double *agree, *klab, *klba;  /* P x npair */
	int *bad;                     /* P: 0, or 1 + model, with badsum */
	double *badsum;
} pos_ctx;

static double sum_tol(int kind) { return kind == PROBS_F16 ? 1e-2 : 1e-3; }

/* the entropy of the mean of M truncations (row m: w[m] p[m] on its
 * first kept[m] tokens) over the union of their kept sets only (elsewhere
 * it is 0): each token's sum over the models in model order, as
 * met_mean_entropy_levels() adds them over all V, so the mean is the same
 * bits and only the entropy's rounding depends on the path */
static double union_mean_entropy(pos_ctx *c, int tid, const float *const *p, const float *w, const int *kept)
{
	int M = c->M, V = c->V, nu = 0;
	float *acc = c->acc[tid], *gm = c->gm[tid];
	int32_t *uni = c->uni[tid];
	uint8_t *mark = c->mark[tid];
	for (int m = 0; m < M; m++) {
		const int32_t *o = c->order[tid] + (size_t)m * V;
		for (int i = 0; i < kept[m]; i++) {
			int j = o[i];
			if (!mark[j]) { mark[j] = 1; uni[nu++] = j; }
			acc[j] += p[m][j] * w[m];
		}
	}
	for (int u = 0; u < nu; u++) {
		int j = uni[u];
		gm[u] = acc[j];
		acc[j] = 0; mark[j] = 0;
	}
	met_row r;
	met_row_stats(gm, nu, &r);
	return r.entropy;
}

static void do_position(void *arg, int j, int tid)
{
	pos_ctx *c = arg;
	int M = c->M, V = c->V, np = c->npair, nl = c->nl;
	const float *p[M];
	int am[M];
	double h[M];
	float *lp = c->lp[tid], *lf = c->lf[tid];
	c->bad[j] = 0;
	for (int m = 0; m < M; m++) {
		met_row row;
		p[m] = probs_row(c->ps, c->pr, m, j, c->buf[tid] + (size_t)m * V);
		met_row_logs(p[m], V, lp + (size_t)m * V, lf + (size_t)m * V, &row);
		if (isnan(row.sum) || fabs(row.sum - 1) > sum_tol(c->ps->kind)) {
			c->bad[j] = 1 + m; c->badsum[j] = row.sum;
			return;
		}
		am[m] = row.argmax;
		h[m] = row.entropy;
		if (nl)
			met_nucleus_init(&c->nuc[tid][m], p[m], NULL, V, c->order[tid] + (size_t)m * V,
			                 c->key[tid] + (size_t)m * V, c->tmp64[tid]);
	}
	/* KL both ways: in the JS pass at top-p 1 when there is one */
	int full = -1, k = 0;
	for (int t = 0; t < c->ntp; t++) if (c->tp[t] >= 1) full = t;
	for (int a = 0; a < M; a++)
		for (int b = a + 1; b < M; b++, k++) {
			size_t o = (size_t)j * np + k;
			c->agree[o] = am[a] == am[b];
			if (full >= 0) {
				double d;
				met_jsd_kl(p[a], lp + (size_t)a * V, lf + (size_t)a * V, p[b], lp + (size_t)b * V, lf + (size_t)b * V,
				           V, &d, &c->klab[o], &c->klba[o]);
				for (int t = 0; t < c->ntp; t++)
					if (c->tp[t] >= 1) c->js[((size_t)j * c->ntp + t) * np + k] = sqrt(d);
			} else {
				c->klab[o] = met_kl_lp(p[a], lp + (size_t)a * V, lf + (size_t)b * V, V);
				c->klba[o] = met_kl_lp(p[b], lp + (size_t)b * V, lf + (size_t)a * V, V);
			}
		}
	if (full >= 0) {
		met_row r;
		met_mean_rows(p, M, V, c->tmp[tid]);
		met_row_stats(c->tmp[tid], V, &r);
		double mh = 0;
		for (int m = 0; m < M; m++) mh += h[m];
		double mi = r.entropy - mh / M;
		for (int t = 0; t < c->ntp; t++)
			if (c->tp[t] >= 1) c->mi[(size_t)j * c->ntp + t] = mi < 0 ? 0 : mi;
	}
	if (!nl) return;
	/* the top-p values below 1, ascending: each row keeps nested prefixes
	 * of its order, so a pair's divergences at all of them come from one
	 * pass over the two rows' kept tokens (met_jsd_levels) */
	int kept[M][nl];
	double mass[M][nl], hq[M][nl], jsd[nl];
	const int32_t *ord[M], *lev[M];
	for (int m = 0; m < M; m++) {
		ord[m] = c->order[tid] + (size_t)m * V;
		lev[m] = c->lev[tid] + (size_t)m * V;
		double plp[nl], none;      /* met_levels() gives the sums of p log2 p */
		for (int u = 0; u < nl; u++)
			kept[m][u] = met_nucleus_count(&c->nuc[tid][m], c->tp[c->lv[u]], c->mode, &mass[m][u], &none);
		met_levels(p[m], lp + (size_t)m * V, ord[m], kept[m], nl, V, c->lev[tid] + (size_t)m * V, plp);
		/* entropy of the truncation from the sums over its tokens */
		for (int u = 0; u < nl; u++) {
			double ht = log2(mass[m][u]) - plp[u] / mass[m][u];
			hq[m][u] = ht > 0 ? ht : 0;
		}
	}
	k = 0;
	for (int a = 0; a < M; a++)
		for (int b = a + 1; b < M; b++, k++) {
			met_jsd_levels(p[a], ord[a], lev[a], kept[a], mass[a], p[b], ord[b], lev[b], kept[b], mass[b], nl, jsd,
			               c->uni[tid]);
			for (int u = 0; u < nl; u++) c->js[((size_t)j * c->ntp + c->lv[u]) * np + k] = sqrt(jsd[u]);
		}
	/* the ensemble mean's entropy: over all V in vectors (every level
	 * at once, a block of tokens at a time), or, when the kept sets are
	 * small, over their union only (the same mean, so only the entropy's
	 * rounding depends on the path) */
	float w[M * nl];
	uint8_t dense[nl];
	double hm[nl];
	for (int u = 0; u < nl; u++) {
		long nk = 0;
		for (int m = 0; m < M; m++) {
			w[m * nl + u] = (float)(1 / (M * mass[m][u]));
			nk += kept[m][u];
		}
		dense[u] = nk > V / 4;
	}
	met_mean_entropy_levels(p, lev, w, M, V, nl, dense, hm);
	for (int u = 0; u < nl; u++) {
		float wu[M];
		int ku[M];
		double mh = 0;
		for (int m = 0; m < M; m++) {
			wu[m] = w[m * nl + u];
			ku[m] = kept[m][u];
			mh += hq[m][u];
		}
		if (!dense[u]) hm[u] = union_mean_entropy(c, tid, p, wu, ku);
		double mi = hm[u] - mh / M;
		c->mi[(size_t)j * c->ntp + c->lv[u]] = mi < 0 ? 0 : mi;
	}
}

static float **thread_bufs(int threads, size_t n, size_t size)
{
	float **b = xmalloc(sizeof(float *) * threads);
	for (int t = 0; t < threads; t++) b[t] = xaligned(size * (n ? n : 1));
	return b;
}

static void *zeroed_bufs(int threads, size_t n, size_t size)
{
	float **b = thread_bufs(threads, n, size);
	for (int t = 0; t < threads; t++) memset(b[t], 0, size * (n ? n : 1));
	return b;
}

static void free_bufs(void *bv, int threads)
{
	void **b = bv;
	for (int t = 0; t < threads; t++) free(b[t]);
	free(b);
}

static void put_num(FILE *out, double v)
{
	if (isnan(v)) fputs("\tNA", out);
	else fprintf(out, "\t%.9g", v);
}

static int run_probs(const char *file, FILE *out, cli_out *co, const double *tp, int ntp, int mode,
                     int matrix, int threads)
{
	char err[1024];
	tns_reader *r = tns_open(file, err, sizeof err);
	if (!r) { cli_out_abort(co); die_file(file, "%s", err); }
	probs_stream ps;
	if (probs_init(&ps, tns_reader_header(r), file, err, sizeof err) < 0) { cli_out_abort(co); die_file(file, "%s", err); }
	if (ps.M == 1) { cli_out_abort(co); die_file(file, "one model only (@KV probe_models 1): disagree compares at least 2"); }
	tns_record rec;
	probs_rec pr;
	int rc, M = 0, V = 0, np = 0;
	pos_ctx c = {0};
	double *sjs = NULL, *smi = NULL, *sag = NULL, *sab = NULL, *sba = NULL, n = 0;
	int cap = 0, nl = 0, lv[256];
	/* the top-p values below 1 by ascending value (ties in list order) */
	for (int t = 0; t < ntp; t++) {
		if (tp[t] >= 1) continue;
		int u = nl++;
		for (; u > 0 && tp[lv[u - 1]] > tp[t]; u--) lv[u] = lv[u - 1];
		lv[u] = t;
	}
	while ((rc = tns_read(r, &rec)) > 0) {
		if (probs_get(&ps, &rec, &pr, err, sizeof err) < 0) { cli_out_abort(co); die_file(file, "%s", err); }
		if (pr.P == 0) continue;
		if (ps.kind == PROBS_TOPK) {
			cli_out_abort(co);
			die_file(file, "this stream has top-K probabilities only (lmprobe --top K): the JS distance, KL and mutual information need full probs");
		}
		if (!M) {
			M = ps.M; V = ps.V; np = M * (M - 1) / 2;
			if (M < 2) { cli_out_abort(co); die_file(file, "one model only: disagree compares at least 2"); }
			c = (pos_ctx){M, V, ntp, np, mode, tp, nl, lv, &ps, NULL,
			              thread_bufs(threads, (size_t)M * V, sizeof(float)), thread_bufs(threads, (size_t)M * V, sizeof(float)),
			              thread_bufs(threads, (size_t)M * V, sizeof(float)), thread_bufs(threads, V, sizeof(float)),
			              (int32_t **)thread_bufs(threads, (size_t)M * V, sizeof(int32_t)),
			              (uint32_t **)thread_bufs(threads, (size_t)M * V, sizeof(uint32_t)),
			              (uint64_t **)thread_bufs(threads, V, sizeof(uint64_t)),
			              (met_nucleus **)thread_bufs(threads, M, sizeof(met_nucleus)),
			              (int32_t **)thread_bufs(threads, (size_t)M * V, sizeof(int32_t)),
			              zeroed_bufs(threads, V, sizeof(float)), thread_bufs(threads, V, sizeof(float)),
			              (int32_t **)thread_bufs(threads, (size_t)V + 16, sizeof(int32_t)), (uint8_t **)zeroed_bufs(threads, V, 1),
			              NULL, NULL, NULL, NULL, NULL, NULL, NULL};
			sjs = xcalloc((size_t)ntp * np, sizeof(double)); smi = xcalloc(ntp, sizeof(double));
			sag = xcalloc(np, sizeof(double)); sab = xcalloc(np, sizeof(double)); sba = xcalloc(np, sizeof(double));
		}
		int P = pr.P;
		if (P > cap) {
			cap = P;
			c.js = xrealloc(c.js, sizeof(double) * cap * ntp * np);
			c.mi = xrealloc(c.mi, sizeof(double) * cap * ntp);
			c.agree = xrealloc(c.agree, sizeof(double) * cap * np);
			c.klab = xrealloc(c.klab, sizeof(double) * cap * np);
			c.klba = xrealloc(c.klba, sizeof(double) * cap * np);
			c.bad = xrealloc(c.bad, sizeof(int) * cap);
			c.badsum = xrealloc(c.badsum, sizeof(double) * cap);
		}
		c.pr = &pr;
		par_dynamic(threads, P, do_position, &c);
		/* sums in position order: the same bytes for any -t */
		for (int j = 0; j < P; j++) {
			if (c.bad[j]) {
				cli_out_abort(co);
				die_file(file, "record %s, model %s, position %d: %s (sum of probabilities %g)", rec.name, probs_model(&ps, c.bad[j] - 1),
				         pr.mask_pos[j], isnan(c.badsum[j]) ? "NaN or negative probabilities" : "probabilities do not sum to 1",
				         c.badsum[j]);
			}
			for (int k = 0; k < ntp * np; k++) sjs[k] += c.js[(size_t)j * ntp * np + k];
			for (int t = 0; t < ntp; t++) smi[t] += c.mi[(size_t)j * ntp + t];
			for (int k = 0; k < np; k++) {
				sag[k] += c.agree[(size_t)j * np + k];
				sab[k] += c.klab[(size_t)j * np + k];
				sba[k] += c.klba[(size_t)j * np + k];
			}
			n++;
		}
	}
	if (rc < 0) { cli_out_abort(co); die_file(file, "%s", tns_error(r)); }
	if (!M) { cli_out_abort(co); die_file(file, "no masked positions in the stream: nothing to compare"); }
	if (matrix) {
		fputs("top_p\tmodel", out);
		for (int m = 0; m < M; m++) fprintf(out, "\t%s", probs_model(&ps, m));
		fputc('\n', out);
		for (int t = 0; t < ntp; t++)
			for (int a = 0; a < M; a++) {
				fprintf(out, "%.9g\t%s", tp[t], probs_model(&ps, a));
				for (int b = 0; b < M; b++) {
					if (a == b) { fputs("\t0", out); continue; }
					int x = a < b ? a : b, y = a < b ? b : a;
					int k = x * M - x * (x + 1) / 2 + (y - x - 1);
					put_num(out, sjs[(size_t)t * np + k] / n);
				}
				fputc('\n', out);
			}
	} else {
		fputs("model_a\tmodel_b\ttop_p\tjs_distance\tjs_distance_std\targmax_agree\tkl_ab_bits\tkl_ba_bits\tmutual_info_bits\tn\n", out);
		for (int t = 0; t < ntp; t++) {
			double s = 0, s2 = 0, ag = 0, ab = 0, ba = 0;
			int k = 0;
			for (int a = 0; a < M; a++)
				for (int b = a + 1; b < M; b++, k++) {
					double js = sjs[(size_t)t * np + k] / n;
					s += js; s2 += js * js;
					ag += sag[k] / n; ab += sab[k] / n; ba += sba[k] / n;
					fprintf(out, "%s\t%s\t%.9g", probs_model(&ps, a), probs_model(&ps, b), tp[t]);
					put_num(out, js); put_num(out, NAN); put_num(out, sag[k] / n);
					put_num(out, sab[k] / n); put_num(out, sba[k] / n); put_num(out, NAN);
					fprintf(out, "\t%.0f\n", n);
				}
			double mean = s / np, var = s2 / np - mean * mean;
			fprintf(out, "*\t*\t%.9g", tp[t]);
			put_num(out, mean); put_num(out, var > 0 ? sqrt(var) : 0); put_num(out, ag / np);
			put_num(out, ab / np); put_num(out, ba / np); put_num(out, smi[t] / n);
			fprintf(out, "\t%.0f\n", n);
		}
	}
	if (M) {
		free_bufs(c.buf, threads); free_bufs(c.lp, threads); free_bufs(c.lf, threads); free_bufs(c.lev, threads);
		free_bufs(c.tmp, threads); free_bufs(c.order, threads);
		free_bufs(c.key, threads); free_bufs(c.tmp64, threads); free_bufs(c.nuc, threads);
		free_bufs(c.acc, threads); free_bufs(c.gm, threads); free_bufs(c.uni, threads); free_bufs(c.mark, threads);
	}
	free(c.js); free(c.mi); free(c.agree); free(c.klab); free(c.klba); free(c.bad); free(c.badsum);
	free(sjs); free(smi); free(sag); free(sab); free(sba);
	probs_free(&ps);
	tns_close_reader(r);
	return 0;
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
				put_num(out, val[(size_t)p * nmet + x]);
				put_num(out, NAN);
			} else {
				double s = 0, s2 = 0;
				for (int q = 0; q < np; q++) { double v = val[(size_t)q * nmet + x]; s += v; s2 += v * v; }
				double mean = s / np, var = s2 / np - mean * mean;
				put_num(out, mean);
				put_num(out, isnan(var) ? NAN : var > 0 ? sqrt(var) : 0);
			}
			fputc('\n', out);
		}
	}
	for (int i = 0; i < nf; i++) emb_model_free(&m[i]);
	free(m); free(k); free(val); free(jac); free(sp); free(pa); free(pb);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"top-p", required_argument, 0, 'p'}, {"top-p-authors", no_argument, 0, O_AUTHORS},
		{"matrix", no_argument, 0, O_MATRIX}, {"embeddings", no_argument, 0, O_EMB},
		{"one-sided", no_argument, 0, O_ONESIDED}, {"exclude-specials", no_argument, 0, O_EXCL},
		{"include-specials", no_argument, 0, O_INCL}, {"no-rbf", no_argument, 0, O_NORBF},
		CLI_LONGOPTS
	};
	cli_opts co;
	int c, mode = MET_TOPP_NUCLEUS, matrix = 0, emb = 0, one_sided = 0, first = TOK_NSPECIAL, flags = 0, user_k = 0;
	const char *tps = DEFAULT_TOP_P, *klist = DEFAULT_K;
	par_blas_prefer_avx512(argv);     /* may re-exec with OpenBLAS's AVX-512 kernels */
	cli_init(&co, argc, argv);
	while ((c = getopt_long(argc, argv, CLI_SHORTOPTS "p:k:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': tps = optarg; break;
		case 'k': klist = optarg; user_k = 1; break;
		case O_AUTHORS: mode = MET_TOPP_AUTHORS; break;
		case O_MATRIX: matrix = 1; break;
		case O_EMB: emb = 1; break;
		case O_ONESIDED: one_sided = 1; break;
		case O_EXCL: first = TOK_NSPECIAL; break;
		case O_INCL: first = 0; break;
		case O_NORBF: flags |= EMB_NO_RBF; break;
		default:
			if (!cli_common_opt(&co, c, optarg, usage)) { usage(stderr); return EXIT_USAGE; }
		}
	}
	cli_out out = {0};
	if (emb) {
		long *ks;
		int nk = cli_int_list("-k", klist, &ks);
		if (argc - optind < 2) die_usage("--embeddings needs at least 2 model files");
		for (int i = optind; i < argc; i++)
			if (strpbrk(argv[i], "\t\n")) die_usage("model path with a tab or newline: it names the model in the TSV's columns");
		FILE *fp = cli_out_open(&out, co.output);
		run_embeddings(argc - optind, argv + optind, fp, &out, ks, nk, user_k, one_sided, first, flags, co.threads);
		free(ks);
		cli_out_close(&out);
		return 0;
	}
	/* the top-p list: numbers in (0, 1] */
	int ntp = 0;
	double tp[256];
	char *s = xstrdup(tps), *save = NULL;
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (ntp == 256) die_usage("--top-p: 256 values at most");
		tp[ntp++] = cli_double("--top-p", tok, 1e-9, 1);
	}
	free(s);
	if (!ntp) die_usage("--top-p: empty list");
	if (argc - optind > 1) die_usage("one input file at most (model files go with --embeddings)");
	cli_need_input(argc - optind, usage);
	const char *file = optind < argc ? argv[optind] : "-";
	FILE *fp = cli_out_open(&out, co.output);
	run_probs(file, fp, &out, tp, ntp, mode, matrix, co.threads);
	cli_out_close(&out);
	return 0;
}
