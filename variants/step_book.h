/* step_book.h - the bookkeeping every trainer's run shares.
 *
 * Whatever its threads do, a trainer ends each step the same way: the sum of
 * the step's batch gradients is divided by the batch count (a true division,
 * so every trainer computes the same mean), AdamW is applied, the step's mean
 * loss is recorded, and the progress callback is called. Keeping that in one
 * place is what keeps serial, flat and sphere arithmetically identical.
 *
 * The schedule (core/lr_schedule.h) lives here too. opt.cfg.lr always holds
 * the rate of the step about to be applied: set for step 0 by
 * step_book_begin and for the next step at the end of each step. When the
 * step's loss reaches the schedule's target, the end of the step sets
 * `steps` to the steps done, so a trainer's `step <= book.steps` loop ends.
 *
 * Clipping, when the schedule asks for it, scales the step's mean gradient
 * by grad_clip_scale of its global norm (core/grad_norm.h), which
 * step_book_update computes on one thread. A trainer whose threads each own
 * a slice of the parameters does the same in parts, with barriers between:
 *   1. each thread divides its slice by the batch count;
 *   2. each thread fills book.norm_sums[c] for chunks of its choosing,
 *      grad_norm_partial(book.norm_sums, grad, opt.n, c_lo, c_hi), the
 *      chunks split among threads by chunk index (any split: a chunk's sum
 *      does not depend on who computes it);
 *   3. each thread takes scale = step_book_clip_scale(&book), multiplies its
 *      slice by it when below 1, and updates its slice with AdamW at rate
 *      opt.cfg.lr (adamw_update_range);
 *   4. one thread ends the step (loss, next rate, target, progress).
 * Without clipping (clip_norm 0) step 2 is skipped and the scale is 1. */
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
    TrainSchedule schedule;
    float peak_lr;        /* the configured rate the schedule scales */
    long steps_cap;       /* the run's steps before any early end: the schedule's length */
    long target_step;     /* 1-based step whose loss reached the target; 0: not reached */
    double *norm_sums;    /* grad_norm_chunks(opt.n) sums of squares when clipping; NULL otherwise; owned */
    float last_norm;      /* the last step's global gradient norm before clipping (NaN without clipping) */
} StepBook;

/* Fresh optimizer state for a run of `batches` in steps of `bps`. */
sb_status step_book_begin(StepBook *b, AdamWConfig adamw, const TrainSchedule *schedule, train_progress_fn progress,
                          void *progress_ctx,
                          float *step_loss, size_t n_params, uint64_t batches, int bps, sb_error *err) SB_MUST_CHECK;

/* The start of a threaded trainer's run: checks the run against the data,
 * (re)allocates the trainer's loss curve, starts the book, clears res. */
sb_status step_book_start(StepBook *b, float **curve, const VariantConfig *c, size_t n_params, uint64_t first_batch,
                          uint64_t batches, int bps, RunResult *res, sb_error *err) SB_MUST_CHECK;

/* Ends a step of in_step batches: grad_sum becomes their mean, AdamW updates
 * params, loss_sum / in_step is recorded, progress is reported. The same as
 * step_book_apply over every element, then step_book_close. */
void step_book_update(StepBook *b, float *params, float *grad_sum, int in_step, double loss_sum);

/* A step's end in parts, for a trainer whose threads each own a slice of
 * the parameters (the numbered parts of the comment at the top); every
 * begin .. end range is a slice, every c_lo .. c_hi a range of norm chunks.
 * step_book_update is the four on one thread over everything. */
void step_book_divide(StepBook *b, float *grad_sum, int in_step, size_t begin, size_t end);
/* Part 2, only when step_book_clips(b). */
void step_book_norm(StepBook *b, const float *grad_sum, size_t c_lo, size_t c_hi);
void step_book_apply(StepBook *b, float *params, float *grad_sum, size_t begin, size_t end);
void step_book_close(StepBook *b, int in_step, double loss_sum);

/* Parts 1 to 3 on one thread over every element: the update without the
 * bookkeeping, for a caller that ends the step elsewhere (MPI ranks). */
void step_book_apply_all(StepBook *b, float *params, float *grad_sum, int in_step);

/* 1 when a step of in_step batches whose losses sum to loss_sum ends the
 * run: its mean loss reaches the schedule's target, or is not finite (a
 * diverged run stops at once; the caller reports it). The test
 * step_book_close makes, for threads that must agree to stop without reading
 * what the closing thread writes. */
int step_book_ends_run(const StepBook *b, int in_step, double loss_sum);

/* 1 when the schedule clips, so the norm (part 2) must be computed. */
int step_book_clips(const StepBook *b);

/* The clip factor of the step's mean gradient from book.norm_sums (filled
 * for every chunk); 1 without clipping. Every thread gets the same float. */
float step_book_clip_scale(const StepBook *b);

void step_book_end(StepBook *b);

/* (Re)allocates a trainer's loss curve for a run: one float per step. */
sb_status loss_curve_alloc(float **curve, uint64_t batches, int bps, sb_error *err) SB_MUST_CHECK;

/* Copies n finished clocks into the stats a RunResult points at. */
void run_result_threads(RunResult *res, ThreadStats *stats, const ThreadClock *clocks, int n);

#endif
