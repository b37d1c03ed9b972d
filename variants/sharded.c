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
#include "../core/reduce.h"
#include "barrier.h"
#include "trainer.h"

typedef struct {
    Trainer t;
    Barrier barrier;
    Workspace *ws;          /* [threads] */
    float *slot_grad;       /* [bps][stride], 64-byte aligned */
    size_t stride;          /* floats per slot: n_params rounded up to SHARDED_ALIGN_FLOATS */
    float *slot_loss;       /* [bps] */
    int *inputs, *targets;  /* [threads][B*T]: each thread's batch */
    size_t *slice;          /* [threads+1]: thread t owns elements slice[t] .. slice[t+1]-1 */
    sb_error *errs;         /* [threads]: a failed batch load's message */
    atomic_int failed;
    float *params;
    uint64_t first_batch;
} ShardedState;

static float *slot(ShardedState *s, int j) { return s->slot_grad + (size_t)j * s->stride; }

/* Slot 0's elements lo..hi-1 become the sum of the step's in_step slots there,
 * in batch order. */
static void reduce_slice(ShardedState *s, int id, int in_step, size_t lo, size_t hi) {
    const float *run[REDUCE_RUN_MAX];
    int skip = -1;
#ifdef SHARDED_MUTANT_DROP_SLOT
    if (id == s->t.threads - 1 && in_step > 1) skip = in_step - 1;
#else
    (void)id;
#endif
    int j = 0;
    while (j < in_step) {
        int nb = 0;
        if (j > 0) run[nb++] = slot(s, 0) + lo; /* the running sum */
        for (; j < in_step && nb < REDUCE_RUN_MAX; j++)
            if (j != skip) run[nb++] = slot(s, j) + lo;
        if (nb > 1) reduce_sum(slot(s, 0) + lo, run, nb, hi - lo);
    }
}

static void shard_main(ShardedState *s, int id, ThreadClock *clk) {
    Trainer *t = &s->t;
    const VariantConfig *c = &t->cfg;
    int N = t->threads;
    size_t lo = s->slice[id], hi = s->slice[id + 1];
    int *in = s->inputs + (size_t)id * t->bt, *tg = s->targets + (size_t)id * t->bt;
    uint64_t k = 0;
    for (long step = 1; step <= t->book.steps; step++) {
        int in_step = (int)(t->batches - k < (uint64_t)t->bps ? t->batches - k : (uint64_t)t->bps);
        clk->step = (int32_t)step;
        for (int j = id; j < in_step; j += N) {
            clk->batch = (int64_t)(s->first_batch + k + (uint64_t)j);
            thread_clock_phase(clk, PHASE_DISPATCH);
            uint64_t offset = (s->first_batch + k + (uint64_t)j) * t->bt;
            if (tokens_window(in, tg, c->data, offset, c->B, c->T, &s->errs[id])) {
                atomic_store(&s->failed, 1);
                break;
            }
            thread_clock_phase(clk, PHASE_COMPUTE);
            s->slot_loss[j] = model_forward(&s->ws[id], s->params, in, tg, c->B, c->T);
            model_backward(slot(s, j), &s->ws[id], s->params);
            clk->batches++;
        }
        clk->batch = -1;
        thread_clock_phase(clk, PHASE_WAIT);
        barrier_wait(&s->barrier);
        if (atomic_load(&s->failed)) return;
        thread_clock_phase(clk, PHASE_REDUCE);
        if (lo < hi) reduce_slice(s, id, in_step, lo, hi);
        double loss_sum = 0.0;
        for (int j = 0; j < in_step; j++) loss_sum += s->slot_loss[j]; /* batch order, as serial */
        thread_clock_phase(clk, PHASE_OPTIMIZER);
        step_book_divide(&t->book, slot(s, 0), in_step, lo, hi);
        if (step_book_clips(&t->book)) {
            /* the global norm needs every slice divided; the scale needs every chunk's sum */
            size_t chunks = grad_norm_chunks(t->n_params);
            thread_clock_phase(clk, PHASE_WAIT);
            barrier_wait(&s->barrier);
            thread_clock_phase(clk, PHASE_OPTIMIZER);
            step_book_norm(&t->book, slot(s, 0), chunks * (size_t)id / (size_t)N, chunks * (size_t)(id + 1) / (size_t)N);
            thread_clock_phase(clk, PHASE_WAIT);
            barrier_wait(&s->barrier);
            thread_clock_phase(clk, PHASE_OPTIMIZER);
        }
        if (lo < hi) step_book_apply(&t->book, s->params, slot(s, 0), lo, hi);
        /* every thread decides alone, from the same losses, whether this step
         * ends the run (target reached, or diverged), instead of reading
         * book.steps while thread 0's close writes it */
        int last = step_book_ends_run(&t->book, in_step, loss_sum);
        thread_clock_phase(clk, PHASE_WAIT);
        barrier_wait(&s->barrier);
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
    ThreadClock *clk = trainer_thread_begin(&s->t, id, ROLE_WORKER, 0, PHASE_WAIT);
    shard_main(s, id, clk);
    trainer_thread_end(&s->t, id);
}

static void sharded_destroy(void *state);

static sb_status sharded_create(void **state, const VariantConfig *cfg, sb_error *err) {
    *state = NULL;
    sb_status st = trainer_check_config(cfg, "sharded", 1, "every one a worker", err);
    if (st) return st;
    int N = cfg->threads, bps = cfg->batches_per_step ? cfg->batches_per_step : N;
    size_t n = model_param_count(&cfg->model);
    size_t stride = (n + SHARDED_ALIGN_FLOATS - 1) / SHARDED_ALIGN_FLOATS * SHARDED_ALIGN_FLOATS;
    double need = (double)N * (double)workspace_bytes(&cfg->model, cfg->B, cfg->T) + 4.0 * (double)stride * bps;
    if ((st = trainer_check_memory("sharded", N, need, err))) return st;

    ShardedState *s = calloc(1, sizeof *s);
    if (!s) return sb_fail(err, SB_ENOMEM, "out of memory");
    barrier_init(&s->barrier, N, cfg->wait);
    if ((st = trainer_init(&s->t, cfg, N, bps, err))) {
        sharded_destroy(s);
        return st;
    }
    size_t bt = s->t.bt;
    s->stride = stride;
    s->ws = calloc((size_t)N, sizeof *s->ws);
    s->slot_grad = aligned_alloc(64, sizeof(float) * stride * (size_t)bps);
    s->slot_loss = calloc((size_t)bps, sizeof(float));
    s->inputs = malloc(sizeof(int) * bt * (size_t)N);
    s->targets = malloc(sizeof(int) * bt * (size_t)N);
    s->slice = malloc(sizeof(size_t) * ((size_t)N + 1));
    s->errs = calloc((size_t)N, sizeof *s->errs);
    if (!s->ws || !s->slot_grad || !s->slot_loss || !s->inputs || !s->targets || !s->slice || !s->errs) {
        sharded_destroy(s);
        return sb_fail(err, SB_ENOMEM, "out of memory for %d threads' gradients (%d slots)", N, bps);
    }
    /* whole 64-byte units, spread so that slices differ by at most one unit */
    size_t units = stride / SHARDED_ALIGN_FLOATS;
    for (int t = 0; t <= N; t++) {
        size_t at = units * (size_t)t / (size_t)N * SHARDED_ALIGN_FLOATS;
        s->slice[t] = at < n ? at : n;
    }
    for (int t = 0; t < N; t++)
        if ((st = workspace_init(&s->ws[t], &cfg->model, cfg->B, cfg->T, err))) {
            sharded_destroy(s);
            return st;
        }
    *state = s;
    return SB_OK;
}

static sb_status sharded_run(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                             sb_error *err) {
    ShardedState *s = state;
    Trainer *t = &s->t;
    sb_status st = trainer_run_begin(t, first_batch, batches, ROLE_WORKER, 0, PHASE_DISPATCH, res, err);
    if (st) return st;
    s->params = params;
    s->first_batch = first_batch;
    atomic_store(&s->failed, 0);
    if (!(st = trainer_start(t, shard_thread, s, err))) {
        shard_main(s, 0, &t->clocks[0]);
        thread_clock_phase(&t->clocks[0], PHASE_WAIT);
        /* a failure was flagged before a barrier thread 0 has passed, so
         * every failing thread's message is written by now */
        for (int i = 0; atomic_load(&s->failed) && i < t->threads && !st; i++)
            if (s->errs[i].code) {
                *err = s->errs[i];
                st = s->errs[i].code;
            }
    }
    /* every thread leaves its loop by itself: at the end, or all together after a failure */
    return trainer_run_end(t, st, res);
}

static void sharded_destroy(void *state) {
    ShardedState *s = state;
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

const Variant variant_sharded = {
    .name = "sharded",
    .summary = "N workers, no control: each reduces and updates its own slice of the parameters",
    .min_threads = 1,
    .create = sharded_create,
    .run = sharded_run,
    .destroy = sharded_destroy,
};
