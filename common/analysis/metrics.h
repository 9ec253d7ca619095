/* metrics.h -- information measures on probability vectors and token
 * sequences: the definitions of docs/METHODS.md (a) and (b), each in its textbook
 * form (the default) and, where the authors' code differs, in theirs.
 *
 * All logarithms are base 2 (bits).  A distribution is a float vector of V
 * entries.  The per-distribution kernels are vectorised (GCC vector
 * extensions, compiled for AVX-512, AVX2 and plain x86-64 and picked at run
 * time) around a fast log2 whose absolute error is below 1e-7 (plus the
 * rounding of its float result); sums are
 * accumulated in double per block, so results agree with a float64
 * reference to about 1e-6 relative. */
#ifndef SEQLM_METRICS_H
#define SEQLM_METRICS_H

#include <stdint.h>
#include <stddef.h>

#define MET_EPS 1e-10f            /* the authors' clamp inside logarithms */

/* ---- logarithms ---------------------------------------------------------- */
/* fast log2; x = 0 gives about -127 (finite, so 0 * log2 0 == 0); x must not
 * be negative.  Subnormal x are treated as 0. */
float met_log2f(float x);
/* y[i] = log2(x[i]); y[i] = log2(max(x[i], floor)) when floor > 0 */
void met_log2_vec(const float *x, float *y, int n, float floor);

/* ---- one distribution ---------------------------------------------------- */
typedef struct {
	double entropy;               /* -sum p log2 p, 0 log 0 = 0 */
	double sum;                   /* sum p; NaN when any p is NaN */
	float pmax;                   /* largest p */
	int argmax;                   /* its index (the first one on ties) */
} met_row;

/* one pass: entropy, sum, max, argmax */
void met_row_stats(const float *p, int V, met_row *s);
/* met_row_stats plus lp = log2 p and lf = log2 max(p, 1e-10), in one pass */
void met_row_logs(const float *p, int V, float *lp, float *lf, met_row *s);
/* out = the mean of M rows of V */
void met_mean_rows(const float *const *rows, int M, int V, float *out);
/* the authors' entropy: -sum p log2(p + 1e-10) */
double met_entropy_eps(const float *p, int V);
/* KL(p || uniform) = log2 V - H (textbook) */
double met_kl_uniform(double H, int V);
/* the authors' "KL to uniform": KL(U || p) =
 * sum (1/V)(log2(1/V) - log2 max(p, 1e-10)); large when p is peaked */
double met_kl_uniform_rev(const float *p, int V);
/* -log2 p, in bits; +inf when p is 0 */
double met_nll_bits(float p);
/* perplexity both ways: 2^(mean entropy bits) (textbook); the authors'
 * exp(mean NLL in nats) == 2^(mean NLL in bits) */
double met_perplexity(double mean_bits);

/* ---- two distributions -------------------------------------------------- */
/* Jensen-Shannon divergence, base 2, in [0, 1] (clamped against rounding),
 * in the ratio form sum a log2(2a/(a+c)): accurate when p and q are close,
 * exactly 0 when they are equal.  In float arithmetic the result is good to
 * about 1e-9 absolute over V = 4096 (1e-8 for peaked rows): a divergence of
 * 1e-4 (JS distance 0.01) to 1e-5 relative or better, one of 1e-6 only to
 * a few digits.  (The difference form a (log2 a - log2 m), one logarithm a
 * term, was measured 10 to 50 times less accurate there and not used.) */
double met_jsd(const float *p, const float *q, int V);
/* the same for truncated distributions, visiting only a's support: qa, qb
 * dense (zeros outside their supports), ia the ka indices of a's support
 * (all of qa's non-zeros), sumb the sum of qb.  Tokens in b's support
 * only add their mass, with no logarithm. */
double met_jsd_support(const float *qa, const int32_t *ia, int ka, const float *qb, double sumb);
/* met_jsd, met_kl_lp(p, lp, lfq) and met_kl_lp(q, lq, lfp) in one pass */
void met_jsd_kl(const float *p, const float *lp, const float *lfp, const float *q, const float *lq,
                const float *lfq, int V, double *jsd, double *kl_pq, double *kl_qp);
/* Jensen-Shannon distance: sqrt(JSD), base 2, in [0, 1] */
double met_js_distance(const float *p, const float *q, int V);
/* KL(p || q) in bits; lp = log2 p (floor 0), lfq = log2 max(q, 1e-10):
 * q is floored at 1e-10 as in the authors' code, so that a probability that
 * underflowed to 0 does not make the divergence infinite */
double met_kl_lp(const float *p, const float *lp, const float *lfq, int V);
double met_kl(const float *p, const float *q, int V);

/* ---- an ensemble --------------------------------------------------------- */
/* mutual information of M distributions (rows of p, M x V):
 * H(mean p) - mean H(p), bits; tmp holds V floats.  h, if not NULL, holds
 * the M entropies already computed. */
double met_mutual_info(const float *p, int M, int V, const double *h, float *tmp);

/* ---- sorting and top-p -------------------------------------------------- */
/* order[0..V) = indices of p by descending value, ties by ascending index
 * (a stable sort, like numpy argsort(-p, kind="stable")).  scratch holds
 * 4*V uint32_t.  Any sign works (cosines too); p must hold no NaN. */
void met_argsort_desc(const float *p, int V, int32_t *order, uint32_t *scratch);

enum { MET_TOPP_NUCLEUS = 0,    /* smallest top set with mass >= p */
       MET_TOPP_AUTHORS = 1 };  /* largest top prefix with cumulative mass <= p */
/* number of top entries kept for top-p value top_p (at least 1; every entry
 * when top_p >= 1); cum[i] = cumulative mass of order[0..i] in double, as
 * from met_cumsum_sorted(); *mass (if not NULL) gets the kept mass */
int met_top_p_count(const double *cum, int V, double top_p, int mode, double *mass);
void met_cumsum_sorted(const float *p, const int32_t *order, int V, double *cum);
/* the truncated, renormalised distribution: q[order[i]] = p[order[i]] / mass
 * for i < kept, 0 elsewhere; if lq is not NULL, lq = log2 q (0 where q is
 * 0) from lp = log2 p. */
void met_truncate(const float *p, const float *lp, const int32_t *order, int V,
                  int kept, double mass, float *q, float *lq);
/* Top-p without a full sort, for many top-p values of one row: the row's
 * entries are bucketed by value (MET_NB buckets over its range of float bits,
 * largest values first), and only a bucket where some top-p cut falls is
 * sorted (by value descending, ties by index).  order[] holds the indices
 * bucket by bucket, so the entries kept at any top-p are order[0..n); the
 * kept sets of one row are prefixes of it, whatever the order in which the
 * values are asked.  Masses are sums over whole buckets plus a walk inside
 * the cut one, in double (the full sort's running sum in another order: the
 * same to the last bits but for rounding).  lp = log2 p (for the entropy of
 * the kept part).  key holds V uint32_t, tmp V uint64_t, both kept between
 * met_nucleus_init() and the calls that follow. */
#define MET_NB 1024
typedef struct {
	int V;
	const float *p, *lp;
	int32_t *order;
	uint32_t *key;
	uint64_t *tmp;
	int32_t start[MET_NB + 1];
	double cum[MET_NB + 1], cplp[MET_NB + 1]; /* over the buckets before b */
	uint8_t sorted[MET_NB];
} met_nucleus;
void met_nucleus_init(met_nucleus *n, const float *p, const float *lp, int V, int32_t *order, uint32_t *key,
                      uint64_t *tmp);
/* as met_top_p_count(), and *plp = sum of p log2 p over the kept entries
 * (NaN when lp was NULL) */
int met_nucleus_count(met_nucleus *n, double top_p, int mode, double *mass, double *plp);
/* acc[r] += p[order[r]]: the rank-sorted curve, summed */
void met_rank_accumulate(const float *p, const int32_t *order, int V, double *acc);

/* ---- the top-p sweep: nested truncations of one position -------------- */
/* Truncations at nl top-p values in ascending order keep nested prefixes
 * of a row's order (met_nucleus): level u keeps order[0..kept[u]), kept[]
 * non-decreasing.  lev[j] = the first level keeping token j, nl if none;
 * plp (if not NULL) = the sum of p lp (lp = log2 p) over each level's kept
 * tokens, in double. */
void met_levels(const float *p, const float *lp, const int32_t *order, const int *kept, int nl, int V, int32_t *lev,
                double *plp);
/* The JSD (base 2, clamped to [0, 1]) of p and q truncated and
 * renormalised at each of nl nested levels: p keeps op[0..kp[u]) with mass
 * sp[u] (> 0), lp its met_levels(); the same for q.  Each row's kept tokens
 * are visited once for all levels: a level's sums over the intersection of
 * the two kept sets are those of the level before plus its new tokens, and
 * the difference of the two masses enters through a series in Sp/Sq - 1
 * (metrics.c), used where its remainder is under 1e-12 of the masses and
 * otherwise replaced by the direct sum over the smaller set.  Terms in
 * d = (a-c)/(a+c) (no cancellation): close rows to about 1e-12 absolute
 * (flat) or 1e-10 (peaked), distant ones to 1e-8 of the value;
 * truncations equal as sets and values give exactly 0.
 * scratch holds V + 16 int32_t. */
void met_jsd_levels(const float *p, const int32_t *op, const int32_t *lp, const int *kp, const double *sp,
                    const float *q, const int32_t *oq, const int32_t *lq, const int *kq, const double *sq,
                    int nl, double *jsd, int32_t *scratch);
/* H[u], for each level u < nl with dense[u] (0 for the others): the
 * entropy (bits) of the mean of M truncations, m = sum over rows r of
 * w[r nl + u] p_r (w = 1/(M mass)) where lev_r <= u, 0 elsewhere, summed
 * over all V tokens */
void met_mean_entropy_levels(const float *const *p, const int32_t *const *lev, const float *w, int M, int V, int nl,
                             const uint8_t *dense, double *H);

/* ---- bootstrap over records -------------------------------------------- */
/* 95% (or level) percentile interval of sum(num)/sum(den) over B resamples
 * of the R records with replacement; draw j of resample b is record
 * rng_below(rng_hash4(seed, b, j, 0), R), so results depend on nothing but
 * the inputs and the seed.  Percentiles interpolate linearly like
 * numpy.percentile.  Records with den 0 count as drawn but add nothing.
 * NaN when R == 0 or B == 0. */
void met_bootstrap_ratio(const double *num, const double *den, int64_t R, int B,
                         uint64_t seed, double level, double *lo, double *hi);
/* the same for several statistics sharing the draws: num is S x R (row s
 * for statistic s), lo/hi S entries */
void met_bootstrap_ratios(const double *num, int S, const double *den, int64_t R, int B,
                          uint64_t seed, double level, double *lo, double *hi);
/* numpy.percentile(x, q*100) with linear interpolation; sorts x in place */
double met_percentile(double *x, int n, double q);

/* ---- entropy of token sequences ---------------------------------------- */
/* k-th order conditional entropy H(X_t | X_{t-k}..X_{t-1}) of token
 * sequences, plug-in and Miller-Madow corrected.  Contexts never cross the
 * sequences added.  Order 0 is the unigram entropy. */
typedef struct met_gram met_gram;   /* a count table of fixed-length grams */
typedef struct {
	int order;
	met_gram *joint, *ctx;
	uint64_t n;                   /* events (positions with a full context) */
} met_ngram;

void met_ngram_init(met_ngram *g, int order);
void met_ngram_free(met_ngram *g);
void met_ngram_add(met_ngram *g, const int32_t *tok, int64_t n);
typedef struct {
	uint64_t n;                   /* events */
	uint64_t contexts;            /* distinct contexts seen (1 for order 0) */
	uint64_t grams;               /* distinct (context, token) pairs */
	double plugin;                /* bits per token */
	double miller_madow;          /* plugin + (grams - contexts) / (2 n ln 2) */
	double majority;              /* accuracy of predicting the most frequent
	                               * token after each context (order 0: the
	                               * majority baseline) */
} met_ngram_result;
void met_ngram_entropy(const met_ngram *g, met_ngram_result *r);

#endif
