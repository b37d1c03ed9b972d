/* team.c - the run skeleton every trainer shares; see team.h. */
#include "team.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/model.h"

sb_status team_check_config(const VariantConfig *cfg, const char *variant, int min_threads, const char *why,
                               sb_error *err) {
    if (min_threads > 0 && (cfg->threads < min_threads || cfg->threads > VARIANT_MAX_THREADS))
        return sb_fail(err, SB_ECONFIG, "variant %s needs %d..%d threads (%s); got --threads %d", variant,
                       min_threads, VARIANT_MAX_THREADS, why, cfg->threads);
    if (cfg->batches_per_step < 0)
        return sb_fail(err, SB_ECONFIG, "batches per step must be at least 1 (got %d)", cfg->batches_per_step);
    return model_config_check(&cfg->model, err);
}

sb_status team_check_memory(const char *variant, int threads, double need_bytes, sb_error *err) {
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (need_bytes > 0.85 * have)
        return sb_fail(err, SB_ECONFIG,
                       "%s at %d threads needs %.1f GB of activations and gradients but the machine has %.1f GB: use "
                       "fewer threads or a smaller model",
                       variant, threads, need_bytes / 1e9, have / 1e9);
    return SB_OK;
}

void *team_alloc(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (p) memset(p, 0, rounded);
    return p;
}

sb_status team_init(Team *t, const VariantConfig *cfg, int threads, int bps, sb_error *err) {
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->gate_mu, NULL);
    pthread_cond_init(&t->gate_cv, NULL);
    t->cfg = *cfg;
    t->threads = threads;
    t->bps = bps;
    t->n_params = model_param_count(&cfg->model);
    t->bt = (size_t)cfg->B * (size_t)cfg->T;
    t->clocks = aligned_alloc(64, sizeof(ThreadClock) * (size_t)threads);
    t->stats = calloc((size_t)threads, sizeof *t->stats);
    t->tids = calloc((size_t)threads, sizeof *t->tids);
    t->launch = calloc((size_t)threads, sizeof *t->launch);
    if (!t->clocks || !t->stats || !t->tids || !t->launch)
        return sb_fail(err, SB_ENOMEM, "out of memory for %d threads' bookkeeping", threads);
    for (int i = 0; i < threads; i++) t->launch[i] = (TeamLaunch){.team = t, .id = i};
    if (cfg->trace_spans == 0) return SB_OK;
    if (!(t->spans = calloc((size_t)threads, sizeof *t->spans)))
        return sb_fail(err, SB_ENOMEM, "out of memory for %d threads' traces", threads);
    for (int i = 0; i < threads; i++) {
        sb_status st = span_buffer_init(&t->spans[i], cfg->trace_spans, err);
        if (st) return st;
    }
    return SB_OK;
}

void team_free(Team *t) {
    pthread_mutex_destroy(&t->gate_mu);
    pthread_cond_destroy(&t->gate_cv);
    free(t->clocks);
    free(t->stats);
    free(t->tids);
    free(t->launch);
    free(t->step_loss);
    for (int i = 0; t->spans && i < t->threads; i++) span_buffer_free(&t->spans[i]);
    free(t->spans);
    t->spans = NULL;
    t->clocks = NULL;
    t->stats = NULL;
    t->tids = NULL;
    t->launch = NULL;
    t->step_loss = NULL;
}

ThreadClock *team_thread_begin(Team *t, int id, ThreadRole role, int level, Phase first) {
    const ThreadHooks *h = &t->cfg.hooks;
    if (h->thread_begin) h->thread_begin(h->ctx, id, role, level);
    thread_clock_start(&t->clocks[id], id, role, level, first);
    if (t->spans) thread_clock_trace(&t->clocks[id], &t->spans[id]);
    return &t->clocks[id];
}

void team_thread_end(Team *t, int id) {
    const ThreadHooks *h = &t->cfg.hooks;
    thread_clock_stop(&t->clocks[id]);
    if (h->thread_end) h->thread_end(h->ctx, id);
}

sb_status team_run_begin(Team *t, uint64_t first_batch, uint64_t batches, ThreadRole role0, int level0,
                            Phase first, RunResult *res, sb_error *err) {
    sb_status st = step_book_start(&t->book, &t->step_loss, &t->cfg, t->n_params, first_batch, batches, t->bps, res,
                                   err);
    if (st) return st;
    t->batches = batches;
    t->started = 0;
    t->gate = 0;
    t->cpu0 = clock_process_cpu_now();
    team_thread_begin(t, 0, role0, level0, first);
    return SB_OK;
}

/* pthread_create with a TEAM_THREAD_STACK stack; returns its error number. */
static int thread_create(pthread_t *tid, void *(*fn)(void *), void *arg) {
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc) return rc;
    rc = pthread_attr_setstacksize(&attr, TEAM_THREAD_STACK);
    if (!rc) rc = pthread_create(tid, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

/* Every started thread waits here until all have started (or one failed). */
static void *launch_main(void *arg) {
    TeamLaunch *l = arg;
    Team *t = l->team;
    pthread_mutex_lock(&t->gate_mu);
    while (t->gate == 0) pthread_cond_wait(&t->gate_cv, &t->gate_mu);
    int go = t->gate > 0;
    pthread_mutex_unlock(&t->gate_mu);
    if (go) t->body(t->body_ctx, l->id);
    return NULL;
}

static void open_gate(Team *t, int value) {
    pthread_mutex_lock(&t->gate_mu);
    t->gate = value;
    pthread_cond_broadcast(&t->gate_cv);
    pthread_mutex_unlock(&t->gate_mu);
}

sb_status team_start(Team *t, team_body_fn body, void *ctx, sb_error *err) {
    t->body = body;
    t->body_ctx = ctx;
    int want = t->threads - 1;
    for (t->started = 0; t->started < want; t->started++)
        if (thread_create(&t->tids[t->started + 1], launch_main, &t->launch[t->started + 1]) != 0) break;
    if (t->started < want) {
        open_gate(t, -1);
        for (int i = 1; i <= t->started; i++) pthread_join(t->tids[i], NULL);
        int started = t->started;
        t->started = 0;
        return sb_fail(err, SB_ECONFIG, "could only start %d of %d threads (system limit)", started + 1, t->threads);
    }
    open_gate(t, 1);
    return SB_OK;
}

void team_run_end(Team *t, sb_status st, RunResult *res) {
    for (int i = 1; i <= t->started; i++) pthread_join(t->tids[i], NULL);
    t->started = 0;
    team_thread_end(t, 0);
    res->process_cpu_s = clock_process_cpu_now() - t->cpu0;
    res->wall_s = t->clocks[0].wall_s;
    step_book_end(&t->book);
    if (st) return;
    run_result_threads(res, t->stats, t->clocks, t->threads);
    res->batches = t->book.done; /* fewer than asked when the schedule's target ended the run early */
    res->tokens = t->book.done * t->bt;
    res->steps = t->book.step;
    res->last_loss = t->book.last_loss;
    res->batches_per_step = t->bps;
    res->step_loss = t->step_loss;
    res->spans = t->spans;
}
