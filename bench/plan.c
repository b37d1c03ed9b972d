/* plan.c - the bench's plan; see plan.h.
 *
 * Built in two passes over the same loops: the first counts the runs (so a
 * plan over PLAN_MAX_RUNS is refused with its size), the second fills an
 * array of exactly that many. */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model_shape.h"

/* One thread is the serial baseline's point: a parallel trainer runs from 2
 * threads, or from the fewest it can train with if that is more. */
int plan_min_threads(const Variant *v) { return v->min_threads > 2 ? v->min_threads : 2; }

uint64_t run_spec_tokens(const RunSpec *s) { return s->batches * (uint64_t)s->B * (uint64_t)s->T; }

void plan_defaults(PlanOptions *o, int quick, int cores, int preset_B, int preset_T) {
    *o = (PlanOptions){
        .full_threads = 64,
        .full_batches = 0,
        .sweep_batches = quick ? 8 : 24,
        .reps = quick ? 3 : 9,
        .full_reps = 1,
        .batch_reps = quick ? 1 : 9,
        .batches_per_step = 63,
        .quick = quick,
        .cores = cores,
        .preset_B = preset_B,
        .preset_T = preset_T,
    };
}

/* ---- options ---- */

static sb_status check_range(const char *opt, long long x, long long lo, long long hi, sb_error *err) {
    if (x < lo || x > hi) return sb_fail(err, SB_EARG, "%s %lld is outside %lld..%lld", opt, x, lo, hi);
    return SB_OK;
}

static sb_status check_numbers(const PlanOptions *o, sb_error *err) {
    sb_status st;
    if ((st = check_range("--full-threads", o->full_threads, 2, VARIANT_MAX_THREADS, err)) ||
        (st = check_range("--batches", o->full_batches, 0, 1LL << 40, err)) ||
        (st = check_range("--sweep-batches", o->sweep_batches, 1, 1LL << 40, err)) ||
        (st = check_range("--reps", o->reps, 1, 1000, err)) ||
        (st = check_range("--full-reps", o->full_reps, 1, 1000, err)) ||
        (st = check_range("--batch-reps", o->batch_reps, 1, 1000, err)) ||
        (st = check_range("--batches-per-step", o->batches_per_step, 1, 1 << 20, err)))
        return st;
    if (o->cores < 1 || o->preset_B < 1 || o->preset_T < 1)
        return sb_fail(err, SB_ECONFIG, "the plan needs cores >= 1 and a batch shape (got %d cores, B=%d T=%d)",
                       o->cores, o->preset_B, o->preset_T);
    return SB_OK;
}

/* Parses "1,2,64" into v: at most PLAN_MAX_LIST integers in lo..hi. */
static sb_status parse_int_list(const char *s, int *v, int *n, long lo, long hi, const char *opt, sb_error *err) {
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno || end == p || (*end && *end != ',') || x < lo || x > hi || *n >= PLAN_MAX_LIST)
            return sb_fail(err, SB_EARG, "%s wants a comma-separated list of up to %d integers in %ld..%ld, got '%s'",
                           opt, PLAN_MAX_LIST, lo, hi, s);
        v[(*n)++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (*n == 0) return sb_fail(err, SB_EARG, "%s is empty", opt);
    return SB_OK;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int sort_unique(int *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_int);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (k == 0 || v[i] != v[k - 1]) v[k++] = v[i];
    return k;
}

/* --variants: names of registered trainers other than serial, each once, none empty. */
static sb_status parse_variants(Plan *p, const char *list, sb_error *err) {
    p->n_variants = 0;
    if (!list) {
        for (const Variant *const *v = variant_all(); *v; v++)
            if (strcmp((*v)->name, "serial") != 0 && p->n_variants < PLAN_MAX_LIST) p->variants[p->n_variants++] = *v;
        return SB_OK;
    }
    const char *s = list;
    for (;;) {
        size_t len = strcspn(s, ",");
        if (len == 0)
            return sb_fail(err, SB_EARG, "--variants '%s' has an empty name: give trainers separated by commas "
                           "(available: %s)", list, variant_names());
        char name[64];
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, s, len);
        name[len] = 0;
        const Variant *v = variant_find(name);
        if (!v || strcmp(v->name, "serial") == 0)
            return sb_fail(err, SB_EARG, "--variants: '%s' is not a parallel trainer (available: %s; serial always "
                           "runs as the baseline)", name, variant_names());
        for (int i = 0; i < p->n_variants; i++)
            if (p->variants[i] == v) return sb_fail(err, SB_EARG, "--variants names '%s' twice", name);
        if (p->n_variants >= PLAN_MAX_LIST)
            return sb_fail(err, SB_EARG, "--variants names more than %d trainers", PLAN_MAX_LIST);
        p->variants[p->n_variants++] = v;
        s += strcspn(s, ",");
        if (!*s) return SB_OK;
        s++;
    }
}

/* The sweep's thread counts, ascending, each once. */
static sb_status sweep_threads(const PlanOptions *o, int *threads, int *n, sb_error *err) {
    if (o->threads) {
        sb_status st = parse_int_list(o->threads, threads, n, 1, VARIANT_MAX_THREADS, "--threads", err);
        if (st) return st;
    } else if (o->quick) {
        /* 64 threads are covered by the full runs; the sweep only checks the path */
        int d[] = {1, 2, o->cores};
        memcpy(threads, d, sizeof d);
        *n = 3;
    } else {
        int d[] = {1, 2, 4, 16, 64, o->cores};
        memcpy(threads, d, sizeof d);
        *n = 6;
    }
    *n = sort_unique(threads, *n);
    return SB_OK;
}

/* The batch sweep's tokens per batch: each a whole number of rows of at most
 * the preset's T, each dividing a sweep run's tokens (equal tokens per run). */
static sb_status batch_tokens(const PlanOptions *o, int B, int *bt, int *n, sb_error *err) {
    /* the model's own batch (4096 tokens for bench) is the thread sweep's run
     * at --full-threads: the report takes it from there */
    const char *list = o->batch_tokens ? o->batch_tokens : o->quick ? "0" : "256,64";
    *n = 0;
    if (strcmp(list, "0") == 0) return SB_OK;
    sb_status st = parse_int_list(list, bt, n, 1, (long)MODEL_MAX_B * o->preset_T, "--batch-tokens", err);
    if (st) return st;
    uint64_t sweep_tokens = (uint64_t)o->sweep_batches * (uint64_t)B * (uint64_t)o->preset_T;
    for (int i = 0; i < *n; i++) {
        int T = bt[i] < o->preset_T ? bt[i] : o->preset_T;
        if (bt[i] % T != 0)
            return sb_fail(err, SB_EARG, "--batch-tokens %d is not a multiple of the preset's T=%d (B x T with "
                           "T <= %d)", bt[i], o->preset_T, o->preset_T);
        if (sweep_tokens % (uint64_t)bt[i] != 0)
            return sb_fail(err, SB_EARG, "--batch-tokens %d does not divide a sweep run's %llu tokens (%lld batches "
                           "of %d x %d), so its runs could not train on the same tokens", bt[i],
                           (unsigned long long)sweep_tokens, o->sweep_batches, B, o->preset_T);
    }
    return SB_OK;
}

/* ---- the runs ---- */

typedef struct {
    RunSpec *runs; /* NULL while counting */
    int n;
} RunList;

static void add_run(RunList *l, RunSpec s) {
    if (l->runs) l->runs[l->n] = s;
    l->n++;
}

static RunSpec run(RunKind kind, const Variant *v, const char *route, int threads, int rep, int B, int T,
                   uint64_t batches) {
    return (RunSpec){
        .kind = kind,
        .variant = v,
        .route = route,
        .threads = threads,
        .rep = rep,
        .B = B,
        .T = T,
        .first_batch = 0,
        .batches = batches,
        .keep_params = kind == RUN_FULL && rep == 1,
        .trace = kind == RUN_TRACE_ON ? TRACE_KEEP : TRACE_NONE,
    };
}

/* A run of the first repetition that writes its timeline. */
static RunSpec traced(RunSpec s) {
    s.trace = s.rep == 1 ? TRACE_WRITE : s.trace;
    return s;
}

typedef struct {
    const PlanOptions *o;
    const Plan *p;
    const Variant *serial;
    int threads[PLAN_MAX_LIST + 1], n_threads;
    int bt[PLAN_MAX_LIST], n_bt;
} Inputs;

static void list_runs(RunList *l, const Inputs *in) {
    const PlanOptions *o = in->o;
    const Plan *p = in->p;
    int B = p->B, T = p->T, full = (int)o->full_threads;
    uint64_t sweep = (uint64_t)o->sweep_batches;
    for (int r = 1; r <= o->full_reps; r++)
        for (int v = 0; v < p->n_variants; v++)
            if (plan_min_threads(p->variants[v]) <= full)
                add_run(l, traced(run(RUN_FULL, p->variants[v], NULL, full, r, B, T, p->full_batches)));
    for (int r = 1; r <= o->reps; r++)
        for (int t = 0; t < in->n_threads; t++) {
            if (in->threads[t] == 1) add_run(l, traced(run(RUN_SWEEP, in->serial, NULL, 1, r, B, T, sweep)));
            for (int v = 0; v < p->n_variants; v++) {
                if (plan_min_threads(p->variants[v]) > in->threads[t]) continue;
                RunSpec s = run(RUN_SWEEP, p->variants[v], NULL, in->threads[t], r, B, T, sweep);
                add_run(l, in->threads[t] == p->trace_threads ? traced(s) : s);
            }
        }
    for (int r = 1; r <= o->reps; r++)
        for (int v = 0; v < p->n_variants; v++)
            for (int k = 0; p->variants[v]->routes && p->variants[v]->routes[k]; k++)
                add_run(l, run(RUN_ROUTE, p->variants[v], p->variants[v]->routes[k], full, r, B, T, sweep));
    for (int r = 1; r <= o->batch_reps; r++)
        for (int i = 0; i < in->n_bt; i++) {
            int bT = in->bt[i] < T ? in->bt[i] : T, bB = in->bt[i] / bT;
            /* the same tokens as a sweep run: more, smaller batches */
            uint64_t nb = sweep * (uint64_t)(B * T) / (uint64_t)in->bt[i];
            add_run(l, run(RUN_BATCH, in->serial, NULL, 1, r, bB, bT, nb)); /* every speedup needs its baseline */
            for (int v = 0; v < p->n_variants; v++)
                if (plan_min_threads(p->variants[v]) <= full)
                    add_run(l, run(RUN_BATCH, p->variants[v], NULL, full, r, bB, bT, nb));
        }
    for (int k = 0; p->overhead && k < 2 * PLAN_TRACE_PAIRS; k++) {
        int pair = k / 2, on = (k % 2) ^ (pair % 2); /* off on, on off, off on */
        add_run(l, run(on ? RUN_TRACE_ON : RUN_TRACE_OFF, p->overhead, NULL, p->trace_threads, pair + 1, B, T, sweep));
    }
}

static void list_warmup(Plan *p, const Variant *serial) {
    p->n_warmup = 0;
    p->warmup[p->n_warmup++] = run(RUN_SWEEP, serial, NULL, 1, 0, p->B, p->T, PLAN_WARMUP_BATCHES);
    for (int v = 0; v < p->n_variants; v++) {
        int t = plan_min_threads(p->variants[v]) > 2 ? plan_min_threads(p->variants[v]) : 2;
        p->warmup[p->n_warmup++] = run(RUN_SWEEP, p->variants[v], NULL, t, 0, p->B, p->T, PLAN_WARMUP_BATCHES);
    }
}

/* The traced sweep count: the largest sweep count up to PLAN_TRACE_THREADS
 * at which every compared trainer runs; the overhead runs' trainer: the first
 * compared one that routes (a tree: the most phase boundaries per batch),
 * else the first. */
static void choose_traced(Plan *p, const Inputs *in) {
    p->trace_threads = 0;
    p->overhead = NULL;
    for (int t = 0; t < in->n_threads; t++) {
        int all = in->threads[t] <= PLAN_TRACE_THREADS;
        for (int v = 0; v < p->n_variants && all; v++) all = plan_min_threads(p->variants[v]) <= in->threads[t];
        if (all) p->trace_threads = in->threads[t];
    }
    if (!p->trace_threads || p->n_variants == 0) return;
    p->overhead = p->variants[0];
    for (int v = p->n_variants - 1; v >= 0; v--)
        if (p->variants[v]->routes) p->overhead = p->variants[v];
}

/* Every trainer some run of the plan uses, in registry order. */
static void list_trainers(Plan *p) {
    p->n_trainers = 0;
    for (const Variant *const *v = variant_all(); *v; v++) {
        int used = 0;
        for (int i = 0; i < p->n && !used; i++) used = p->runs[i].variant == *v;
        if (used && p->n_trainers < PLAN_MAX_LIST + 1) p->trainers[p->n_trainers++] = *v;
    }
}

sb_status plan_build(Plan *p, const PlanOptions *o, sb_error *err) {
    memset(p, 0, sizeof *p);
    Inputs in = {.o = o, .p = p, .serial = variant_find("serial")};
    sb_status st;
    if ((st = check_numbers(o, err)) || (st = parse_variants(p, o->variants, err))) return st;
    /* --quick: a quarter of the preset's batch, so 64 threads' workspaces fit
     * in memory and in time; a check that the bench works, not a measurement */
    p->B = o->quick && o->preset_B >= 4 ? o->preset_B / 4 : o->preset_B;
    p->T = o->preset_T;
    if ((st = sweep_threads(o, in.threads, &in.n_threads, err)) || (st = batch_tokens(o, p->B, in.bt, &in.n_bt, err)))
        return st;
    p->full_batches = o->full_batches ? (uint64_t)o->full_batches
                      : o->quick      ? 2 * (uint64_t)o->batches_per_step
                                      : o->data_batches;
    if (o->data_batches && (p->full_batches > o->data_batches || (uint64_t)o->sweep_batches > o->data_batches))
        return sb_fail(err, SB_EARG, "the dataset holds %llu batches of %d x %d; asked for %llu",
                       (unsigned long long)o->data_batches, p->B, p->T,
                       (unsigned long long)(p->full_batches > (uint64_t)o->sweep_batches ? p->full_batches
                                                                                      : (uint64_t)o->sweep_batches));
    choose_traced(p, &in);
    RunList count = {NULL, 0};
    list_runs(&count, &in);
    if (count.n > PLAN_MAX_RUNS)
        return sb_fail(err, SB_EARG, "the plan has %d runs, more than the %d one bench can hold: use fewer --reps, "
                       "--threads or --batch-tokens", count.n, PLAN_MAX_RUNS);
    RunList l = {calloc((size_t)(count.n ? count.n : 1), sizeof(RunSpec)), 0};
    if (!l.runs) return sb_fail(err, SB_ENOMEM, "out of memory for a plan of %d runs", count.n);
    list_runs(&l, &in);
    p->runs = l.runs;
    p->n = l.n;
    for (int i = 0; i < p->n; i++) p->tokens += run_spec_tokens(&p->runs[i]);
    list_warmup(p, in.serial);
    list_trainers(p);
    return SB_OK;
}

void plan_free(Plan *p) {
    free(p->runs);
    p->runs = NULL;
    p->n = 0;
}
