/* Tests of the bench's plan (bench/plan.c): the runs a set of options gives,
 * in order. The quick plan is checked run by run against the order the
 * bench has always run (full, sweep, route); the default plan for what must
 * hold of any plan: every configuration present once per repetition, the
 * trainers interleaved within each repetition (A B A B, never A A B B), the
 * tokens-per-batch sweep at equal tokens per run; and every bad option, and
 * a plan over the run limit, refused with a message naming it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../bench/plan.h"
#include "support/testutil.h"

enum { CORES = 2, PB = 64, PT = 64, DATA = 2000 };

static PlanOptions options(int quick) {
    PlanOptions o;
    plan_defaults(&o, quick, CORES, PB, PT);
    o.data_batches = DATA;
    return o;
}

static Plan build_ok(const PlanOptions *o) {
    Plan p;
    sb_error err;
    sb_status st = plan_build(&p, o, &err);
    if (st) print_error("plan_build: %s\n", err.msg);
    assert_int_equal(st, SB_OK);
    return p;
}

static void refused(const PlanOptions *o, const char *word) {
    Plan p;
    sb_error err;
    assert_int_not_equal(plan_build(&p, o, &err), SB_OK);
    assert_contains(err.msg, word);
    assert_null(p.runs);
}

/* The run at index i is exactly this. */
static void is_run(const Plan *p, int i, RunKind kind, const char *variant, const char *route, int threads, int rep,
                   int B, int T, uint64_t batches) {
    assert_true(i < p->n);
    const RunSpec *s = &p->runs[i];
    if (s->kind != kind || strcmp(s->variant->name, variant) != 0 || (route == NULL) != (s->route == NULL) ||
        (route && strcmp(route, s->route) != 0) || s->threads != threads || s->rep != rep || s->B != B ||
        s->T != T || s->batches != batches)
        print_error("run %d is %s %s %s %d threads rep %d %dx%d %llu batches\n", i + 1, run_kind_name(s->kind),
                    s->variant->name, s->route ? s->route : "-", s->threads, s->rep, s->B, s->T,
                    (unsigned long long)s->batches);
    assert_int_equal(s->kind, kind);
    assert_string_equal(s->variant->name, variant);
    if (route) assert_string_equal(s->route, route);
    else assert_null(s->route);
    assert_int_equal(s->threads, threads);
    assert_int_equal(s->rep, rep);
    assert_int_equal(s->B, B);
    assert_int_equal(s->T, T);
    assert_int_equal(s->batches, batches);
    assert_int_equal(s->first_batch, 0);
    assert_int_equal(s->keep_params, kind == RUN_FULL && rep == 1);
}

/* The quick plan on 2 cores, run by run: full runs, then three repetitions
 * of the sweep, then three of the routing runs (enough for an interval). */
static void test_quick_plan(void **state) {
    (void)state;
    PlanOptions o = options(1);
    Plan p = build_ok(&o);
    assert_int_equal(p.B, PB / 4);
    assert_int_equal(p.full_batches, 2 * 63);
    assert_int_equal(p.n, 3 + 3 * 4 + 3 * 3 + 6);
    is_run(&p, 0, RUN_FULL, "flat", NULL, 64, 1, 16, 64, 126);
    is_run(&p, 1, RUN_FULL, "sphere", NULL, 64, 1, 16, 64, 126);
    is_run(&p, 2, RUN_FULL, "sharded", NULL, 64, 1, 16, 64, 126);
    for (int r = 1; r <= 3; r++) {
        int i = 3 + 4 * (r - 1);
        is_run(&p, i, RUN_SWEEP, "serial", NULL, 1, r, 16, 64, 8);
        is_run(&p, i + 1, RUN_SWEEP, "flat", NULL, 2, r, 16, 64, 8);
        is_run(&p, i + 2, RUN_SWEEP, "sphere", NULL, 2, r, 16, 64, 8);
        is_run(&p, i + 3, RUN_SWEEP, "sharded", NULL, 2, r, 16, 64, 8);
        i = 15 + 3 * (r - 1);
        is_run(&p, i, RUN_ROUTE, "sphere", "symmetry", 64, r, 16, 64, 8);
        is_run(&p, i + 1, RUN_ROUTE, "sphere", "round-robin", 64, r, 16, 64, 8);
        is_run(&p, i + 2, RUN_ROUTE, "sphere", "steal", 64, r, 16, 64, 8);
    }
    /* tracing's cost: sphere at the traced sweep count, off on, on off, off on */
    assert_int_equal(p.trace_threads, 2);
    assert_ptr_equal(p.overhead, variant_find("sphere"));
    static const RunKind overhead[] = {RUN_TRACE_OFF, RUN_TRACE_ON, RUN_TRACE_ON, RUN_TRACE_OFF, RUN_TRACE_OFF,
                                       RUN_TRACE_ON};
    for (int k = 0; k < 6; k++) {
        is_run(&p, 24 + k, overhead[k], "sphere", NULL, 2, k / 2 + 1, 16, 64, 8);
        assert_int_equal(p.runs[24 + k].trace, overhead[k] == RUN_TRACE_ON ? TRACE_KEEP : TRACE_NONE);
    }
    /* timelines written: every full run, and the first sweep repetition at 1 (serial) and 2 threads */
    for (int i = 0; i < 24; i++) assert_int_equal(p.runs[i].trace, i < 7 ? TRACE_WRITE : TRACE_NONE);
    uint64_t tokens = 0;
    for (int i = 0; i < p.n; i++) tokens += run_spec_tokens(&p.runs[i]);
    assert_int_equal(p.tokens, tokens);
    /* warm-up: serial at 1 thread, then every trainer at 2, unrecorded (rep 0) */
    assert_int_equal(p.n_warmup, 1 + p.n_variants);
    assert_string_equal(p.warmup[0].variant->name, "serial");
    assert_int_equal(p.warmup[0].threads, 1);
    for (int i = 1; i < p.n_warmup; i++) {
        assert_int_equal(p.warmup[i].threads, 2);
        assert_int_equal(p.warmup[i].rep, 0);
        assert_int_equal(p.warmup[i].batches, PLAN_WARMUP_BATCHES);
    }
    plan_free(&p);
}

/* The trainers are the registry's: every one but serial, in its order. */
static void test_trainers_from_registry(void **state) {
    (void)state;
    PlanOptions o = options(0);
    Plan p = build_ok(&o);
    int k = 0;
    for (const Variant *const *v = variant_all(); *v; v++)
        if (strcmp((*v)->name, "serial") != 0) {
            assert_true(k < p.n_variants);
            assert_ptr_equal(p.variants[k++], *v);
        }
    assert_int_equal(k, p.n_variants);
    plan_free(&p);
    /* --variants picks and orders them */
    o.variants = "sphere";
    p = build_ok(&o);
    assert_int_equal(p.n_variants, 1);
    for (int i = 0; i < p.n; i++)
        assert_true(strcmp(p.runs[i].variant->name, "sphere") == 0 || strcmp(p.runs[i].variant->name, "serial") == 0);
    plan_free(&p);
    o.variants = "flat"; /* no trainer that routes: no route runs */
    p = build_ok(&o);
    assert_null(variant_find("flat")->routes);
    for (int i = 0; i < p.n; i++) assert_int_not_equal(p.runs[i].kind, RUN_ROUTE);
    plan_free(&p);
}

/* The position of v in the registry. */
static int registry_index(const Variant *v) {
    int k = 0;
    for (const Variant *const *r = variant_all(); *r && *r != v; r++) k++;
    return k;
}

/* Plan.trainers (context.json's "trainers"): exactly the trainers some run
 * uses, each once, in registry order whatever order --variants gives. */
static void check_trainers(const Plan *p) {
    for (const Variant *const *v = variant_all(); *v; v++) {
        int used = 0, listed = 0;
        for (int i = 0; i < p->n; i++) used |= p->runs[i].variant == *v;
        for (int k = 0; k < p->n_trainers; k++) listed += p->trainers[k] == *v;
        assert_int_equal(listed, used);
    }
    for (int k = 1; k < p->n_trainers; k++)
        assert_true(registry_index(p->trainers[k - 1]) < registry_index(p->trainers[k]));
}

static void test_trainers_listed(void **state) {
    (void)state;
    PlanOptions o = options(0);
    Plan p = build_ok(&o);
    check_trainers(&p);
    assert_int_equal(p.n_trainers, p.n_variants + 1); /* serial, the baseline, too */
    assert_ptr_equal(p.trainers[0], variant_find("serial"));
    plan_free(&p);
    o.variants = "sharded,flat";
    p = build_ok(&o);
    check_trainers(&p);
    assert_int_equal(p.n_trainers, 3);
    assert_ptr_equal(p.trainers[1], variant_find("flat"));
    assert_ptr_equal(p.trainers[2], variant_find("sharded"));
    plan_free(&p);
    o.threads = "2"; /* no sweep run at 1 thread and no batch sweep: serial runs nowhere */
    o.batch_tokens = "0";
    p = build_ok(&o);
    check_trainers(&p);
    assert_int_equal(p.n_trainers, 2);
    assert_ptr_equal(p.trainers[0], variant_find("flat"));
    plan_free(&p);
}

/* A trainer runs where it can: flat and sphere keep a control thread apart. */
static void test_min_threads(void **state) {
    (void)state;
    assert_int_equal(plan_min_threads(variant_find("flat")), 2);
    assert_int_equal(plan_min_threads(variant_find("sphere")), 2);
    assert_int_equal(plan_min_threads(variant_find("sharded")), 2); /* it trains on 1, but 1 is serial's point */
    Variant wide = {.name = "wide", .min_threads = 5};
    assert_int_equal(plan_min_threads(&wide), 5);
    PlanOptions o = options(0);
    Plan p = build_ok(&o);
    for (int i = 0; i < p.n; i++) {
        if (strcmp(p.runs[i].variant->name, "serial") == 0)
            assert_int_equal(p.runs[i].threads, 1);
        else
            assert_true(p.runs[i].threads >= plan_min_threads(p.runs[i].variant));
    }
    plan_free(&p);
}

/* Every configuration of the default plan appears exactly once per
 * repetition, and the full runs cover all the data. */
static void test_every_configuration(void **state) {
    (void)state;
    PlanOptions o = options(0);
    Plan p = build_ok(&o);
    static const int threads[] = {1, 2, 4, 16, 64}; /* the core count, 2, is among them */
    int counted = 0;
    assert_int_equal(o.reps, 9); /* Google Benchmark's guidance for a U test: 9 or more */
    assert_int_equal(o.batch_reps, 9);
    for (int r = 1; r <= 9; r++)
        for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++)
            for (const Variant *const *v = variant_all(); *v; v++) {
                int want = threads[t] == 1 ? strcmp((*v)->name, "serial") == 0
                                           : threads[t] >= plan_min_threads(*v) && strcmp((*v)->name, "serial") != 0;
                int have = 0;
                for (int i = 0; i < p.n; i++)
                    have += p.runs[i].kind == RUN_SWEEP && p.runs[i].rep == r && p.runs[i].threads == threads[t] &&
                            p.runs[i].variant == *v;
                assert_int_equal(have, want);
                counted += have;
            }
    int full = 0, route = 0, batch = 0, overhead = 0, written = 0;
    for (int i = 0; i < p.n; i++) {
        overhead += p.runs[i].kind == RUN_TRACE_OFF || p.runs[i].kind == RUN_TRACE_ON;
        if (p.runs[i].trace == TRACE_WRITE) {
            written++;
            assert_int_equal(p.runs[i].rep, 1);
            assert_true(p.runs[i].kind == RUN_FULL ||
                        (p.runs[i].kind == RUN_SWEEP && p.runs[i].threads == (p.runs[i].threads == 1 ? 1 : 4)));
        }
        full += p.runs[i].kind == RUN_FULL;
        route += p.runs[i].kind == RUN_ROUTE;
        batch += p.runs[i].kind == RUN_BATCH;
        if (p.runs[i].kind == RUN_FULL) assert_int_equal(p.runs[i].batches, DATA);
    }
    assert_int_equal(full, p.n_variants);
    assert_int_equal(route, 3 * 9);
    assert_int_equal(batch, 9 * 2 * (1 + p.n_variants));
    assert_int_equal(overhead, 2 * PLAN_TRACE_PAIRS);
    assert_int_equal(p.trace_threads, 4); /* the largest sweep count up to PLAN_TRACE_THREADS */
    /* every full run, serial's 1-thread sweep run and every trainer's at 4 threads */
    assert_int_equal(written, p.n_variants + 1 + p.n_variants);
    assert_int_equal(counted + full + route + batch + overhead, p.n);
    int routes = 0; /* every trainer that routes, under each of its policies (Variant.routes), 9 times */
    for (int v = 0; v < p.n_variants; v++)
        for (int k = 0; p.variants[v]->routes && p.variants[v]->routes[k]; k++, routes++) {
            int found = 0;
            for (int i = 0; i < p.n; i++)
                found += p.runs[i].kind == RUN_ROUTE && p.runs[i].variant == p.variants[v] &&
                         strcmp(p.runs[i].route, p.variants[v]->routes[k]) == 0;
            assert_int_equal(found, 9);
        }
    assert_int_equal(routes * 9, route);
    plan_free(&p);
}

/* Trainers alternate within each repetition: the sweep visits repetition 1
 * entirely before repetition 2, and at each thread count the trainers run
 * back to back in registry order (A B A B ..., never A A B B). */
static void test_interleaving(void **state) {
    (void)state;
    PlanOptions o = options(0);
    o.full_reps = 2;
    o.batch_reps = 2;
    Plan p = build_ok(&o);
    int last_rep[RUN_KIND_COUNT] = {0};
    for (int i = 0; i < p.n; i++) {
        const RunSpec *s = &p.runs[i];
        assert_true(s->rep >= last_rep[s->kind]); /* repetitions never go back */
        last_rep[s->kind] = s->rep;
        /* full, sweep, route, batch, then trace-off and trace-on alternating */
        if (i > 0 && s->kind < RUN_TRACE_OFF) assert_true(s->kind >= p.runs[i - 1].kind);
        if (i > 0 && s->kind >= RUN_TRACE_OFF) assert_true(p.runs[i - 1].kind >= RUN_BATCH);
        if (s->variant == p.variants[0] && s->kind != RUN_ROUTE && s->kind < RUN_TRACE_OFF)
            /* the first trainer is followed by the others at the same configuration */
            for (int v = 1; v < p.n_variants; v++) {
                assert_true(i + v < p.n);
                const RunSpec *n = &p.runs[i + v];
                assert_ptr_equal(n->variant, p.variants[v]);
                assert_int_equal(n->kind, s->kind);
                assert_int_equal(n->rep, s->rep);
                assert_int_equal(n->threads, s->threads);
                assert_int_equal(n->B * n->T, s->B * s->T);
            }
    }
    is_run(&p, 0, RUN_FULL, "flat", NULL, 64, 1, 64, 64, DATA);
    is_run(&p, 1, RUN_FULL, "sphere", NULL, 64, 1, 64, 64, DATA);
    is_run(&p, 2, RUN_FULL, "sharded", NULL, 64, 1, 64, 64, DATA);
    is_run(&p, 3, RUN_FULL, "flat", NULL, 64, 2, 64, 64, DATA);
    is_run(&p, 4, RUN_FULL, "sphere", NULL, 64, 2, 64, 64, DATA);
    is_run(&p, 5, RUN_FULL, "sharded", NULL, 64, 2, 64, 64, DATA);
    plan_free(&p);
}

/* Each tokens-per-batch value trains on the same tokens as a sweep run:
 * more, smaller batches; serial at 1 thread in every repetition. */
static void test_batch_sweep_equal_tokens(void **state) {
    (void)state;
    PlanOptions o = options(0);
    o.batch_reps = 2;
    Plan p = build_ok(&o);
    uint64_t sweep_tokens = (uint64_t)o.sweep_batches * (uint64_t)p.B * (uint64_t)p.T;
    int serial = 0, n = 0;
    for (int i = 0; i < p.n; i++) {
        const RunSpec *s = &p.runs[i];
        if (s->kind != RUN_BATCH) continue;
        n++;
        assert_int_equal(run_spec_tokens(s), sweep_tokens);
        assert_true(s->T <= PT);
        assert_true(s->B * s->T == 256 || s->B * s->T == 64); /* 4096 is the sweep's own run */
        if (strcmp(s->variant->name, "serial") == 0) {
            serial++;
            assert_int_equal(s->threads, 1);
        } else {
            assert_int_equal(s->threads, 64);
        }
    }
    assert_int_equal(serial, 2 * 2);
    assert_int_equal(n, 2 * 2 * (1 + p.n_variants));
    plan_free(&p);
    /* tokens per batch that would not give equal tokens are refused */
    o.batch_tokens = "4096,640"; /* 98304 sweep tokens / 640 = 153.6 */
    refused(&o, "--batch-tokens 640 does not divide");
}

static void test_run_limit(void **state) {
    (void)state;
    PlanOptions o = options(0);
    o.reps = 1000;
    o.threads = "1,2,3,4,5,6,7,8,9,10";
    refused(&o, "more than the 4096 one bench can hold");
    refused(&o, "--reps");
    o.reps = 100; /* 100 x (1 + 9 x 2) = 1900 sweep runs and 300 routing runs: fine */
    Plan p = build_ok(&o);
    assert_true(p.n <= PLAN_MAX_RUNS);
    plan_free(&p);
}

static void test_bad_options(void **state) {
    (void)state;
    static const struct {
        const char *variants, *threads, *batch_tokens, *word;
    } lists[] = {
        {"", NULL, NULL, "empty name"},
        {",,,", NULL, NULL, "empty name"},
        {"flat,", NULL, NULL, "empty name"},
        {"serial", NULL, NULL, "not a parallel trainer"},
        {"nope", NULL, NULL, "'nope' is not a parallel trainer"},
        {"flat,flat", NULL, NULL, "'flat' twice"},
        {NULL, "", NULL, "--threads is empty"},
        {NULL, "0", NULL, "--threads wants"},
        {NULL, "1,,2", NULL, "--threads wants"},
        {NULL, "2x", NULL, "--threads wants"},
        {NULL, "4097", NULL, "--threads wants"},
        {NULL, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33", NULL,
         "up to 32"},
        {NULL, NULL, "96", "not a multiple of the preset's T=64"},
        {NULL, NULL, "abc", "--batch-tokens wants"},
        {NULL, NULL, "", "--batch-tokens is empty"},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        PlanOptions o = options(0);
        o.variants = lists[i].variants;
        o.threads = lists[i].threads;
        o.batch_tokens = lists[i].batch_tokens;
        refused(&o, lists[i].word);
    }
    static const struct {
        size_t offset;
        long long value;
        const char *word;
    } numbers[] = {
        {offsetof(PlanOptions, full_threads), 1, "--full-threads 1 is outside"},
        {offsetof(PlanOptions, full_threads), 4097, "--full-threads 4097 is outside"},
        {offsetof(PlanOptions, sweep_batches), 0, "--sweep-batches 0 is outside"},
        {offsetof(PlanOptions, reps), 0, "--reps 0 is outside"},
        {offsetof(PlanOptions, full_reps), -1, "--full-reps -1 is outside"},
        {offsetof(PlanOptions, batch_reps), 1001, "--batch-reps 1001 is outside"},
        {offsetof(PlanOptions, batches_per_step), 0, "--batches-per-step 0 is outside"},
        {offsetof(PlanOptions, full_batches), DATA + 1, "the dataset holds 2000 batches"},
        {offsetof(PlanOptions, sweep_batches), DATA + 1, "the dataset holds 2000 batches"},
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        PlanOptions o = options(0);
        *(long long *)((char *)&o + numbers[i].offset) = numbers[i].value;
        refused(&o, numbers[i].word);
    }
    /* before the dataset is known, nothing is checked against it */
    PlanOptions o = options(0);
    o.data_batches = 0;
    o.full_batches = DATA + 1;
    Plan p = build_ok(&o);
    plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_plan),
        cmocka_unit_test(test_trainers_from_registry),
        cmocka_unit_test(test_trainers_listed),
        cmocka_unit_test(test_min_threads),
        cmocka_unit_test(test_every_configuration),
        cmocka_unit_test(test_interleaving),
        cmocka_unit_test(test_batch_sweep_equal_tokens),
        cmocka_unit_test(test_run_limit),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
