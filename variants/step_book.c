/* step_book.c - the end of a training step, shared by every trainer; see step_book.h. */
#include "step_book.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/grad_norm.h"

sb_status step_book_begin(StepBook *b, AdamWConfig adamw, const TrainSchedule *schedule, train_progress_fn progress,
                          void *progress_ctx, float *step_loss, size_t n_params, uint64_t batches, int bps,
                          sb_error *err) {
    b->progress = progress;
    b->progress_ctx = progress_ctx;
    b->steps = b->steps_cap = train_step_count(batches, bps);
    b->step = 0;
    b->batches = batches;
    b->done = 0;
    b->step_loss = step_loss;
    b->last_loss = 0.0f;
    b->start_wall = clock_wall_now();
    b->schedule = schedule ? *schedule : (TrainSchedule){0};
    b->peak_lr = adamw.lr;
    b->target_step = 0;
    b->norm_sums = NULL;
    b->last_norm = NAN;
    adamw.lr = lr_schedule_rate(&b->schedule, b->peak_lr, 0, b->steps_cap);
    sb_status st = adamw_init(&b->opt, n_params, adamw, err);
    if (st || b->schedule.clip_norm <= 0.0f) return st;
    if (!(b->norm_sums = malloc(sizeof(double) * grad_norm_chunks(n_params)))) {
        adamw_free(&b->opt);
        return sb_fail(err, SB_ENOMEM, "out of memory for the gradient norm's %zu chunks", grad_norm_chunks(n_params));
    }
    return SB_OK;
}

float step_book_clip_scale(const StepBook *b) {
    if (!b->norm_sums) return 1.0f;
    return grad_clip_scale(grad_norm_total(b->norm_sums, grad_norm_chunks(b->opt.n)), b->schedule.clip_norm);
}

void step_book_update(StepBook *b, float *params, float *grad_sum, int in_step, double loss_sum) {
    step_book_apply_all(b, params, grad_sum, in_step);
    step_book_close(b, in_step, loss_sum);
}

void step_book_apply_all(StepBook *b, float *params, float *grad_sum, int in_step) {
    step_book_divide(b, grad_sum, in_step, 0, b->opt.n);
    if (step_book_clips(b)) step_book_norm(b, grad_sum, 0, grad_norm_chunks(b->opt.n));
    step_book_apply(b, params, grad_sum, 0, b->opt.n);
}

int step_book_clips(const StepBook *b) { return b->norm_sums != NULL; }

int step_book_ends_run(const StepBook *b, int in_step, double loss_sum) {
    float loss = (float)(loss_sum / (double)in_step);
    return !isfinite(loss) || (b->schedule.target_loss > 0.0f && loss <= b->schedule.target_loss);
}

void step_book_divide(StepBook *b, float *grad_sum, int in_step, size_t begin, size_t end) {
    (void)b;
    float count = (float)in_step; /* divide, not multiply by a rounded 1/n */
    for (size_t i = begin; i < end; i++) grad_sum[i] /= count;
}

void step_book_norm(StepBook *b, const float *grad_sum, size_t c_lo, size_t c_hi) {
    grad_norm_partial(b->norm_sums, grad_sum, b->opt.n, c_lo, c_hi);
}

void step_book_apply(StepBook *b, float *params, float *grad_sum, size_t begin, size_t end) {
    float scale = step_book_clip_scale(b);
    if (scale < 1.0f)
        for (size_t i = begin; i < end; i++) grad_sum[i] *= scale;
    adamw_update_range(&b->opt, b->opt.step + 1, params, grad_sum, begin, end);
}

void step_book_close(StepBook *b, int in_step, double loss_sum) {
    b->opt.step++;
    if (b->norm_sums) b->last_norm = (float)grad_norm_total(b->norm_sums, grad_norm_chunks(b->opt.n));
    b->step++;
    b->done += (uint64_t)in_step;
    b->last_loss = (float)(loss_sum / (double)in_step);
    if (b->step_loss) b->step_loss[b->step - 1] = b->last_loss;
    /* the next step's rate; the run ends here when the target is reached or
     * the loss is no longer a number (training on would only spread it) */
    b->opt.cfg.lr = lr_schedule_rate(&b->schedule, b->peak_lr, b->step, b->steps_cap);
    if (step_book_ends_run(b, in_step, loss_sum)) {
        if (isfinite(b->last_loss)) b->target_step = b->step;
        b->steps = b->step;
    }
    if (b->progress) {
        TrainProgress p = {b->step, b->steps, b->done, b->batches, b->last_loss, clock_wall_now() - b->start_wall};
        b->progress(&p, b->progress_ctx);
    }
}

void step_book_end(StepBook *b) {
    adamw_free(&b->opt);
    free(b->norm_sums);
    b->norm_sums = NULL;
}

sb_status loss_curve_alloc(float **curve, uint64_t batches, int bps, sb_error *err) {
    free(*curve);
    *curve = malloc(sizeof(float) * (size_t)train_step_count(batches, bps));
    if (!*curve) return sb_fail(err, SB_ENOMEM, "out of memory for the loss curve");
    return SB_OK;
}

void run_result_threads(RunResult *res, ThreadStats *stats, const ThreadClock *clocks, int n) {
    for (int t = 0; t < n; t++) thread_stats_from_clock(&stats[t], &clocks[t]);
    res->n_threads = n;
    res->threads = stats;
}

sb_status step_book_start(StepBook *b, float **curve, const VariantConfig *c, size_t n_params, uint64_t first_batch,
                          uint64_t batches, int bps, RunResult *res, sb_error *err) {
    sb_status st = train_config_check(c->data, &c->model, c->B, c->T, first_batch, batches, bps, err);
    if (st || (st = loss_curve_alloc(curve, batches, bps, err)) ||
        (st = step_book_begin(b, c->adamw, &c->schedule, c->progress, c->progress_ctx, *curve, n_params, batches, bps,
                              err)))
        return st;
    memset(res, 0, sizeof *res);
    return SB_OK;
}
