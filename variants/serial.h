/* serial.h - the single-threaded trainer every parallel trainer is measured against.
 *
 * A run covers batches first .. first+n-1 of a token file; every
 * batches_per_step consecutive batches form one step whose gradients are
 * summed in batch order, divided by the step's batch count, and applied with
 * AdamW. The last step may be partial: it averages over the batches it has.
 * The parallel trainers must reproduce exactly this arithmetic. It is also
 * registered as the variant "serial" (threads must be 1). */
#ifndef SB_SERIAL_H
#define SB_SERIAL_H

#include <stdint.h>

#include "variant.h"

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
    /* optional: */
    ThreadClock *clock;       /* started and stopped by serial_train when given */
    ThreadHooks hooks;        /* called on the training thread, as variant.h says */
    float *step_loss;         /* train_step_count() entries, filled when given */
    TrainSchedule schedule;   /* zero: a constant rate over every batch */
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

extern const Variant variant_serial;

#endif
