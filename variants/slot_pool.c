/* slot_pool.c - the slots, slices and the two halves of a step that sharded
 * and batch_sum share; see slot_pool.h. */
#include "slot_pool.h"

#include <stdlib.h>
#include <string.h>

#include "../core/reduce.h"
#include "team.h"

sb_status slot_pool_init(SlotPool *p, const VariantConfig *cfg, int threads, int bps, const char *who,
                         sb_error *err) {
    memset(p, 0, sizeof *p);
    size_t n = model_param_count(&cfg->model), bt = (size_t)cfg->B * (size_t)cfg->T;
    size_t stride = (n + SLOT_POOL_ALIGN_FLOATS - 1) / SLOT_POOL_ALIGN_FLOATS * SLOT_POOL_ALIGN_FLOATS;
    double need = (double)threads * (double)workspace_bytes(&cfg->model, cfg->B, cfg->T) + 4.0 * (double)stride * bps;
    sb_status st = team_check_memory(who, threads, need, err);
    if (st) return st;
    barrier_init(&p->barrier, threads, cfg->wait);
    p->threads = threads;
    p->stride = stride;
    p->ws = calloc((size_t)threads, sizeof *p->ws);
    p->slot_grad = team_alloc(sizeof(float) * stride * (size_t)bps);
    p->slot_loss = calloc((size_t)bps, sizeof(float));
    p->inputs = team_alloc(sizeof(int) * bt * (size_t)threads);
    p->targets = team_alloc(sizeof(int) * bt * (size_t)threads);
    p->slice = malloc(sizeof(size_t) * ((size_t)threads + 1));
    p->errs = calloc((size_t)threads, sizeof *p->errs);
    if (!p->ws || !p->slot_grad || !p->slot_loss || !p->inputs || !p->targets || !p->slice || !p->errs) {
        slot_pool_free(p);
        return sb_fail(err, SB_ENOMEM, "out of memory for %d threads' gradients (%d slots)", threads, bps);
    }
    /* whole 64-byte units, spread so that slices differ by at most one unit */
    size_t units = stride / SLOT_POOL_ALIGN_FLOATS;
    for (int t = 0; t <= threads; t++) {
        size_t at = units * (size_t)t / (size_t)threads * SLOT_POOL_ALIGN_FLOATS;
        p->slice[t] = at < n ? at : n;
    }
    for (int t = 0; t < threads; t++)
        if ((st = workspace_init(&p->ws[t], &cfg->model, cfg->B, cfg->T, err))) {
            slot_pool_free(p);
            return st;
        }
    return SB_OK;
}

void slot_pool_free(SlotPool *p) {
    for (int t = 0; p->ws && t < p->threads; t++) workspace_free(&p->ws[t]);
    if (p->threads) barrier_destroy(&p->barrier);
    free(p->ws);
    free(p->slot_grad);
    free(p->slot_loss);
    free(p->inputs);
    free(p->targets);
    free(p->slice);
    free(p->errs);
    memset(p, 0, sizeof *p);
}

void slot_pool_compute(SlotPool *p, int id, ThreadClock *clk, const VariantConfig *c, const float *params,
                       uint64_t first, int n) {
    size_t bt = (size_t)c->B * (size_t)c->T;
    int *in = p->inputs + (size_t)id * bt, *tg = p->targets + (size_t)id * bt;
    for (int j = id; j < n; j += p->threads) {
        clk->batch = (int64_t)(first + (uint64_t)j);
        thread_clock_phase(clk, PHASE_DISPATCH);
        if (tokens_window(in, tg, c->data, (first + (uint64_t)j) * bt, c->B, c->T, &p->errs[id])) {
            atomic_store(&p->failed, 1);
            break;
        }
        thread_clock_phase(clk, PHASE_COMPUTE);
        p->slot_loss[j] = model_forward(&p->ws[id], params, in, tg, c->B, c->T);
        model_backward(slot_pool_slot(p, j), &p->ws[id], params);
        clk->batches++;
    }
    clk->batch = -1;
}

void slot_pool_reduce(SlotPool *p, int id, int n, int skip) {
    size_t lo = p->slice[id], hi = p->slice[id + 1];
    float *sum = slot_pool_slot(p, 0) + lo;
    const float *run[REDUCE_RUN_MAX];
    for (int j = 0; lo < hi && j < n;) {
        int nb = 0;
        if (j > 0) run[nb++] = sum; /* the running sum */
        for (; j < n && nb < REDUCE_RUN_MAX; j++)
            if (j != skip) run[nb++] = slot_pool_slot(p, j) + lo;
        if (nb > 1) reduce_sum(sum, run, nb, hi - lo);
    }
}

sb_status slot_pool_error(const SlotPool *p, sb_error *err) {
    for (int i = 0; i < p->threads; i++)
        if (p->errs[i].code) {
            *err = p->errs[i];
            return err->code;
        }
    return SB_OK;
}
