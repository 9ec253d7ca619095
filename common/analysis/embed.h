/* embed.h -- comparing the word-embedding matrices (V x d) of two models:
 * docs/METHODS.md (c).  Per model, emb_model_init() does the heavy part once
 * (cosine neighbours by one BLAS product of the row-normalised matrix with
 * its transpose (ssyrk: the symmetric sgemm, half the flops) and a
 * radix sort per row, the centred RBF Gram matrix); emb_compare() then
 * costs two d x d products, one SVD (LAPACK) and O(V k) per pair.
 *
 * Definitions (rows are tokens; the specials may be dropped first):
 *   top-k Jaccard   mean over tokens of |N_A(i,k) & N_B(i,k)| / |N_A | N_B|,
 *                   N(i,k) the k nearest rows by cosine, i itself excluded
 *   local Spearman  mean over tokens of the Spearman correlation of the
 *                   cosines to i's neighbours as seen by A and by B; the
 *                   neighbours are A's top k and, symmetric (default),
 *                   also B's top k, the two averaged; one-sided: A's only
 *                   (the authors' code).  Undefined (NaN) for k = 1.
 *                   Ties: ordinal ranks, lower index first.
 *   Procrustes      scipy.spatial.procrustes: centre, scale to unit
 *                   Frobenius norm, best rotation and scale of B onto A;
 *                   disparity = 1 - (sum of singular values of A'B)^2;
 *                   cosine = mean over rows of cos(a_i, (B R)_i)
 *   linear CKA      ||B'A||_F^2 / (||A'A||_F ||B'B||_F), columns centred
 *   RBF CKA         <HKH, HLH> / (||HKH|| ||HLH||), K = exp(-d^2 / 2 s^2),
 *                   s^2 = the lower median of all V^2 squared distances,
 *                   zeros of the diagonal included (the authors' ckatorch
 *                   with torch.median; Kornblith et al. use the median). */
#ifndef SEQLM_EMBED_H
#define SEQLM_EMBED_H

#include <stdint.h>

typedef struct {
	int V, d;                     /* rows used, columns */
	uint16_t *order;              /* V x V: row i's neighbours by descending cosine, i last */
	float *xc;                    /* V x d, columns centred */
	double xc_norm;               /* ||xc||_F */
	double gram_norm;             /* ||xc' xc||_F, for linear CKA */
	float *kc;                    /* V x V centred RBF Gram matrix, NULL if not wanted */
	double kc_norm;               /* ||kc||_F */
	double sigma2;                /* the RBF bandwidth s^2 */
} emb_model;

enum { EMB_NO_RBF = 1 };

/* E is V x d row-major (f32); rows first..V-1 are used (first = 5 drops the
 * specials).  threads: for the per-row work (BLAS threads are set by the
 * caller).  0, or -1 with a message in err. */
int emb_model_init(emb_model *m, const float *E, int V, int d, int first, int flags,
                   int threads, char *err, int errlen);
void emb_model_free(emb_model *m);

typedef struct {
	double disparity;             /* Procrustes */
	double procrustes_cos;        /* mean row cosine after alignment */
	double cka_linear, cka_rbf;   /* NaN when not computed */
} emb_pair;

/* jac[i], spear[i] for k[i] (each 1 <= k < V).  0, or -1 + err. */
int emb_compare(const emb_model *a, const emb_model *b, int nk, const int *k, int one_sided,
                int threads, double *jac, double *spear, emb_pair *out, char *err, int errlen);

#endif
