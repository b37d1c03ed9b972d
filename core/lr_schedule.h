/* lr_schedule.h - the training schedule: the learning rate of each step, the
 * gradient clip and the loss at which a run may stop.
 *
 * The rate is a pure function of the step number and the run's step count,
 * so every trainer (and every thread of a slice-parallel one) asks it the
 * same way and gets the same float: variants/step_book.c sets AdamW's rate
 * from it before each step. `constant` (the default, what `train` uses
 * unless told) keeps the configured rate; `cosine` ramps linearly from
 * peak/warmup at step 0 to the peak at step warmup-1, then decays along half
 * a cosine to floor x peak at the last step:
 *
 *   s <  W:  peak * (s + 1) / W
 *   s >= W:  peak * (f + (1 - f) * (1 + cos(pi * p)) / 2),  p = (s - W) / (S - 1 - W)
 *
 * with s the 0-based step, S the run's steps, W the warm-up and f the floor
 * (p = 1 when S - 1 <= W). A run that stops early at its target keeps the
 * schedule of its full length (the epoch cap): the rate never depends on
 * when the run will stop. */
#ifndef SB_LR_SCHEDULE_H
#define SB_LR_SCHEDULE_H

typedef enum { LR_CONSTANT = 0, LR_COSINE = 1 } LrKind;

typedef struct {
    LrKind kind;
    long warmup;        /* steps of linear warm-up (cosine) */
    float floor;        /* the last step's rate as a fraction of the peak (cosine), 0..1 */
    float clip_norm;    /* global-norm clipping of each step's mean gradient (core/grad_norm.h); 0: none */
    float target_loss;  /* the run ends after the first step whose mean loss is at or below it; 0: never */
} TrainSchedule;

/* The rate of 0-based step `step` of a run of `steps` steps, peak the
 * configured rate. */
float lr_schedule_rate(const TrainSchedule *s, float peak, long step, long steps);

/* "constant" or "cosine" -> kind; -1 for anything else. */
int lr_schedule_kind(const char *name);
const char *lr_schedule_name(LrKind kind);

#endif
