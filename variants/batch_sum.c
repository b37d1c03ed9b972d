/* batch_sum.c - K threads sum a run of batches' gradients in batch order; see batch_sum.h.
 *
 * Thread 0 (the caller) writes the step's batches (first, n) and meets the
 * others at the go barrier; everyone computes its batches, meets at the
 * second, reduces its slice, meets at the third. Threads 1 .. K-1 then wait at
 * the next go barrier until thread 0 brings the next step or the stop flag.
 * The slots, slices and both halves of a step are sharded's (slot_pool.c). */
#include "batch_sum.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "slot_pool.h"

struct BatchSum {
    Team t;
    SlotPool pool;          /* slots, slices, workspaces, barrier */
    const float *params;
    uint64_t first;         /* the step's first batch (absolute) */
    int n;                  /* the step's batches */
    int stop;               /* set by thread 0 before the last go barrier */
};

/* Computes this thread's batches of the step, then sums its slice. */
static void sum_step(BatchSum *s, int id, ThreadClock *clk) {
    SlotPool *p = &s->pool;
    slot_pool_compute(p, id, clk, &s->t.cfg, s->params, s->first, s->n);
    thread_clock_phase(clk, PHASE_WAIT);
    barrier_wait(&p->barrier);
    if (atomic_load(&p->failed)) return;
    thread_clock_phase(clk, PHASE_REDUCE);
    slot_pool_reduce(p, id, s->n, -1);
    thread_clock_phase(clk, PHASE_WAIT);
    barrier_wait(&p->barrier);
}

/* Threads 1 .. K-1. */
static void sum_thread(void *ctx, int id) {
    BatchSum *s = ctx;
    ThreadClock *clk = team_thread_begin(&s->t, id, ROLE_WORKER, 0, PHASE_WAIT);
    for (;;) {
        thread_clock_phase(clk, PHASE_WAIT);
        barrier_wait(&s->pool.barrier);
        if (s->stop) break;
        sum_step(s, id, clk);
    }
    team_thread_end(&s->t, id);
}

sb_status batch_sum_create(BatchSum **out, const VariantConfig *cfg, sb_error *err) {
    *out = NULL;
    sb_status st = team_check_config(cfg, "batch-sum", 1, "every one computes", err);
    if (st) return st;
    if (cfg->batches_per_step < 1)
        return sb_fail(err, SB_ECONFIG, "batches per step must be at least 1 (got %d)", cfg->batches_per_step);
    int K = cfg->threads, bps = cfg->batches_per_step;
    BatchSum *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    if ((st = slot_pool_init(&s->pool, cfg, K, bps, "batch-sum", err)) || (st = team_init(&s->t, cfg, K, bps, err))) {
        batch_sum_destroy(s);
        return st;
    }
    *out = s;
    return SB_OK;
}

sb_status batch_sum_begin(BatchSum *s, const float *params, uint64_t first_batch, uint64_t batches,
                          ThreadRole role0, RunResult *res, sb_error *err) {
    sb_status st = team_run_begin(&s->t, first_batch, batches, role0, 0, PHASE_DISPATCH, res, err);
    if (st) return st;
    s->params = params;
    s->stop = 0;
    atomic_store(&s->pool.failed, 0);
    if ((st = team_start(&s->t, sum_thread, s, err))) {
        team_run_end(&s->t, st, res);
        return st;
    }
    return SB_OK;
}

sb_status batch_sum_step(BatchSum *s, uint64_t first, int n, float **sum, double *loss_sum, sb_error *err) {
    if (n < 1 || n > s->t.bps)
        return sb_fail(err, SB_ECONFIG, "a step of %d batches (at most %d)", n, s->t.bps);
    ThreadClock *clk = &s->t.clocks[0];
    s->first = first;
    s->n = n;
    thread_clock_phase(clk, PHASE_WAIT);
    barrier_wait(&s->pool.barrier); /* go */
    sum_step(s, 0, clk);
    sb_status st = atomic_load(&s->pool.failed) ? slot_pool_error(&s->pool, err) : SB_OK;
    if (st) return st;
    double l = 0.0;
    for (int j = 0; j < n; j++) l += s->pool.slot_loss[j]; /* batch order, as serial */
    *loss_sum = l;
    *sum = slot_pool_slot(&s->pool, 0);
    thread_clock_phase(clk, PHASE_REDUCE);
    return SB_OK;
}

ThreadClock *batch_sum_clock(BatchSum *s) { return &s->t.clocks[0]; }
StepBook *batch_sum_book(BatchSum *s) { return &s->t.book; }

void batch_sum_end(BatchSum *s, sb_status st, RunResult *res) {
    if (s->t.started) {
        s->stop = 1;
        thread_clock_phase(&s->t.clocks[0], PHASE_WAIT);
        barrier_wait(&s->pool.barrier);
    }
    team_run_end(&s->t, st, res);
    if (st) return;
    uint64_t mine = 0;
    for (int i = 0; i < res->n_threads; i++) mine += res->threads[i].batches;
    res->batches = mine;
    res->tokens = mine * s->t.bt;
}

void batch_sum_destroy(BatchSum *s) {
    if (!s) return;
    slot_pool_free(&s->pool);
    team_free(&s->t);
    free(s);
}
