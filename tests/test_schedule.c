/* Tests of the training schedule (core/lr_schedule.c), the gradient's global
 * norm (core/grad_norm.c) and their use at the end of every step
 * (variants/step_book.c): the cosine schedule's rates at step 0, the end of
 * the warm-up, half-way through the decay and the last step against values
 * worked out by hand; the chunked norm against a direct sum, and the same
 * bits when the chunks are computed in two parts; clipping; and a tiny model
 * trained with the schedule on a token stream of known entropy, driven to
 * within a stated margin of that floor, then stopped early at a target, by
 * serial and by the bench's harness (flat and sphere). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/harness.h"
#include "../core/grad_norm.h"
#include "../core/lr_schedule.h"
#include "../core/model.h"
#include "../variants/flat.h"
#include "../variants/serial.h"
#include "../variants/sharded.h"
#include "../variants/sphere.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

/* peak 0.01, warm-up 10, floor 0.1, 110 steps: the decay runs over steps
 * 10 .. 109, p = (s - 10) / 99. */
static const TrainSchedule cosine = {.kind = LR_COSINE, .warmup = 10, .floor = 0.1f};

static void test_cosine_rates_by_hand(void **state) {
    (void)state;
    /* step 0: peak x 1/10 */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 0, 110), 0.001, 1e-9);
    /* step 4: peak x 5/10 */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 4, 110), 0.005, 1e-9);
    /* step 9, the warm-up's last: the peak */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 9, 110), 0.01, 1e-9);
    /* step 10, p = 0: still the peak (cos 0 = 1) */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 10, 110), 0.01, 1e-9);
    /* p = 1/3 (step 43): 0.01 x (0.1 + 0.9 x (1 + cos(pi/3)) / 2) = 0.01 x (0.1 + 0.9 x 0.75) = 0.00775 */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 43, 110), 0.00775, 1e-9);
    /* the last step, p = 1: the floor, 0.001 */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 109, 110), 0.001, 1e-9);
    /* past the end (never asked by a trainer): stays at the floor */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 200, 110), 0.001, 1e-9);
    /* a run no longer than its warm-up ramps and never decays below the floor */
    assert_close(lr_schedule_rate(&cosine, 0.01f, 4, 5), 0.005, 1e-9);
    /* constant, the default: the rate itself at every step, bit for bit */
    TrainSchedule flat = {0};
    assert_true(lr_schedule_rate(&flat, 0.003f, 0, 10) == 0.003f);
    assert_true(lr_schedule_rate(&flat, 0.003f, 9, 10) == 0.003f);
    assert_int_equal(lr_schedule_kind("cosine"), LR_COSINE);
    assert_int_equal(lr_schedule_kind("constant"), LR_CONSTANT);
    assert_int_equal(lr_schedule_kind("linear"), -1);
}

static void test_norm_chunks_and_clip(void **state) {
    (void)state;
    size_t n = 3 * GRAD_NORM_CHUNK + 17; /* a last chunk that is partial */
    float *g = malloc(n * sizeof(float));
    assert_non_null(g);
    double direct = 0.0;
    for (size_t i = 0; i < n; i++) {
        g[i] = (float)((double)((i * 2654435761u) % 1000) / 1000.0 - 0.5);
        direct += (double)g[i] * (double)g[i];
    }
    size_t chunks = grad_norm_chunks(n);
    assert_int_equal(chunks, 4);
    double whole[4], parts[4];
    grad_norm_partial(whole, g, n, 0, chunks);
    grad_norm_partial(parts, g, n, 2, 4); /* two "threads", the later chunks first */
    grad_norm_partial(parts, g, n, 0, 2);
    double a = grad_norm_total(whole, chunks), b = grad_norm_total(parts, chunks);
    assert_memory_equal(&a, &b, sizeof a); /* the same bits, whoever computed which chunk */
    assert_close(a, sqrt(direct), 1e-9 * sqrt(direct));
    /* clipping: 1 within the bound, max / norm above it, 1 when off or not finite */
    assert_true(grad_clip_scale(0.5, 1.0f) == 1.0f);
    assert_close(grad_clip_scale(4.0, 1.0f), 0.25, 1e-7);
    assert_true(grad_clip_scale(4.0, 0.0f) == 1.0f);
    assert_true(grad_clip_scale(NAN, 1.0f) == 1.0f);
    free(g);
}

/* A token stream of known entropy: after token x (one of the 11 ids 5..15)
 * comes x+1 or x+2 (mod 11), each with probability 1/2, from a fixed
 * generator. In a window of T tokens the first target follows a token the
 * model sees, so every target has conditional entropy ln 2: the floor of the
 * mean loss is exactly ln 2 = 0.693 nats. */
enum { TB = 4, TT = 8 };
static const ModelConfig tiny = {.V = 16, .T = TT, .D = 16, .L = 2, .H = 4};

static TokenFile coin_tokens(uint64_t n_batches) {
    TokenFile tf = {.vocab_size = 16, .n_tokens = n_batches * TB * TT + 1};
    tf.ids = malloc(tf.n_tokens * sizeof(uint32_t));
    assert_non_null(tf.ids);
    uint64_t x = 0x9E3779B97F4A7C15ull, cur = 0;
    for (uint64_t i = 0; i < tf.n_tokens; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cur = (cur + 1 + (x >> 63)) % 11;
        tf.ids[i] = 5 + (uint32_t)cur;
    }
    return tf;
}

/* The run's result, and its loss curve copied into loss (when not NULL). */
typedef struct {
    RunResult res;
    float *loss;
} Tiny;

static void keep_tiny(const RunResult *res, void *ctx) {
    Tiny *t = ctx;
    t->res = *res;
    if (t->loss) memcpy(t->loss, res->step_loss, sizeof(float) * (size_t)res->steps);
    t->res.threads = NULL;
    t->res.step_loss = NULL;
}

/* serial, 2 batches a step, peak rate 1e-2, with the schedule sch. */
static RunResult train_tiny(const TokenFile *tf, uint64_t batches, TrainSchedule sch, float *step_loss) {
    VariantConfig c = td_config(tf, tiny, TB, TT, 1, 2);
    c.schedule = sch;
    Tiny t = {.loss = step_loss};
    free(td_train(&variant_serial, &c, 0, batches, keep_tiny, &t));
    return t.res;
}

/* A run whose loss stops being a number ends at that step, in every trainer
 * (the rest of its batches would only spread the NaN): steps done < steps
 * planned, the last step's loss not finite, and the batches counted are the
 * steps' batches. sharded's threads each decide to stop from the same losses. */
static void test_diverged_run_stops_at_once(void **state) {
    (void)state;
    enum { BATCHES = 60, PLANNED = BATCHES / 2 };
    TokenFile tf = coin_tokens(BATCHES);
    static const struct {
        const Variant *v;
        int threads;
    } trainers[] = {{&variant_serial, 1}, {&variant_flat, 3}, {&variant_sphere, 4}, {&variant_sharded, 3}};
    for (size_t k = 0; k < sizeof trainers / sizeof trainers[0]; k++) {
        VariantConfig c = td_config(&tf, tiny, TB, TT, trainers[k].threads, 2);
        c.adamw.lr = 10.0f;
        c.adamw.weight_decay = 10.0f;
        Tiny t = {0};
        free(td_train(trainers[k].v, &c, 0, BATCHES, keep_tiny, &t));
        if (!(t.res.steps < PLANNED && !isfinite(t.res.last_loss)))
            fail_msg("%s: %ld of %d steps, last loss %g", trainers[k].v->name, t.res.steps, PLANNED,
                     (double)t.res.last_loss);
        assert_int_equal(t.res.batches, (uint64_t)t.res.steps * 2);
    }
    tokens_free(&tf);
}

static void test_tiny_model_reaches_its_floor(void **state) {
    (void)state;
    enum { BATCHES = 1600, STEPS = BATCHES / 2 };
    const double floor = log(2.0), margin = 0.08; /* the mean of the last 50 steps within 0.08 nats */
    TokenFile tf = coin_tokens(BATCHES);
    float *loss = malloc(STEPS * sizeof(float));
    assert_non_null(loss);
    TrainSchedule sch = {.kind = LR_COSINE, .warmup = 20, .floor = 0.1f, .clip_norm = 1.0f};
    RunResult res = train_tiny(&tf, BATCHES, sch, loss);
    assert_int_equal(res.steps, STEPS);
    double tail = 0.0;
    for (int s = STEPS - 50; s < STEPS; s++) tail += loss[s];
    tail /= 50.0;
    print_message("tiny model: first step %.3f, mean of the last 50 steps %.4f, floor ln 2 = %.4f\n", loss[0], tail,
                  floor);
    assert_true(loss[0] > 2.0); /* it started near ln 16, far from the floor */
    assert_true(tail >= floor - margin);
    assert_true(tail <= floor + margin);

    /* the same run with a target stops at the first step at or below it */
    sch.target_loss = (float)(floor + 0.3);
    RunResult early = train_tiny(&tf, BATCHES, sch, loss);
    assert_true(early.steps < STEPS);
    assert_true(early.last_loss <= sch.target_loss);
    for (long s = 0; s + 1 < early.steps; s++) assert_true(loss[s] > sch.target_loss);
    assert_int_equal(early.batches, (uint64_t)early.steps * 2);
    assert_int_equal(early.tokens, early.batches * TB * TT);
    free(loss);
    tokens_free(&tf);
}

/* Through the bench's harness: a full run of flat and of sphere trains with
 * the setup's schedule and stops at the target (its batches and tokens are
 * the steps it took, its time to target its wall time); a sweep run with the
 * same setup ignores the schedule and trains every batch. */
static void test_harness_full_runs_stop_at_target(void **state) {
    (void)state;
    enum { BATCHES = 1600 };
    TokenFile tf = coin_tokens(BATCHES);
    BenchSetup b = {.data = &tf, .model = tiny, .batches_per_step = 2, .adamw = adamw_defaults(), .init_seed = 1,
                    .cores = 2, .full_lr = 1e-2f, .full_batches_per_step = 2,
                    .full_schedule = {.kind = LR_COSINE, .warmup = 20, .floor = 0.1f, .clip_norm = 1.0f,
                                      .target_loss = (float)(log(2.0) + 0.3)}};
    const char *names[] = {"flat", "sphere"};
    long steps[2];
    for (int i = 0; i < 2; i++) {
        RunSpec full = {.kind = RUN_FULL, .variant = variant_find(names[i]), .threads = 3, .rep = 1, .B = TB, .T = TT,
                        .batches = BATCHES};
        RunRecord r;
        sb_error err;
        if (harness_run(&r, &b, &full, &err)) fail_msg("%s", err.msg);
        steps[i] = r.res.steps;
        assert_true(r.res.steps < BATCHES / 2);
        assert_int_equal(r.res.batches, (uint64_t)r.res.steps * 2);
        assert_int_equal(r.res.tokens, r.res.batches * TB * TT);
        assert_true(r.step_loss[r.res.steps - 1] <= b.full_schedule.target_loss);
        assert_true(r.step_loss[r.res.steps - 2] > b.full_schedule.target_loss);
        assert_true(r.time_to_target_s == r.res.wall_s && r.time_to_target_s > 0.0);
        run_record_free(&r);
        RunSpec sweep = full;
        sweep.kind = RUN_SWEEP;
        sweep.batches = 40;
        if (harness_run(&r, &b, &sweep, &err)) fail_msg("%s", err.msg);
        assert_int_equal(r.res.batches, 40);
        assert_true(isnan(r.time_to_target_s));
        run_record_free(&r);
    }
    print_message("flat reached the target at step %ld, sphere at step %ld\n", steps[0], steps[1]);
    tokens_free(&tf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cosine_rates_by_hand),
        cmocka_unit_test(test_norm_chunks_and_clip),
        cmocka_unit_test(test_diverged_run_stops_at_once),
        cmocka_unit_test(test_tiny_model_reaches_its_floor),
        cmocka_unit_test(test_harness_full_runs_stop_at_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
