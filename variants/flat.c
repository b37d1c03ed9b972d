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
 * With --wait spin the control polls slot_done instead of sleeping, as the
 * original's busy loop did, so its cost can be measured. */
#include "flat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/model.h"
#include "../core/reduce.h"
#include "step_book.h"

typedef struct FlatState FlatState;

typedef struct {
    FlatState *pool;
    int index; /* 0-based worker index; thread id is index + 1 */
} WorkerArg;

struct FlatState {
    VariantConfig cfg;
    int workers;
    int bps;
    size_t n_params;
    size_t bt;
    Workspace *ws;          /* per worker */
    float **grad;           /* per worker: the gradient of its last batch */
    pthread_cond_t *release_cv; /* per worker */
    int *holding;           /* per worker: 1 while grad holds an unconsumed gradient */
    WorkerArg *args;
    pthread_t *tids;
    ThreadClock *clocks;    /* threads entries; 0 is the control */
    ThreadStats *stats;
    int *slot_inputs, *slot_targets; /* bps batches of the current step */
    int *slot_worker;
    float *slot_loss;
    atomic_int *slot_done;
    float *sum;             /* the step's gradient */
    float *step_loss;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    int n_jobs, next_job, shutdown;
    const float *params;    /* read by workers during a step */
};

static void *worker_main(void *p) {
    WorkerArg *a = p;
    FlatState *s = a->pool;
    int w = a->index, id = w + 1;
    ThreadClock *clk = &s->clocks[id];
    if (s->cfg.hooks.thread_begin) s->cfg.hooks.thread_begin(s->cfg.hooks.ctx, id, ROLE_WORKER, 1);
    thread_clock_start(clk, id, ROLE_WORKER, 1, PHASE_WAIT);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->shutdown && s->next_job >= s->n_jobs) pthread_cond_wait(&s->work_cv, &s->mu);
        if (s->next_job >= s->n_jobs) break; /* shut down with nothing left */
        int j = s->next_job++;
        pthread_mutex_unlock(&s->mu);

        thread_clock_phase(clk, PHASE_COMPUTE);
        float loss = model_forward(&s->ws[w], s->params, s->slot_inputs + (size_t)j * s->bt,
                                   s->slot_targets + (size_t)j * s->bt, s->cfg.B, s->cfg.T);
        model_backward(s->grad[w], &s->ws[w], s->params);
        clk->batches++;
        thread_clock_phase(clk, PHASE_WAIT);

        pthread_mutex_lock(&s->mu);
        s->slot_worker[j] = w;
        s->slot_loss[j] = loss;
        s->holding[w] = 1;
        atomic_store_explicit(&s->slot_done[j], 1, memory_order_release);
        pthread_cond_signal(&s->done_cv);
        while (s->holding[w] && !s->shutdown) pthread_cond_wait(&s->release_cv[w], &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    thread_clock_stop(clk);
    if (s->cfg.hooks.thread_end) s->cfg.hooks.thread_end(s->cfg.hooks.ctx, id);
    return NULL;
}

/* Control: wait until slot j's gradient is published. */
static void wait_for_slot(FlatState *s, int j) {
    if (s->cfg.wait == WAIT_SPIN) {
        while (!atomic_load_explicit(&s->slot_done[j], memory_order_acquire)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        return;
    }
    pthread_mutex_lock(&s->mu);
    while (!atomic_load_explicit(&s->slot_done[j], memory_order_acquire)) pthread_cond_wait(&s->done_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void flat_destroy(void *state);

static sb_status flat_create(void **state, const VariantConfig *cfg, sb_error *err) {
    *state = NULL;
    if (cfg->threads < 2 || cfg->threads > VARIANT_MAX_THREADS)
        return sb_fail(err, SB_ECONFIG,
                       "variant flat needs 2..%d threads (1 control + at least 1 worker); got --threads %d",
                       VARIANT_MAX_THREADS, cfg->threads);
    if (cfg->batches_per_step < 0)
        return sb_fail(err, SB_ECONFIG, "batches per step must be at least 1 (got %d)", cfg->batches_per_step);
    sb_status st = model_config_check(&cfg->model, err);
    if (st) return st;
    int workers = cfg->threads - 1;
    size_t ws_bytes = workspace_bytes(&cfg->model, cfg->B, cfg->T);
    double need = (double)workers * ((double)ws_bytes + 4.0 * (double)model_param_count(&cfg->model));
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (need > 0.85 * have)
        return sb_fail(err, SB_ECONFIG,
                       "flat with %d workers needs %.1f GB of activations and gradients (%.0f MB per worker) but "
                       "the machine has %.1f GB: use fewer threads or a smaller model",
                       workers, need / 1e9, (ws_bytes + 4.0 * model_param_count(&cfg->model)) / 1e6, have / 1e9);

    FlatState *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->workers = workers;
    s->bps = cfg->batches_per_step ? cfg->batches_per_step : workers;
    s->n_params = model_param_count(&cfg->model);
    s->bt = (size_t)cfg->B * cfg->T;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    s->ws = calloc((size_t)workers, sizeof *s->ws);
    s->grad = calloc((size_t)workers, sizeof *s->grad);
    s->release_cv = calloc((size_t)workers, sizeof *s->release_cv);
    s->holding = calloc((size_t)workers, sizeof *s->holding);
    s->args = calloc((size_t)workers, sizeof *s->args);
    s->tids = calloc((size_t)workers, sizeof *s->tids);
    s->clocks = aligned_alloc(64, sizeof(ThreadClock) * (size_t)cfg->threads);
    s->stats = calloc((size_t)cfg->threads, sizeof *s->stats);
    s->slot_inputs = malloc(sizeof(int) * s->bt * (size_t)s->bps);
    s->slot_targets = malloc(sizeof(int) * s->bt * (size_t)s->bps);
    s->slot_worker = calloc((size_t)s->bps, sizeof(int));
    s->slot_loss = calloc((size_t)s->bps, sizeof(float));
    s->slot_done = calloc((size_t)s->bps, sizeof(atomic_int));
    s->sum = malloc(sizeof(float) * s->n_params);
    if (!s->ws || !s->grad || !s->release_cv || !s->holding || !s->args || !s->tids || !s->clocks || !s->stats ||
        !s->slot_inputs || !s->slot_targets || !s->slot_worker || !s->slot_loss || !s->slot_done || !s->sum) {
        flat_destroy(s);
        return sb_fail(err, SB_ENOMEM, "out of memory for %d workers", workers);
    }
    for (int w = 0; w < workers; w++) {
        pthread_cond_init(&s->release_cv[w], NULL);
        s->args[w].pool = s;
        s->args[w].index = w;
        s->grad[w] = malloc(sizeof(float) * s->n_params);
        if (!s->grad[w] || (st = workspace_init(&s->ws[w], &cfg->model, cfg->B, cfg->T, err))) {
            flat_destroy(s);
            return st ? st : sb_fail(err, SB_ENOMEM, "out of memory for worker %d's gradient", w + 1);
        }
    }
    *state = s;
    return SB_OK;
}

static sb_status flat_run(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                          sb_error *err) {
    FlatState *s = state;
    const VariantConfig *c = &s->cfg;
    StepBook book;
    sb_status st = step_book_start(&book, &s->step_loss, c, s->n_params, first_batch, batches, s->bps, res, err);
    if (st) return st;
    s->params = params;
    s->shutdown = 0;
    s->n_jobs = s->next_job = 0;

    double cpu0 = clock_process_cpu_now();
    ThreadClock *clk = &s->clocks[0];
    if (c->hooks.thread_begin) c->hooks.thread_begin(c->hooks.ctx, 0, ROLE_CONTROL, 0);
    thread_clock_start(clk, 0, ROLE_CONTROL, 0, PHASE_DISPATCH);
    int started = 0;
    for (; started < s->workers; started++)
        if (variant_thread_create(&s->tids[started], worker_main, &s->args[started]) != 0) break;
    if (started < s->workers) {
        st = sb_fail(err, SB_ECONFIG, "could only start %d of %d worker threads (system limit)", started, s->workers);
        goto join;
    }

    uint64_t k = 0;
    for (long step = 1; step <= book.steps; step++) {
        int in_step = (int)(batches - k < (uint64_t)s->bps ? batches - k : (uint64_t)s->bps);
        thread_clock_phase(clk, PHASE_DISPATCH);
        for (int j = 0; j < in_step; j++) {
            uint64_t offset = (first_batch + k + (uint64_t)j) * s->bt;
            if ((st = tokens_window(s->slot_inputs + (size_t)j * s->bt, s->slot_targets + (size_t)j * s->bt, c->data,
                                    offset, c->B, c->T, err)))
                goto join;
            pthread_mutex_lock(&s->mu);
            s->n_jobs = j + 1;
            pthread_cond_signal(&s->work_cv);
            pthread_mutex_unlock(&s->mu);
        }
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
            reduce_sum(s->sum, run, nb, s->n_params);
            pthread_mutex_lock(&s->mu);
            for (int i = j; i < j + m; i++) {
                loss_sum += s->slot_loss[i];
                s->holding[s->slot_worker[i]] = 0;
                pthread_cond_signal(&s->release_cv[s->slot_worker[i]]);
            }
            pthread_mutex_unlock(&s->mu);
            j += m;
        }
        thread_clock_phase(clk, PHASE_OPTIMIZER);
        step_book_update(&book, params, s->sum, in_step, loss_sum);
        thread_clock_phase(clk, PHASE_DISPATCH);
        pthread_mutex_lock(&s->mu);
        s->n_jobs = s->next_job = 0;
        for (int j = 0; j < in_step; j++) atomic_store_explicit(&s->slot_done[j], 0, memory_order_relaxed);
        pthread_mutex_unlock(&s->mu);
        k += (uint64_t)in_step;
        res->last_loss = book.last_loss;
        res->steps = step;
    }
    res->batches = batches;
    res->tokens = batches * s->bt;
join:
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
    for (int w = 0; w < started; w++) pthread_join(s->tids[w], NULL);
    thread_clock_stop(clk);
    if (c->hooks.thread_end) c->hooks.thread_end(c->hooks.ctx, 0);
    res->process_cpu_s = clock_process_cpu_now() - cpu0;
    res->wall_s = clk->wall_s;
    step_book_end(&book);
    if (st) return st;
    run_result_threads(res, s->stats, s->clocks, c->threads);
    res->batches_per_step = s->bps;
    res->step_loss = s->step_loss;
    return SB_OK;
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
    pthread_cond_destroy(&s->done_cv);
    free(s->ws);
    free(s->grad);
    free(s->release_cv);
    free(s->holding);
    free(s->args);
    free(s->tids);
    free(s->clocks);
    free(s->stats);
    free(s->slot_inputs);
    free(s->slot_targets);
    free(s->slot_worker);
    free(s->slot_loss);
    free((void *)s->slot_done);
    free(s->sum);
    free(s->step_loss);
    free(s);
}

const Variant variant_flat = {"flat", "1 control thread + N-1 workers; the control sums every gradient itself",
                              flat_create, flat_run, flat_destroy};
