/* mpi_run.h - one training run across MPI ranks under one policy.
 *
 * Every rank calls mpi_run with the same arguments but its own rank. Each
 * step, the rank's BatchSum (variants/batch_sum.h, K threads) sums the rank's
 * share of the step's batches in batch order (rank_plan.h says which), then
 * the sums are combined:
 *   flat, tree  each control receives its children's sums (all at once),
 *               adds its own then theirs in child order, and sends one sum
 *               to its parent; the root divides and applies AdamW
 *               (step_book_apply_all, the shared end-of-step arithmetic) and the
 *               parameters go back down the same edges;
 *   allreduce   MPI_Allreduce of the sum (a rank without a batch in the
 *               step gives zeros) and every rank applies AdamW itself.
 * A rank's loss sums stay on it until the end, when the root gathers them
 * and adds them in rank order: the loss never costs a message per step.
 * Under simulation (sim.h) the run's wall time and the comm time are the
 * simulated clock's, and in timing mode sim_timing_run runs instead. */
#ifndef SB_MPI_RUN_H
#define SB_MPI_RUN_H

#include "../variants/batch_sum.h"
#include "comm.h"
#include "rank_plan.h"
#include "sim.h"

typedef struct {
    RunResult res;        /* this rank's threads; valid until the BatchSum's next run or destroy */
    CommBook comm;        /* this rank's MPI time is in res's thread 0 PHASE_COMM; bytes here */
    float *step_loss;     /* root: [res.steps] the whole step's mean loss; owned */
    float last_loss;      /* root: the last step's */
    ThreadStats sim_thread; /* timing mode (sim.h): res.threads points here */
    SimCosts costs;         /* timing mode: what each batch, update and addition was charged */
} MpiRunOut;

/* The BatchSum must have been made for this rank: cfg.threads = K if the
 * rank computes, else 1; cfg.batches_per_step = the step's batch count.
 * Trains params (the same on every rank at the start) in place over batches
 * first .. first+batches-1. On return every rank holds the trained params. */
sb_status mpi_run(BatchSum *bs, const RankPlan *plan, int rank, float *params, size_t n_params, uint64_t first,
                  uint64_t batches, int bps, MpiRunOut *out, sb_error *err) SB_MUST_CHECK;
void mpi_run_out_free(MpiRunOut *o);

/* 64-bit FNV-1a of the parameters' bytes: ranks compare models with it. */
uint64_t params_hash(const float *p, size_t n);

#endif
