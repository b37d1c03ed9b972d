/* serial.c - the single-threaded reference trainer; see serial.h. */
#include "serial.h"

#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../core/reduce.h"
#include "step_book.h"

sb_status serial_train(float *params, const SerialConfig *cfg, SerialResult *res, sb_error *err) {
    sb_status st = train_config_check(cfg->data, &cfg->model, cfg->B, cfg->T, cfg->first_batch, cfg->batches,
                                      cfg->batches_per_step, err);
    if (st) return st;
    size_t n = model_param_count(&cfg->model);
    size_t bt = (size_t)cfg->B * cfg->T;
    Workspace ws;
    StepBook book = {0};
    ThreadClock local_clock, *clk = cfg->clock ? cfg->clock : &local_clock;
    float *grads = malloc(n * sizeof(float)), *sum = malloc(n * sizeof(float));
    int *inputs = malloc(bt * sizeof(int)), *targets = malloc(bt * sizeof(int));
    if ((st = workspace_init(&ws, &cfg->model, cfg->B, cfg->T, err))) goto out_nows;
    if ((st = step_book_begin(&book, cfg->adamw, &cfg->schedule, cfg->progress, cfg->progress_ctx, cfg->step_loss, n, cfg->batches,
                              cfg->batches_per_step, err)))
        goto out;
    if (!grads || !sum || !inputs || !targets) {
        st = sb_fail(err, SB_ENOMEM, "cannot allocate gradient buffers for %zu parameters", n);
        goto out;
    }
    memset(res, 0, sizeof *res);
    if (cfg->hooks.thread_begin) cfg->hooks.thread_begin(cfg->hooks.ctx, 0, ROLE_WORKER, 0);
    thread_clock_start(clk, 0, ROLE_WORKER, 0, PHASE_DISPATCH);
    uint64_t k = 0;
    for (long s = 1; s <= book.steps; s++) { /* book.steps shrinks when the target is reached */
        uint64_t left = cfg->batches - k;
        uint64_t in_step = left < (uint64_t)cfg->batches_per_step ? left : (uint64_t)cfg->batches_per_step;
        double loss_sum = 0.0;
        for (uint64_t j = 0; j < in_step; j++, k++) {
            thread_clock_phase(clk, PHASE_DISPATCH);
            uint64_t offset = (cfg->first_batch + k) * bt;
            if ((st = tokens_window(inputs, targets, cfg->data, offset, cfg->B, cfg->T, err))) goto stop;
            thread_clock_phase(clk, PHASE_COMPUTE);
            loss_sum += model_forward(&ws, params, inputs, targets, cfg->B, cfg->T);
            model_backward(j == 0 ? sum : grads, &ws, params);
            clk->batches++;
            if (j > 0) {
                thread_clock_phase(clk, PHASE_REDUCE);
                reduce_add(sum, grads, n);
            }
        }
        thread_clock_phase(clk, PHASE_OPTIMIZER);
        step_book_update(&book, params, sum, (int)in_step, loss_sum);
        res->last_loss = book.last_loss;
        res->steps = s;
    }
    res->batches = book.done;
    res->tokens = book.done * bt;
stop:
    thread_clock_stop(clk);
    if (cfg->hooks.thread_end) cfg->hooks.thread_end(cfg->hooks.ctx, 0);
    res->wall_s = clk->wall_s;
out:
    step_book_end(&book);
    workspace_free(&ws);
out_nows:
    free(grads);
    free(sum);
    free(inputs);
    free(targets);
    return st;
}

/* The variant wrapper: one thread, the caller's. */
typedef struct {
    VariantConfig cfg;
    ThreadStats stats;
    float *step_loss;
} SerialState;

static sb_status serial_create(void **state, const VariantConfig *cfg, sb_error *err) {
    if (cfg->threads != 1)
        return sb_fail(err, SB_ECONFIG, "variant serial runs on exactly 1 thread (got --threads %d)", cfg->threads);
    SerialState *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    s->cfg = *cfg;
    if (s->cfg.batches_per_step == 0) s->cfg.batches_per_step = 1;
    *state = s;
    return SB_OK;
}

static sb_status serial_run(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                            sb_error *err) {
    SerialState *s = state;
    const VariantConfig *c = &s->cfg;
    sb_status st = train_config_check(c->data, &c->model, c->B, c->T, first_batch, batches, c->batches_per_step, err);
    if (st) return st;
    if ((st = loss_curve_alloc(&s->step_loss, batches, c->batches_per_step, err))) return st;
    ThreadClock clk;
    SerialConfig sc = {c->data, c->model, c->B, c->T, first_batch, batches, c->batches_per_step, c->adamw,
                       c->progress, c->progress_ctx, &clk, c->hooks, s->step_loss, c->schedule};
    SerialResult sr;
    double cpu0 = clock_process_cpu_now();
    if ((st = serial_train(params, &sc, &sr, err))) return st;
    memset(res, 0, sizeof *res);
    res->process_cpu_s = clock_process_cpu_now() - cpu0;
    run_result_threads(res, &s->stats, &clk, 1);
    res->batches = sr.batches;
    res->tokens = sr.tokens;
    res->steps = sr.steps;
    res->batches_per_step = c->batches_per_step;
    res->last_loss = sr.last_loss;
    res->wall_s = sr.wall_s;
    res->step_loss = s->step_loss;
    return SB_OK;
}

static void serial_destroy(void *state) {
    SerialState *s = state;
    if (!s) return;
    free(s->step_loss);
    free(s);
}

const Variant variant_serial = {"serial", "one thread: the baseline every trainer is measured against",
                                serial_create, serial_run, serial_destroy};
