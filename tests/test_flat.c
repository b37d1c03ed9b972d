/* test_flat.c - the flat trainer against serial, against itself, and against
 * the process's own accounting.
 *
 * Data are random tokens, so every batch differs: a lost, duplicated or
 * swapped batch, or a gradient summed in another order, changes the trained
 * parameters. Flat sums gradients in batch-index order and divides as serial
 * does, so the comparison is bitwise, not within a tolerance. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/model.h"
#include "../variants/flat.h"
#include "../variants/serial.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

static const ModelConfig tiny = {.V = 32, .T = 8, .D = 16, .L = 2, .H = 4}; /* V T D L H */
enum { TB = 2, TT = 8 };

static TokenFile random_tokens(uint64_t n_batches, uint64_t seed) {
    return td_random_tokens((uint32_t)tiny.V, n_batches, TB, TT, seed);
}

static VariantConfig config(const TokenFile *tf, int threads, int bps) { return td_config(tf, tiny, TB, TT, threads, bps); }

/* What a run's caller keeps: the result (without the trainer-owned arrays),
 * after checking that the threads' batches add up to the run's. */
typedef struct {
    RunResult *out;
    uint64_t batches;
} Keep;

static void keep(const RunResult *res, void *ctx) {
    const Keep *k = ctx;
    uint64_t sum = 0;
    for (int t = 0; t < res->n_threads; t++) sum += res->threads[t].batches;
    assert_int_equal(sum, k->batches);
    *k->out = *res;
    k->out->threads = NULL;
    k->out->step_loss = NULL;
}

/* Trains fresh parameters (seed 1) with a variant; returns them. */
static float *train(const Variant *v, const VariantConfig *c, uint64_t first, uint64_t batches, RunResult *res_out) {
    Keep k = {.out = res_out, .batches = batches};
    return td_train(v, c, first, batches, res_out ? keep : NULL, &k);
}

static void assert_params_identical(const float *a, const float *b) {
    size_t n = model_param_count(&tiny), differ = 0;
    for (size_t i = 0; i < n; i++) differ += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    if (differ) fail_msg("%zu of %zu parameters differ", differ, n);
}

/* flat == serial bitwise for several thread counts and step sizes, including
 * steps larger than the worker count and a partial last step. */
static void test_flat_equals_serial(void **state) {
    (void)state;
    TokenFile tf = random_tokens(40, 7);
    static const int cases[][3] = {/* threads, batches per step, batches */
                                   {2, 0, 9}, {3, 0, 9}, {5, 0, 13}, {4, 7, 23}, {9, 3, 17}, {2, 5, 11}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int threads = cases[k][0], bps = cases[k][1];
        uint64_t batches = (uint64_t)cases[k][2];
        VariantConfig fc = config(&tf, threads, bps);
        RunResult fr;
        float *pf = train(&variant_flat, &fc, 2, batches, &fr);
        int used_bps = bps ? bps : threads - 1;
        assert_int_equal(fr.batches_per_step, used_bps);
        assert_int_equal(fr.steps, (long)((batches + used_bps - 1) / used_bps));
        VariantConfig sc = config(&tf, 1, used_bps);
        float *ps = train(&variant_serial, &sc, 2, batches, NULL);
        assert_params_identical(pf, ps);
        free(pf);
        free(ps);
    }
    free(tf.ids);
}

/* Two runs at 8 threads: bitwise the same, whichever worker took which batch;
 * block and spin waiting give the same model too. */
static void test_flat_run_to_run_identical(void **state) {
    (void)state;
    TokenFile tf = random_tokens(60, 8);
    VariantConfig c = config(&tf, 8, 0);
    float *a = train(&variant_flat, &c, 0, 50, NULL);
    float *b = train(&variant_flat, &c, 0, 50, NULL);
    assert_params_identical(a, b);
    c.wait = WAIT_SPIN;
    float *s = train(&variant_flat, &c, 0, 50, NULL);
    assert_params_identical(a, s);
    free(a);
    free(b);
    free(s);
    free(tf.ids);
}

/* What the hooks see: every thread begins and ends once, on itself; the
 * process has exactly N threads while training (counted in /proc during the
 * run, from the progress callback, which the control thread calls). */
typedef struct {
    atomic_int begins, ends, controls, workers;
    atomic_int bad_level;
    pid_t tids[64];
    atomic_int n_tids;
    int tasks_seen; /* max of /proc/self/task entries during the run */
} HookLog;

static void hook_begin(void *ctx, int id, ThreadRole role, int level) {
    HookLog *h = ctx;
    atomic_fetch_add(&h->begins, 1);
    if (role == ROLE_CONTROL) {
        atomic_fetch_add(&h->controls, 1);
        if (id != 0 || level != 0) atomic_fetch_add(&h->bad_level, 1);
    } else {
        atomic_fetch_add(&h->workers, 1);
        if (id < 1 || level != 1) atomic_fetch_add(&h->bad_level, 1);
    }
    int k = atomic_fetch_add(&h->n_tids, 1);
    if (k < 64) h->tids[k] = (pid_t)syscall(SYS_gettid);
}

static void hook_end(void *ctx, int id) {
    (void)id;
    HookLog *h = ctx;
    atomic_fetch_add(&h->ends, 1);
}

static void count_tasks(const TrainProgress *p, void *ctx) {
    (void)p;
    HookLog *h = ctx;
    int n = tu_count_entries("/proc/self/task", "") ;
    if (n > h->tasks_seen) h->tasks_seen = n;
}

static void test_flat_thread_count_and_hooks(void **state) {
    (void)state;
    TokenFile tf = random_tokens(30, 9);
    for (int threads = 2; threads <= 12; threads += 5) {
        HookLog h;
        memset(&h, 0, sizeof h);
        VariantConfig c = config(&tf, threads, 0);
        c.hooks.thread_begin = hook_begin;
        c.hooks.thread_end = hook_end;
        c.hooks.ctx = &h;
        c.progress = count_tasks;
        c.progress_ctx = &h;
        RunResult res;
        /* Threads the process has besides the caller (a sanitizer's, say). */
        int before = tu_settled_thread_count();
        float *p = train(&variant_flat, &c, 0, 25, &res);
        /* the caller is the control: training adds exactly N-1 threads */
        assert_int_equal(h.tasks_seen - before, threads - 1);
        assert_int_equal(h.begins, threads);
        assert_int_equal(h.ends, threads);
        assert_int_equal(h.controls, 1);
        assert_int_equal(h.workers, threads - 1);
        assert_int_equal(h.bad_level, 0);
        for (int i = 0; i < h.n_tids; i++)
            for (int j = i + 1; j < h.n_tids; j++) assert_int_not_equal(h.tids[i], h.tids[j]);
        assert_int_equal(res.n_threads, threads);
        free(p);
    }
    free(tf.ids);
}

/* Per-thread accounting: roles, the control computes nothing, phases add up
 * to each thread's wall and CPU time, and the threads' CPU adds up to the
 * process's (getrusage) within a few percent. */
static void test_flat_accounting(void **state) {
    (void)state;
    ModelConfig mid = {.V = 64, .T = 16, .D = 32, .L = 2, .H = 4};
    uint64_t batches = 3000;
    TokenFile tf;
    tf.vocab_size = 64;
    tf.n_tokens = batches * 8 * 16 + 1;
    tf.ids = malloc(tf.n_tokens * sizeof(uint32_t));
    for (uint64_t i = 0; i < tf.n_tokens; i++) tf.ids[i] = (uint32_t)((i * 2654435761u) % 64);
    VariantConfig c = config(&tf, 3, 0);
    c.model = mid;
    c.B = 8;
    c.T = 16;
    float *p = malloc(model_param_count(&mid) * sizeof(float));
    model_init(p, &mid, 3);
    void *st;
    sb_error err;
    assert_int_equal(variant_flat.create(&st, &c, &err), SB_OK);
    RunResult r;
    assert_int_equal(variant_flat.run(st, p, 0, batches, &r, &err), SB_OK);
    assert_int_equal(r.n_threads, 3);
    assert_int_equal(r.batches, batches);
    assert_int_equal(r.tokens, batches * 8 * 16);
    td_assert_accounting(&r);
    for (int t = 0; t < r.n_threads; t++) assert_int_equal(r.threads[t].role, t == 0 ? ROLE_CONTROL : ROLE_WORKER);
    assert_int_equal(r.threads[0].batches, 0);
    assert_true(r.threads[0].phase_wall[PHASE_COMPUTE] == 0.0);
    assert_true(r.threads[1].phase_wall[PHASE_COMPUTE] > 0.0);
    variant_flat.destroy(st);
    free(p);
    free(tf.ids);
}

static void test_flat_refuses_bad_configs(void **state) {
    (void)state;
    TokenFile tf = random_tokens(10, 10);
    static const int bad_threads[] = {0, 1, -4, VARIANT_MAX_THREADS + 1};
    for (size_t k = 0; k < sizeof bad_threads / sizeof bad_threads[0]; k++) {
        VariantConfig c = config(&tf, bad_threads[k], 0);
        void *st = (void *)1;
        sb_error err;
        assert_int_equal(variant_flat.create(&st, &c, &err), SB_ECONFIG);
        assert_null(st);
        assert_contains(err.msg, "threads");
    }
    VariantConfig c = config(&tf, 3, -2);
    void *st;
    sb_error err;
    assert_int_equal(variant_flat.create(&st, &c, &err), SB_ECONFIG);
    /* a run past the end of the data is refused before any thread starts */
    c = config(&tf, 3, 0);
    assert_int_equal(variant_flat.create(&st, &c, &err), SB_OK);
    float *p = malloc(model_param_count(&tiny) * sizeof(float));
    model_init(p, &tiny, 1);
    RunResult r;
    assert_int_equal(variant_flat.run(st, p, 5, 6, &r, &err), SB_ERANGE);
    assert_contains(err.msg, "holds only 10 batches");
    variant_flat.destroy(st);
    /* a model far too large for the machine's memory is refused up front */
    VariantConfig huge = config(&tf, 4096, 0);
    huge.model.V = 1 << 20;
    huge.model.D = 1024;
    huge.model.H = 8;
    huge.model.T = 256;
    huge.B = 64;
    huge.T = 256;
    assert_int_equal(variant_flat.create(&st, &huge, &err), SB_ECONFIG);
    assert_contains(err.msg, "GB");
    free(p);
    free(tf.ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_equals_serial),
        cmocka_unit_test(test_flat_run_to_run_identical),
        cmocka_unit_test(test_flat_thread_count_and_hooks),
        cmocka_unit_test(test_flat_accounting),
        cmocka_unit_test(test_flat_refuses_bad_configs),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
