/* batch_sum.c - K threads sum a run of batches' gradients in batch order; see batch_sum.h.
 *
 * Thread 0 (the caller) writes the step's batches (first, n) and meets the
 * others at the go barrier; everyone computes its batches, meets at the
 * second, reduces its slice, meets at the third. Threads 1 .. K-1 then wait at
 * the next go barrier until thread 0 brings the next step or the stop flag.
 * Slices are whole runs of 16 floats of 64-byte-aligned slots, as sharded's. */
#include "batch_sum.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../core/reduce.h"
#include "barrier.h"

#define BATCH_SUM_ALIGN_FLOATS 16

struct BatchSum {
    Trainer t;
    Barrier barrier;
    Workspace *ws;          /* [threads] */
    float *slot_grad;       /* [bps][stride], 64-byte aligned */
    size_t stride;          /* floats per slot: n_params rounded up to BATCH_SUM_ALIGN_FLOATS */
    float *slot_loss;       /* [bps] */
    int *inputs, *targets;  /* [threads][B*T]: each thread's batch */
    size_t *slice;          /* [threads+1]: thread t sums elements slice[t] .. slice[t+1]-1 */
    sb_error *errs;         /* [threads]: a failed batch load's message */
    atomic_int failed;
    const float *params;
    uint64_t first;         /* the step's first batch (absolute) */
    int n;                  /* the step's batches */
    int stop;               /* set by thread 0 before the last go barrier */
};

static float *slot(BatchSum *s, int j) { return s->slot_grad + (size_t)j * s->stride; }

/* Computes this thread's batches of the step, then sums its slice. */
static void sum_step(BatchSum *s, int id, ThreadClock *clk) {
    Trainer *t = &s->t;
    const VariantConfig *c = &t->cfg;
    int K = t->threads;
    int *in = s->inputs + (size_t)id * t->bt, *tg = s->targets + (size_t)id * t->bt;
    for (int j = id; j < s->n; j += K) {
        thread_clock_phase(clk, PHASE_DISPATCH);
        if (tokens_window(in, tg, c->data, (s->first + (uint64_t)j) * t->bt, c->B, c->T, &s->errs[id])) {
            atomic_store(&s->failed, 1);
            break;
        }
        thread_clock_phase(clk, PHASE_COMPUTE);
        s->slot_loss[j] = model_forward(&s->ws[id], s->params, in, tg, c->B, c->T);
        model_backward(slot(s, j), &s->ws[id], s->params);
        clk->batches++;
    }
    thread_clock_phase(clk, PHASE_WAIT);
    barrier_wait(&s->barrier);
    if (atomic_load(&s->failed)) return;
    thread_clock_phase(clk, PHASE_REDUCE);
    size_t lo = s->slice[id], hi = s->slice[id + 1];
    const float *run[REDUCE_RUN_MAX];
    for (int j = 0; lo < hi && j < s->n;) {
        int nb = 0;
        if (j > 0) run[nb++] = slot(s, 0) + lo; /* the running sum */
        for (; j < s->n && nb < REDUCE_RUN_MAX; j++) run[nb++] = slot(s, j) + lo;
        if (nb > 1) reduce_sum(slot(s, 0) + lo, run, nb, hi - lo);
    }
    thread_clock_phase(clk, PHASE_WAIT);
    barrier_wait(&s->barrier);
}

/* Threads 1 .. K-1. */
static void sum_thread(void *ctx, int id) {
    BatchSum *s = ctx;
    ThreadClock *clk = trainer_thread_begin(&s->t, id, ROLE_WORKER, 0, PHASE_WAIT);
    for (;;) {
        thread_clock_phase(clk, PHASE_WAIT);
        barrier_wait(&s->barrier);
        if (s->stop) break;
        sum_step(s, id, clk);
    }
    trainer_thread_end(&s->t, id);
}

sb_status batch_sum_create(BatchSum **out, const VariantConfig *cfg, sb_error *err) {
    *out = NULL;
    sb_status st = trainer_check_config(cfg, "batch-sum", 1, "every one computes", err);
    if (st) return st;
    if (cfg->batches_per_step < 1)
        return sb_fail(err, SB_ECONFIG, "batches per step must be at least 1 (got %d)", cfg->batches_per_step);
    int K = cfg->threads, bps = cfg->batches_per_step;
    size_t n = model_param_count(&cfg->model);
    size_t stride = (n + BATCH_SUM_ALIGN_FLOATS - 1) / BATCH_SUM_ALIGN_FLOATS * BATCH_SUM_ALIGN_FLOATS;
    double need = (double)K * (double)workspace_bytes(&cfg->model, cfg->B, cfg->T) + 4.0 * (double)stride * bps;
    if ((st = trainer_check_memory("batch-sum", K, need, err))) return st;

    BatchSum *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    barrier_init(&s->barrier, K, cfg->wait);
    if ((st = trainer_init(&s->t, cfg, K, bps, err))) {
        batch_sum_destroy(s);
        return st;
    }
    size_t bt = s->t.bt;
    s->stride = stride;
    s->ws = calloc((size_t)K, sizeof *s->ws);
    s->slot_grad = aligned_alloc(64, sizeof(float) * stride * (size_t)bps);
    s->slot_loss = calloc((size_t)bps, sizeof(float));
    s->inputs = malloc(sizeof(int) * bt * (size_t)K);
    s->targets = malloc(sizeof(int) * bt * (size_t)K);
    s->slice = malloc(sizeof(size_t) * ((size_t)K + 1));
    s->errs = calloc((size_t)K, sizeof *s->errs);
    if (!s->ws || !s->slot_grad || !s->slot_loss || !s->inputs || !s->targets || !s->slice || !s->errs) {
        batch_sum_destroy(s);
        return sb_fail(err, SB_ENOMEM, "out of memory for %d threads' gradients (%d slots)", K, bps);
    }
    size_t units = stride / BATCH_SUM_ALIGN_FLOATS;
    for (int t = 0; t <= K; t++) {
        size_t at = units * (size_t)t / (size_t)K * BATCH_SUM_ALIGN_FLOATS;
        s->slice[t] = at < n ? at : n;
    }
    for (int t = 0; t < K; t++)
        if ((st = workspace_init(&s->ws[t], &cfg->model, cfg->B, cfg->T, err))) {
            batch_sum_destroy(s);
            return st;
        }
    *out = s;
    return SB_OK;
}

sb_status batch_sum_begin(BatchSum *s, const float *params, uint64_t first_batch, uint64_t batches,
                          ThreadRole role0, RunResult *res, sb_error *err) {
    sb_status st = trainer_run_begin(&s->t, first_batch, batches, role0, 0, PHASE_DISPATCH, res, err);
    if (st) return st;
    s->params = params;
    s->stop = 0;
    atomic_store(&s->failed, 0);
    if ((st = trainer_start(&s->t, sum_thread, s, err))) return trainer_run_end(&s->t, st, res);
    return SB_OK;
}

sb_status batch_sum_step(BatchSum *s, uint64_t first, int n, float **sum, double *loss_sum, sb_error *err) {
    if (n < 1 || n > s->t.bps)
        return sb_fail(err, SB_ECONFIG, "a step of %d batches (at most %d)", n, s->t.bps);
    ThreadClock *clk = &s->t.clocks[0];
    s->first = first;
    s->n = n;
    thread_clock_phase(clk, PHASE_WAIT);
    barrier_wait(&s->barrier); /* go */
    sum_step(s, 0, clk);
    if (atomic_load(&s->failed)) {
        for (int i = 0; i < s->t.threads; i++)
            if (s->errs[i].code) {
                *err = s->errs[i];
                return err->code;
            }
    }
    double l = 0.0;
    for (int j = 0; j < n; j++) l += s->slot_loss[j]; /* batch order, as serial */
    *loss_sum = l;
    *sum = slot(s, 0);
    thread_clock_phase(clk, PHASE_REDUCE);
    return SB_OK;
}

ThreadClock *batch_sum_clock(BatchSum *s) { return &s->t.clocks[0]; }
StepBook *batch_sum_book(BatchSum *s) { return &s->t.book; }

sb_status batch_sum_end(BatchSum *s, sb_status st, RunResult *res) {
    if (s->t.started) {
        s->stop = 1;
        thread_clock_phase(&s->t.clocks[0], PHASE_WAIT);
        barrier_wait(&s->barrier);
    }
    st = trainer_run_end(&s->t, st, res);
    if (st) return st;
    uint64_t mine = 0;
    for (int i = 0; i < res->n_threads; i++) mine += res->threads[i].batches;
    res->batches = mine;
    res->tokens = mine * s->t.bt;
    return SB_OK;
}

void batch_sum_destroy(BatchSum *s) {
    if (!s) return;
    for (int t = 0; s->ws && t < s->t.threads; t++) workspace_free(&s->ws[t]);
    barrier_destroy(&s->barrier);
    free(s->ws);
    free(s->slot_grad);
    free(s->slot_loss);
    free(s->inputs);
    free(s->targets);
    free(s->slice);
    free(s->errs);
    trainer_free(&s->t);
    free(s);
}
