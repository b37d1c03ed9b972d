/* step_book.c - the end of a training step, shared by every trainer; see step_book.h. */
#include "step_book.h"

#include <stdlib.h>
#include <string.h>

sb_status step_book_begin(StepBook *b, AdamWConfig adamw, train_progress_fn progress, void *progress_ctx,
                          float *step_loss, size_t n_params, uint64_t batches, int bps, sb_error *err) {
    b->progress = progress;
    b->progress_ctx = progress_ctx;
    b->steps = train_step_count(batches, bps);
    b->step = 0;
    b->batches = batches;
    b->done = 0;
    b->step_loss = step_loss;
    b->last_loss = 0.0f;
    b->start_wall = clock_wall_now();
    return adamw_init(&b->opt, n_params, adamw, err);
}

void step_book_update(StepBook *b, float *params, float *grad_sum, int in_step, double loss_sum) {
    step_book_apply(b, params, grad_sum, in_step, 0, b->opt.n);
    step_book_close(b, in_step, loss_sum);
}

void step_book_apply(StepBook *b, float *params, float *grad_sum, int in_step, size_t begin, size_t end) {
    float count = (float)in_step; /* divide, not multiply by a rounded 1/n */
    for (size_t i = begin; i < end; i++) grad_sum[i] /= count;
    adamw_update_range(&b->opt, b->opt.step + 1, params, grad_sum, begin, end);
}

void step_book_close(StepBook *b, int in_step, double loss_sum) {
    b->opt.step++;
    b->step++;
    b->done += (uint64_t)in_step;
    b->last_loss = (float)(loss_sum / (double)in_step);
    if (b->step_loss) b->step_loss[b->step - 1] = b->last_loss;
    if (b->progress) {
        TrainProgress p = {b->step, b->steps, b->done, b->batches, b->last_loss, clock_wall_now() - b->start_wall};
        b->progress(&p, b->progress_ctx);
    }
}

void step_book_end(StepBook *b) { adamw_free(&b->opt); }

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
        (st = step_book_begin(b, c->adamw, c->progress, c->progress_ctx, *curve, n_params, batches, bps, err)))
        return st;
    memset(res, 0, sizeof *res);
    return SB_OK;
}
