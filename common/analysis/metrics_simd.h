/* metrics_simd.h -- the vector kernels of metrics.c, included there twice:
 * VW = 16 floats a vector (one zmm register: AVX-512 machines) and VW = 8
 * (one ymm: AVX2, split into xmm pairs on baseline x86-64).  The includer
 * defines VW, MET_SIMD (the target attribute) and MET_SFX (the name suffix);
 * every name defined here gets the suffix, so the two copies coexist.
 * Not a public header. */
#define MET_CAT2(a, b) a##_##b
#define MET_CAT(a, b) MET_CAT2(a, b)
#define K(name) MET_CAT(name, MET_SFX)
#define vf K(vf)
#define vi K(vi)
#define loadv K(loadv)
#define storev K(storev)
#define load_tail K(load_tail)
#define splat K(splat)
#define vmax K(vmax)
#define vmin K(vmin)
#define hsum K(hsum)
#define vlog2 K(vlog2)
#define jsd_term K(jsd_term)

typedef float vf __attribute__((vector_size(4 * VW)));
typedef int32_t vi __attribute__((vector_size(4 * VW)));

static inline __attribute__((always_inline)) vf loadv(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline __attribute__((always_inline)) void storev(float *p, vf v) { memcpy(p, &v, sizeof v); }
/* the n < VW remaining entries, zero padded: zeros add nothing to any sum here */
static inline __attribute__((always_inline)) vf load_tail(const float *p, int n)
{
	vf v = {0};
	for (int i = 0; i < n; i++) v[i] = p[i];
	return v;
}
static inline __attribute__((always_inline)) vf splat(float x) { return (vf){0} + x; }
/* C has no ?: on vectors: select by mask */
static inline __attribute__((always_inline)) vf vmax(vf a, vf b) { vi m = a > b; return (vf)((m & (vi)a) | (~m & (vi)b)); }
static inline __attribute__((always_inline)) vf vmin(vf a, vf b) { vi m = a < b; return (vf)((m & (vi)a) | (~m & (vi)b)); }
static inline __attribute__((always_inline)) double hsum(vf v)
{
	double s = 0;
	for (int i = 0; i < VW; i++) s += v[i];
	return s;
}

/* log2 x = e + log2 m with m in [sqrt(1/2), sqrt(2)); log2(1 + t) = t P(t)
 * with P of degree 8 fitted (least squares, Chebyshev nodes) on that
 * interval: |error| < 6e-8, no division, and log2 1 = 0 exactly.
 * x = 0 gives -127 (finite, so 0 log 0 = 0). */
static inline __attribute__((always_inline)) vf vlog2(vf x)
{
	vi b = (vi)x;
	vi e = ((b >> 23) & 0xff) - 127;
	vi mb = (b & 0x007fffff) | 0x3f800000;
	vi big = (vi)((vf)mb > splat(1.41421356f));  /* -1 where m > sqrt 2 */
	mb -= big & 0x00800000;       /* m /= 2 */
	e -= big;                     /* e += 1 */
	vf t = (vf)mb - 1.0f;
	/* Estrin's scheme: a short dependency chain, so that the out-of-order
	 * core overlaps iterations */
	vf t2 = t * t, t4 = t2 * t2;
	vf p01 = 1.4426950216293335f - 0.7213473320007324f * t;
	vf p23 = 0.48091059923171997f - 0.36070483922958374f * t;
	vf p45 = 0.2879182994365692f - 0.23892028629779816f * t;
	vf p67 = 0.21566997468471527f - 0.20742154121398926f * t;
	vf P = (p01 + t2 * p23) + t4 * ((p45 + t2 * p67) + t4 * 0.1261487752199173f);
	return __builtin_convertvector(e, vf) + t * P;
}

/* a log2(2a/(a+c)) + c log2(2c/(a+c)), the ratio form of metrics.c's
 * jsd_sum() (a reciprocal estimate and a Newton step instead of the
 * division measured no faster) */
static inline __attribute__((always_inline)) vf jsd_term(vf a, vf c)
{
	vf r = 2 * a / vmax(a + c, splat(1e-30f));
	return a * vlog2(r) + c * vlog2(2.0f - r);
}

/* jsd_term() in d = (a-c)/(a+c): (a+c)/(2 ln 2) sum_k d^(2k)/(k (2k-1)),
 * exact to float rounding for |d| <= 1/2 with terms to d^18 (the next is
 * 2e-8 of the first there), with no cancellation when a and c are close,
 * where the ratio form's two logarithms, each good to about 1e-7 of its
 * small value, leave about 1e-7/|d| of the term (1e-5 at d = 0.01, on a
 * peaked row's large probabilities 1e-8 of the divergence); lanes with
 * |d| > 1/2 take the ratio form.  *r2 = 2c/(a+c). */
static inline __attribute__((always_inline)) vf K(jsd_term_d)(vf a, vf c, vf *r2)
{
	vf s = a + c, inv = 1.0f / vmax(s, splat(1e-30f)), d = (a - c) * inv, d2 = d * d;
	*r2 = 2 * c * inv;
	vf P = 1.0f / 120 + d2 * (1.0f / 153);
	P = 1.0f / 91 + d2 * P;
	P = 1.0f / 66 + d2 * P;
	P = 1.0f / 45 + d2 * P;
	P = 1.0f / 28 + d2 * P;
	P = 1.0f / 15 + d2 * P;
	P = 1.0f / 6 + d2 * P;
	P = 1.0f + d2 * P;
	vf g = (s * d2) * P * (float)(0.5 / M_LN2);
	vi big = d2 > splat(0.25f);
	int any = 0;
	for (int j = 0; j < VW; j++) any |= big[j];
	if (any) {
		vf r = 2 * a * inv, f = a * vlog2(r) + c * vlog2(*r2);
		g = (vf)((big & (vi)f) | (~big & (vi)g));
	}
	return g;
}

MET_SIMD static void K(log2_vec)(const float *x, float *y, int n, float floor)
{
	int i = 0;
	vf f = splat(floor);
	for (; i + VW <= n; i += VW) {
		vf v = loadv(x + i);
		if (floor > 0) v = vmax(v, f);
		storev(y + i, vlog2(v));
	}
	if (i < n) {
		vf v = load_tail(x + i, n - i);
		if (floor > 0) v = vmax(v, f);
		v = vlog2(v);
		for (int j = 0; i + j < n; j++) y[i + j] = v[j];
	}
}

/* one pass over a row: sum p log2 p, sum p, max and min, the first index of
 * the max; with lp, also log2 p into lp and it floored at log2 1e-10 into lf */
MET_SIMD static void K(row_kernel)(const float *p, int V, float *lp, float *lf, double *plogp, double *sum,
                                   float *pmax, float *pmin, int *argmax)
{
	vf mx = splat(-INFINITY), mn = splat(INFINITY), fl = splat(-33.219280948873624f);
	vi at = {0}, lane;
	for (int j = 0; j < VW; j++) lane[j] = j;
	double H = 0, S = 0;
	for (int b = 0; b < V; b += BLOCK) {
		int e = b + BLOCK < V ? b + BLOCK : V, i = b;
		vf h = {0}, s = {0};
		for (; i + VW <= e; i += VW) {
			vf v = loadv(p + i), l = vlog2(v);
			if (lp) {
				storev(lp + i, l);
				storev(lf + i, vmax(l, fl));
			}
			h += v * l;
			s += v;
			vi up = v > mx;       /* strictly: each lane keeps its first max */
			at = (up & (lane + i)) | (~up & at);
			mx = vmax(v, mx);
			mn = vmin(v, mn);
		}
		if (i < e) {
			vf v = load_tail(p + i, e - i), l = vlog2(v), f = vmax(l, fl);
			h += v * l;
			s += v;
			for (int j = 0; i + j < e; j++) {
				if (lp) { lp[i + j] = l[j]; lf[i + j] = f[j]; }
				if (v[j] > mx[0]) { mx[0] = v[j]; at[0] = i + j; }
				if (v[j] < mn[0]) mn[0] = v[j];
			}
		}
		H += hsum(h);
		S += hsum(s);
	}
	float a = mx[0], c = mn[0];
	int k = at[0];
	for (int j = 1; j < VW; j++) {
		if (mx[j] > a || (mx[j] == a && at[j] < k)) { a = mx[j]; k = at[j]; }
		if (mn[j] < c) c = mn[j];
	}
	*plogp = H; *sum = S; *pmax = a; *pmin = c; *argmax = V > 0 && a > -INFINITY ? k : 0;
}

MET_SIMD static void K(mean_rows_ptr)(const float *const *rows, int M, int V, float *out)
{
	float w = 1.0f / M;
	int i = 0;
	for (; i + VW <= V; i += VW) {
		vf s = {0};
		for (int m = 0; m < M; m++) s += loadv(rows[m] + i);
		storev(out + i, s * w);
	}
	for (; i < V; i++) {
		float s = 0;
		for (int m = 0; m < M; m++) s += rows[m][i];
		out[i] = s * w;
	}
}

MET_SIMD static double K(sum_plog_floor)(const float *p, int V, float add, float floor, int weight_by_p)
{
	double S = 0;
	vf a = splat(add), f = splat(floor);
	for (int b = 0; b < V; b += BLOCK) {
		int e = b + BLOCK < V ? b + BLOCK : V, i = b;
		vf h = {0};
		for (; i + VW <= e; i += VW) {
			vf v = loadv(p + i), x = v + a;
			x = vmax(x, f);
			h += weight_by_p ? v * vlog2(x) : vlog2(x);
		}
		for (; i < e; i++) {
			float x = p[i] + add;
			if (x < floor) x = floor;
			S += weight_by_p ? p[i] * met_log2f(x) : met_log2f(x);
		}
		S += hsum(h);
	}
	return S;
}

MET_SIMD static double K(jsd_sum)(const float *p, const float *q, int V)
{
	double S = 0;
	for (int b = 0; b < V; b += BLOCK) {
		int e = b + BLOCK < V ? b + BLOCK : V, i = b;
		vf h = {0};
		for (; i + VW <= e; i += VW) h += jsd_term(loadv(p + i), loadv(q + i));
		if (i < e) {
			int n = e - i;
			vf a = load_tail(p + i, n), c = load_tail(q + i, n);
			h += jsd_term(a, c);
		}
		S += hsum(h);
	}
	return S;
}

/* jsd_sum() over the tokens ia[0..ka) of qa and qb, gathered as it goes
 * (the same terms in the same order as jsd_sum() over the gathered
 * arrays, so the same bits), and *inb = the sum of those qb, in double
 * lanes: exact for any order (but for values over 2^29 times apart), as
 * the caller's sum of qb is, so identical truncations give exactly 0 */
MET_SIMD static double K(jsd_gather)(const float *qa, const float *qb, const int32_t *ia, int ka, double *inb)
{
	typedef double vd __attribute__((vector_size(8 * VW)));
	double S = 0;
	vd g = {0};
	for (int b = 0; b < ka; b += BLOCK) {
		int e = b + BLOCK < ka ? b + BLOCK : ka, u = b;
		vf h = {0};
		for (; u + VW <= e; u += VW) {
			vf a, c;
#if VW == 16
			__m512i ix = _mm512_loadu_si512(ia + u);
			a = (vf)_mm512_i32gather_ps(ix, qa, 4);
			c = (vf)_mm512_i32gather_ps(ix, qb, 4);
#else
			for (int j = 0; j < VW; j++) { a[j] = qa[ia[u + j]]; c[j] = qb[ia[u + j]]; }
#endif
			h += jsd_term(a, c);
			g += __builtin_convertvector(c, vd);
		}
		if (u < e) {
			vf a = {0}, c = {0};
			for (int j = 0; u + j < e; j++) { a[j] = qa[ia[u + j]]; c[j] = qb[ia[u + j]]; }
			h += jsd_term(a, c);
			g += __builtin_convertvector(c, vd);
		}
		S += hsum(h);
	}
	double I = 0;
	for (int j = 0; j < VW; j++) I += g[j];
	*inb = I;
	return S;
}

MET_SIMD static void K(jsd_kl)(const float *p, const float *lp, const float *lfp, const float *q, const float *lq,
                const float *lfq, int V, double *jsd, double *kl_pq, double *kl_qp)
{
	double S = 0, A = 0, B = 0;
	for (int b = 0; b < V; b += BLOCK) {
		int e = b + BLOCK < V ? b + BLOCK : V, i = b;
		vf h = {0}, ka = {0}, kb = {0};
		for (; i + VW <= e; i += VW) {
			vf a = loadv(p + i), c = loadv(q + i);
			h += jsd_term(a, c);
			ka += a * (loadv(lp + i) - loadv(lfq + i));
			kb += c * (loadv(lq + i) - loadv(lfp + i));
		}
		if (i < e) {
			int n = e - i;
			vf a = load_tail(p + i, n), c = load_tail(q + i, n);
			h += jsd_term(a, c);
			ka += a * (load_tail(lp + i, n) - load_tail(lfq + i, n));
			kb += c * (load_tail(lq + i, n) - load_tail(lfp + i, n));
		}
		S += hsum(h); A += hsum(ka); B += hsum(kb);
	}
	S *= 0.5;
	*jsd = S < 0 ? 0 : S > 1 ? 1 : S;
	*kl_pq = A < 0 ? 0 : A;
	*kl_qp = B < 0 ? 0 : B;
}

MET_SIMD static double K(kl_lp)(const float *p, const float *lp, const float *lfq, int V)
{
	double S = 0;
	for (int b = 0; b < V; b += BLOCK) {
		int e = b + BLOCK < V ? b + BLOCK : V, i = b;
		vf h = {0};
		for (; i + VW <= e; i += VW) h += loadv(p + i) * (loadv(lp + i) - loadv(lfq + i));
		for (; i < e; i++) S += p[i] * (lp[i] - lfq[i]);
		S += hsum(h);
	}
	return S < 0 ? 0 : S;
}

/* VW lanes of base[ix] (float or int) */
#if VW == 16
#define MET_GATHER_PS(ix, base) ((vf)_mm512_i32gather_ps((__m512i)(ix), (base), 4))
#define MET_GATHER_EPI(ix, base) ((vi)_mm512_i32gather_epi32((__m512i)(ix), (base), 4))
#else
#define MET_GATHER_PS(ix, base) K(gather_ps)(ix, base)
#define MET_GATHER_EPI(ix, base) K(gather_epi)(ix, base)
static inline __attribute__((always_inline)) vf K(gather_ps)(vi ix, const float *b)
{
	vf v;
	for (int j = 0; j < VW; j++) v[j] = b[ix[j]];
	return v;
}
static inline __attribute__((always_inline)) vi K(gather_epi)(vi ix, const int32_t *b)
{
	vi v;
	for (int j = 0; j < VW; j++) v[j] = b[ix[j]];
	return v;
}
#endif
/* the indices ix[0..n), n <= VW, padded with index 0; *valid: -1 in the
 * lanes that hold one */
static inline __attribute__((always_inline)) vi K(load_ix)(const int32_t *ix, int n, vi *valid)
{
	vi v = {0}, ok = {0};
	if (n == VW) { memcpy(&v, ix, sizeof v); *valid = ok - 1; return v; }
	for (int j = 0; j < n; j++) { v[j] = ix[j]; ok[j] = -1; }
	*valid = ok;
	return v;
}

/* ix[0..n) where lev[ix] <= t, appended at out (which has VW entries of
 * slack); returns how many */
MET_SIMD static int K(select_lev)(const int32_t *ix, int n, const int32_t *lev, int t, int32_t *out)
{
	int k = 0, u = 0;
#if VW == 16
	__m512i tv = _mm512_set1_epi32(t);
	for (; u + VW <= n; u += VW) {
		__m512i x = _mm512_loadu_si512(ix + u);
		__mmask16 m = _mm512_cmple_epi32_mask(_mm512_i32gather_epi32(x, lev, 4), tv);
		/* compress in a register and store whole (a compress to memory
		 * is microcoded and slow on AMD Zen 4) */
		_mm512_storeu_si512(out + k, _mm512_maskz_compress_epi32(m, x));
		k += __builtin_popcount(m);
	}
#endif
	for (; u < n; u++) {
		int j = ix[u];
		out[k] = j;
		k += lev[j] <= t;
	}
	return k;
}

/* the sum of a vector's lanes in double, pairwise */
static inline __attribute__((always_inline)) double K(hsum_pair)(vf v)
{
	double x[VW];
	for (int j = 0; j < VW; j++) x[j] = v[j];
	for (int w = VW / 2; w >= 1; w /= 2)
		for (int j = 0; j < w; j++) x[j] += x[j + w];
	return x[0];
}

/* sum of p log2 p over the tokens ix[0..n), the products and sums in
 * double lanes */
MET_SIMD static double K(plp_at)(const float *p, const float *lp, const int32_t *ix, int n)
{
	typedef double vd __attribute__((vector_size(8 * VW)));
	vd S = {0};
	for (int u = 0; u < n; u += VW) {
		vi ok, x = K(load_ix)(ix + u, n - u < VW ? n - u : VW, &ok);
		vf a = (vf)(ok & (vi)MET_GATHER_PS(x, p)), l = (vf)(ok & (vi)MET_GATHER_PS(x, lp));
		S += __builtin_convertvector(a, vd) * __builtin_convertvector(l, vd);
	}
	double x[VW];
	for (int j = 0; j < VW; j++) x[j] = S[j];
	for (int w = VW / 2; w >= 1; w /= 2)
		for (int j = 0; j < w; j++) x[j] += x[j + w];
	return x[0];
}

/* The running sums of met_jsd_levels() over the tokens ix[0..n): with
 * a = pa, c = pb there, s = a + c and w = c/s, acc[0] += sum a log2(2a/s)
 * + c log2(2c/s) (jsd_term), acc[1] += sum c log2(2c/s), acc[2..6] += sum
 * c w^j for j = 1..5 (float lanes summed per block, then in double),
 * acc[7] += sum a and acc[8] += sum c in double lanes (exact for any
 * order, as the nuclei's masses are). */
MET_SIMD static void K(jsd_walk)(const float *pa, const float *pb, const int32_t *ix, int n, double *acc)
{
	typedef double vd __attribute__((vector_size(8 * VW)));
	vd P = {0}, Q = {0};
	for (int b = 0; b < n; b += BLOCK) {
		int e = b + BLOCK < n ? b + BLOCK : n;
		vf h0 = {0}, h1 = {0}, w1 = {0}, w2 = {0}, w3 = {0}, w4 = {0}, w5 = {0};
		for (int u = b; u < e; u += VW) {
			vi ok, x = K(load_ix)(ix + u, e - u < VW ? e - u : VW, &ok);
			vf a = (vf)(ok & (vi)MET_GATHER_PS(x, pa)), c = (vf)(ok & (vi)MET_GATHER_PS(x, pb));
			vf r2, g = K(jsd_term_d)(a, c, &r2);
			vf t1 = c * vlog2(r2), w = 0.5f * r2;
			h0 += g;
			h1 += t1;
			vf cw = c * w;
			w1 += cw; cw *= w; w2 += cw; cw *= w; w3 += cw; cw *= w; w4 += cw; cw *= w; w5 += cw;
			P += __builtin_convertvector(a, vd);
			Q += __builtin_convertvector(c, vd);
		}
		acc[0] += K(hsum_pair)(h0); acc[1] += K(hsum_pair)(h1);
		acc[2] += K(hsum_pair)(w1); acc[3] += K(hsum_pair)(w2); acc[4] += K(hsum_pair)(w3);
		acc[5] += K(hsum_pair)(w4); acc[6] += K(hsum_pair)(w5);
	}
	double x[VW], y[VW];
	for (int j = 0; j < VW; j++) { x[j] = P[j]; y[j] = Q[j]; }
	for (int w = VW / 2; w >= 1; w /= 2)
		for (int j = 0; j < w; j++) { x[j] += x[j + w]; y[j] += y[j + w]; }
	acc[7] += x[0]; acc[8] += y[0];
}

/* jsd_sum() of truncations over the tokens ix[0..n) (all of x's kept
 * set), divided by x's mass: with G homogeneous of degree 1, G(px/Sx,
 * py/Sy) = G(px, l py)/Sx, l = Sx/Sy, summed here with px as it is and
 * c = l py where lev_y <= t, else 0 (the product in double, rounded once,
 * so no error common to all tokens); *qin = the sum of py over those
 * where c is kept, in double lanes */
MET_SIMD static double K(jsd_trunc)(const float *px, const float *py, double l, const int32_t *lev, int t,
                                    const int32_t *ix, int n, double *qin)
{
	typedef double vd __attribute__((vector_size(8 * VW)));
	vd Q = {0}, vl = (vd){0} + l;
	vi tv = (vi){0} + t;
	double S = 0;
	for (int b = 0; b < n; b += BLOCK) {
		int e = b + BLOCK < n ? b + BLOCK : n;
		vf h = {0};
		for (int u = b; u < e; u += VW) {
			vi ok, x = K(load_ix)(ix + u, e - u < VW ? e - u : VW, &ok);
			vi in = ok & (MET_GATHER_EPI(x, lev) <= tv);
			vf a = (vf)(ok & (vi)MET_GATHER_PS(x, px));
			vd c = __builtin_convertvector((vf)(in & (vi)MET_GATHER_PS(x, py)), vd);
			Q += c;
			vf r2;
			h += K(jsd_term_d)(a, __builtin_convertvector(c * vl, vf), &r2);
		}
		S += K(hsum_pair)(h);
	}
	double x[VW];
	for (int j = 0; j < VW; j++) x[j] = Q[j];
	for (int w = VW / 2; w >= 1; w /= 2)
		for (int j = 0; j < w; j++) x[j] += x[j + w];
	*qin = x[0];
	return S;
}

/* S[u] += sum m log2 m over V tokens, for each level u < nl with
 * dense[u], of m = sum over the M rows (in row order) of w[r nl + u] p_r
 * where lev_r <= u, 0 elsewhere: the mean of M truncations.  A block of
 * tokens at a time for all levels, so the rows stay in the L1 cache. */
MET_SIMD static void K(mean_lev_plogp)(const float *const *p, const int32_t *const *lev, const float *w, int M, int V,
                                       int nl, const uint8_t *dense, double *S)
{
	for (int b = 0; b < V; b += BLOCK) {
		int e = b + BLOCK < V ? b + BLOCK : V;
		for (int u = 0; u < nl; u++) {
			if (!dense[u]) continue;
			vi tv = (vi){0} + u;
			vf h = {0};
			int i = b;
			for (; i + VW <= e; i += VW) {
				vf m = {0};
				for (int r = 0; r < M; r++) {
					vi l;
					memcpy(&l, lev[r] + i, sizeof l);
					m += (vf)((l <= tv) & (vi)(loadv(p[r] + i) * w[r * nl + u]));
				}
				h += m * vlog2(m);
			}
			for (; i < e; i++) {
				float m = 0;
				for (int r = 0; r < M; r++) m += lev[r][i] <= u ? p[r][i] * w[r * nl + u] : 0;
				S[u] += m * met_log2f(m);
			}
			S[u] += hsum(h);
		}
	}
}

/* desc_key() of metrics.c over a row (the same bit operations in vectors),
 * with the smallest and largest key: integer work, so both widths give the
 * same keys */
typedef uint32_t K(vu) __attribute__((vector_size(4 * VW)));
MET_SIMD static void K(desc_keys)(const float *p, int V, uint32_t *key, uint32_t *lo, uint32_t *hi)
{
	K(vu) vlo = (K(vu)){0} + UINT32_MAX, vhi = {0};
	int i = 0;
	for (; i + VW <= V; i += VW) {
		K(vu) b;
		memcpy(&b, p + i, sizeof b);
		K(vu) neg = (K(vu))((vi)b >> 31);             /* all ones where negative */
		K(vu) k = ~(b ^ (neg | 0x80000000u));
		memcpy(key + i, &k, sizeof k);
		K(vu) m = k < vlo;
		vlo = (m & k) | (~m & vlo);
		m = k > vhi;
		vhi = (m & k) | (~m & vhi);
	}
	uint32_t l = UINT32_MAX, h = 0;
	for (int j = 0; j < VW; j++) { l = vlo[j] < l ? vlo[j] : l; h = vhi[j] > h ? vhi[j] : h; }
	for (; i < V; i++) {
		uint32_t k = desc_key(p[i]);
		key[i] = k;
		l = k < l ? k : l; h = k > h ? k : h;
	}
	*lo = l; *hi = h;
}

#undef vf
#undef vi
#undef loadv
#undef storev
#undef load_tail
#undef splat
#undef vmax
#undef vmin
#undef hsum
#undef vlog2
#undef jsd_term
#undef MET_GATHER_PS
#undef MET_GATHER_EPI
#undef K
