/* dist.h -- data parallelism over MPI (Open MPI) for lmtrain: which rank this
 * is, one communicator per ensemble member, and sums whose order is fixed.
 *
 * Why not MPI_Allreduce: the standard leaves its order of additions to the
 * implementation, and Open MPI picks among several algorithms by message
 * size and process count, so the same job could round differently from run
 * to run or from one N to another.  dist_sum_*() reduce-scatter by
 * rank-ordered chunks: rank c owns chunk c of the buffer, receives every
 * rank's copy of it (MPI_Alltoallv) and adds them in rank order 0, 1, ...,
 * N-1, then the sums are gathered everywhere (MPI_Allgatherv).  Every rank
 * ends with the same bits, the same for every run with the same N.
 *
 * Built without MPI (no mpicc) or run without a launcher (mpirun, srun),
 * there is one rank and every call is the identity. */
#ifndef SEQLM_DIST_H
#define SEQLM_DIST_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	int rank, size;               /* within the group (an ensemble member's ranks) */
	int group, ngroups;           /* which group, and how many */
	void *comm;                   /* MPI_Comm, NULL without MPI */
} dist_group;

/* 1 if seqlm was built with MPI */
int dist_built(void);
/* the MPI library's version line ("Open MPI v4.1.4, ..."), or NULL */
const char *dist_library(void);
/* MPI_Init when launched by mpirun/srun (their environment says so) and
 * built with MPI; otherwise one rank.  Call after anything that may
 * re-execute the program.  Returns the world size. */
int dist_init(int *argc, char ***argv);
int dist_rank(void);              /* world rank, 0 without MPI */
int dist_size(void);              /* world size, 1 without MPI */
/* the world cut into ngroups consecutive blocks of size/ngroups ranks (size
 * must be a multiple: checked by the caller); g describes this rank's block */
void dist_split(dist_group *g, int ngroups);
void dist_group_free(dist_group *g);
/* buf[n] summed over the group's ranks in rank order, on every rank */
void dist_sum_f32(const dist_group *g, float *buf, size_t n);
void dist_sum_f64(const dist_group *g, double *buf, size_t n);
/* the bytes counted by dist_sum_* on this rank so far (sent), for the bench */
uint64_t dist_bytes_sent(void);
/* world-wide: root's buf to every rank */
void dist_bcast(void *buf, size_t bytes, int root);
/* world-wide: every rank gets the concatenation of all ranks' texts in
 * rank order in *out (malloc'd, NUL-terminated) */
void dist_share_text(const char *s, size_t len, char **out, size_t *outlen);
/* world-wide: the largest of each rank's v (error flags) */
int dist_max_int(int v);
void dist_barrier(void);
/* every rank stops: MPI_Abort (never returns); exit(code) without MPI */
void dist_abort(int code) __attribute__((noreturn));
/* on a rank other than 0, about to report an error: whether rank 0 has
 * reported one (its dist_abort says so to every rank first), waiting up to
 * seconds for it.  An error every rank meets is then reported once, by
 * rank 0, however slow the machine; 0 on rank 0 and without MPI */
int dist_root_failing(double seconds);
void dist_finalize(void);

#endif
