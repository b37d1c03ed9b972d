/* sharded.c - every thread computes, then reduces and updates its own slice;
 * see sharded.h.
 *
 * A step, on every thread t of N:
 *   dispatch/compute  the batches j = t, t+N, ... of the step: gradient into
 *                     slot j, loss into slot_loss[j]
 *   wait              barrier: every slot of the step is written
 *   reduce            slot 0's slice t += slot 1's ... in batch order, up to
 *                     REDUCE_RUN_MAX slots per reduce_sum pass (the same bits
 *                     as one at a time); every thread sums the step's losses
 *   optimizer         step_book_divide on slice t; when the schedule clips,
 *                     a barrier, the norm of chunks t*C/N .. (t+1)*C/N-1, a
 *                     barrier; step_book_apply on slice t (clip scale, AdamW
 *                     with the shared step number)
 *   wait              barrier: every slice is updated (the next step's
 *                     batches read all of params, and overwrite the slots)
 *   optimizer         thread 0 only: step_book_close (count, loss, progress)
 * Thread 0's close touches only the book, which no other thread reads before
 * the next step's first barrier, which thread 0 reaches after the close.
 *
 * A failed batch load (the run was checked against the data, so only a
 * broken file could do it) sets `failed` before the first barrier; every
 * thread sees it after that barrier and leaves the loop, so no barrier waits
 * for a thread that has gone.
 *
 * SHARDED_MUTANT_DROP_SLOT, defined only by tests/test_sharded.c, makes the
 * last thread leave the step's last slot out of its slice's sum: the test
 * shows that the equality test catches a slice short of one batch. */
#include "sharded.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/grad_norm.h"
#include "../core/model.h"
#include "slot_pool.h"
#include "team.h"

typedef struct {
    Team t;
    SlotPool pool;          /* slots, slices, workspaces, barrier */
    float *params;
    uint64_t first_batch;
} ShardedState;

/* The slot the mutant of tests/test_sharded.c leaves out of one thread's slice. */
static int dropped_slot(int id, int threads, int in_step) {
#ifdef SHARDED_MUTANT_DROP_SLOT
    return id == threads - 1 && in_step > 1 ? in_step - 1 : -1;
#else
    (void)id, (void)threads, (void)in_step;
    return -1;
#endif
}

static void shard_main(ShardedState *s, int id, ThreadClock *clk) {
    Team *t = &s->t;
    SlotPool *p = &s->pool;
    int N = t->threads;
    size_t lo = p->slice[id], hi = p->slice[id + 1];
    float *sum = slot_pool_slot(p, 0);
    uint64_t k = 0;
    for (long step = 1; step <= t->book.steps; step++) {
        int in_step = train_step_batches(t->batches, k, t->bps);
        clk->step = (int32_t)step;
        slot_pool_compute(p, id, clk, &t->cfg, s->params, s->first_batch + k, in_step);
        thread_clock_phase(clk, PHASE_WAIT);
        barrier_wait(&p->barrier);
        if (atomic_load(&p->failed)) return;
        thread_clock_phase(clk, PHASE_REDUCE);
        slot_pool_reduce(p, id, in_step, dropped_slot(id, N, in_step));
        double loss_sum = 0.0;
        for (int j = 0; j < in_step; j++) loss_sum += p->slot_loss[j]; /* batch order, as serial */
        thread_clock_phase(clk, PHASE_OPTIMIZER);
        step_book_divide(&t->book, sum, in_step, lo, hi);
        if (step_book_clips(&t->book)) {
            /* the global norm needs every slice divided; the scale needs every chunk's sum */
            size_t chunks = grad_norm_chunks(t->n_params);
            thread_clock_phase(clk, PHASE_WAIT);
            barrier_wait(&p->barrier);
            thread_clock_phase(clk, PHASE_OPTIMIZER);
            step_book_norm(&t->book, sum, chunks * (size_t)id / (size_t)N, chunks * (size_t)(id + 1) / (size_t)N);
            thread_clock_phase(clk, PHASE_WAIT);
            barrier_wait(&p->barrier);
            thread_clock_phase(clk, PHASE_OPTIMIZER);
        }
        if (lo < hi) step_book_apply(&t->book, s->params, sum, lo, hi);
        /* every thread decides alone, from the same losses, whether this step
         * ends the run (target reached, or diverged), instead of reading
         * book.steps while thread 0's close writes it */
        int last = step_book_ends_run(&t->book, in_step, loss_sum);
        thread_clock_phase(clk, PHASE_WAIT);
        barrier_wait(&p->barrier);
        if (id == 0) {
            thread_clock_phase(clk, PHASE_OPTIMIZER);
            step_book_close(&t->book, in_step, loss_sum);
        }
        k += (uint64_t)in_step;
        if (last) break;
    }
}

/* Threads 1 .. N-1. */
static void shard_thread(void *ctx, int id) {
    ShardedState *s = ctx;
    ThreadClock *clk = team_thread_begin(&s->t, id, ROLE_WORKER, 0, PHASE_WAIT);
    shard_main(s, id, clk);
    team_thread_end(&s->t, id);
}

static void sharded_destroy(void *state);

/* a batch per thread: every thread computes in every step */
static int sharded_default_bps(const VariantConfig *cfg) { return cfg->threads > 0 ? cfg->threads : 1; }

static sb_status sharded_create(void **state, const VariantConfig *cfg, sb_error *err) {
    *state = NULL;
    sb_status st = team_check_config(cfg, "sharded", 1, "every one a worker", err);
    if (st) return st;
    int N = cfg->threads, bps = variant_batches_per_step(&variant_sharded, cfg);
    ShardedState *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    if ((st = slot_pool_init(&s->pool, cfg, N, bps, "sharded", err)) || (st = team_init(&s->t, cfg, N, bps, err))) {
        sharded_destroy(s);
        return st;
    }
    *state = s;
    return SB_OK;
}

static sb_status sharded_run(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                             sb_error *err) {
    ShardedState *s = state;
    Team *t = &s->t;
    sb_status st = team_run_begin(t, first_batch, batches, ROLE_WORKER, 0, PHASE_DISPATCH, res, err);
    if (st) return st;
    s->params = params;
    s->first_batch = first_batch;
    atomic_store(&s->pool.failed, 0);
    if (!(st = team_start(t, shard_thread, s, err))) {
        shard_main(s, 0, &t->clocks[0]);
        thread_clock_phase(&t->clocks[0], PHASE_WAIT);
        /* a failure was flagged before a barrier thread 0 has passed, so
         * every failing thread's message is written by now */
        if (atomic_load(&s->pool.failed)) st = slot_pool_error(&s->pool, err);
    }
    /* every thread leaves its loop by itself: at the end, or all together after a failure */
    team_run_end(t, st, res);
    return st;
}

static void sharded_destroy(void *state) {
    ShardedState *s = state;
    if (!s) return;
    slot_pool_free(&s->pool);
    team_free(&s->t);
    free(s);
}

const Variant variant_sharded = {
    .name = "sharded",
    .summary = "N workers, no control: each reduces and updates its own slice of the parameters",
    .min_threads = 1,
    .default_threads = 2,
    .default_batches_per_step = sharded_default_bps,
    .batches_per_step_doc = "one per thread",
    .create = sharded_create,
    .run = sharded_run,
    .destroy = sharded_destroy,
};
