/* dist.c -- MPI for data-parallel training: fixed-order sums (dist.h says
 * why), broadcasts, and the one-rank identity when built or run without
 * MPI.  SEQLM_MPI is defined by the Makefile when mpicc's headers exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/dist.h"
#include <limits.h>
#include "base/cli.h"
#include "base/util.h"

#ifdef SEQLM_MPI
#include <mpi.h>

static int d_on, d_rank, d_size;
static uint64_t d_sent;
static char d_lib[MPI_MAX_LIBRARY_VERSION_STRING];

int dist_built(void) { return 1; }

const char *dist_library(void)
{
	int n = 0;
	if (!d_lib[0]) {
		MPI_Get_library_version(d_lib, &n);
		char *nl = strchr(d_lib, '\n');
		if (nl) *nl = 0;
		nl = strchr(d_lib, ',');
		if (nl) *nl = 0;
	}
	return d_lib;
}

/* the variables Open MPI's mpirun, PMIx (srun --mpi=pmix) and PMI-1/2
 * (srun --mpi=pmi2) set in every rank's environment */
static int launched(void)
{
	static const char *const env[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE" };
	for (size_t i = 0; i < sizeof env / sizeof *env; i++)
		if (getenv(env[i])) return 1;
	return 0;
}

int dist_init(int *argc, char ***argv)
{
	if (d_on || !launched()) return d_on ? d_size : 1;
	int provided;
	if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
		fprintf(stderr, "%s: error: MPI_Init failed\n", cli_prog);
		exit(1);
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &d_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &d_size);
	cli_signal_quiet_empty(d_rank != 0);   /* rank 0 reports an interrupted job */
	/* errors stop the job (the default handler for MPI_COMM_WORLD) */
	d_on = 1;
	return d_size;
}

int dist_rank(void) { return d_on ? d_rank : 0; }
int dist_size(void) { return d_on ? d_size : 1; }

void dist_split(dist_group *g, int ngroups)
{
	int size = dist_size(), per = size / ngroups;
	g->ngroups = ngroups;
	g->group = dist_rank() / per;
	g->rank = dist_rank() % per;
	g->size = per;
	g->comm = NULL;
	if (!d_on) return;
	MPI_Comm *c = xmalloc(sizeof *c);
	MPI_Comm_split(MPI_COMM_WORLD, g->group, g->rank, c);
	g->comm = c;
}

void dist_group_free(dist_group *g)
{
	if (g->comm) {
		MPI_Comm_free((MPI_Comm *)g->comm);
		free(g->comm);
	}
	g->comm = NULL;
}

/* chunk c of n items over N ranks: the first n % N chunks one longer */
static void chunk(size_t n, int N, int c, size_t *off, size_t *len)
{
	size_t q = n / (size_t)N, r = n % (size_t)N;
	*off = (size_t)c * q + ((size_t)c < r ? (size_t)c : r);
	*len = q + ((size_t)c < r);
}

/* the reduce-scatter + allgather of dist.h for one element type; the sum of
 * chunk c is ((x_0 + x_1) + x_2) + ... in rank order on its owner */
#define DIST_SUM(NAME, T, MPIT)                                                          \
void NAME(const dist_group *g, T *buf, size_t n)                                         \
{                                                                                        \
	if (!g->comm || g->size == 1 || n == 0) return;                                  \
	if (n > INT_MAX) {  /* MPI counts are int */                                     \
		fprintf(stderr, "%s: error: %zu values are too many for one sum\n", cli_prog, n); \
		MPI_Abort(MPI_COMM_WORLD, 1);                                            \
	}                                                                                \
	MPI_Comm comm = *(MPI_Comm *)g->comm;                                            \
	int N = g->size, me = g->rank;                                                   \
	size_t myoff, mylen;                                                             \
	chunk(n, N, me, &myoff, &mylen);                                                 \
	int *sc = xmalloc(4 * (size_t)N * sizeof *sc), *sd = sc + N, *rc = sd + N, *rd = rc + N; \
	for (int c = 0; c < N; c++) {                                                    \
		size_t off, len;                                                         \
		chunk(n, N, c, &off, &len);                                              \
		sc[c] = (int)len, sd[c] = (int)off;                                      \
		rc[c] = (int)mylen, rd[c] = (int)((size_t)c * mylen);                    \
	}                                                                                \
	T *in = xmalloc(((size_t)N * mylen + 1) * sizeof *in);                           \
	MPI_Alltoallv(buf, sc, sd, MPIT, in, rc, rd, MPIT, comm);                        \
	T *sum = buf + myoff;                                                            \
	memcpy(sum, in, mylen * sizeof *sum);                                            \
	for (int r = 1; r < N; r++) {                                                    \
		const T *x = in + (size_t)r * mylen;                                     \
		for (size_t i = 0; i < mylen; i++) sum[i] += x[i];                       \
	}                                                                                \
	d_sent += (uint64_t)(n - mylen) * sizeof *buf;                                   \
	for (int c = 0; c < N; c++) rc[c] = sc[c], rd[c] = sd[c];                         \
	MPI_Allgatherv(MPI_IN_PLACE, 0, MPIT, buf, rc, rd, MPIT, comm);                  \
	d_sent += (uint64_t)mylen * (uint64_t)(N - 1) * sizeof *buf;                     \
	free(in);                                                                        \
	free(sc);                                                                        \
}
DIST_SUM(dist_sum_f32, float, MPI_FLOAT)
DIST_SUM(dist_sum_f64, double, MPI_DOUBLE)

uint64_t dist_bytes_sent(void) { return d_sent; }

void dist_bcast(void *buf, size_t bytes, int root)
{
	if (!d_on || d_size == 1) return;
	char *p = buf;
	while (bytes) {
		int n = bytes > (size_t)1 << 30 ? 1 << 30 : (int)bytes;
		MPI_Bcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD);
		p += n, bytes -= (size_t)n;
	}
}

void dist_share_text(const char *s, size_t len, char **out, size_t *outlen)
{
	if (!d_on || d_size == 1) {
		*out = xmalloc(len + 1);
		memcpy(*out, s, len);
		(*out)[len] = 0, *outlen = len;
		return;
	}
	if (len > INT_MAX) {
		fprintf(stderr, "%s: error: %zu bytes of text are too many to share\n", cli_prog, len);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	int n = (int)len, *cnt = xmalloc(2 * (size_t)d_size * sizeof *cnt), *dsp = cnt + d_size;
	MPI_Allgather(&n, 1, MPI_INT, cnt, 1, MPI_INT, MPI_COMM_WORLD);
	size_t tot = 0;
	for (int r = 0; r < d_size; r++) dsp[r] = (int)tot, tot += (size_t)cnt[r];
	char *all = xmalloc(tot + 1);
	MPI_Allgatherv(s, n, MPI_CHAR, all, cnt, dsp, MPI_CHAR, MPI_COMM_WORLD);
	all[tot] = 0, *out = all, *outlen = tot;
	free(cnt);
}

int dist_max_int(int v)
{
	if (!d_on || d_size == 1) return v;
	int m;
	MPI_Allreduce(&v, &m, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return m;
}

void dist_barrier(void)
{
	if (d_on) MPI_Barrier(MPI_COMM_WORLD);
}

/* the tag of rank 0's last words: "I am failing, and have said why" */
enum { TAG_ROOT_FAILING = 7001 };

void dist_abort(int code)
{
	if (d_on && d_size > 1) {
		fflush(stderr);
		/* tell every rank first (4 bytes go eagerly: MPI_Send returns once
		 * they are in the receiver's queue), so that a rank meeting the
		 * same error stays silent (dist_root_failing) */
		if (d_rank == 0)
			for (int r = 1; r < d_size; r++) MPI_Send(&code, 1, MPI_INT, r, TAG_ROOT_FAILING, MPI_COMM_WORLD);
		/* the cleanup has run: the SIGTERM that MPI_Abort sends this very
		 * process ends it without an "interrupted" line */
		cli_signals_restore();
		MPI_Abort(MPI_COMM_WORLD, code);
	}
	exit(code);
}

int dist_root_failing(double seconds)
{
	if (!d_on || d_size == 1 || d_rank == 0) return 0;
	struct timespec nap = { 0, 5000000 };   /* 5 ms */
	for (double t = 0; t < seconds; t += 0.005) {
		int flag = 0;
		MPI_Iprobe(0, TAG_ROOT_FAILING, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
		if (flag) return 1;
		nanosleep(&nap, NULL);
	}
	return 0;
}

void dist_finalize(void)
{
	if (d_on) MPI_Finalize();
	d_on = 0;
}

#else /* one process */

int dist_built(void) { return 0; }
const char *dist_library(void) { return NULL; }
int dist_init(int *argc, char ***argv) { (void)argc, (void)argv; return 1; }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
void dist_split(dist_group *g, int ngroups)
{
	g->rank = 0, g->size = 1, g->group = 0, g->ngroups = ngroups, g->comm = NULL;
}
void dist_group_free(dist_group *g) { (void)g; }
void dist_sum_f32(const dist_group *g, float *buf, size_t n) { (void)g, (void)buf, (void)n; }
void dist_sum_f64(const dist_group *g, double *buf, size_t n) { (void)g, (void)buf, (void)n; }
uint64_t dist_bytes_sent(void) { return 0; }
void dist_bcast(void *buf, size_t bytes, int root) { (void)buf, (void)bytes, (void)root; }
void dist_share_text(const char *s, size_t len, char **out, size_t *outlen)
{
	*out = xmalloc(len + 1);
	memcpy(*out, s, len);
	(*out)[len] = 0, *outlen = len;
}
int dist_max_int(int v) { return v; }
void dist_barrier(void) {}
void dist_abort(int code) { exit(code); }
int dist_root_failing(double seconds) { (void)seconds; return 0; }
void dist_finalize(void) {}

#endif
