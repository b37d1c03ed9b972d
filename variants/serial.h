/* serial.h - the single-threaded trainer every parallel trainer is measured against.
 *
 * A run covers batches first .. first+n-1 of a token file; every
 * batches_per_step consecutive batches form one step whose gradients are
 * summed in batch order, divided by the step's batch count, and applied with
 * AdamW. The last step may be partial: it averages over the batches it has.
 * The parallel trainers must reproduce exactly this arithmetic. */
#ifndef SB_SERIAL_H
#define SB_SERIAL_H

#include <stdint.h>

#include "../core/adamw.h"
#include "../core/config.h"
#include "../core/error.h"
#include "../core/tokens.h"

typedef struct {
    long step;          /* 1-based */
    long steps;         /* total in the run */
    uint64_t batches_done;
    uint64_t batches;   /* total in the run */
    float loss;         /* mean loss of this step's batches, before the update */
    double elapsed_s;   /* wall time since the run began */
} TrainProgress;

/* Called after every step; may be NULL. */
typedef void (*train_progress_fn)(const TrainProgress *p, void *ctx);

typedef struct {
    const TokenFile *data;
    ModelConfig model;
    int B, T;                 /* batch shape; T <= model.T */
    uint64_t first_batch;     /* index of the first batch of the run */
    uint64_t batches;         /* number of batches in the run */
    int batches_per_step;
    AdamWConfig adamw;
    train_progress_fn progress;
    void *progress_ctx;
} SerialConfig;

typedef struct {
    uint64_t batches;
    uint64_t tokens;
    long steps;
    float last_loss;   /* mean loss of the last step */
    double wall_s;
} SerialResult;

/* Trains params in place. Refuses a run that does not fit the data (batch
 * range past the end, ids the model's vocabulary cannot hold). */
sb_status serial_train(float *params, const SerialConfig *cfg, SerialResult *res, sb_error *err);

/* Checks shared by every trainer: batch range inside the file, T within the
 * model, token vocabulary within the model's, batches_per_step >= 1. */
sb_status train_config_check(const TokenFile *data, const ModelConfig *model, int B, int T,
                             uint64_t first_batch, uint64_t batches, int batches_per_step, sb_error *err);

#endif
