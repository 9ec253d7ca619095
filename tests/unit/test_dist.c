/* test_dist -- the fixed-order sums of dist.h.  Run directly it checks the
 * one-rank identity; under mpirun (tests/t/35-lmtrain-mpi.t runs it with
 * 2 and 3 ranks) every rank checks that dist_sum_* give exactly the sum in
 * rank order, ((x_0 + x_1) + x_2) + ..., for buffers shorter and longer
 * than the rank count and for groups made by dist_split. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/cli.h"
#include "base/dist.h"
#include "base/rng.h"
#include "tap.h"

/* rank r's value at i: varied magnitudes, so the order of additions shows */
static float val(int r, size_t i)
{
	uint64_t h = rng_mix(((uint64_t)r << 40) ^ i);
	return (float)((double)(h >> 11) / 9007199254740992.0 - 0.5) * ldexpf(1.0f, (int)(h % 40) - 20);
}

static int check_f32(const dist_group *g, int base, size_t n)
{
	float *x = malloc((n + 1) * sizeof *x), *want = malloc((n + 1) * sizeof *want);
	for (size_t i = 0; i < n; i++) {
		x[i] = val(base + g->rank, i);
		want[i] = val(base, i);
		for (int r = 1; r < g->size; r++) want[i] += val(base + r, i);
	}
	dist_sum_f32(g, x, n);
	int same = memcmp(x, want, n * sizeof *x) == 0;
	free(x); free(want);
	return same;
}

static int check_f64(const dist_group *g, int base, size_t n)
{
	double *x = malloc((n + 1) * sizeof *x), *want = malloc((n + 1) * sizeof *want);
	for (size_t i = 0; i < n; i++) {
		x[i] = (double)val(base + g->rank, i) * 1.000001;
		want[i] = (double)val(base, i) * 1.000001;
		for (int r = 1; r < g->size; r++) want[i] += (double)val(base + r, i) * 1.000001;
	}
	dist_sum_f64(g, x, n);
	int same = memcmp(x, want, n * sizeof *x) == 0;
	free(x); free(want);
	return same;
}

int main(int argc, char **argv)
{
	cli_prog = "test_dist";
	int N = dist_init(&argc, &argv), me = dist_rank();
	if (me != 0 && !freopen("/dev/null", "w", stdout)) return 1;   /* rank 0 speaks TAP */
	dist_group w;
	dist_split(&w, 1);
	ok(w.size == N && w.rank == me && w.group == 0, "the whole world is one group of %d", N);
	size_t sizes[] = { 0, 1, 2, 3, 7, 1000, 100003 };
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		int f = check_f32(&w, 0, sizes[k]), d = check_f64(&w, 0, sizes[k]);
		ok(dist_max_int(!f) == 0, "f32 sum of %zu values over %d ranks is the rank-order sum", sizes[k], N);
		ok(dist_max_int(!d) == 0, "f64 sum of %zu values over %d ranks is the rank-order sum", sizes[k], N);
	}
	if (N > 1) {
		uint64_t sent = dist_bytes_sent();
		ok(sent > 0, "bytes sent counted (%llu)", (unsigned long long)sent);
	}
	/* one group per rank: sums within a group of one are the identity */
	dist_group solo;
	dist_split(&solo, N);
	ok(solo.size == 1 && solo.group == me, "%d groups of one", N);
	ok(dist_max_int(!check_f32(&solo, 100 * me, 999)) == 0, "a group of one leaves the buffer as it is");
	dist_group_free(&solo);
	/* world-wide helpers */
	int root = N - 1;
	long v = me == root ? 12345 : -1;
	dist_bcast(&v, sizeof v, root);
	ok(dist_max_int(v != 12345) == 0, "broadcast from rank %d", root);
	char line[32], *all;
	size_t len;
	int n = snprintf(line, sizeof line, "rank %d\n", me);
	dist_share_text(line, (size_t)n, &all, &len);
	char want[4096] = "";
	for (int r = 0; r < N; r++) snprintf(want + strlen(want), sizeof want - strlen(want), "rank %d\n", r);
	ok(dist_max_int(!(all && strcmp(all, want) == 0 && len == strlen(want))) == 0,
	   "every rank has every rank's text, in rank order");
	free(all);
	dist_group_free(&w);
	int rc = done_testing();
	dist_finalize();
	return rc;
}
