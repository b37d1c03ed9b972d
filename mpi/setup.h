/* setup.h - what every MPI command sets up the same way on every rank.
 *
 * The options common to `train` and `bench` (data, model, threads, batches,
 * AdamW, wait mode, fan-out), checked on every rank (each refuses the same
 * bad option, and rank 0 alone says so), the token file loaded, fresh
 * parameters made from the seed, and a BatchSum built for this rank's role
 * under a rank plan. Under simulation (sim.h): --threads 1 only, and
 * --timing turns timing mode on (then the data need hold only the
 * calibration's SIM_CAL_BATCHES batches, and --save is refused). */
#ifndef SB_MPI_SETUP_H
#define SB_MPI_SETUP_H

#include "../cli/cli.h"
#include "../variants/batch_sum.h"
#include "rank_plan.h"

typedef struct {
    int rank, ranks;
    const char *data_path;
    TokenFile tf;
    ModelConfig model;
    int B, T, threads, fanout;
    long long batches, first, bps, seed;
    AdamWConfig adamw;
    WaitMode wait;
    int timing;          /* --timing: timing mode (sim.h) */
} MpiSetup;

/* The options setup_from_args reads; a command's own come after them. */
#define MPI_SETUP_OPTS                                                                                              \
    {"--data", 0, "TOKENS: token file (the same path on every host)"},                                              \
        {"--model", 0, "PRESET: tiny, bench or seed (default bench)"},                                              \
        {"--threads", 0, "K: threads per rank (default 1)"},                                                        \
        {"--batches", 0, "N: batches to train on (default: every batch of the file)"},                              \
        {"--first-batch", 0, "I: index of the first batch (default 0)"},                                            \
        {"--batches-per-step", 0, "S: batches per AdamW step (default: K per computing rank)"},                     \
        {"--fanout", 0, "F: tree's children per control rank (default 12)"},                                        \
        {"--wait", 0, "block|spin: how a rank's threads wait (default block)"},                                     \
        {"--seed", 0, "S: initialisation seed (default 1)"}, {"--lr", 0, "X: learning rate (default 0.001)"},       \
        {"--weight-decay", 0, "X: AdamW weight decay (default 0)"},                                                  \
        {"--timing", 1, "simulation only: compute charged by measured durations, buffers shared (values meaningless)"}, \
        {"--sim-costs", 0, "B,A,D: timing mode charges B s a batch, A s an AdamW update, D s an addition (default: measured)"}

/* Reads the common options and loads the data (every rank, locally). */
sb_status setup_from_args(MpiSetup *s, const CliArgs *a, sb_error *err) SB_MUST_CHECK;
void setup_free(MpiSetup *s);

/* Batches per step for a plan: --batches-per-step, else K per computing rank. */
int setup_bps(const MpiSetup *s, const RankPlan *plan);

/* This rank's BatchSum: K threads if it computes, 1 otherwise; room for the
 * largest share of a step of bps batches. */
sb_status setup_batch_sum(const MpiSetup *s, const RankPlan *plan, int bps, BatchSum **bs, sb_error *err) SB_MUST_CHECK;

/* Fresh parameters from the seed (the same bits on every rank); in timing
 * mode one buffer shared by every rank. Freed by setup_params_free. */
sb_status setup_params(const MpiSetup *s, float **params, sb_error *err) SB_MUST_CHECK;
void setup_params_free(float *params);

#endif
