// dist.h — data-parallel training over MPI: which rank this is, a deterministic gradient sum, and
// the small agreements that make every rank stop together (also those of a sweep spread over ranks,
// src/exp/ranks.c and runner.c). Compiled against MPI when the build found it (ACTLAB_MPI), else as
// a one-rank fallback with the same API.
//
// MPI is initialised only when a launcher started us (mpirun/mpiexec or srun: it leaves its
// environment behind); a plain `actlab train` never touches MPI and runs exactly as before.
#ifndef ACTLAB_DIST_H
#define ACTLAB_DIST_H

#include <stddef.h>
#include <stdint.h>

// Initialises MPI if launched by mpirun/srun (and compiled with MPI); harmless to call twice.
// Afterwards die() messages name the rank. Returns the number of ranks (1 without MPI).
int dist_init(void);
// In a child forked after dist_init (a sweep's run): one rank of its own from now on. The parent's
// MPI state is not usable in a fork, so this process never touches MPI (dist_finalize does nothing).
void dist_detach(void);
// Finalises MPI if dist_init started it.
void dist_finalize(void);
int dist_rank(void);        // 0 without MPI
int dist_size(void);        // 1 without MPI
int dist_local_size(void);  // ranks on this host (for the default thread count); 1 without MPI
// "Open MPI v4.1.4" or similar when compiled with MPI, else NULL.
const char *dist_library(void);

// x (n) becomes the elementwise sum over ranks, the same bits on every rank: rank 0 adds the other
// ranks' vectors to its own in rank order ((x0 + x1) + x2) + ..., then broadcasts the result. The
// order is ours, not the MPI library's, so the bits depend only on the rank count.
void dist_sum_floats(float *x, size_t n);
// Wall seconds spent in dist_sum_floats so far, and the floats it summed per call (the last n).
double dist_sum_seconds(void);
// Rank 0, more than one rank: one stderr line on the time the gradient sums took out of wall_s
// (steps steps) and their volume per step.
void dist_print_summary(double wall_s, long steps);
// The sum over ranks of one double, added in rank order (the same bits on every rank).
double dist_sum_double(double x);
// Rank 0 receives every rank's x (n each) into all (n·ranks, in rank order); all is unused elsewhere.
void dist_gather_floats(const float *x, size_t n, float *all);
// x (n) becomes the elementwise sum over ranks (integers: exact in any order).
void dist_sum_u64(uint64_t *x, size_t n);
// x (n) becomes the elementwise maximum over ranks (exact whatever the order).
void dist_max_floats(float *x, size_t n);
// The maximum over ranks of v.
int dist_max_int(int v);
// Rank 0's s (NULL allowed) on every rank, malloc'd (NULL everywhere when rank 0 passed NULL).
char *dist_bcast_string(const char *s);

// A sweep's ranks run for minutes without meeting in a collective, so these never block while the
// others work. A notice (nonzero value, e.g. a signal number) goes from one rank to every other.
void dist_notify_others(int value);
// The value of a notice another rank sent (its rank in *from), or 0 when none is waiting.
int dist_poll_notice(int *from);
// Once every rank knows how many ranks sent notices (senders): receives those not yet polled and
// completes this rank's sends, so that nothing is in flight at the next sweep or MPI_Finalize.
void dist_notices_settle(int senders);
// A barrier to poll: dist_barrier_begin, then dist_barrier_done until every rank has begun it (1).
void dist_barrier_begin(void);
int dist_barrier_done(void);

#endif
