/* metrics.c -- entropies, divergences, top-p, bootstrap and n-gram entropy
 * (see metrics.h).  The loops over V are written with GCC vector extensions
 * (metrics_simd.h) so they vectorise at -O2, and compiled three times
 * (AVX-512 with 16-float vectors, AVX2+FMA and baseline x86-64 with 8-float
 * ones), chosen at run time: the default build runs on any x86-64 and uses
 * what the machine has. */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/util.h"
#include "analysis/metrics.h"
#include "base/rng.h"
#include "base/cpu.h"

/* vectors in static inline helpers: always inlined into each
 * clone, so the ABI note does not matter (an out-of-line helper shared by
 * an AVX clone and a baseline one would be called with the wrong ABI) */
#pragma GCC diagnostic ignored "-Wpsabi"

#define BLOCK 512                 /* floats summed in float before going to double */

/* float bits as an unsigned key that sorts them in descending order */
static uint32_t desc_key(float x)
{
	uint32_t b;
	memcpy(&b, &x, 4);
	b = b & 0x80000000u ? ~b : b | 0x80000000u;  /* ascending as unsigned */
	return ~b;                                      /* descending */
}

/* the kernels twice: 16-float vectors for AVX-512 (GCC on x86-64), 8-float
 * ones compiled for AVX2+FMA and for baseline x86-64 (chosen at load time);
 * met_wide() picks at run time.  The two differ in summation order, so in
 * the last bits: the same machine gives the same bytes for any -t. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MET_HAVE_V16 1
#define VW 16
#define MET_SIMD __attribute__((target("arch=x86-64-v4")))
#define MET_SFX v16
#include "analysis/metrics_simd.h"
#undef VW
#undef MET_SIMD
#undef MET_SFX
#define MET_SIMD __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MET_SIMD
#endif
#define VW 8
#define MET_SFX v8
#include "analysis/metrics_simd.h"

#ifdef MET_HAVE_V16
/* AVX-512 when the CPU has it and SEQLM_NO_AVX512 is unset or 0 (set, the
 * numbers match an AVX2 machine's bit for bit) */
static int met_wide_flag;
__attribute__((constructor)) static void met_pick(void) { met_wide_flag = cpu_wide(); }
#define MET_CALL(f, ...) (met_wide_flag ? f##_v16(__VA_ARGS__) : f##_v8(__VA_ARGS__))
#else
#define MET_CALL(f, ...) f##_v8(__VA_ARGS__)
#endif


/* the same computation on one float (the scalar tails and sparse loops) */
float met_log2f(float x)
{
	int32_t b;
	memcpy(&b, &x, 4);
	int32_t e = ((b >> 23) & 0xff) - 127, mb = (b & 0x007fffff) | 0x3f800000;
	float m;
	memcpy(&m, &mb, 4);
	if (m > 1.41421356f) { m *= 0.5f; e += 1; }
	float t = m - 1.0f, t2 = t * t, t4 = t2 * t2;
	float p01 = 1.4426950216293335f - 0.7213473320007324f * t;
	float p23 = 0.48091059923171997f - 0.36070483922958374f * t;
	float p45 = 0.2879182994365692f - 0.23892028629779816f * t;
	float p67 = 0.21566997468471527f - 0.20742154121398926f * t;
	float P = (p01 + t2 * p23) + t4 * ((p45 + t2 * p67) + t4 * 0.1261487752199173f);
	return (float)e + t * P;
}

void met_log2_vec(const float *x, float *y, int n, float floor) { MET_CALL(log2_vec, x, y, n, floor); }

static void row_kernel(const float *p, int V, float *lp, float *lf, met_row *s)
{
	double plogp;
	float pmin;
	MET_CALL(row_kernel, p, V, lp, lf, &plogp, &s->sum, &s->pmax, &pmin, &s->argmax);
	s->entropy = plogp == 0 ? 0 : -plogp;
	if (pmin < 0) s->sum = NAN;   /* a negative probability is as bad as NaN */
}

void met_row_stats(const float *p, int V, met_row *s) { row_kernel(p, V, NULL, NULL, s); }

void met_row_logs(const float *p, int V, float *lp, float *lf, met_row *s) { row_kernel(p, V, lp, lf, s); }

void met_mean_rows(const float *const *rows, int M, int V, float *out) { MET_CALL(mean_rows_ptr, rows, M, V, out); }

static double sum_plog_floor(const float *p, int V, float add, float floor, int weight_by_p)
{
	return MET_CALL(sum_plog_floor, p, V, add, floor, weight_by_p);
}

double met_entropy_eps(const float *p, int V)
{
	double s = sum_plog_floor(p, V, MET_EPS, 0, 1);
	return s == 0 ? 0 : -s;
}

double met_kl_uniform(double H, int V) { return log2((double)V) - H; }

double met_kl_uniform_rev(const float *p, int V)
{
	return -log2((double)V) - sum_plog_floor(p, V, 0, MET_EPS, 0) / V;
}

double met_nll_bits(float p) { return p > 0 ? -log2((double)p) : INFINITY; }
double met_perplexity(double mean_bits) { return exp2(mean_bits); }

/* JSD = 1/2 sum a log2(2a/(a+c)) + c log2(2c/(a+c)): the ratio form keeps
 * its accuracy when a and c are close (the JS distance is the square root
 * of this, so an absolute error e becomes sqrt(e)); identical inputs give
 * exactly 0.  jsd_sum() returns the sum, not yet halved. */
static double jsd_sum(const float *p, const float *q, int V) { return MET_CALL(jsd_sum, p, q, V); }

/* JSD and both KLs of full distributions in one pass over the pair */
void met_jsd_kl(const float *p, const float *lp, const float *lfp, const float *q, const float *lq,
                const float *lfq, int V, double *jsd, double *kl_pq, double *kl_qp)
{
	MET_CALL(jsd_kl, p, lp, lfp, q, lq, lfq, V, jsd, kl_pq, kl_qp);
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

double met_jsd(const float *p, const float *q, int V) { return clamp01(0.5 * jsd_sum(p, q, V)); }

double met_jsd_support(const float *qa, const int32_t *ia, int ka, const float *qb, double sumb)
{
	/* a token only in a's support adds a (its term a log2 2), one only in
	 * b's adds c, and those are b's mass outside a's support */
	double inb, S = MET_CALL(jsd_gather, qa, qb, ia, ka, &inb);
	return clamp01(0.5 * (S + (sumb - inb)));
}

/* log2 of p (or of p floored), V floats from malloc */
static float *logs_of(const float *p, int V, float floor)
{
	float *l = xmalloc(sizeof(float) * (V ? V : 1));
	met_log2_vec(p, l, V, floor);
	return l;
}

double met_js_distance(const float *p, const float *q, int V) { return sqrt(met_jsd(p, q, V)); }

double met_kl_lp(const float *p, const float *lp, const float *lfq, int V) { return MET_CALL(kl_lp, p, lp, lfq, V); }

double met_kl(const float *p, const float *q, int V)
{
	float *lp = logs_of(p, V, 0), *lq = logs_of(q, V, MET_EPS);
	double d = met_kl_lp(p, lp, lq, V);
	free(lp); free(lq);
	return d;
}

static void mean_rows(const float *p, int M, int V, float *out)
{
	const float *rows[M];
	for (int m = 0; m < M; m++) rows[m] = p + (size_t)m * V;
	met_mean_rows(rows, M, V, out);
}

double met_mutual_info(const float *p, int M, int V, const double *h, float *tmp)
{
	met_row r;
	double mh = 0;
	for (int m = 0; m < M; m++) {
		if (h) mh += h[m];
		else { met_row_stats(p + (size_t)m * V, V, &r); mh += r.entropy; }
	}
	mean_rows(p, M, V, tmp);
	met_row_stats(tmp, V, &r);
	double mi = r.entropy - mh / M;
	return mi < 0 ? 0 : mi;
}

/* ---- sorting and top-p -------------------------------------------------- */

/* LSD radix sort on the float bits mapped to an unsigned order and
 * complemented (descending), 11 bits a pass, key and index packed in one
 * 64-bit word (one scatter a pass); a pass whose digit is the same for all
 * keys is skipped (the exponent bits of a distribution often are).  Stable:
 * ties keep index order. */
void met_argsort_desc(const float *p, int V, int32_t *order, uint32_t *scratch)
{
	uint64_t *k0 = (uint64_t *)scratch, *k1 = k0 + V;
	uint32_t cnt[3][2048];
	memset(cnt, 0, sizeof cnt);
	/* the three digit histograms in one read */
	for (int i = 0; i < V; i++) {
		uint32_t b = desc_key(p[i]);
		k0[i] = (uint64_t)b << 32 | (uint32_t)i;
		cnt[0][b & 2047]++;
		cnt[1][(b >> 11) & 2047]++;
		cnt[2][b >> 22]++;
	}
	for (int pass = 0; pass < 3; pass++) {
		int shift = 32 + 11 * pass;
		uint32_t *c = cnt[pass];
		if (V == 0 || c[(k0[0] >> shift) & 2047] == (uint32_t)V) continue;
		uint32_t sum = 0;
		for (int d = 0; d < 2048; d++) { uint32_t x = c[d]; c[d] = sum; sum += x; }
		for (int i = 0; i < V; i++) k1[c[(k0[i] >> shift) & 2047]++] = k0[i];
		uint64_t *t = k0; k0 = k1; k1 = t;
	}
	for (int i = 0; i < V; i++) order[i] = (int32_t)(uint32_t)k0[i];
}

void met_nucleus_init(met_nucleus *n, const float *p, const float *lp, int V, int32_t *order, uint32_t *key,
                      uint64_t *tmp)
{
	n->V = V; n->p = p; n->lp = lp; n->order = order; n->key = key; n->tmp = tmp;
	uint32_t lo, hi;
	MET_CALL(desc_keys, p, V, key, &lo, &hi);
	int shift = 0;
	if (V > 0) while (shift < 32 && ((uint64_t)(hi - lo) >> shift) >= MET_NB) shift++;
	int32_t cnt[MET_NB];
	double sp[MET_NB], spl[MET_NB];
	memset(cnt, 0, sizeof cnt); memset(sp, 0, sizeof sp);
	if (lp) memset(spl, 0, sizeof spl);
	if (lp)
		for (int i = 0; i < V; i++) {
			uint32_t b = (key[i] - lo) >> shift;
			cnt[b]++;
			sp[b] += p[i];
			spl[b] += (double)p[i] * lp[i];
		}
	else              /* no sums of p log2 p: met_levels() gives them */
		for (int i = 0; i < V; i++) {
			uint32_t b = (key[i] - lo) >> shift;
			cnt[b]++;
			sp[b] += p[i];
		}
	n->start[0] = 0; n->cum[0] = 0; n->cplp[0] = 0;
	for (int b = 0; b < MET_NB; b++) {
		n->start[b + 1] = n->start[b] + cnt[b];
		n->cum[b + 1] = n->cum[b] + sp[b];
		n->sorted[b] = cnt[b] <= 1;
		cnt[b] = n->start[b];
	}
	if (lp)
		for (int b = 0; b < MET_NB; b++) n->cplp[b + 1] = n->cplp[b] + spl[b];
	for (int i = 0; i < V; i++) order[cnt[(key[i] - lo) >> shift]++] = i;   /* stable */
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* bucket b by (key, index) ascending: value descending, ties by index */
static void nucleus_sort(met_nucleus *n, int b)
{
	if (n->sorted[b]) return;
	int s = n->start[b], e = n->start[b + 1], m = e - s;
	uint64_t *t = n->tmp;
	for (int i = 0; i < m; i++) t[i] = (uint64_t)n->key[n->order[s + i]] << 32 | (uint32_t)n->order[s + i];
	if (m <= 32) {
		for (int i = 1; i < m; i++) {
			uint64_t x = t[i];
			int j = i;
			for (; j > 0 && t[j - 1] > x; j--) t[j] = t[j - 1];
			t[j] = x;
		}
	} else
		qsort(t, m, sizeof *t, cmp_u64);
	for (int i = 0; i < m; i++) n->order[s + i] = (int32_t)(uint32_t)t[i];
	n->sorted[b] = 1;
}

/* the bucket holding position i of the order (0 <= i < V) */
static int nucleus_bucket_of(const met_nucleus *n, int i)
{
	int lo = 0, hi = MET_NB - 1;       /* last b with start[b] <= i */
	while (lo < hi) { int mid = lo + (hi - lo + 1) / 2; if (n->start[mid] <= i) lo = mid; else hi = mid - 1; }
	return lo;
}

int met_nucleus_count(met_nucleus *n, double top_p, int mode, double *mass, double *plp)
{
	int V = n->V;
	const float *p = n->p, *lp = n->lp;
	if (V <= 0) { *mass = 0; *plp = 0; return 0; }
	if (top_p >= 1) { *mass = n->cum[MET_NB]; *plp = lp ? n->cplp[MET_NB] : NAN; return V; }
	/* the first bucket whose end the cut does not pass (nucleus: the mass
	 * at its end >= p; authors': > p), then a walk in sorted order from
	 * its start, into the next buckets should rounding ask it */
	int lo = 0, hi = MET_NB;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		double c = n->cum[mid + 1];
		if (mode == MET_TOPP_NUCLEUS ? c >= top_p : c > top_p) hi = mid; else lo = mid + 1;
	}
	if (lo == MET_NB) { *mass = n->cum[MET_NB]; *plp = lp ? n->cplp[MET_NB] : NAN; return V; }  /* never reached */
	double s = n->cum[lo], t = n->cplp[lo];
	int k = V;
	for (int b = lo; b < MET_NB && k == V; b++) {
		nucleus_sort(n, b);
		for (int i = n->start[b]; i < n->start[b + 1]; i++) {
			int j = n->order[i];
			double s2 = s + p[j];
			if (mode == MET_TOPP_NUCLEUS) {
				s = s2; t += lp ? (double)p[j] * lp[j] : 0;
				if (s >= top_p) { k = i + 1; break; }
			} else {
				if (s2 > top_p) { k = i; break; }
				s = s2; t += lp ? (double)p[j] * lp[j] : 0;
			}
		}
	}
	if (k < 1) {                       /* authors': at least the top entry */
		nucleus_sort(n, nucleus_bucket_of(n, 0));
		int j = n->order[0];
		k = 1; s = p[j]; t = lp ? (double)p[j] * lp[j] : 0;
	}
	*mass = s; *plp = lp ? t : NAN;
	return k;
}

void met_cumsum_sorted(const float *p, const int32_t *order, int V, double *cum)
{
	double s = 0;
	for (int i = 0; i < V; i++) { s += p[order[i]]; cum[i] = s; }
}

int met_top_p_count(const double *cum, int V, double top_p, int mode, double *mass)
{
	int n;
	if (V <= 0) { if (mass) *mass = 0; return 0; }
	if (top_p >= 1) n = V;
	else if (mode == MET_TOPP_NUCLEUS) {
		/* first i with cum[i] >= top_p; n = i + 1 (V if the mass never gets there) */
		int lo = 0, hi = V;
		while (lo < hi) { int mid = lo + (hi - lo) / 2; if (cum[mid] >= top_p) hi = mid; else lo = mid + 1; }
		n = lo < V ? lo + 1 : V;
	} else {
		/* number of i with cum[i] <= top_p, at least 1 */
		int lo = 0, hi = V;
		while (lo < hi) { int mid = lo + (hi - lo) / 2; if (cum[mid] <= top_p) lo = mid + 1; else hi = mid; }
		n = lo < 1 ? 1 : lo;
	}
	if (mass) *mass = cum[n - 1];
	return n;
}

void met_truncate(const float *p, const float *lp, const int32_t *order, int V,
                  int kept, double mass, float *q, float *lq)
{
	if (kept >= V && mass > 0) {
		float w = (float)(1 / mass), lw = (float)log2(mass);
		for (int i = 0; i < V; i++) q[i] = p[i] * w;
		if (lq) for (int i = 0; i < V; i++) lq[i] = lp[i] - lw;
		return;
	}
	memset(q, 0, sizeof(float) * V);
	if (lq) memset(lq, 0, sizeof(float) * V);
	if (!(mass > 0)) return;
	double lw = log2(mass);
	for (int i = 0; i < kept; i++) {
		int j = order[i];
		q[j] = (float)(p[j] / mass);
		if (lq) lq[j] = (float)(lp[j] - lw);
	}
}

/* ---- the top-p sweep: nested truncations ------------------------------- */

void met_levels(const float *p, const float *lp, const int32_t *order, const int *kept, int nl, int V, int32_t *lev,
                double *plp)
{
	for (int j = 0; j < V; j++) lev[j] = nl;
	for (int u = 0, i = 0; u < nl; u++) {
		int i0 = i;
		for (; i < kept[u]; i++) lev[order[i]] = u;
		if (plp) plp[u] = (u ? plp[u - 1] : 0) + MET_CALL(plp_at, p, lp, order + i0, kept[u] - i0);
	}
}

/* Level u's JSD from sums over the intersection I of the kept sets, for
 * raw p and q (unnormalised).  With a = p/Sp, c = q/Sq, G(a, c) = a
 * log2(2a/(a+c)) + c log2(2c/(a+c)) (degree 1) and l = Sp/Sq,
 *   sum_I G(a, c) = sum_I G(p, l q) / Sp,
 *   G(p, l q) = G(p, q) + (l-1) q log2(2q/(p+q))
 *             + sum_{k>=2} (1-l)^k q (1 - w^(k-1)) / (k (k-1) ln 2),
 * w = q/(p+q) in [0, 1] (Taylor in l: the k-th derivative of G in c is
 * (-1)^k (k-2)! (c^(1-k) - (p+c)^(1-k)) / ln 2).  So the sums of G(p, q),
 * q log2(2q/(p+q)), q w^j, p and q over I, which grow with the level and
 * do not depend on it otherwise, give every level's divergence: a pass
 * over each row's kept tokens once, instead of once per level.  Tokens in
 * one set only add their mass: (Sp - sum_I p)/Sp and (Sq - sum_I q)/Sq,
 * exact in double when the sets are equal.  The series is used up to
 * k = SERIES_K when its remainder, at most |l-1|^(K+1) sum_I q /
 * ((K+1) K ln 2 (1 - |l-1|)), is below SERIES_TOL of the divergence and
 * a kept set is large; otherwise (peaked rows, small nuclei: cheap) the
 * level is summed directly over the smaller kept set. */
#define SERIES_K 6
#define SERIES_TOL 1e-10             /* relative to the divergence */
#define SERIES_MIN 64                /* kept sets this small: summed directly */
void met_jsd_levels(const float *p, const int32_t *op, const int32_t *lp, const int *kp, const double *sp,
                    const float *q, const int32_t *oq, const int32_t *lq, const int *kq, const double *sq,
                    int nl, double *jsd, int32_t *scratch)
{
	double acc[9] = {0};   /* sums over I: G, q log2(2q/(p+q)), q w^1..5, p, q */
	/* the running sums visit both kept sets once (and their common tokens
	 * at length), the direct sums the smaller set at every level: direct
	 * only where that is several times less (measured: peaked rows) */
	long direct = 0, walk = nl ? (long)kp[nl - 1] + kq[nl - 1] : 0;
	for (int u = 0; u < nl; u++) direct += kp[u] < kq[u] ? kp[u] : kq[u];
	int series = 4 * direct > walk + 32 * nl;
	for (int u = 0; u < nl; u++) {
		double Sp = sp[u], Sq = sq[u], d, in;
		if (series) {
			/* p's tokens new at u that q keeps at u, q's new ones p kept
			 * before u: picked first, so that the sums run on full vectors */
			int a0 = u ? kp[u - 1] : 0, b0 = u ? kq[u - 1] : 0;
			int n = MET_CALL(select_lev, op + a0, kp[u] - a0, lq, u, scratch);
			n += MET_CALL(select_lev, oq + b0, kq[u] - b0, lp, u - 1, scratch + n);
			MET_CALL(jsd_walk, p, q, scratch, n, acc);
		}
		if (!(Sp > 0) || !(Sq > 0)) { jsd[u] = Sp > 0 || Sq > 0 ? 1 : 0; continue; }
		double e = Sp / Sq - 1, ae = fabs(e), f = 1;
		for (int k = 0; k <= SERIES_K; k++) f *= ae;
		/* the divergence's size but for the series' terms, to judge the
		 * remainder by (the square root magnifies absolute errors near 0) */
		double d0 = 0.5 * (acc[0] / Sp + (Sp - acc[7]) / Sp + (Sq - acc[8]) / Sq);
		if (series && (kp[u] > SERIES_MIN || kq[u] > SERIES_MIN) && ae < 0.5 &&
		    f * acc[8] / ((SERIES_K + 1) * SERIES_K * M_LN2 * (1 - ae)) <= SERIES_TOL * Sp * d0) {
			double F = acc[0] + e * acc[1], ek = -e;
			for (int k = 2; k <= SERIES_K; k++) {
				ek *= -e;         /* (1-l)^k */
				F += ek * (acc[8] - acc[k]) / (k * (k - 1) * M_LN2);
			}
			d = 0.5 * (F / Sp + (Sp - acc[7]) / Sp + (Sq - acc[8]) / Sq);
		} else if (kp[u] <= kq[u]) {
			double S = MET_CALL(jsd_trunc, p, q, Sp / Sq, lq, u, op, kp[u], &in);
			d = 0.5 * (S / Sp + (Sq - in) / Sq);
		} else {
			double S = MET_CALL(jsd_trunc, q, p, Sq / Sp, lp, u, oq, kq[u], &in);
			d = 0.5 * (S / Sq + (Sp - in) / Sp);
		}
		jsd[u] = clamp01(d);
	}
}

void met_mean_entropy_levels(const float *const *p, const int32_t *const *lev, const float *w, int M, int V, int nl,
                             const uint8_t *dense, double *H)
{
	for (int u = 0; u < nl; u++) H[u] = 0;
	MET_CALL(mean_lev_plogp, p, lev, w, M, V, nl, dense, H);
	for (int u = 0; u < nl; u++) H[u] = H[u] == 0 ? 0 : -H[u];
}

void met_rank_accumulate(const float *p, const int32_t *order, int V, double *acc)
{
	for (int r = 0; r < V; r++) acc[r] += p[order[r]];
}

/* ---- bootstrap ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double met_percentile(double *x, int n, double q)
{
	if (n <= 0) return NAN;
	qsort(x, n, sizeof *x, cmp_double);
	double pos = q * (n - 1);
	int lo = (int)floor(pos);
	if (lo >= n - 1) return x[n - 1];
	double f = pos - lo;
	return x[lo] + f * (x[lo + 1] - x[lo]);
}

void met_bootstrap_ratios(const double *num, int S, const double *den, int64_t R, int B,
                          uint64_t seed, double level, double *lo, double *hi)
{
	if (R <= 0 || B <= 0) {
		for (int s = 0; s < S; s++) lo[s] = hi[s] = NAN;
		return;
	}
	double *vals = xmalloc(sizeof(double) * S * B), *acc = xmalloc(sizeof(double) * S);
	for (int b = 0; b < B; b++) {
		double d = 0;
		memset(acc, 0, sizeof(double) * S);
		for (int64_t j = 0; j < R; j++) {
			uint32_t r = rng_below(rng_hash4(seed, (uint64_t)b, (uint64_t)j, 0), (uint32_t)R);
			d += den[r];
			for (int s = 0; s < S; s++) acc[s] += num[(size_t)s * R + r];
		}
		for (int s = 0; s < S; s++) vals[(size_t)s * B + b] = d > 0 ? acc[s] / d : NAN;
	}
	double a = (1 - level) / 2;
	for (int s = 0; s < S; s++) {
		double *v = vals + (size_t)s * B;
		int n = 0;
		for (int b = 0; b < B; b++) if (!isnan(v[b])) v[n++] = v[b];
		lo[s] = met_percentile(v, n, a);
		hi[s] = met_percentile(v, n, 1 - a);
	}
	free(vals); free(acc);
}

void met_bootstrap_ratio(const double *num, const double *den, int64_t R, int B,
                         uint64_t seed, double level, double *lo, double *hi)
{
	met_bootstrap_ratios(num, 1, den, R, B, seed, level, lo, hi);
}

/* ---- n-gram counts ------------------------------------------------------- */

struct met_gram {
	int L;                        /* ints per key */
	uint64_t cap, n;              /* slots (a power of 2), used */
	int32_t *key;                 /* cap x L */
	uint64_t *cnt;                /* 0 = empty slot */
};

static met_gram *gram_new(int L)
{
	met_gram *g = xcalloc(1, sizeof *g);
	g->L = L; g->cap = 1024;
	g->key = xmalloc(sizeof(int32_t) * g->cap * (L ? L : 1));
	g->cnt = xcalloc(g->cap, sizeof(uint64_t));
	return g;
}

static void gram_free(met_gram *g)
{
	if (!g) return;
	free(g->key); free(g->cnt); free(g);
}

static uint64_t gram_hash(const int32_t *k, int L)
{
	uint64_t h = 0x243f6a8885a308d3ULL;
	for (int i = 0; i < L; i++) h = rng_mix(h ^ (uint32_t)k[i]);
	return h;
}

static void gram_put(met_gram *g, const int32_t *k, uint64_t add);

static void gram_grow(met_gram *g)
{
	met_gram old = *g;
	g->cap *= 2; g->n = 0;
	g->key = xmalloc(sizeof(int32_t) * g->cap * g->L);
	g->cnt = xcalloc(g->cap, sizeof(uint64_t));
	for (uint64_t i = 0; i < old.cap; i++)
		if (old.cnt[i]) gram_put(g, old.key + i * old.L, old.cnt[i]);
	free(old.key); free(old.cnt);
}

/* the slot of key k, added (count 0) if new: the caller makes its count
 * non-zero at once (0 marks an empty slot) */
static uint64_t gram_slot(met_gram *g, const int32_t *k)
{
	if (2 * (g->n + 1) > g->cap) gram_grow(g);
	uint64_t mask = g->cap - 1, i = gram_hash(k, g->L) & mask;
	size_t bytes = sizeof(int32_t) * g->L;
	while (g->cnt[i] && memcmp(g->key + i * g->L, k, bytes)) i = (i + 1) & mask;
	if (!g->cnt[i]) { memcpy(g->key + i * g->L, k, bytes); g->n++; }
	return i;
}

static void gram_put(met_gram *g, const int32_t *k, uint64_t add)
{
	uint64_t i = gram_slot(g, k);      /* first: it may move g->cnt */
	g->cnt[i] += add;
}

/* keeps the largest v seen for key k (a table of maxima, not counts) */
static void gram_max(met_gram *g, const int32_t *k, uint64_t v)
{
	uint64_t i = gram_slot(g, k);
	if (v > g->cnt[i]) g->cnt[i] = v;
}

/* sum over contexts of the count of their most frequent next token: the
 * events a predictor right with the most frequent token after each context
 * gets right (for order 0, the count of the most frequent token) */
static uint64_t gram_majority(const met_gram *joint)
{
	uint64_t s = 0;
	if (joint->L == 1) {
		for (uint64_t i = 0; i < joint->cap; i++)
			if (joint->cnt[i] > s) s = joint->cnt[i];
		return s;
	}
	met_gram *best = gram_new(joint->L - 1);
	for (uint64_t i = 0; i < joint->cap; i++)
		if (joint->cnt[i]) gram_max(best, joint->key + i * joint->L, joint->cnt[i]);
	for (uint64_t i = 0; i < best->cap; i++) s += best->cnt[i];
	gram_free(best);
	return s;
}

/* sum over slots of c log2 c */
static double gram_clogc(const met_gram *g)
{
	double s = 0;
	for (uint64_t i = 0; i < g->cap; i++)
		if (g->cnt[i] > 1) s += (double)g->cnt[i] * log2((double)g->cnt[i]);
	return s;
}

void met_ngram_init(met_ngram *g, int order)
{
	g->order = order;
	g->n = 0;
	g->joint = gram_new(order + 1);
	g->ctx = order > 0 ? gram_new(order) : NULL;
}

void met_ngram_free(met_ngram *g)
{
	gram_free(g->joint);
	gram_free(g->ctx);
	g->joint = g->ctx = NULL;
}

void met_ngram_add(met_ngram *g, const int32_t *tok, int64_t n)
{
	int k = g->order;
	for (int64_t t = k; t < n; t++) {
		gram_put(g->joint, tok + t - k, 1);
		if (k) gram_put(g->ctx, tok + t - k, 1);
		g->n++;
	}
}

void met_ngram_entropy(const met_ngram *g, met_ngram_result *r)
{
	double N = (double)g->n;
	r->n = g->n;
	r->grams = g->joint->n;
	r->contexts = g->ctx ? g->ctx->n : (g->n ? 1 : 0);
	if (!g->n) { r->plugin = r->miller_madow = r->majority = NAN; return; }
	r->majority = (double)gram_majority(g->joint) / N;
	double cc = g->ctx ? gram_clogc(g->ctx) : N * log2(N);
	r->plugin = (cc - gram_clogc(g->joint)) / N;
	if (r->plugin < 0) r->plugin = 0;
	r->miller_madow = r->plugin + ((double)r->grams - (double)r->contexts) / (2 * N * M_LN2);
}
