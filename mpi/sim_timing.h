/* sim_timing.h - one run in timing mode (sim.h): messages as in mpi_run, computation charged, not done.
 *
 * At the start of the program's first run rank 0 measures, on this machine's core and by its
 * thread's CPU time (what SMPI charges for computation it runs), the mean of
 * SIM_CAL_BATCHES - 1 batches' forward and backward after a first one, one
 * AdamW update and one gradient addition (reduce_sum of two buffers); every
 * rank learns the three durations (MPI_Bcast); later runs of the same
 * program reuse them, so every policy is charged the same costs (--sim-costs
 * gives them instead: a sweep measures once, every rank count is charged the
 * same). Then each step, on every rank:
 * its batches cost batch_s each, a control's additions add_s each, whoever
 * applies AdamW (the root; every rank under allreduce) adamw_s; the sums and
 * the parameters travel exactly as in mpi_run (same edges, sizes, calls), in
 * buffers shared across ranks, so R ranks cost the host a few buffers, not R
 * models. The loss is NaN; the parameters are meaningless. */
#ifndef SB_MPI_SIM_TIMING_H
#define SB_MPI_SIM_TIMING_H

#include "mpi_run.h"

#define SIM_CAL_BATCHES 4

/* As mpi_run; bs: rank 0's, made for one batch a step (setup_batch_sum), NULL elsewhere. */
sb_status sim_timing_run(BatchSum *bs, const RankPlan *plan, int rank, float *params, size_t n_params, uint64_t first,
                         uint64_t batches, int bps, MpiRunOut *out, sb_error *err);

#endif
