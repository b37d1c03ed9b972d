/* flat.c - one control thread, N-1 workers, one queue; see flat.h.
 *
 * Synchronisation: one mutex guards the step's queue (slots next_job ..
 * n_jobs-1 are waiting); workers sleep on work_cv for jobs. A worker that
 * finished a batch publishes its gradient (slot_done, release store) and
 * sleeps on its own condition variable until the control has added that
 * gradient to the step's sum; only then may it overwrite its buffer with the
 * next batch. The control consumes slots strictly in batch order, so no
 * gradient is read after its buffer is reused and the sum's order is fixed.
 * Slots that are already done when the control gets to them are summed
 * together, up to REDUCE_RUN_MAX in one pass of reduce_sum, which reads each
 * gradient once instead of re-reading the running sum for every one.
 * The control waits for a slot through its Waiter (waiter.h): asleep, or
 * with --wait spin polling as the original's busy loop did (without the
 * mutex, so workers can always publish), so its cost can be measured. */
#include "flat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../core/reduce.h"
#include "team.h"
#include "waiter.h"

typedef struct {
    Team t;
    int workers;
    Workspace *ws;          /* [workers] */
    float **grad;           /* [workers][n_params]: the gradient of its last batch */
    pthread_cond_t *release_cv; /* [workers] */
    int *holding;           /* [workers]: 1 while grad holds an unconsumed gradient */
    int *slot_inputs, *slot_targets; /* [bps][B*T]: the batches of the current step */
    int *slot_worker;       /* [bps] */
    float *slot_loss;       /* [bps] */
    atomic_int *slot_done;  /* [bps] */
    float *sum;             /* [n_params]: the step's gradient */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    Waiter control;         /* the control's: rung when a slot is done */
    int n_jobs, next_job, shutdown;
    int32_t step;           /* the current step, 1-based (guarded by mu, for the workers' trace tags) */
    uint64_t step_first;    /* its first batch's index in the data (same) */
    const float *params;    /* read by workers during a step */
} FlatState;

/* Worker w's thread, id w + 1. */
static void worker_main(void *ctx, int id) {
    FlatState *s = ctx;
    int w = id - 1;
    ThreadClock *clk = team_thread_begin(&s->t, id, ROLE_WORKER, 1, PHASE_WAIT);
    const VariantConfig *c = &s->t.cfg;
    size_t bt = s->t.bt;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->shutdown && s->next_job >= s->n_jobs) pthread_cond_wait(&s->work_cv, &s->mu);
        if (s->next_job >= s->n_jobs) break; /* shut down with nothing left */
        int j = s->next_job++;
        clk->step = s->step;
        clk->batch = (int64_t)(s->step_first + (uint64_t)j);
        pthread_mutex_unlock(&s->mu);

        thread_clock_phase(clk, PHASE_COMPUTE);
        float loss = model_forward(&s->ws[w], s->params, s->slot_inputs + (size_t)j * bt,
                                   s->slot_targets + (size_t)j * bt, c->B, c->T);
        model_backward(s->grad[w], &s->ws[w], s->params);
        clk->batches++;
        thread_clock_phase(clk, PHASE_WAIT);

        pthread_mutex_lock(&s->mu);
        s->slot_worker[j] = w;
        s->slot_loss[j] = loss;
        s->holding[w] = 1;
        atomic_store_explicit(&s->slot_done[j], 1, memory_order_release);
        waiter_notify(&s->control);
        while (s->holding[w] && !s->shutdown) pthread_cond_wait(&s->release_cv[w], &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    team_thread_end(&s->t, id);
}

/* Control: wait until slot j's gradient is published. */
static void wait_for_slot(FlatState *s, int j) {
    pthread_mutex_lock(&s->mu);
    while (!atomic_load_explicit(&s->slot_done[j], memory_order_acquire)) waiter_wait(&s->control, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void flat_destroy(void *state);

/* a batch per worker: every worker busy in every step */
static int flat_default_bps(const VariantConfig *cfg) { return cfg->threads > 1 ? cfg->threads - 1 : 1; }

static sb_status flat_create(void **state, const VariantConfig *cfg, sb_error *err) {
    *state = NULL;
    sb_status st = team_check_config(cfg, "flat", 2, "1 control + at least 1 worker", err);
    if (st) return st;
    int workers = cfg->threads - 1;
    double per_worker = (double)workspace_bytes(&cfg->model, cfg->B, cfg->T) +
                        4.0 * (double)model_param_count(&cfg->model);
    if ((st = team_check_memory("flat", cfg->threads, workers * per_worker, err))) return st;

    FlatState *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    waiter_init(&s->control, cfg->wait);
    s->workers = workers;
    if ((st = team_init(&s->t, cfg, cfg->threads, variant_batches_per_step(&variant_flat, cfg), err))) {
        flat_destroy(s);
        return st;
    }
    size_t bt = s->t.bt, n = s->t.n_params;
    int bps = s->t.bps;
    s->ws = calloc((size_t)workers, sizeof *s->ws);
    s->grad = calloc((size_t)workers, sizeof *s->grad);
    s->release_cv = calloc((size_t)workers, sizeof *s->release_cv);
    s->holding = calloc((size_t)workers, sizeof *s->holding);
    s->slot_inputs = team_alloc(sizeof(int) * bt * (size_t)bps);
    s->slot_targets = team_alloc(sizeof(int) * bt * (size_t)bps);
    s->slot_worker = calloc((size_t)bps, sizeof(int));
    s->slot_loss = calloc((size_t)bps, sizeof(float));
    s->slot_done = calloc((size_t)bps, sizeof(atomic_int));
    s->sum = team_alloc(sizeof(float) * n);
    if (!s->ws || !s->grad || !s->release_cv || !s->holding || !s->slot_inputs || !s->slot_targets ||
        !s->slot_worker || !s->slot_loss || !s->slot_done || !s->sum) {
        flat_destroy(s);
        return sb_fail(err, SB_ENOMEM, "out of memory for %d workers", workers);
    }
    for (int w = 0; w < workers; w++) {
        pthread_cond_init(&s->release_cv[w], NULL);
        s->grad[w] = team_alloc(sizeof(float) * n);
        if (!s->grad[w] || (st = workspace_init(&s->ws[w], &cfg->model, cfg->B, cfg->T, err))) {
            flat_destroy(s);
            return st ? st : sb_fail(err, SB_ENOMEM, "out of memory for worker %d's gradient", w + 1);
        }
    }
    *state = s;
    return SB_OK;
}

/* Control: sums step's slots in batch order as they are published, a run of
 * ready ones in one pass, and releases their workers. Returns the loss sum. */
static double reduce_step(FlatState *s, int in_step, ThreadClock *clk) {
    double loss_sum = 0.0;
    for (int j = 0; j < in_step;) {
        thread_clock_phase(clk, PHASE_WAIT);
        wait_for_slot(s, j);
        thread_clock_phase(clk, PHASE_REDUCE);
        /* slot j and every slot after it that is already done, summed in
         * one pass over memory (in slot order: the same bits as one at a
         * time) */
        const float *run[REDUCE_RUN_MAX + 1];
        int m = 0, nb = 0;
        if (j > 0) run[nb++] = s->sum;
        do run[nb++] = s->grad[s->slot_worker[j + m++]];
        while (j + m < in_step && m < REDUCE_RUN_MAX &&
               atomic_load_explicit(&s->slot_done[j + m], memory_order_acquire));
        reduce_sum(s->sum, run, nb, s->t.n_params);
        pthread_mutex_lock(&s->mu);
        for (int i = j; i < j + m; i++) {
            loss_sum += s->slot_loss[i];
            s->holding[s->slot_worker[i]] = 0;
            pthread_cond_signal(&s->release_cv[s->slot_worker[i]]);
        }
        pthread_mutex_unlock(&s->mu);
        j += m;
    }
    return loss_sum;
}

static sb_status flat_run(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                          sb_error *err) {
    FlatState *s = state;
    Team *t = &s->t;
    const VariantConfig *c = &t->cfg;
    sb_status st = team_run_begin(t, first_batch, batches, ROLE_CONTROL, 0, PHASE_DISPATCH, res, err);
    if (st) return st;
    s->params = params;
    s->shutdown = 0;
    s->n_jobs = s->next_job = 0;
    ThreadClock *clk = &t->clocks[0];
    if ((st = team_start(t, worker_main, s, err))) goto stop;

    uint64_t k = 0;
    for (long step = 1; step <= t->book.steps; step++) {
        int in_step = train_step_batches(batches, k, t->bps);
        clk->step = (int32_t)step;
        thread_clock_phase(clk, PHASE_DISPATCH);
        for (int j = 0; j < in_step; j++) {
            uint64_t offset = (first_batch + k + (uint64_t)j) * t->bt;
            if ((st = tokens_window(s->slot_inputs + (size_t)j * t->bt, s->slot_targets + (size_t)j * t->bt, c->data,
                                    offset, c->B, c->T, err)))
                goto stop;
            pthread_mutex_lock(&s->mu);
            s->step = (int32_t)step;
            s->step_first = first_batch + k;
            s->n_jobs = j + 1;
            pthread_cond_signal(&s->work_cv);
            pthread_mutex_unlock(&s->mu);
        }
        double loss_sum = reduce_step(s, in_step, clk);
        thread_clock_phase(clk, PHASE_OPTIMIZER);
        step_book_update(&t->book, params, s->sum, in_step, loss_sum);
        thread_clock_phase(clk, PHASE_DISPATCH);
        pthread_mutex_lock(&s->mu);
        s->n_jobs = s->next_job = 0;
        for (int j = 0; j < in_step; j++) atomic_store_explicit(&s->slot_done[j], 0, memory_order_relaxed);
        pthread_mutex_unlock(&s->mu);
        k += (uint64_t)in_step;
    }
stop:
    thread_clock_phase(clk, PHASE_WAIT);
    pthread_mutex_lock(&s->mu);
    s->shutdown = 1;
    s->n_jobs = s->next_job; /* on failure, drop jobs nobody took */
    pthread_cond_broadcast(&s->work_cv);
    for (int w = 0; w < s->workers; w++) {
        s->holding[w] = 0;
        pthread_cond_signal(&s->release_cv[w]);
    }
    pthread_mutex_unlock(&s->mu);
    team_run_end(t, st, res);
    return st;
}

static void flat_destroy(void *state) {
    FlatState *s = state;
    if (!s) return;
    for (int w = 0; s->ws && w < s->workers; w++) {
        workspace_free(&s->ws[w]);
        if (s->grad) free(s->grad[w]);
        if (s->release_cv) pthread_cond_destroy(&s->release_cv[w]);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work_cv);
    waiter_destroy(&s->control);
    free(s->ws);
    free(s->grad);
    free(s->release_cv);
    free(s->holding);
    free(s->slot_inputs);
    free(s->slot_targets);
    free(s->slot_worker);
    free(s->slot_loss);
    free((void *)s->slot_done);
    free(s->sum);
    team_free(&s->t);
    free(s);
}

const Variant variant_flat = {
    .name = "flat",
    .summary = "1 control thread + N-1 workers; the control sums every gradient itself",
    .min_threads = 2,
    .default_threads = 2,
    .default_batches_per_step = flat_default_bps,
    .batches_per_step_doc = "one per worker",
    .create = flat_create,
    .run = flat_run,
    .destroy = flat_destroy,
};
