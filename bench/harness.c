/* harness.c - one measured run; see harness.h. */
#include "harness.h"

#include <stdatomic.h>

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/model.h"
#include "../core/path.h"
#include "trace.h"

static const char *const kind_names[RUN_KIND_COUNT] = {"full", "sweep", "route", "batch", "trace-off",
                                                             "trace-on"};

const char *run_kind_name(RunKind k) { return k >= 0 && k < RUN_KIND_COUNT ? kind_names[k] : "unknown"; }

const char *run_route_name(const RunSpec *s) { return s->route ? s->route : "none"; }

typedef struct {
    const BenchSetup *setup;
    const RunSpec *spec;
    ThreadCounters *tc; /* per thread id */
    int n;
    double last_print;
    atomic_int pin_failures;
    atomic_int pin_errno; /* the first failure's */
} HookCtx;

static void hook_begin(void *ctx, int id, ThreadRole role, int level) {
    (void)role;
    (void)level;
    HookCtx *h = ctx;
    if (id < 0 || id >= h->n) return;
    if (h->setup->pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(h->setup->cpu_ids[id % h->setup->cores], &set);
        int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        if (rc) {
            int none = 0;
            atomic_compare_exchange_strong(&h->pin_errno, &none, rc);
            atomic_fetch_add(&h->pin_failures, 1);
        }
    }
    if (h->tc) counters_thread_begin(h->setup->counters, &h->tc[id]);
}

static void hook_end(void *ctx, int id) {
    HookCtx *h = ctx;
    if (id < 0 || id >= h->n) return;
    if (h->tc) counters_thread_end(h->setup->counters, &h->tc[id]);
}

static void show_progress(const TrainProgress *p, void *ctx) {
    HookCtx *h = ctx;
    double now = p->elapsed_s;
    int live = h->setup->progress == 1;
    if (p->step != p->steps && now - h->last_print < (live ? 0.5 : 30.0)) return;
    if (!live && p->step == p->steps) return; /* a log gets one line per run from the bench already */
    h->last_print = now;
    const RunSpec *s = h->spec;
    uint64_t tokens = p->batches_done * (uint64_t)s->B * (uint64_t)s->T;
    double tps = now > 0 ? (double)tokens / now : 0.0;
    double eta = p->batches_done ? now * (double)(p->batches - p->batches_done) / (double)p->batches_done : 0.0;
    char run[48] = "", bench_eta[64] = "";
    const BenchPosition *pos = h->setup->position;
    if (pos) {
        char d[24];
        progress_format_duration(d, sizeof d, progress_bench_eta(pos, pos->tokens_done + tokens, clock_wall_now()));
        snprintf(run, sizeof run, "run %d of %d ", pos->run, pos->runs);
        snprintf(bench_eta, sizeof bench_eta, "  bench ETA %s", d);
    }
    fprintf(stderr, "%s  %s%-6s %-6s %-11s %4d threads rep %d: %6llu/%llu batches  %8.0f tokens/s  ETA %4.0f s%s%s",
            live ? "\r" : "", run,
            run_kind_name(s->kind), s->variant->name, s->route ? s->route : "", s->threads, s->rep,
            (unsigned long long)p->batches_done, (unsigned long long)p->batches, tps, eta, bench_eta,
            live ? "   " : "\n");
    if (live && p->step == p->steps) fprintf(stderr, "\n");
    fflush(stderr);
}

static void derive(RunRecord *r, int cores) {
    r->tokens_per_s = r->res.wall_s > 0 ? (double)r->res.tokens / r->res.wall_s : 0.0;
    double sum = 0.0, mx = 0.0;
    int nw = 0;
    for (int t = 0; t < r->res.n_threads; t++) {
        const ThreadStats *s = &r->threads[t];
        if (s->role == ROLE_CONTROL) {
            r->controls_cpu_s += s->cpu_s;
        } else {
            sum += s->cpu_s;
            if (s->cpu_s > mx) mx = s->cpu_s;
            nw++;
        }
    }
    /* NaN, not 0, where a figure is undefined: a serial run has no control
     * thread, a run with no worker CPU has no imbalance */
    r->control_cpu_s = r->threads[0].role == ROLE_CONTROL ? r->threads[0].cpu_s : NAN;
    r->n_workers = nw;
    r->mean_worker_cpu_s = nw ? sum / nw : NAN;
    r->max_worker_cpu_s = mx;
    r->imbalance = nw && r->mean_worker_cpu_s > 0 ? mx / r->mean_worker_cpu_s : NAN;
    int busy = nw < cores ? nw : cores;
    r->utilisation = r->res.wall_s > 0 && busy ? sum / (r->res.wall_s * busy) : NAN;
}

/* A traced run's span counts, and for TRACE_WRITE its file in the run folder. */
static sb_status keep_trace(RunRecord *rec, const BenchSetup *b, const RunSpec *spec, const RunResult *res,
                            sb_error *err) {
    if (!res->spans) return SB_OK;
    for (int t = 0; t < res->n_threads; t++) {
        rec->trace_spans += res->spans[t].n;
        rec->trace_dropped += res->spans[t].dropped;
    }
    if (spec->trace != TRACE_WRITE || !b->trace_dir) return SB_OK;
    char name[128], path[SB_PATH_MAX], title[160];
    snprintf(name, sizeof name, "trace-%s-%s-%d.json", run_kind_name(spec->kind), spec->variant->name, spec->threads);
    snprintf(title, sizeof title, "bench %s: %s, %d threads, %llu batches", run_kind_name(spec->kind),
             spec->variant->name, spec->threads, (unsigned long long)spec->batches);
    sb_status st = path_join(path, sizeof path, b->trace_dir, name, err);
    return st ? st : trace_write(path, title, spec->variant->name, b->run_id, res, err);
}

sb_status harness_run(RunRecord *rec, const BenchSetup *b, const RunSpec *spec, sb_error *err) {
    memset(rec, 0, sizeof *rec);
    rec->spec = *spec;
    HookCtx h = {.setup = b, .spec = spec, .n = spec->threads, .last_print = -1.0};
    if (b->counters) {
        h.tc = calloc((size_t)spec->threads, sizeof *h.tc);
        if (!h.tc) return sb_fail(err, SB_ENOMEM, "out of memory for %d threads' counters", spec->threads);
    }
    VariantConfig vc = {
        .data = b->data,
        .model = b->model,
        .B = spec->B,
        .T = spec->T,
        .threads = spec->threads,
        .batches_per_step = b->batches_per_step,
        .adamw = b->adamw,
        .wait = b->wait,
        .route = spec->route,
        .schedule = spec->kind == RUN_FULL ? b->full_schedule : (TrainSchedule){0},
        .hooks = {.thread_begin = hook_begin, .thread_end = hook_end, .ctx = &h},
        .progress = b->progress ? show_progress : NULL,
        .progress_ctx = &h,
    };
    if (spec->kind == RUN_FULL && b->full_lr > 0.0f) vc.adamw.lr = b->full_lr;
    if (spec->kind == RUN_FULL && b->full_batches_per_step > 0) vc.batches_per_step = b->full_batches_per_step;
    if (spec->trace)
        vc.trace_spans =
            trace_capacity(spec->batches, train_step_count(spec->batches, variant_batches_per_step(spec->variant, &vc)));
    size_t n_params = model_param_count(&b->model);
    float *params = malloc(n_params * sizeof(float));
    void *state = NULL;
    sb_status st;
    if (!params) {
        st = sb_fail(err, SB_ENOMEM, "out of memory for the parameters");
        goto out;
    }
    model_init(params, &b->model, b->init_seed);
    if ((st = spec->variant->create(&state, &vc, err))) goto out;
    RunResult res;
    if ((st = spec->variant->run(state, params, spec->first_batch, spec->batches, &res, err))) goto out;
    rec->res = res;
    if ((st = keep_trace(rec, b, spec, &res, err))) goto out;
    rec->res.spans = NULL;
    /* a run that reached its target ended early: res.batches counts the batches it took (team.c) */
    rec->target_loss = vc.schedule.target_loss;
    rec->time_to_target_s = NAN;
    if (rec->target_loss > 0.0f && res.steps > 0 && res.step_loss[res.steps - 1] <= rec->target_loss)
        rec->time_to_target_s = res.wall_s;
    rec->pin_failures = atomic_load(&h.pin_failures);
    if (rec->pin_failures)
        fprintf(stderr, "bench: --pin: %d of %d threads could not be pinned (%s); this run is not pinned as asked\n",
                rec->pin_failures, spec->threads, strerror(atomic_load(&h.pin_errno)));
    rec->threads = malloc(sizeof(ThreadStats) * (size_t)res.n_threads);
    rec->step_loss = malloc(sizeof(float) * (size_t)(res.steps ? res.steps : 1));
    rec->group_batches = malloc(sizeof(uint64_t) * (size_t)(res.n_groups ? res.n_groups : 1));
    if (!rec->threads || !rec->step_loss || !rec->group_batches) {
        st = sb_fail(err, SB_ENOMEM, "out of memory copying a run's statistics");
        goto out;
    }
    memcpy(rec->threads, res.threads, sizeof(ThreadStats) * (size_t)res.n_threads);
    memcpy(rec->step_loss, res.step_loss, sizeof(float) * (size_t)res.steps);
    if (res.n_groups) memcpy(rec->group_batches, res.group_batches, sizeof(uint64_t) * (size_t)res.n_groups);
    rec->res.threads = NULL;
    rec->res.step_loss = NULL;
    rec->res.group_batches = NULL;
    rec->counters = h.tc;
    h.tc = NULL;
    if (spec->keep_params) {
        rec->params = params;
        params = NULL;
    }
    derive(rec, b->cores);
out:
    if (state) spec->variant->destroy(state);
    free(params);
    free(h.tc);
    if (st) run_record_free(rec);
    return st;
}

void run_record_free(RunRecord *rec) {
    free(rec->threads);
    free(rec->counters);
    free(rec->step_loss);
    free(rec->group_batches);
    free(rec->params);
    rec->params = NULL;
    rec->threads = NULL;
    rec->counters = NULL;
    rec->step_loss = NULL;
    rec->group_batches = NULL;
}
