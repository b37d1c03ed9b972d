/* sim.h - the MPI program on a simulated platform (SimGrid SMPI, built with smpicc).
 *
 * Built with smpicc (`make sim`), every rank is a simulated process on a
 * simulated host: a rank's computation is charged to the simulated clock by
 * its measured CPU time, messages by the platform's network model. Then:
 *   the clock   rank-level wall and comm times come from MPI_Wtime, the
 *               simulated clock (CLOCK_MONOTONIC inside the program is host
 *               time and means nothing there); per-phase times other than
 *               comm stay host-measured; the process's CPU time is NaN;
 *   threads     one rank = one simulated core: --threads must be 1 (SMPI
 *               charges only the calling thread), and SMPI's
 *               MPI_THREAD_SINGLE is accepted, since only thread 0 calls MPI;
 *   timing mode (--timing, simulation only) the ranks hold no model of their
 *               own: the message buffers are shared across ranks
 *               (SMPI_SHARED_MALLOC), rank 0 measures a batch's compute, an
 *               AdamW update and one gradient addition on this machine's core
 *               at the start of each run (sim_timing.h), and every rank is
 *               charged those durations instead of computing; the model's
 *               values are meaningless and a checkpoint is refused.
 * Built with mpicc, sim_active() is 0, the shared allocator is team_alloc
 * and nothing else changes. */
#ifndef SB_MPI_SIM_H
#define SB_MPI_SIM_H

#include <stddef.h>

#include "../variants/variant.h"

/* Timing mode's charges (sim_timing.h), seconds of this machine's core. */
typedef struct {
    double batch_s, adamw_s, add_s;
} SimCosts;

/* 1 in a program built with smpicc. */
int sim_active(void);
/* Where the rank-level times come from: "simulated (MPI_Wtime)" or "host (CLOCK_MONOTONIC)". */
const char *sim_clock_name(void);

/* Timing mode, one flag per rank (set by setup_from_args). */
void sim_set_timing(int on);
int sim_timing(void);
/* Timing mode's charges given (--sim-costs) instead of measured; sim_costs: NULL when not given. */
void sim_set_costs(const SimCosts *c);
const SimCosts *sim_costs(void);

/* Buffers of n_params floats: shared across ranks in timing mode, else team_alloc's. */
void *sim_buffer_alloc(size_t bytes);
void sim_buffer_free(void *p);

/* Charges `seconds` of this rank's computation to the simulated clock (no-op when not simulated). */
void sim_charge(double seconds);

/* Under simulation: the run's wall time and thread 0's comm time are the
 * simulated ones (MPI_Wtime), the process CPU time NaN. th: thread 0's row,
 * writable (the trainer's own, or sim_timing's). */
void sim_fix_times(RunResult *res, ThreadStats *th, double wall_s, double comm_s);

#endif
