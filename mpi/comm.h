/* comm.h - every MPI call of a training run, timed and its bytes counted.
 *
 * The MPI program's one way to talk to other ranks during the measured
 * region: each wrapper switches the calling thread's clock to PHASE_COMM for
 * the call's duration (then back to the phase it interrupted) and adds the
 * bytes the call sends and receives to the rank's tally. Only thread 0 of a
 * rank calls MPI (MPI_THREAD_FUNNELED). Errors: the library's default handler
 * (MPI_ERRORS_ARE_FATAL) aborts the job, and mpirun names the rank. */
#ifndef SB_MPI_COMM_H
#define SB_MPI_COMM_H

#include <mpi.h>
#include <stdint.h>

#include "../core/thread_clock.h"

typedef struct {
    ThreadClock *clk;   /* thread 0's clock of this rank */
    uint64_t sent, received; /* bytes, payload only */
    uint64_t calls;
    double wtime_s;     /* seconds inside the calls by MPI_Wtime (the simulated clock under SMPI) */
    double entered;     /* MPI_Wtime at the running call's start */
} CommBook;

void comm_send(CommBook *b, const float *buf, size_t n, int dest, int tag);
void comm_recv(CommBook *b, float *buf, size_t n, int src, int tag);
/* Receives from every source in srcs[0..k) into bufs[i] at once, waits for all. */
void comm_recv_all(CommBook *b, float *const *bufs, size_t n, const int *srcs, int k, int tag);
/* Sends buf to every dest in dests[0..k) at once, waits for all. */
void comm_send_all(CommBook *b, const float *buf, size_t n, const int *dests, int k, int tag);
/* MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM). The library picks
 * its algorithm, so the bytes counted are a ring's, 2 (R-1)/R of the buffer
 * each way per rank (0 for one rank), not a measurement. */
void comm_allreduce_sum(CommBook *b, float *buf, size_t n);

#endif
