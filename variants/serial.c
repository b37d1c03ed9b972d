/* serial.c - the single-threaded reference trainer; see serial.h.
 *
 * The caller's thread is the only one: it loads each batch, computes it,
 * adds its gradient to the step's sum in batch order and ends the step. */
#include "serial.h"

#include <stdlib.h>

#include "../core/model.h"
#include "../core/reduce.h"
#include "team.h"

typedef struct {
    Team t;
    Workspace ws;
    float *grads, *sum;     /* [n_params] each */
    int *inputs, *targets;  /* [B*T] each */
} SerialState;

static void serial_destroy(void *state);

/* one batch a step: plain SGD-style steps */
static int serial_default_bps(const VariantConfig *cfg) {
    (void)cfg;
    return 1;
}

static sb_status serial_create(void **state, const VariantConfig *cfg, sb_error *err) {
    *state = NULL;
    if (cfg->threads != 1)
        return sb_fail(err, SB_ECONFIG, "variant serial runs on exactly 1 thread (got --threads %d)", cfg->threads);
    sb_status st = team_check_config(cfg, "serial", 0, NULL, err);
    if (st) return st;
    SerialState *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    if ((st = team_init(&s->t, cfg, 1, variant_batches_per_step(&variant_serial, cfg), err))) goto fail;
    size_t n = s->t.n_params, bt = s->t.bt;
    s->grads = team_alloc(n * sizeof(float));
    s->sum = team_alloc(n * sizeof(float));
    s->inputs = team_alloc(bt * sizeof(int));
    s->targets = team_alloc(bt * sizeof(int));
    if (!s->grads || !s->sum || !s->inputs || !s->targets) {
        st = sb_fail(err, SB_ENOMEM, "cannot allocate gradient buffers for %zu parameters", n);
        goto fail;
    }
    if ((st = workspace_init(&s->ws, &cfg->model, cfg->B, cfg->T, err))) goto fail;
    *state = s;
    return SB_OK;
fail:
    serial_destroy(s);
    return st;
}

static sb_status serial_run(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                            sb_error *err) {
    SerialState *s = state;
    Team *t = &s->t;
    const VariantConfig *c = &t->cfg;
    sb_status st = team_run_begin(t, first_batch, batches, ROLE_WORKER, 0, PHASE_DISPATCH, res, err);
    if (st) return st;
    ThreadClock *clk = &t->clocks[0];
    size_t n = t->n_params;
    uint64_t k = 0;
    for (long step = 1; step <= t->book.steps; step++) {
        int in_step = train_step_batches(batches, k, t->bps);
        double loss_sum = 0.0;
        clk->step = (int32_t)step;
        for (int j = 0; j < in_step; j++, k++) {
            clk->batch = (int64_t)(first_batch + k);
            thread_clock_phase(clk, PHASE_DISPATCH);
            uint64_t offset = (first_batch + k) * t->bt;
            if ((st = tokens_window(s->inputs, s->targets, c->data, offset, c->B, c->T, err))) goto stop;
            thread_clock_phase(clk, PHASE_COMPUTE);
            loss_sum += model_forward(&s->ws, params, s->inputs, s->targets, c->B, c->T);
            model_backward(j == 0 ? s->sum : s->grads, &s->ws, params);
            clk->batches++;
            if (j > 0) {
                thread_clock_phase(clk, PHASE_REDUCE);
                reduce_add(s->sum, s->grads, n);
            }
        }
        clk->batch = -1;
        thread_clock_phase(clk, PHASE_OPTIMIZER);
        step_book_update(&t->book, params, s->sum, in_step, loss_sum);
    }
stop:
    team_run_end(t, st, res);
    return st;
}

static void serial_destroy(void *state) {
    SerialState *s = state;
    if (!s) return;
    workspace_free(&s->ws);
    free(s->grads);
    free(s->sum);
    free(s->inputs);
    free(s->targets);
    team_free(&s->t);
    free(s);
}

const Variant variant_serial = {
    .name = "serial",
    .summary = "one thread: the baseline every trainer is measured against",
    .min_threads = 1,
    .default_threads = 1,
    .default_batches_per_step = serial_default_bps,
    .batches_per_step_doc = "1",
    .create = serial_create,
    .run = serial_run,
    .destroy = serial_destroy,
};
