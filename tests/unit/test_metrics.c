/* test_metrics.c -- unit tests of common/analysis/metrics.c: hand-checked values and the
 * edge cases of docs/METHODS.md (a), (b). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/metrics.h"
#include "base/rng.h"
#include "tap.h"

static void test_log2(void)
{
	double worst = 0;
	for (int i = 0; i < 100000; i++) {
		float x = (float)exp2(-40.0 + 41.0 * i / 100000);
		double e = fabs(met_log2f(x) - log2((double)x));
		if (e > worst) worst = e;
	}
	ok(worst < 4e-6, "fast log2 is within float rounding of log2 from 2^-40 to 2 (worst %.2g)", worst);
	ok(met_log2f(1.0f) == 0, "log2(1) is exactly 0");
	ok(isfinite(met_log2f(0.0f)) && 0.0f * met_log2f(0.0f) == 0, "log2(0) is finite, so 0 log 0 = 0");
	float x[13], y[13];
	for (int i = 0; i < 13; i++) x[i] = 0.1f * (i + 1);
	met_log2_vec(x, y, 13, 0);
	int same = 1;
	for (int i = 0; i < 13; i++) same &= fabs(y[i] - log2(x[i])) < 1e-6;
	ok(same, "met_log2_vec handles a length that is not a multiple of 8");
	met_log2_vec(x, y, 13, 0.5f);
	ok(fabs(y[0] - (-1)) < 1e-6 && fabs(y[12] - log2(1.3)) < 1e-6, "met_log2_vec floors its input when asked");
}

static void test_uniform(void)
{
	enum { V = 4096 };
	static float p[V];
	for (int i = 0; i < V; i++) p[i] = 1.0f / V;
	met_row r;
	met_row_stats(p, V, &r);
	is_close(r.entropy, 12, 1e-6, 0, "uniform over 4096: entropy is 12 bits");
	is_close(met_kl_uniform(r.entropy, V), 0, 0, 1e-5, "uniform: KL(p||U) is 0");
	is_close(met_kl_uniform_rev(p, V), 0, 0, 1e-5, "uniform: the authors' KL(U||p) is 0");
	is_close(r.sum, 1, 1e-6, 0, "uniform: sums to 1");
	ok(r.argmax == 0, "ties: argmax is the first index");
	is_close(met_perplexity(r.entropy), 4096, 1e-5, 0, "perplexity 2^H of uniform is V");
}

static void test_one_hot(void)
{
	float p[37] = {0};
	p[20] = 1;
	met_row r;
	met_row_stats(p, 37, &r);
	ok(r.entropy == 0, "one-hot: entropy exactly 0 (0 log 0 = 0)");
	ok(r.argmax == 20 && r.pmax == 1, "one-hot: argmax and max");
	is_close(met_entropy_eps(p, 37), -log2(1 + 1e-10), 0, 1e-9, "one-hot: the authors' entropy adds 1e-10 in the log");
	is_close(met_kl_uniform_rev(p, 37), (1.0 / 37) * (36 * (log2(1e-10) * -1) + 0) + log2(1.0 / 37), 1e-5, 0,
	         "one-hot: KL(U||p) with p floored at 1e-10");
	is_close(met_nll_bits(0.25f), 2, 1e-12, 0, "NLL of p = 1/4 is 2 bits");
	ok(isinf(met_nll_bits(0)), "NLL of p = 0 is infinite");
	float z[3] = {0.5f, 0, 0.5f};
	met_row_stats(z, 3, &r);
	is_close(r.entropy, 1, 1e-6, 0, "zeros add nothing: (1/2, 0, 1/2) has 1 bit");
	float bad[3] = {0.5f, NAN, 0.5f};
	met_row_stats(bad, 3, &r);
	ok(isnan(r.sum), "a NaN shows in the sum");
	float neg[3] = {0.7f, -0.1f, 0.4f};
	met_row_stats(neg, 3, &r);
	ok(isnan(r.sum), "a negative probability shows as a NaN sum");
}

/* the accuracy metrics.h states: close distributions of V = 4096 (JS
 * distance about 0.01), flat and peaked, against float64 */
static void test_js_close(void)
{
	enum { V = 4096 };
	static float p[V], q[V];
	rng_t g;
	rng_seed(&g, 3, 0);
	for (int rep = 0; rep < 2; rep++) {
		double s = 0, t = 0, want = 0;
		for (int i = 0; i < V; i++) { p[i] = (float)exp((rep ? 3 : 0.3) * rng_normal(&g)); s += p[i]; }
		for (int i = 0; i < V; i++) {
			p[i] = (float)(p[i] / s);
			q[i] = p[i] * (float)(1 + 0.03 * rng_normal(&g));
			t += q[i];
		}
		for (int i = 0; i < V; i++) q[i] = (float)(q[i] / t);
		for (int i = 0; i < V; i++) {
			double m = 0.5 * ((double)p[i] + q[i]);
			want += 0.5 * (p[i] * log2(p[i] / m) + q[i] * log2(q[i] / m));
		}
		is_close(met_js_distance(p, q, V), sqrt(want), 1e-5, 0,
		         rep ? "JS distance ~0.01 of peaked rows to 1e-5 relative" : "JS distance ~0.01 of flat rows to 1e-5 relative");
		static float lp[V], lq[V], lfp[V], lfq[V];
		double jd, k1, k2;
		met_log2_vec(p, lp, V, 0); met_log2_vec(q, lq, V, 0);
		met_log2_vec(p, lfp, V, MET_EPS); met_log2_vec(q, lfq, V, MET_EPS);
		met_jsd_kl(p, lp, lfp, q, lq, lfq, V, &jd, &k1, &k2);
		is_close(sqrt(jd), sqrt(want), 1e-5, 0, "the same from the fused JS and KL pass");
	}
}

static void test_js(void)
{
	enum { V = 100 };
	float p[V], q[V], a[V] = {0}, b[V] = {0};
	rng_t g;
	rng_seed(&g, 7, 0);
	double s = 0, t = 0;
	for (int i = 0; i < V; i++) { p[i] = (float)rng_uniform(&g); q[i] = (float)rng_uniform(&g); s += p[i]; t += q[i]; }
	for (int i = 0; i < V; i++) { p[i] /= s; q[i] /= t; }
	ok(met_jsd(p, p, V) == 0, "identical distributions: JSD exactly 0");
	for (int i = 0; i < V / 2; i++) a[i] = 2.0f / V;
	for (int i = V / 2; i < V; i++) b[i] = 2.0f / V;
	is_close(met_js_distance(a, b, V), 1, 1e-6, 0, "disjoint supports: JS distance 1");
	is_close(met_jsd(p, q, V), met_jsd(q, p, V), 1e-6, 0, "JSD is symmetric");
	double want = 0;
	for (int i = 0; i < V; i++) {
		double m = 0.5 * ((double)p[i] + q[i]);
		want += 0.5 * (p[i] * log2(p[i] / m) + q[i] * log2(q[i] / m));
	}
	is_close(met_jsd(p, q, V), want, 1e-5, 0, "JSD matches the definition in double");
	/* truncations: the support-only form equals the dense one */
	int32_t oa[V], ob[V];
	uint32_t sc[4 * V];
	double ca[V], cb[V], ma, mb;
	float ta[V], tb[V];
	met_argsort_desc(p, V, oa, sc);
	met_argsort_desc(q, V, ob, sc);
	met_cumsum_sorted(p, oa, V, ca);
	met_cumsum_sorted(q, ob, V, cb);
	int ka = met_top_p_count(ca, V, 0.3, MET_TOPP_NUCLEUS, &ma), kb = met_top_p_count(cb, V, 0.6, MET_TOPP_NUCLEUS, &mb);
	met_truncate(p, NULL, oa, V, ka, ma, ta, NULL);
	met_truncate(q, NULL, ob, V, kb, mb, tb, NULL);
	double sb = 0;
	for (int i = 0; i < V; i++) sb += tb[i];
	is_close(met_jsd_support(ta, oa, ka, tb, sb), met_jsd(ta, tb, V), 1e-6, 1e-9,
	         "JSD over a's support only equals the dense JSD of truncated distributions");
	ok(met_jsd_support(ta, oa, ka, ta, 1.0) < 1e-7, "support form: identical truncations give 0");
	float lp[V], lq[V], lfp[V], lfq[V];
	double jd, k1, k2;
	met_log2_vec(p, lp, V, 0); met_log2_vec(q, lq, V, 0);
	met_log2_vec(p, lfp, V, MET_EPS); met_log2_vec(q, lfq, V, MET_EPS);
	met_jsd_kl(p, lp, lfp, q, lq, lfq, V, &jd, &k1, &k2);
	is_close(jd, met_jsd(p, q, V), 1e-6, 0, "the fused pass gives met_jsd's JSD");
	is_close(k1, met_kl(p, q, V), 1e-6, 0, "the fused pass gives KL(p||q)");
	is_close(k2, met_kl(q, p, V), 1e-6, 0, "the fused pass gives KL(q||p)");
	float h[2] = {1, 0}, u[2] = {0.5f, 0.5f};
	double w2 = 0.5 * log2(1 / 0.75) + 0.5 * (0.5 * log2(0.5 / 0.75) + 0.5 * log2(0.5 / 0.25));
	is_close(met_jsd(h, u, 2), w2, 1e-6, 0, "JSD((1,0),(1/2,1/2)) by hand");
	float r[2] = {0.75f, 0.25f};
	is_close(met_kl(r, u, 2), 0.75 * log2(1.5) + 0.25 * log2(0.5), 1e-6, 0, "KL((3/4,1/4)||(1/2,1/2)) by hand");
	is_close(met_kl(h, u, 2), 1, 1e-6, 0, "KL((1,0)||(1/2,1/2)) = 1 bit");
	is_close(met_kl(u, h, 2), 0.5 * log2(0.5) + 0.5 * (log2(0.5) - log2(1e-10)), 1e-5, 0, "KL to a zero is finite: q floored at 1e-10");
	float ens[4] = {1, 0, 0, 1}, tmp[2];
	is_close(met_mutual_info(ens, 2, 2, NULL, tmp), 1, 1e-6, 0, "two confident members disagreeing: MI 1 bit");
	float same[4] = {0.3f, 0.7f, 0.3f, 0.7f};
	is_close(met_mutual_info(same, 2, 2, NULL, tmp), 0, 0, 1e-7, "identical members: MI 0");
}

static void test_sort_top_p(void)
{
	float p[6] = {0.1f, 0.3f, 0.05f, 0.3f, 0.2f, 0.05f};
	int32_t o[6];
	uint32_t sc[24];
	met_argsort_desc(p, 6, o, sc);
	int want[6] = {1, 3, 4, 0, 2, 5};
	ok(!memcmp(o, want, sizeof want), "argsort: descending, ties by ascending index");
	float c[5] = {-0.5f, 0.25f, -1, 0.75f, 0};
	int32_t oc[5];
	met_argsort_desc(c, 5, oc, sc);
	int wc[5] = {3, 1, 4, 0, 2};
	ok(!memcmp(oc, wc, sizeof wc), "argsort: negative values (cosines) sort too");
	float q[3] = {0.5f, 0.3f, 0.2f};
	int32_t oq[3];
	double cum[3], mass;
	met_argsort_desc(q, 3, oq, sc);
	met_cumsum_sorted(q, oq, 3, cum);
	ok(met_top_p_count(cum, 3, 0.6, MET_TOPP_NUCLEUS, &mass) == 2, "nucleus 0.6 of (.5,.3,.2): the smallest set with mass >= p, 2");
	is_close(mass, 0.8, 1e-7, 0, "its mass is 0.8");
	ok(met_top_p_count(cum, 3, 0.6, MET_TOPP_AUTHORS, NULL) == 1, "authors' 0.6: the largest prefix with mass <= p, 1");
	ok(met_top_p_count(cum, 3, 0.3, MET_TOPP_NUCLEUS, NULL) == 1 && met_top_p_count(cum, 3, 0.3, MET_TOPP_AUTHORS, NULL) == 1,
	   "both keep at least the top token");
	ok(met_top_p_count(cum, 3, 0.5, MET_TOPP_NUCLEUS, NULL) == 1, "nucleus: mass exactly p is enough");
	ok(met_top_p_count(cum, 3, 1, MET_TOPP_NUCLEUS, NULL) == 3 && met_top_p_count(cum, 3, 1, MET_TOPP_AUTHORS, NULL) == 3,
	   "p = 1 keeps everything in both forms");
	float t[3];
	int k = met_top_p_count(cum, 3, 0.6, MET_TOPP_NUCLEUS, &mass);
	met_truncate(q, NULL, oq, 3, k, mass, t, NULL);
	ok(fabs(t[0] - 0.625) < 1e-7 && fabs(t[1] - 0.375) < 1e-7 && t[2] == 0, "truncation renormalises the kept mass");
	double acc[3] = {0};
	met_rank_accumulate(q, oq, 3, acc);
	ok(acc[0] == q[0] && acc[2] == q[2], "rank curve adds the sorted values");
}

/* met_nucleus (buckets, sorting only where a cut falls) against the full
 * sort: the same kept count for every top-p and both forms, the same kept
 * set, masses and sums of p log2 p equal but for rounding; rows of several
 * shapes: peaked, flat with noise, exactly uniform (one bucket of ties),
 * with zeros, one-hot, summing to less than the top-p */
static void test_nucleus(void)
{
	enum { V = 3000 };
	static float p[V], lp[V];
	static int32_t o[V], on[V];
	static uint32_t sc[4 * V], key[V];
	static uint64_t tmp[V];
	static double cum[V];
	static met_nucleus nu;
	static const double tps[] = {0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95, 0.999, 1};
	int bad_k = 0, bad_set = 0, n = 0;
	double worst_m = 0, worst_h = 0;
	for (int shape = 0; shape < 7; shape++) {
		int W = shape == 6 ? 17 : V;           /* a short row too */
		double s = 0;
		for (int i = 0; i < W; i++) {
			double u = rng_u01(rng_hash4(7, shape, i, 0));
			double x = shape == 0 ? exp(-20 * u) : shape == 1 ? 1 + 0.1 * u : shape == 2 ? 1
			         : shape == 3 ? (i % 3 ? 0 : u) : shape == 4 ? (i == 1234) : shape == 5 ? u * u * u : u;
			p[i] = (float)x; s += x;
		}
		for (int i = 0; i < W; i++) p[i] = (float)(p[i] / s * (shape == 5 ? 0.95 : 1));
		met_log2_vec(p, lp, W, 0);
		met_argsort_desc(p, W, o, sc);
		met_cumsum_sorted(p, o, W, cum);
		met_nucleus_init(&nu, p, lp, W, on, key, tmp);
		for (int t = 0; t < 10; t++)
			for (int mode = 0; mode < 2; mode++) {
				double m1, m2, plp, ref = 0;
				int k1 = met_top_p_count(cum, W, tps[t], mode, &m1);
				int k2 = met_nucleus_count(&nu, tps[t], mode, &m2, &plp);
				n++;
				if (k1 != k2) { bad_k++; continue; }
				for (int i = 0; i < k1; i++) ref += (double)p[o[i]] * lp[o[i]];
				/* the same set: the k largest, ties by index, in any order */
				static uint8_t in[V];
				memset(in, 0, W);
				for (int i = 0; i < k1; i++) in[o[i]] = 1;
				for (int i = 0; i < k2; i++) bad_set += !in[on[i]];
				double em = fabs(m1 - m2) / (m1 > 0 ? m1 : 1), eh = fabs(ref - plp) / (fabs(ref) > 1e-300 ? fabs(ref) : 1);
				if (em > worst_m) worst_m = em;
				if (eh > worst_h) worst_h = eh;
			}
	}
	ok(!bad_k, "bucketed top-p keeps as many tokens as the full sort (%d of %d cuts differ)", bad_k, n);
	ok(!bad_set, "and the same tokens (%d differ)", bad_set);
	ok(worst_m < 1e-13 && worst_h < 1e-12, "kept mass and sum of p log2 p agree but for rounding (%.2g, %.2g)", worst_m, worst_h);
	float q[3] = {0.5f, 0.3f, 0.2f}, lq[3];
	double mass, plp;
	met_log2_vec(q, lq, 3, 0);
	met_nucleus_init(&nu, q, lq, 3, on, key, tmp);
	ok(met_nucleus_count(&nu, 0.6, MET_TOPP_NUCLEUS, &mass, &plp) == 2 && fabs(mass - 0.8) < 1e-7,
	   "nucleus 0.6 of (.5,.3,.2): 2 tokens, mass 0.8");
	ok(met_nucleus_count(&nu, 0.5, MET_TOPP_NUCLEUS, &mass, &plp) == 1, "nucleus: mass exactly p is enough");
	ok(met_nucleus_count(&nu, 0.3, MET_TOPP_AUTHORS, &mass, &plp) == 1 && mass == 0.5f, "authors': at least the top token");
	ok(met_nucleus_count(&nu, 1, MET_TOPP_AUTHORS, &mass, &plp) == 3, "p = 1 keeps everything");
}

/* the truncated JSD at nested top-p levels (met_jsd_levels: running sums
 * and a series in the ratio of the two masses, or the direct sum) against
 * float64 on the full sort's kept sets: close rows (JS distance about 0.01
 * untruncated), flat and peaked, and rows far apart */
static double jsd_trunc_ref(const float *p, const int32_t *op, int kp, const float *q, const int32_t *oq, int kq, int V)
{
	static double a[8192], c[8192];
	double sa = 0, sc = 0, d = 0;
	memset(a, 0, sizeof(double) * V); memset(c, 0, sizeof(double) * V);
	for (int i = 0; i < kp; i++) sa += p[op[i]];
	for (int i = 0; i < kq; i++) sc += q[oq[i]];
	for (int i = 0; i < kp; i++) a[op[i]] = p[op[i]] / sa;
	for (int i = 0; i < kq; i++) c[oq[i]] = q[oq[i]] / sc;
	for (int i = 0; i < V; i++) {
		double m = 0.5 * (a[i] + c[i]);
		if (a[i] > 0) d += 0.5 * a[i] * log2(a[i] / m);
		if (c[i] > 0) d += 0.5 * c[i] * log2(c[i] / m);
	}
	return d;
}

static int levels_of(met_nucleus *nu, const double *tp, int nl, int mode, int *k, double *mass)
{
	for (int u = 0; u < nl; u++) {
		double plp;
		k[u] = met_nucleus_count(nu, tp[u], mode, &mass[u], &plp);
	}
	return nl;
}

static void test_jsd_levels(void)
{
	enum { V = 4096, NL = 10 };
	static float p[V], q[V], lp[V], lq[V];
	static int32_t op[V], oq[V], sp_[V], sq_[V], levp[V], levq[V], scr[V + 16];
	static uint32_t key[V], key2[V], sc[4 * V];
	static uint64_t tmp[V];
	static double cum[V];
	static met_nucleus np_, nq_;
	static const double tps[NL] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
	rng_t g;
	rng_seed(&g, 11, 0);
	for (int shape = 0; shape < 6; shape++) {
		/* flat and peaked rows; q close to p (JS distance about 0.01 after
		 * truncation, then about 0.05-0.2) or far from it */
		double sig = shape % 2 ? 3 : 0.5, noise = shape < 2 ? (shape ? 0.012 : 0.004) : shape < 4 ? 0.03 : 0.5, s = 0, t = 0;
		for (int i = 0; i < V; i++) { p[i] = (float)exp(sig * rng_normal(&g)); s += p[i]; }
		for (int i = 0; i < V; i++) {
			p[i] = (float)(p[i] / s);
			q[i] = p[i] * (float)exp(noise * rng_normal(&g));
			t += q[i];
		}
		for (int i = 0; i < V; i++) q[i] = (float)(q[i] / t);
		met_log2_vec(p, lp, V, 0); met_log2_vec(q, lq, V, 0);
		for (int mode = 0; mode < 2; mode++) {
			int kp[NL], kq[NL], rp[NL], rq[NL];
			double mp[NL], mq[NL], jsd[NL], plp[NL], worst = 0, worst_abs = 0, worst_h = 0;
			met_nucleus_init(&np_, p, lp, V, op, key, tmp);
			levels_of(&np_, tps, NL, mode, kp, mp);
			met_levels(p, lp, op, kp, NL, V, levp, plp);
			met_nucleus_init(&nq_, q, lq, V, oq, key2, tmp);
			levels_of(&nq_, tps, NL, mode, kq, mq);
			met_levels(q, lq, oq, kq, NL, V, levq, NULL);
			met_jsd_levels(p, op, levp, kp, mp, q, oq, levq, kq, mq, NL, jsd, scr);
			met_argsort_desc(p, V, sp_, sc);
			met_argsort_desc(q, V, sq_, sc);
			int same = 1;
			double worst_close = 0;
			for (int u = 0; u < NL; u++) {
				met_cumsum_sorted(p, sp_, V, cum);
				rp[u] = met_top_p_count(cum, V, tps[u], mode, NULL);
				met_cumsum_sorted(q, sq_, V, cum);
				rq[u] = met_top_p_count(cum, V, tps[u], mode, NULL);
				same &= rp[u] == kp[u] && rq[u] == kq[u];
				double h = 0;
				for (int i = 0; i < rp[u]; i++) h += (double)p[sp_[i]] * lp[sp_[i]];
				if (fabs(h - plp[u]) > worst_h * fabs(h)) worst_h = fabs(h - plp[u]) / fabs(h);
				double want = jsd_trunc_ref(p, sp_, rp[u], q, sq_, rq[u], V), ea = fabs(jsd[u] - want);
				if (ea > worst_abs) worst_abs = ea;
				/* distances 0.005 to 0.03 */
				if (want > 2.5e-5 && want < 1e-3) {
					double e = fabs(sqrt(jsd[u]) - sqrt(want)) / sqrt(want);
					if (e > worst_close) worst_close = e;
				}
				if (want == 0) worst = jsd[u] != 0 ? 1 : worst;
			}
			static const char *name[] = {"flat, close", "peaked, close", "flat, nearby", "peaked, nearby", "flat, far", "peaked, far"};
			const char *mn = mode ? "authors'" : "nucleus";
			ok(same, "%s rows (%s): the kept counts of the full sort at every level", name[shape], mn);
			ok(worst_h < 1e-13, "%s rows (%s): met_levels' sums of p log2 p over them but for rounding (%.2g)", name[shape],
			   mn, worst_h);
			/* as documented in disagree(1) and metrics.h */
			double lim = shape < 2 ? (shape ? 5e-10 : 1e-12) : shape % 2 ? 3e-8 : 2e-8;
			ok(worst_abs < lim, "%s rows (%s): JSD of the truncations at 10 nested levels to %g absolute (%.2g)", name[shape],
			   mn, lim, worst_abs);
			if (shape < 2)
				ok(worst_close < 1e-5, "%s rows (%s): JS distances of about 0.01 to 1e-5 relative (%.2g)", name[shape], mn,
				   worst_close);
			ok(worst == 0, "%s rows (%s): equal truncations give exactly 0", name[shape], mn);
		}
	}
	/* rows equal on their top tokens and different below: the levels that
	 * keep only the equal part are exactly 0, as is every level of a row
	 * against itself */
	for (int i = 0; i < V; i++) q[i] = p[i];
	for (int i = 0; i < V; i++) if (p[i] < 1e-5f) q[i] = 0.5f * p[i];
	met_log2_vec(q, lq, V, 0);
	int kp[NL], kq[NL];
	double mp[NL], mq[NL], jsd[NL], self[NL];
	met_nucleus_init(&np_, p, lp, V, op, key, tmp);
	levels_of(&np_, tps, NL, 0, kp, mp);
	met_levels(p, lp, op, kp, NL, V, levp, NULL);
	met_nucleus_init(&nq_, q, lq, V, oq, key2, tmp);
	levels_of(&nq_, tps, NL, 0, kq, mq);
	met_levels(q, lq, oq, kq, NL, V, levq, NULL);
	met_jsd_levels(p, op, levp, kp, mp, p, op, levp, kp, mp, NL, self, scr);
	met_jsd_levels(p, op, levp, kp, mp, q, oq, levq, kq, mq, NL, jsd, scr);
	int zero = 0, nz = 0;
	for (int u = 0; u < NL; u++) {
		zero += self[u] == 0;
		if (kp[u] == kq[u] && !memcmp(op, oq, sizeof(int32_t) * kp[u])) nz++, zero += jsd[u] == 0;
	}
	ok(nz > 0 && zero == NL + nz, "truncations equal as sets and values: JSD exactly 0 (%d of %d levels)", zero, NL + nz);
}

static void test_bootstrap(void)
{
	double x[5] = {4, 1, 3, 2, 5};
	is_close(met_percentile(x, 5, 0.25), 2, 1e-12, 0, "percentile 25 of 1..5 is 2 (numpy linear)");
	double y[4] = {1, 2, 3, 4};
	is_close(met_percentile(y, 4, 0.25), 1.75, 1e-12, 0, "percentile 25 of 1..4 is 1.75 (numpy linear)");
	enum { R = 50 };
	double num[R], den[R], lo, hi, lo2, hi2;
	for (int i = 0; i < R; i++) { den[i] = 1 + i % 3; num[i] = den[i] * (i % 7); }
	met_bootstrap_ratio(num, den, R, 500, 42, 0.95, &lo, &hi);
	met_bootstrap_ratio(num, den, R, 500, 42, 0.95, &lo2, &hi2);
	ok(lo == lo2 && hi == hi2, "bootstrap: same seed, same interval");
	double sn = 0, sd = 0;
	for (int i = 0; i < R; i++) { sn += num[i]; sd += den[i]; }
	ok(lo < sn / sd && sn / sd < hi, "bootstrap: the interval holds the estimate (%.3f < %.3f < %.3f)", lo, sn / sd, hi);
	met_bootstrap_ratio(num, den, R, 500, 43, 0.95, &lo2, &hi2);
	ok(lo != lo2 || hi != hi2, "bootstrap: another seed, other draws");
	for (int i = 0; i < R; i++) num[i] = 0.5 * den[i];
	met_bootstrap_ratio(num, den, R, 200, 1, 0.95, &lo, &hi);
	ok(fabs(lo - 0.5) < 1e-12 && fabs(hi - 0.5) < 1e-12, "bootstrap: a constant ratio has a zero-width interval");
	met_bootstrap_ratio(num, den, 0, 200, 1, 0.95, &lo, &hi);
	ok(isnan(lo) && isnan(hi), "bootstrap: no records, NaN");
}

static void test_ngram(void)
{
	int32_t s[100];
	for (int i = 0; i < 100; i++) s[i] = 5 + i % 2;
	met_ngram g0, g1;
	met_ngram_result r;
	met_ngram_init(&g0, 0);
	met_ngram_init(&g1, 1);
	met_ngram_add(&g0, s, 100);
	met_ngram_add(&g1, s, 100);
	met_ngram_entropy(&g0, &r);
	is_close(r.plugin, 1, 1e-12, 0, "ABAB...: unigram entropy 1 bit");
	is_close(r.miller_madow, 1 + 1 / (2 * 100 * M_LN2), 1e-12, 0, "Miller-Madow adds (K-1)/(2N ln 2)");
	met_ngram_entropy(&g1, &r);
	ok(r.plugin == 0 && r.n == 99 && r.contexts == 2 && r.grams == 2, "ABAB...: first-order conditional entropy 0");
	is_close(r.miller_madow, 0, 0, 1e-15, "and no correction when every context has one successor");
	int32_t t[3] = {7, 8, 9};
	met_ngram_add(&g1, t, 3);
	met_ngram_add(&g1, t, 1);
	met_ngram_entropy(&g1, &r);
	ok(r.n == 101, "contexts do not cross sequences: 2 more events, not 3");
	met_ngram_free(&g0);
	met_ngram_free(&g1);
	met_ngram g3;
	met_ngram_init(&g3, 3);
	rng_t q;
	rng_seed(&q, 3, 0);
	int32_t *big = malloc(sizeof(int32_t) * 20000);
	for (int i = 0; i < 20000; i++) big[i] = 5 + (int)rng_below(rng_next(&q), 50);
	met_ngram_add(&g3, big, 20000);
	met_ngram_entropy(&g3, &r);
	ok(r.grams > 10000 && r.plugin < log2(50), "the count table grows past its first size");
	met_ngram_free(&g3);
	free(big);
}

int main(void)
{
	test_log2();
	test_uniform();
	test_one_hot();
	test_js();
	test_js_close();
	test_sort_top_p();
	test_nucleus();
	test_jsd_levels();
	test_bootstrap();
	test_ngram();
	return done_testing();
}
