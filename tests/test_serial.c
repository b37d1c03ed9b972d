/* Tests of variants/serial, the trainer every parallel trainer must match:
 * it learns (a repeating token pattern drives the loss far below ln V), its
 * step arithmetic is exactly the documented one (gradients of a step's
 * batches summed in batch order, divided by the step's batch count, one AdamW
 * update; the last step partial), redone here by hand with model_forward /
 * model_backward and compared bit for bit; two runs are bitwise identical;
 * and runs that do not fit the data or the model are refused by
 * train_config_check before anything is touched. Serial is driven through
 * the variant interface, as the bench and `train` drive it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/adamw.h"
#include "../core/model.h"
#include "../core/tokens.h"
#include "../variants/serial.h"
#include "support/testutil.h"

enum { TB = 2, TT = 8, N_BATCHES = 160 };
static const ModelConfig tiny = {.V = 16, .T = 8, .D = 16, .L = 2, .H = 4};

/* A token file made in memory: the words 5..15 repeating, so the next token
 * is a function of the current one and a model can learn it to near zero. */
static TokenFile pattern_tokens(uint32_t vocab, uint64_t n_batches) {
    TokenFile tf;
    tf.vocab_size = vocab;
    tf.n_tokens = n_batches * TB * TT + 1;
    tf.ids = malloc(tf.n_tokens * sizeof(uint32_t));
    assert_non_null(tf.ids);
    for (uint64_t i = 0; i < tf.n_tokens; i++) tf.ids[i] = 5 + (uint32_t)(i % 11);
    return tf;
}

static float *fresh_params(unsigned long long seed) {
    float *p = malloc(model_param_count(&tiny) * sizeof(float));
    assert_non_null(p);
    model_init(p, &tiny, seed);
    return p;
}

/* A serial run: its configuration and the batches it covers. */
typedef struct {
    VariantConfig cfg;
    uint64_t first_batch, batches;
} SerialRun;

static SerialRun serial_config(const TokenFile *tf, uint64_t first, uint64_t batches, int bps, float lr) {
    SerialRun r;
    memset(&r, 0, sizeof r);
    r.cfg.data = tf;
    r.cfg.model = tiny;
    r.cfg.B = TB;
    r.cfg.T = TT;
    r.cfg.threads = 1;
    r.cfg.batches_per_step = bps;
    r.cfg.adamw = adamw_defaults();
    r.cfg.adamw.lr = lr;
    r.cfg.adamw.weight_decay = 0.01f;
    r.first_batch = first;
    r.batches = batches;
    return r;
}

/* Creates, runs and destroys the serial variant; the result's pointers are
 * cleared (they die with the trainer). */
static sb_status serial_train(float *params, const SerialRun *r, RunResult *res, sb_error *err) {
    void *state;
    sb_status st = variant_serial.create(&state, &r->cfg, err);
    if (st) return st;
    st = variant_serial.run(state, params, r->first_batch, r->batches, res, err);
    res->threads = NULL;
    res->step_loss = NULL;
    variant_serial.destroy(state);
    return st;
}

#define MAX_STEPS 256
typedef struct {
    int calls;
    TrainProgress seen[MAX_STEPS];
} ProgressLog;

static void log_progress(const TrainProgress *p, void *ctx) {
    ProgressLog *pl = ctx;
    if (pl->calls < MAX_STEPS) pl->seen[pl->calls] = *p;
    pl->calls++;
}

static void train_ok(float *params, SerialRun *c, RunResult *res) {
    sb_error err;
    sb_status st = serial_train(params, c, res, &err);
    if (st) print_error("serial_train: %s\n", err.msg);
    assert_int_equal(st, SB_OK);
}

/* The documented arithmetic, written out independently: for each step, the
 * gradient of every batch (model_backward overwrites), summed in batch order,
 * divided by the number of batches in the step, then one AdamW update.
 * step_loss[s] gets the mean loss of step s's batches before its update. */
static long manual_train(float *params, const TokenFile *tf, uint64_t first, uint64_t batches, int bps,
                         AdamWConfig ac, double *step_loss) {
    size_t n = model_param_count(&tiny), bt = (size_t)TB * TT;
    float *g = malloc(n * sizeof(float)), *sum = malloc(n * sizeof(float));
    int *in = malloc(bt * sizeof(int)), *tg = malloc(bt * sizeof(int));
    assert_true(g && sum && in && tg);
    Workspace ws;
    AdamW opt;
    sb_error err;
    assert_int_equal(workspace_init(&ws, &tiny, TB, TT, &err), SB_OK);
    assert_int_equal(adamw_init(&opt, n, ac, &err), SB_OK);
    long steps = 0;
    for (uint64_t k = 0; k < batches; steps++) {
        uint64_t count = batches - k < (uint64_t)bps ? batches - k : (uint64_t)bps;
        double loss = 0.0;
        for (uint64_t j = 0; j < count; j++, k++) {
            assert_int_equal(tokens_window(in, tg, tf, (first + k) * bt, TB, TT, &err), SB_OK);
            loss += model_forward(&ws, params, in, tg, TB, TT);
            model_backward(g, &ws, params);
            for (size_t i = 0; i < n; i++) sum[i] = j == 0 ? g[i] : sum[i] + g[i];
        }
        for (size_t i = 0; i < n; i++) sum[i] = sum[i] / (float)count;
        adamw_update(&opt, params, sum);
        if (step_loss) step_loss[steps] = loss / (double)count;
    }
    assert_int_equal(opt.step, steps);
    adamw_free(&opt);
    workspace_free(&ws);
    free(g);
    free(sum);
    free(in);
    free(tg);
    return steps;
}

/* Bitwise equality of two parameter buffers, reporting how far apart they are. */
static void assert_params_identical(const float *a, const float *b) {
    size_t n = model_param_count(&tiny), differ = 0;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            differ++;
            double d = fabs((double)a[i] - (double)b[i]);
            if (d > worst) worst = d;
        }
    if (differ) {
        print_error("%zu of %zu parameters differ (largest difference %g)\n", differ, n, worst);
        fail();
    }
}

static void test_training_learns_pattern(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, N_BATCHES);
    float *p = fresh_params(1);
    SerialRun c = serial_config(&tf, 0, 150, 1, 1e-2f);
    ProgressLog plog = {0};
    c.cfg.progress = log_progress;
    c.cfg.progress_ctx = &plog;
    RunResult res;
    train_ok(p, &c, &res);
    assert_int_equal(res.steps, 150);
    assert_int_equal(plog.calls, 150);
    /* A fresh model knows nothing: its first loss is about ln V. */
    assert_close(plog.seen[0].loss, log(16.0), 0.15);
    assert_true(res.last_loss < 0.6 * log(16.0));
    assert_true(plog.seen[149].loss == res.last_loss);
    assert_int_equal(res.batches, 150);
    assert_int_equal(res.tokens, 150 * TB * TT);
    for (int s = 0; s < 150; s++) {
        assert_int_equal(plog.seen[s].step, s + 1);
        assert_int_equal(plog.seen[s].steps, 150);
        assert_int_equal(plog.seen[s].batches_done, s + 1);
        assert_int_equal(plog.seen[s].batches, 150);
        assert_true(isfinite(plog.seen[s].loss));
    }
    free(p);
    tokens_free(&tf);
}

/* One step over batches {0, 1, 2}: the same as summing the three gradients in
 * order, dividing by 3 and applying AdamW once. */
static void test_step_averages_batches_in_order(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, 10);
    float *p = fresh_params(7), *q = fresh_params(7);
    SerialRun c = serial_config(&tf, 0, 3, 3, 1e-2f);
    ProgressLog plog = {0};
    c.cfg.progress = log_progress;
    c.cfg.progress_ctx = &plog;
    RunResult res;
    train_ok(p, &c, &res);
    assert_int_equal(res.steps, 1);
    assert_int_equal(plog.calls, 1);
    double loss[1];
    assert_int_equal(manual_train(q, &tf, 0, 3, 3, c.cfg.adamw, loss), 1);
    assert_true(res.last_loss == (float)loss[0]);
    assert_params_identical(p, q);
    free(p);
    free(q);
    tokens_free(&tf);
}

/* Gradients really are averaged, not just summed or taken from one batch:
 * one step over {0, 1} differs from one step over {0} alone and from {1}. */
static void test_step_uses_every_batch(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, 10);
    float *both = fresh_params(3), *first = fresh_params(3), *second = fresh_params(3);
    RunResult res;
    SerialRun c = serial_config(&tf, 0, 2, 2, 1e-2f);
    train_ok(both, &c, &res);
    c = serial_config(&tf, 0, 1, 1, 1e-2f);
    train_ok(first, &c, &res);
    c = serial_config(&tf, 1, 1, 1, 1e-2f);
    train_ok(second, &c, &res);
    size_t n = model_param_count(&tiny);
    assert_memory_not_equal(both, first, n * sizeof(float));
    assert_memory_not_equal(both, second, n * sizeof(float));
    free(both);
    free(first);
    free(second);
    tokens_free(&tf);
}

/* 5 batches at 2 per step: 3 steps, the last over batch 4 alone. */
static void test_last_step_is_partial(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, 10);
    float *p = fresh_params(5), *q = fresh_params(5);
    SerialRun c = serial_config(&tf, 0, 5, 2, 1e-2f);
    ProgressLog plog = {0};
    c.cfg.progress = log_progress;
    c.cfg.progress_ctx = &plog;
    RunResult res;
    train_ok(p, &c, &res);
    assert_int_equal(res.steps, 3);
    assert_int_equal(res.batches, 5);
    assert_int_equal(plog.calls, 3);
    const uint64_t done[3] = {2, 4, 5};
    for (int s = 0; s < 3; s++) {
        assert_int_equal(plog.seen[s].step, s + 1);
        assert_int_equal(plog.seen[s].steps, 3);
        assert_int_equal(plog.seen[s].batches_done, done[s]);
    }
    double loss[3];
    assert_int_equal(manual_train(q, &tf, 0, 5, 2, c.cfg.adamw, loss), 3);
    for (int s = 0; s < 3; s++) assert_true(plog.seen[s].loss == (float)loss[s]);
    assert_true(res.last_loss == (float)loss[2]);
    assert_params_identical(p, q);
    free(p);
    free(q);
    tokens_free(&tf);
}

/* first_batch picks the window: batches 4 and 5 are tokens 4*B*T onwards. */
static void test_first_batch_offsets_the_run(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, 10);
    /* Make the batches differ, so reading the wrong one would show. */
    for (uint64_t i = 0; i < tf.n_tokens; i++) tf.ids[i] = 5 + (uint32_t)((i * i + i / 7) % 11);
    float *p = fresh_params(9), *q = fresh_params(9);
    SerialRun c = serial_config(&tf, 4, 2, 2, 1e-2f);
    RunResult res;
    train_ok(p, &c, &res);
    manual_train(q, &tf, 4, 2, 2, c.cfg.adamw, NULL);
    assert_params_identical(p, q);
    free(p);
    free(q);
    tokens_free(&tf);
}

static void test_runs_are_deterministic(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, 40);
    float *p = fresh_params(11), *q = fresh_params(11);
    RunResult r1, r2;
    SerialRun c = serial_config(&tf, 0, 40, 3, 1e-2f);
    train_ok(p, &c, &r1);
    train_ok(q, &c, &r2);
    assert_params_identical(p, q);
    assert_true(r1.last_loss == r2.last_loss);
    assert_int_equal(r1.steps, 14);
    free(p);
    free(q);
    tokens_free(&tf);
}

static void expect_refused(sb_status want, const TokenFile *tf, const ModelConfig *m, int B, int T, uint64_t first,
                           uint64_t batches, int bps, const char *word) {
    sb_error err = {0};
    sb_status st = train_config_check(tf, m, B, T, first, batches, bps, &err);
    if (st != want) print_error("status %s, message: %s\n", sb_status_name(st), err.msg);
    assert_int_equal(st, want);
    assert_contains(err.msg, word);
}

static void test_config_check_refusals(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, 10); /* exactly 10 batches of 2 x 8 */
    sb_error err;
    assert_int_equal(train_config_check(&tf, &tiny, TB, TT, 0, 10, 1, &err), SB_OK);
    assert_int_equal(train_config_check(&tf, &tiny, TB, TT, 9, 1, 4, &err), SB_OK);
    /* one batch too many, from the start or from the middle: the message
     * says how many batches the file holds */
    expect_refused(SB_ERANGE, &tf, &tiny, TB, TT, 0, 11, 1, "10 batches");
    expect_refused(SB_ERANGE, &tf, &tiny, TB, TT, 8, 3, 1, "10 batches");
    expect_refused(SB_ERANGE, &tf, &tiny, TB, TT, 10, 1, 1, "10 batches");
    /* a first batch so large that first + batches wraps around */
    expect_refused(SB_ERANGE, &tf, &tiny, TB, TT, UINT64_MAX, 2, 1, "10 batches");
    expect_refused(SB_ERANGE, &tf, &tiny, TB, TT, 1, UINT64_MAX, 1, "10 batches");
    /* a vocabulary the model cannot embed */
    TokenFile wide = tf;
    wide.vocab_size = 17;
    expect_refused(SB_ECONFIG, &wide, &tiny, TB, TT, 0, 1, 1, "vocabulary");
    expect_refused(SB_ECONFIG, &tf, &tiny, TB, TT, 0, 1, 0, "per step");
    expect_refused(SB_ECONFIG, &tf, &tiny, TB, TT, 0, 1, -1, "per step");
    expect_refused(SB_ECONFIG, &tf, &tiny, TB, TT + 1, 0, 1, 1, "T=9");
    expect_refused(SB_ECONFIG, &tf, &tiny, TB, 0, 0, 1, 1, "T=0");
    expect_refused(SB_ECONFIG, &tf, &tiny, 0, TT, 0, 1, 1, "B=0");
    expect_refused(SB_ECONFIG, &tf, &tiny, TB, TT, 0, 0, 1, "batch");
    tokens_free(&tf);
}

/* The variant applies the same checks and leaves the parameters untouched;
 * it runs on exactly one thread. */
static void test_refused_run_touches_nothing(void **state) {
    (void)state;
    TokenFile tf = pattern_tokens(16, 10);
    float *p = fresh_params(2), *orig = fresh_params(2);
    size_t n = model_param_count(&tiny);
    SerialRun c = serial_config(&tf, 5, 6, 1, 1e-2f);
    RunResult res;
    sb_error err;
    assert_int_equal(serial_train(p, &c, &res, &err), SB_ERANGE);
    assert_contains(err.msg, "10 batches");
    assert_memory_equal(p, orig, n * sizeof(float));
    TokenFile wide = tf;
    wide.vocab_size = 17;
    c = serial_config(&wide, 0, 1, 1, 1e-2f);
    assert_int_equal(serial_train(p, &c, &res, &err), SB_ECONFIG);
    assert_contains(err.msg, "vocabulary");
    c = serial_config(&tf, 0, 1, -1, 1e-2f);
    assert_int_equal(serial_train(p, &c, &res, &err), SB_ECONFIG);
    assert_contains(err.msg, "per step");
    c = serial_config(&tf, 0, 1, 1, 1e-2f);
    c.cfg.threads = 2;
    assert_int_equal(serial_train(p, &c, &res, &err), SB_ECONFIG);
    assert_contains(err.msg, "exactly 1 thread");
    assert_memory_equal(p, orig, n * sizeof(float));
    free(p);
    free(orig);
    tokens_free(&tf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_training_learns_pattern),
        cmocka_unit_test(test_step_averages_batches_in_order),
        cmocka_unit_test(test_step_uses_every_batch),
        cmocka_unit_test(test_last_step_is_partial),
        cmocka_unit_test(test_first_batch_offsets_the_run),
        cmocka_unit_test(test_runs_are_deterministic),
        cmocka_unit_test(test_config_check_refusals),
        cmocka_unit_test(test_refused_run_touches_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
