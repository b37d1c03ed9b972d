/* step_book.h - the bookkeeping every trainer's run shares.
 *
 * Whatever its threads do, a trainer ends each step the same way: the sum of
 * the step's batch gradients is divided by the batch count (a true division,
 * so every trainer computes the same mean), AdamW is applied, the step's mean
 * loss is recorded, and the progress callback is called. Keeping that in one
 * place is what keeps serial, flat and sphere arithmetically identical. */
#ifndef SB_STEP_BOOK_H
#define SB_STEP_BOOK_H

#include "variant.h"

typedef struct {
    AdamW opt;
    train_progress_fn progress;
    void *progress_ctx;
    long steps, step;     /* in the run; done so far */
    uint64_t batches, done;
    float *step_loss;     /* optional, `steps` entries, not owned */
    float last_loss;
    double start_wall;
} StepBook;

/* Fresh optimizer state for a run of `batches` in steps of `bps`. */
sb_status step_book_begin(StepBook *b, AdamWConfig adamw, train_progress_fn progress, void *progress_ctx,
                          float *step_loss, size_t n_params, uint64_t batches, int bps, sb_error *err);

/* The start of a threaded trainer's run: checks the run against the data,
 * (re)allocates the trainer's loss curve, starts the book, clears res. */
sb_status step_book_start(StepBook *b, float **curve, const VariantConfig *c, size_t n_params, uint64_t first_batch,
                          uint64_t batches, int bps, RunResult *res, sb_error *err);

/* Ends a step of in_step batches: grad_sum becomes their mean, AdamW updates
 * params, loss_sum / in_step is recorded, progress is reported. The same as
 * step_book_apply over every element, then step_book_close. */
void step_book_update(StepBook *b, float *params, float *grad_sum, int in_step, double loss_sum);

/* The arithmetic of a step's end for elements begin .. end-1 only: their
 * grad_sum divided by in_step, then AdamW's update number step+1. Threads
 * that own disjoint slices may call it at once; then one calls
 * step_book_close. */
void step_book_apply(StepBook *b, float *params, float *grad_sum, int in_step, size_t begin, size_t end);

/* The bookkeeping of a step's end, once every slice is applied: the update
 * counted, the loss recorded, progress reported. */
void step_book_close(StepBook *b, int in_step, double loss_sum);

void step_book_end(StepBook *b);

/* (Re)allocates a trainer's loss curve for a run: one float per step. */
sb_status loss_curve_alloc(float **curve, uint64_t batches, int bps, sb_error *err);

/* Copies n finished clocks into the stats a RunResult points at. */
void run_result_threads(RunResult *res, ThreadStats *stats, const ThreadClock *clocks, int n);

#endif
