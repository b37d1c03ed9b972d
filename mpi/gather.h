/* gather.h - every rank's accounting, collected on rank 0 after a run.
 *
 * Per rank: its host, role, batches, wall and CPU time (process and the sum
 * of its threads'), its time inside MPI (thread 0's PHASE_COMM) and the bytes
 * it sent and received; and every thread's statistics row. Both go to rank 0
 * as raw bytes (every rank runs the same binary), outside the measured region. */
#ifndef SB_MPI_GATHER_H
#define SB_MPI_GATHER_H

#include <mpi.h>

#include "mpi_run.h"

typedef struct {
    char host[MPI_MAX_PROCESSOR_NAME];
    int rank, n_threads, computes, level;
    ThreadRole role;
    double wall_s, process_cpu_s, threads_cpu_s, comm_s;
    uint64_t batches, sent, received, calls, params_hash;
} RankSummary;

typedef struct {
    int n_ranks, n_threads;
    RankSummary *ranks;    /* [n_ranks] */
    ThreadStats *threads;  /* [n_threads], rank by rank */
    int *thread_rank;      /* [n_threads]: the rank of each row */
    int params_agree;      /* 1 when every rank ended with the same parameter bits */
} Gathered;

/* Collective; fills g on rank 0 only (zeroed elsewhere). */
void mpi_gather(const MpiRunOut *o, const RankPlan *plan, int rank, const float *params, size_t n_params,
                Gathered *g);
void gathered_free(Gathered *g);

/* This process's host name (MPI_Get_processor_name). */
void mpi_host_name(char out[MPI_MAX_PROCESSOR_NAME]);

#endif
