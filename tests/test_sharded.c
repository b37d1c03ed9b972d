/* test_sharded.c - the sharded trainer against serial and flat, against
 * itself, and against the process's own accounting.
 *
 * Data are random tokens, so every batch differs: a lost, repeated or
 * reordered batch, or a slice summed in another order, changes the trained
 * parameters. Sharded sums each slice in batch order and divides as serial
 * does, so the comparison is bitwise. The model (V29 D10 H2) has 3050
 * parameters: 190.6 slice units of 16 floats, 191 units in all, a prime, so
 * no thread count here slices it evenly and the last slice is short. A copy
 * of the trainer built with SHARDED_MUTANT_DROP_SLOT (one thread leaves one
 * slot out of its slice) shows that the equality test catches a slice short
 * of one batch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/model.h"
#include "../variants/flat.h"
#include "../variants/serial.h"
#include "../variants/sharded.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

/* The mutant: the same source, one compile-time switch, another name. */
#define SHARDED_MUTANT_DROP_SLOT
#define variant_sharded variant_sharded_mutant
extern const Variant variant_sharded; /* sharded.h, already included, declared the other name */
#include "../variants/sharded.c"
#undef variant_sharded

static const ModelConfig odd = {.V = 29, .T = 8, .D = 10, .L = 2, .H = 2};
enum { TB = 2, TT = 8 };

static VariantConfig config(const TokenFile *tf, int threads, int bps) { return td_config(tf, odd, TB, TT, threads, bps); }

/* The result without the trainer-owned arrays. */
static void keep(const RunResult *res, void *ctx) {
    RunResult *out = ctx;
    *out = *res;
    out->threads = NULL;
    out->step_loss = NULL;
}

/* Trains fresh parameters (seed 1) over batches first .. first+batches-1. */
static float *train_with(const Variant *v, const VariantConfig *c, uint64_t first, uint64_t batches,
                         RunResult *res_out) {
    return td_train(v, c, first, batches, res_out ? keep : NULL, res_out);
}

static size_t count_differ_n(const float *a, const float *b, size_t n) {
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) differ += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return differ;
}

static size_t count_differ(const float *a, const float *b) { return count_differ_n(a, b, model_param_count(&odd)); }

/* threads, batches per step (0: one per thread), batches: partial last steps
 * everywhere, fewer batches than threads in some, several batches per thread
 * in others, and steps of more than REDUCE_RUN_MAX slots. */
static const int cases[][3] = {{2, 0, 9},  {3, 0, 10}, {7, 0, 17}, {16, 0, 37},
                               {3, 8, 19}, {2, 5, 11}, {7, 20, 45}, {16, 3, 8}};
#define N_CASES (sizeof cases / sizeof cases[0])

static void test_slicing_is_uneven(void **state) {
    (void)state;
    size_t n = model_param_count(&odd);
    assert_int_equal(n, 3050);
    assert_int_not_equal(n % SHARDED_ALIGN_FLOATS, 0);
    size_t units = (n + SHARDED_ALIGN_FLOATS - 1) / SHARDED_ALIGN_FLOATS;
    for (size_t k = 0; k < N_CASES; k++) assert_int_not_equal(units % (size_t)cases[k][0], 0);
}

static void test_equals_serial_and_flat(void **state) {
    (void)state;
    TokenFile tf = td_random_tokens((uint32_t)odd.V, 60, TB, TT, 31);
    for (size_t k = 0; k < N_CASES; k++) {
        int threads = cases[k][0], bps = cases[k][1];
        uint64_t batches = (uint64_t)cases[k][2];
        int used = bps ? bps : threads;
        VariantConfig hc = config(&tf, threads, bps);
        RunResult r;
        float *ph = train_with(&variant_sharded, &hc, 3, batches, &r);
        assert_int_equal(r.batches_per_step, used);
        assert_int_equal(r.steps, (long)((batches + (uint64_t)used - 1) / (uint64_t)used));
        assert_int_equal(r.batches, batches);
        VariantConfig sc = config(&tf, 1, used), fc = config(&tf, 3, used);
        float *ps = train_with(&variant_serial, &sc, 3, batches, NULL);
        float *pf = train_with(&variant_flat, &fc, 3, batches, NULL);
        size_t ds = count_differ(ph, ps), df = count_differ(ph, pf);
        if (ds || df)
            fail_msg("%d threads, %d per step, %d batches: %zu parameters differ from serial, %zu from flat", threads,
                     used, cases[k][2], ds, df);
        free(ph);
        free(ps);
        free(pf);
    }
    free(tf.ids);
}

/* The bench's full-run schedule (warm-up, cosine decay, clipping to a small
 * norm so every step clips, a target loss): sharded divides, takes the norm
 * chunk by chunk on every thread, clips and updates its slices, and stops at
 * the target on every thread at once; bitwise what serial does. The model
 * has 14,976 parameters, 4 chunks of the norm, split unevenly over 3 threads. */
static void test_schedule_clip_and_target_equal_serial(void **state) {
    (void)state;
    static const ModelConfig wide = {.V = 61, .T = 8, .D = 32, .L = 1, .H = 2};
    TokenFile tf = td_random_tokens((uint32_t)wide.V, 40, TB, TT, 35);
    TrainSchedule sch = {.kind = LR_COSINE, .warmup = 3, .floor = 0.1f, .clip_norm = 0.05f};
    VariantConfig sc = td_config(&tf, wide, TB, TT, 1, 3), hc = td_config(&tf, wide, TB, TT, 3, 3);
    sc.schedule = hc.schedule = sch;
    RunResult rs, rh;
    float *ps = td_train(&variant_serial, &sc, 0, 40, keep, &rs);
    float *ph = td_train(&variant_sharded, &hc, 0, 40, keep, &rh);
    assert_int_equal(count_differ_n(ps, ph, model_param_count(&wide)), 0);
    assert_int_equal(rs.steps, rh.steps);
    free(ps);
    free(ph);
    /* a target the run reaches part-way: both stop at the same step, same bits */
    sc.schedule.target_loss = hc.schedule.target_loss = rs.last_loss + 0.02f;
    ps = td_train(&variant_serial, &sc, 0, 40, keep, &rs);
    ph = td_train(&variant_sharded, &hc, 0, 40, keep, &rh);
    assert_true(rs.steps < 14); /* 40 batches, 3 a step: 14 steps without a target */
    assert_int_equal(rh.steps, rs.steps);
    assert_int_equal(rh.batches, rs.batches);
    assert_int_equal(rh.batches, (uint64_t)rh.steps * 3);
    assert_int_equal(count_differ_n(ps, ph, model_param_count(&wide)), 0);
    free(ps);
    free(ph);
    free(tf.ids);
}

/* Two runs bitwise the same; spinning at the barrier gives the same model. */
static void test_run_to_run_identical(void **state) {
    (void)state;
    TokenFile tf = td_random_tokens((uint32_t)odd.V, 60, TB, TT, 32);
    VariantConfig c = config(&tf, 7, 0);
    float *a = train_with(&variant_sharded, &c, 0, 53, NULL);
    float *b = train_with(&variant_sharded, &c, 0, 53, NULL);
    assert_int_equal(count_differ(a, b), 0);
    c.wait = WAIT_SPIN;
    float *s = train_with(&variant_sharded, &c, 0, 53, NULL);
    assert_int_equal(count_differ(a, s), 0);
    free(a);
    free(b);
    free(s);
    free(tf.ids);
}

/* The mutant differs from serial in every case where a step has more than
 * one batch, so the equality test above would catch a lost slice. */
static void test_dropped_slice_is_caught(void **state) {
    (void)state;
    TokenFile tf = td_random_tokens((uint32_t)odd.V, 60, TB, TT, 31);
    for (size_t k = 0; k < N_CASES; k++) {
        int threads = cases[k][0], bps = cases[k][1];
        uint64_t batches = (uint64_t)cases[k][2];
        VariantConfig hc = config(&tf, threads, bps), sc = config(&tf, 1, bps ? bps : threads);
        float *pm = train_with(&variant_sharded_mutant, &hc, 3, batches, NULL);
        float *ps = train_with(&variant_serial, &sc, 3, batches, NULL);
        if (count_differ(pm, ps) == 0)
            fail_msg("%d threads: a slice without one batch went unnoticed", threads);
        free(pm);
        free(ps);
    }
    free(tf.ids);
}

/* What the hooks and the progress callback see: N threads, all workers, each
 * beginning and ending once on itself; exactly N threads in the process
 * during the run (counted from progress, which thread 0, the caller, calls
 * once per step after the step is complete). */
typedef struct {
    atomic_int begins, ends, not_worker;
    pid_t tids[16];
    atomic_int n_tids;
    int tasks_seen, calls, bad_order;
    pid_t caller, progress_tid;
} HookLog;

static void hook_begin(void *ctx, int id, ThreadRole role, int level) {
    HookLog *h = ctx;
    atomic_fetch_add(&h->begins, 1);
    if (role != ROLE_WORKER || level != 0 || id < 0) atomic_fetch_add(&h->not_worker, 1);
    int k = atomic_fetch_add(&h->n_tids, 1);
    if (k < 16) h->tids[k] = (pid_t)syscall(SYS_gettid);
}

static void hook_end(void *ctx, int id) {
    (void)id;
    atomic_fetch_add(&((HookLog *)ctx)->ends, 1);
}

static void on_progress(const TrainProgress *p, void *ctx) {
    HookLog *h = ctx;
    int n = tu_count_entries("/proc/self/task", "");
    if (n > h->tasks_seen) h->tasks_seen = n;
    h->calls++;
    if (p->step != h->calls) h->bad_order++;
    pid_t me = (pid_t)syscall(SYS_gettid);
    if (me != h->caller) h->progress_tid = me;
}

static void test_threads_hooks_and_progress(void **state) {
    (void)state;
    TokenFile tf = td_random_tokens((uint32_t)odd.V, 40, TB, TT, 33);
    static const int counts[] = {1, 2, 5, 16};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        int threads = counts[k];
        HookLog h;
        memset(&h, 0, sizeof h);
        h.caller = (pid_t)syscall(SYS_gettid);
        VariantConfig c = config(&tf, threads, 0);
        c.hooks.thread_begin = hook_begin;
        c.hooks.thread_end = hook_end;
        c.hooks.ctx = &h;
        c.progress = on_progress;
        c.progress_ctx = &h;
        int before = tu_settled_thread_count();
        RunResult r;
        float *p = train_with(&variant_sharded, &c, 0, 35, &r);
        assert_int_equal(h.tasks_seen - before, threads - 1); /* the caller is thread 0 */
        assert_int_equal(h.begins, threads);
        assert_int_equal(h.ends, threads);
        assert_int_equal(h.not_worker, 0);
        for (int i = 0; i < h.n_tids; i++)
            for (int j = i + 1; j < h.n_tids; j++) assert_int_not_equal(h.tids[i], h.tids[j]);
        assert_int_equal(h.calls, r.steps);
        assert_int_equal(h.bad_order, 0);
        assert_int_equal(h.progress_tid, 0); /* only the caller reported progress */
        assert_int_equal(r.n_threads, threads);
        free(p);
    }
    free(tf.ids);
}

/* Every batch computed once, by the thread the static assignment gives it
 * (batch j of a step goes to thread j mod N); every phase adds up to wall
 * and CPU per thread; the threads' CPU adds up to the process's; every
 * thread reduced and updated its slice. */
static void test_accounting(void **state) {
    (void)state;
    ModelConfig mid = {.V = 64, .T = 16, .D = 32, .L = 2, .H = 4};
    uint64_t batches = 1500;
    TokenFile tf = td_random_tokens(64, batches, 8, 16, 34);
    int N = 3, bps = 5;
    VariantConfig c = td_config(&tf, mid, 8, 16, N, bps);
    float *p = malloc(model_param_count(&mid) * sizeof(float));
    model_init(p, &mid, 3);
    void *st;
    sb_error err;
    assert_int_equal(variant_sharded.create(&st, &c, &err), SB_OK);
    RunResult r;
    assert_int_equal(variant_sharded.run(st, p, 0, batches, &r, &err), SB_OK);
    assert_int_equal(r.n_threads, N);
    assert_int_equal(r.batches, batches);
    assert_int_equal(r.tokens, batches * 8 * 16);
    uint64_t want[3] = {0, 0, 0}, total = 0;
    for (uint64_t k = 0; k < batches; k += (uint64_t)bps)
        for (uint64_t j = 0; j < (uint64_t)bps && k + j < batches; j++) want[j % (uint64_t)N]++;
    td_assert_accounting(&r);
    for (int t = 0; t < N; t++) {
        const ThreadStats *s = &r.threads[t];
        assert_int_equal(s->role, ROLE_WORKER);
        assert_int_equal(s->batches, want[t]);
        total += s->batches;
        assert_true(s->phase_wall[PHASE_COMPUTE] > 0.0);
        assert_true(s->phase_wall[PHASE_REDUCE] > 0.0);
        assert_true(s->phase_wall[PHASE_OPTIMIZER] > 0.0);
    }
    assert_int_equal(total, batches);
    variant_sharded.destroy(st);
    free(p);
    free(tf.ids);
}

static void test_refuses_bad_configs(void **state) {
    (void)state;
    TokenFile tf = td_random_tokens((uint32_t)odd.V, 10, TB, TT, 35);
    static const int bad_threads[] = {0, -4, VARIANT_MAX_THREADS + 1};
    void *st;
    sb_error err;
    for (size_t k = 0; k < sizeof bad_threads / sizeof bad_threads[0]; k++) {
        VariantConfig c = config(&tf, bad_threads[k], 0);
        st = (void *)1;
        assert_int_equal(variant_sharded.create(&st, &c, &err), SB_ECONFIG);
        assert_null(st);
        assert_contains(err.msg, "threads");
    }
    VariantConfig c = config(&tf, 3, -2);
    assert_int_equal(variant_sharded.create(&st, &c, &err), SB_ECONFIG);
    assert_contains(err.msg, "per step");
    /* a run past the end of the data is refused before any thread starts,
     * and leaves the parameters alone */
    c = config(&tf, 3, 0);
    assert_int_equal(variant_sharded.create(&st, &c, &err), SB_OK);
    size_t n = model_param_count(&odd);
    float *p = malloc(n * sizeof(float)), *orig = malloc(n * sizeof(float));
    model_init(p, &odd, 1);
    memcpy(orig, p, n * sizeof(float));
    RunResult r;
    assert_int_equal(variant_sharded.run(st, p, 5, 6, &r, &err), SB_ERANGE);
    assert_contains(err.msg, "holds only 10 batches");
    assert_memory_equal(p, orig, n * sizeof(float));
    variant_sharded.destroy(st);
    /* a model far too large for the machine's memory is refused up front */
    VariantConfig huge = config(&tf, 4096, 0);
    huge.model = (ModelConfig){.V = 1 << 20, .T = 256, .D = 1024, .L = 2, .H = 8};
    huge.B = 64;
    huge.T = 256;
    assert_int_equal(variant_sharded.create(&st, &huge, &err), SB_ECONFIG);
    assert_contains(err.msg, "GB");
    free(p);
    free(orig);
    free(tf.ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slicing_is_uneven),
        cmocka_unit_test(test_equals_serial_and_flat),
        cmocka_unit_test(test_schedule_clip_and_target_equal_serial),
        cmocka_unit_test(test_run_to_run_identical),
        cmocka_unit_test(test_dropped_slice_is_caught),
        cmocka_unit_test(test_threads_hooks_and_progress),
        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_refuses_bad_configs),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
