/* test_embed.c -- unit tests of common/analysis/embed.c: an embedding matrix against a
 * rotated and scaled copy of itself (every comparison says "the same"),
 * against itself, and thread independence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/cli.h"
#include "analysis/embed.h"
#include "base/rng.h"
#include "tap.h"

enum { V = 205, D = 16, NK = 5 };

/* a random orthogonal matrix: Gram-Schmidt on Gaussian columns */
static void random_rotation(double *R, int d, rng_t *g)
{
	for (int i = 0; i < d * d; i++) R[i] = rng_normal(g);
	for (int j = 0; j < d; j++) {
		for (int k = 0; k < j; k++) {
			double dot = 0;
			for (int i = 0; i < d; i++) dot += R[i * d + j] * R[i * d + k];
			for (int i = 0; i < d; i++) R[i * d + j] -= dot * R[i * d + k];
		}
		double n = 0;
		for (int i = 0; i < d; i++) n += R[i * d + j] * R[i * d + j];
		for (int i = 0; i < d; i++) R[i * d + j] /= sqrt(n);
	}
}

int main(void)
{
	static float E[V * D], F[V * D], G[V * D];
	double R[D * D];
	rng_t g;
	rng_seed(&g, 11, 0);
	for (int i = 0; i < V * D; i++) E[i] = (float)rng_normal(&g);
	random_rotation(R, D, &g);
	for (int i = 0; i < V; i++)
		for (int j = 0; j < D; j++) {
			double s = 0;
			for (int k = 0; k < D; k++) s += E[i * D + k] * R[k * D + j];
			F[i * D + j] = (float)(3.5 * s);
		}
	for (int i = 0; i < V * D; i++) G[i] = E[i] + 0.8f * (float)rng_normal(&g);

	char err[256];
	emb_model a, b, c, c2;
	ok(emb_model_init(&a, E, V, D, 5, 0, 1, err, sizeof err) == 0, "a model's embeddings are prepared");
	ok(emb_model_init(&b, F, V, D, 5, 0, 2, err, sizeof err) == 0, "a rotated, scaled copy too");
	emb_model_init(&c, G, V, D, 5, 0, 1, err, sizeof err);
	emb_model_init(&c2, G, V, D, 5, 0, 2, err, sizeof err);
	ok(a.V == V - 5 && a.d == D, "the specials' rows are left out");
	ok(!memcmp(c.order, c2.order, sizeof(int32_t) * c.V * c.V), "neighbour order does not depend on threads");

	int k[NK] = {1, 3, 10, 50, 199};
	double jac[NK], sp[NK];
	emb_pair p;
	ok(emb_compare(&a, &b, NK, k, 0, 2, jac, sp, &p, err, sizeof err) == 0, "rotated copy: compared");
	int all = 1;
	for (int i = 0; i < NK; i++) all &= fabs(jac[i] - 1) < 1e-12;
	ok(all, "rotated copy: top-k Jaccard 1 for every k");
	all = 1;
	for (int i = 1; i < NK; i++) all &= fabs(sp[i] - 1) < 1e-6;
	ok(all && isnan(sp[0]), "rotated copy: local Spearman 1 (NaN for k = 1)");
	is_close(p.disparity, 0, 0, 1e-5, "rotated copy: Procrustes disparity 0");
	is_close(p.procrustes_cos, 1, 0, 1e-5, "rotated copy: mean row cosine after alignment 1");
	is_close(p.cka_linear, 1, 0, 1e-5, "rotated copy: linear CKA 1");
	is_close(p.cka_rbf, 1, 0, 1e-4, "rotated copy: RBF CKA 1");

	emb_compare(&a, &c, NK, k, 0, 1, jac, sp, &p, err, sizeof err);
	ok(jac[2] > 0 && jac[2] < 1 && p.disparity > 0.05 && p.cka_linear < 0.99, "a noisy copy is similar, not the same");
	double j1[NK], s1[NK], j2[NK], s2[NK];
	emb_pair p1, p2;
	emb_compare(&a, &c, NK, k, 0, 1, j1, s1, &p1, err, sizeof err);
	emb_compare(&a, &c2, NK, k, 0, 2, j2, s2, &p2, err, sizeof err);
	ok(!memcmp(j1, j2, sizeof j1) && !memcmp(s1 + 1, s2 + 1, sizeof(double) * (NK - 1)) && p1.cka_rbf == p2.cka_rbf,
	   "results do not depend on threads");
	double jo[NK], so[NK];
	emb_compare(&a, &c, NK, k, 1, 1, jo, so, &p, err, sizeof err);
	ok(!memcmp(jo, j1, sizeof jo) && so[2] != s1[2], "--one-sided changes Spearman only");
	int bad[1] = {V - 5};
	ok(emb_compare(&a, &c, 1, bad, 0, 1, jac, sp, &p, err, sizeof err) < 0, "k >= rows is an error: %s", err);
	emb_model small;
	ok(emb_model_init(&small, E, 6, D, 5, 0, 1, err, sizeof err) < 0, "too few rows is an error: %s", err);
	E[3 * D + 2] = NAN;
	emb_model nan;
	ok(emb_model_init(&nan, E, V, D, 0, 0, 1, err, sizeof err) < 0, "NaN in the embeddings is an error: %s", err);
	emb_model_free(&a); emb_model_free(&b); emb_model_free(&c); emb_model_free(&c2);
	return done_testing();
}
