/* Tests of the noise guards (bench/noise.c): a clean synthetic context gives
 * no warning, and each rule - busy machine, noisy peak, all-core FMA that
 * does not scale, a compute-bound kernel above the peak, a noisy
 * configuration - is triggered alone by a context made to break it, naming
 * its figure; and warnings.json holds them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "../bench/noise.h"
#include "../core/path.h"
#include "support/testutil.h"

typedef struct {
    PeakResult peak;
    CoreBench core;
    SummaryRow rows[2];
    NoiseInputs in;
} Context;

/* A quiet 4-core machine: nothing to warn of. */
static void clean(Context *c) {
    memset(c, 0, sizeof *c);
    c->peak = (PeakResult){.threads_all = 4, .fma_gflops_1t = 100, .fma_gflops_all = 390, .reps = 3,
                           .fma_spread_1t = 0.02, .fma_spread_all = 0.03, .read_spread_1t = 0.05};
    c->core.n_kernels = 2;
    c->core.kernels[0] = (KernelTiming){.name = "matmul", .memory_bound = 0, .fraction = 0.8};
    c->core.kernels[1] = (KernelTiming){.name = "reduce", .memory_bound = 1, .fraction = 1.7}; /* in cache: fine */
    c->rows[0] = (SummaryRow){.kind = RUN_SWEEP, .variant = "flat", .route = "none", .threads = 4,
                              .batch_tokens = 4096, .n = 9, .spread = 0.03};
    c->rows[1] = (SummaryRow){.kind = RUN_FULL, .variant = "sphere", .route = "none", .threads = 64,
                              .batch_tokens = 4096, .n = 1, .spread = NAN}; /* one run: no spread, no warning */
    c->in = (NoiseInputs){.load_before = 0.4, .cores = 4, .peak = &c->peak, .core = &c->core, .rows = c->rows,
                          .n_rows = 2};
}

/* Exactly one warning, on figure, whose text holds word. */
static void one_warning(const Context *c, const char *figure, const char *word) {
    NoiseWarning w[NOISE_MAX_WARNINGS];
    int n = noise_check(w, NOISE_MAX_WARNINGS, &c->in);
    if (n != 1) print_error("%d warnings, first: %s\n", n, n ? w[0].text : "-");
    assert_int_equal(n, 1);
    assert_string_equal(w[0].figure, figure);
    assert_contains(w[0].text, word);
}

static void test_clean_context_is_quiet(void **state) {
    (void)state;
    Context c;
    clean(&c);
    NoiseWarning w[4];
    assert_int_equal(noise_check(w, 4, &c.in), 0);
    c.in.peak = NULL;
    c.in.core = NULL;
    c.in.load_before = NAN; /* unknown load: nothing to say */
    assert_int_equal(noise_check(w, 4, &c.in), 0);
}

static void test_busy_machine(void **state) {
    (void)state;
    Context c;
    clean(&c);
    c.in.load_before = 2.5; /* more than half of 4 cores */
    one_warning(&c, "load average before the run", "2.50 on 4 cores");
    c.in.load_before = 2.0; /* exactly half: not more */
    NoiseWarning w[4];
    assert_int_equal(noise_check(w, 4, &c.in), 0);
}

static void test_noisy_peak(void **state) {
    (void)state;
    Context c;
    clean(&c);
    c.peak.fma_spread_1t = 0.62; /* 286 vs 106 GFLOP/s in one bench */
    one_warning(&c, "peak fma_gflops_1t", "62.0%");
}

static void test_all_core_fma_does_not_scale(void **state) {
    (void)state;
    Context c;
    clean(&c);
    c.peak.fma_gflops_all = 140; /* 1.4x on 4 cores */
    one_warning(&c, "peak fma_gflops_all", "1.40x");
    c.peak.threads_all = 1; /* one core: nothing to scale */
    c.in.cores = 1;
    c.in.load_before = 0.1;
    NoiseWarning w[4];
    assert_int_equal(noise_check(w, 4, &c.in), 0);
}

static void test_kernel_above_peak(void **state) {
    (void)state;
    Context c;
    clean(&c);
    c.core.kernels[0].fraction = 1.34;
    one_warning(&c, "core kernel matmul", "134%");
}

static void test_noisy_configuration(void **state) {
    (void)state;
    Context c;
    clean(&c);
    c.rows[0].spread = 0.141;
    one_warning(&c, "sweep flat 4 threads 4096 tokens", "14.1%");
}

static void test_warnings_file(void **state) {
    (void)state;
    Context c;
    clean(&c);
    c.rows[0].spread = 0.2;
    c.in.load_before = 9;
    NoiseWarning w[8];
    int n = noise_check(w, 8, &c.in);
    assert_int_equal(n, 2);
    char dir[TU_PATH_MAX], path[SB_PATH_MAX];
    sb_error err;
    tu_path(dir, "");
    assert_int_equal(noise_write(dir, w, n, "test-run", &err), SB_OK);
    assert_int_equal(path_join(path, sizeof path, dir, "warnings.json", &err), SB_OK);
    size_t len;
    char *text = (char *)tu_read_file(path, &len);
    assert_contains(text, "\"figure\": \"load average before the run\"");
    assert_contains(text, "\"figure\": \"sweep flat 4 threads 4096 tokens\"");
    free(text);
}

/* A run whose usable counter was counted on 3 of its 4 threads: one warning
 * for the run, naming the counter with its k of n; a counter every thread
 * counted, or one the machine cannot count, is not named. */
static void test_counters_of_part_of_the_threads(void **state) {
    (void)state;
    Context c;
    clean(&c);
    CounterSet cs = {.n = 3};
    snprintf(cs.ev[0].name, sizeof cs.ev[0].name, "task-clock");
    snprintf(cs.ev[1].name, sizeof cs.ev[1].name, "page-faults");
    snprintf(cs.ev[2].name, sizeof cs.ev[2].name, "cycles");
    cs.ev[0].usable = cs.ev[1].usable = 1;
    ThreadCounters tc[4];
    memset(tc, 0, sizeof tc);
    for (int t = 0; t < 4; t++) tc[t].ok[0] = tc[t].ok[1] = 1;
    tc[2].ok[0] = 0;
    tc[2].err[0] = EMFILE;
    RunRecord r = {.spec = {.kind = RUN_SWEEP, .variant = variant_find("flat"), .threads = 4, .rep = 2},
                   .res = {.n_threads = 4}, .counters = tc};
    c.in.runs = &r;
    c.in.n_runs = 1;
    c.in.counters = &cs;
    one_warning(&c, "counters of sweep flat 4 threads rep 2", "task-clock 3 of 4");
    NoiseWarning w[4];
    assert_int_equal(noise_check(w, 4, &c.in), 1);
    assert_null(strstr(w[0].text, "page-faults"));
    assert_null(strstr(w[0].text, "cycles"));
    tc[2].ok[0] = 1; /* every thread counted: nothing to say */
    assert_int_equal(noise_check(w, 4, &c.in), 0);
    c.in.counters = NULL; /* no counters at all: nothing to say */
    tc[2].ok[0] = 0;
    assert_int_equal(noise_check(w, 4, &c.in), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_context_is_quiet), cmocka_unit_test(test_busy_machine),
        cmocka_unit_test(test_noisy_peak),             cmocka_unit_test(test_all_core_fma_does_not_scale),
        cmocka_unit_test(test_kernel_above_peak),      cmocka_unit_test(test_noisy_configuration),
        cmocka_unit_test(test_warnings_file),
        cmocka_unit_test(test_counters_of_part_of_the_threads),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
