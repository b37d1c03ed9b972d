/* test_trace.c - every thread's timeline: span buffers, the trainers' spans
 * and the Chrome Trace Event Format file.
 *
 * Through the trainers (serial, flat, sphere two levels deep, sharded with
 * several batches per thread): each thread's spans are ordered, do not
 * overlap, have non-negative durations and add up, phase by phase, to the
 * thread's phase totals (RunResult's ThreadStats, what threads.csv writes)
 * within 1%; every batch of the run is one compute span, exactly once, tagged
 * with its step. A full buffer keeps what fits, counts the rest, and writes
 * nothing past its end; the file says how many were dropped. The files are
 * checked by support/trace_check.c; `train --trace` through the program is
 * test_train_trace.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/trace.h"
#include "../core/model.h"
#include "../core/presets.h"
#include "../core/span_buffer.h"
#include "../core/thread_clock.h"
#include "../variants/variant.h"
#include "support/testutil.h"
#include "support/trace_check.h"
#include "support/trainer_data.h"

/* ---- the buffer ---- */

/* A full buffer keeps what fits and counts the rest: the spans past its end
 * (a guard band here) stay untouched. */
static void test_full_buffer_drops_and_counts(void **state) {
    (void)state;
    PhaseSpan mem[6];
    memset(mem, 0x5a, sizeof mem);
    SpanBuffer b = {.spans = mem, .cap = 2};
    for (int i = 0; i < 7; i++) span_buffer_push(&b, (PhaseSpan){.start = i, .end = i + 1, .batch = i, .phase = 0});
    assert_int_equal(b.n, 2);
    assert_int_equal(b.dropped, 5);
    assert_int_equal(mem[1].batch, 1);
    unsigned char guard[4 * sizeof(PhaseSpan)];
    memset(guard, 0x5a, sizeof guard);
    assert_memory_equal(&mem[2], guard, sizeof guard);
    span_buffer_reset(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.dropped, 0);
}

/* Through a clock: a boundary into the running phase with the same tags
 * continues the span; a new batch or phase starts one; the last span closes
 * at stop; a one-span buffer drops the rest. */
static void test_clock_spans(void **state) {
    (void)state;
    SpanBuffer b;
    sb_error err;
    assert_int_equal(span_buffer_init(&b, 16, &err), SB_OK);
    ThreadClock c;
    thread_clock_start(&c, 3, ROLE_WORKER, 1, PHASE_WAIT);
    thread_clock_trace(&c, &b);
    thread_clock_phase(&c, PHASE_WAIT); /* continues */
    c.step = 1;
    c.batch = 7;
    thread_clock_phase(&c, PHASE_COMPUTE);
    thread_clock_phase(&c, PHASE_WAIT);
    thread_clock_phase(&c, PHASE_WAIT); /* continues */
    thread_clock_stop(&c);
    assert_int_equal(b.n, 3);
    assert_int_equal(b.dropped, 0);
    assert_int_equal(b.spans[0].phase, PHASE_WAIT);
    assert_int_equal(b.spans[0].batch, -1);
    assert_int_equal(b.spans[1].phase, PHASE_COMPUTE);
    assert_int_equal(b.spans[1].batch, 7);
    assert_int_equal(b.spans[1].step, 1);
    assert_int_equal(b.spans[2].phase, PHASE_WAIT);
    for (int i = 0; i < 3; i++) assert_true(b.spans[i].end >= b.spans[i].start);
    assert_true(b.spans[0].end == b.spans[1].start && b.spans[1].end == b.spans[2].start);
    for (int p = 0; p < PHASE_COUNT; p++) {
        double sum = 0.0;
        for (size_t i = 0; i < b.n; i++)
            if (b.spans[i].phase == p) sum += b.spans[i].end - b.spans[i].start;
        assert_close(sum, c.phase_wall[p], 1e-12);
    }
    span_buffer_free(&b);
    assert_int_equal(span_buffer_init(&b, 1, &err), SB_OK);
    thread_clock_start(&c, 0, ROLE_WORKER, 0, PHASE_DISPATCH);
    thread_clock_trace(&c, &b);
    for (int i = 0; i < 5; i++) {
        c.batch = i;
        thread_clock_phase(&c, PHASE_COMPUTE);
    }
    thread_clock_stop(&c);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.dropped, 5);
    span_buffer_free(&b);
}

/* ---- through the trainers ---- */

typedef struct {
    const char *variant;
    int threads, bps, fanout;
} TraceCase;

static const TraceCase cases[] = {
    {"serial", 1, 3, 0},
    {"flat", 4, 5, 0},
    {"sphere", 8, 6, 2}, /* root, 2 controls, 5 workers: two levels of controls */
    {"sharded", 3, 7, 0}, /* 7 batches a step over 3 threads: several each */
};

#define N_BATCHES 17

/* Runs one case traced with `cap` spans per thread; res stays the trainer's. */
static void run_case(const TraceCase *tc, const TokenFile *tf, ModelConfig m, size_t cap, void **st, float **params,
                     RunResult *res) {
    const Variant *v = variant_find(tc->variant);
    assert_non_null(v);
    VariantConfig vc = td_config(tf, m, 2, m.T, tc->threads, tc->bps);
    vc.fanout = tc->fanout;
    vc.trace_spans = cap;
    sb_error err;
    *params = malloc(model_param_count(&m) * sizeof(float));
    model_init(*params, &m, 5);
    if (v->create(st, &vc, &err)) fail_msg("%s: %s", tc->variant, err.msg);
    if (v->run(*st, *params, 0, N_BATCHES, res, &err)) fail_msg("%s: %s", tc->variant, err.msg);
}

static void test_trainer_spans(void **state) {
    (void)state;
    ModelConfig m = model_config_from_preset(model_preset_find("tiny"), 64);
    TokenFile tf = td_random_tokens(64, N_BATCHES + 1, 2, m.T, 11);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const TraceCase *tc = &cases[k];
        void *st = NULL;
        float *params;
        RunResult res;
        run_case(tc, &tf, m, trace_capacity(N_BATCHES, train_step_count(N_BATCHES, tc->bps)), &st, &params, &res);
        assert_non_null(res.spans);
        int seen[N_BATCHES] = {0};
        for (int t = 0; t < res.n_threads; t++) {
            const SpanBuffer *b = &res.spans[t];
            const ThreadStats *s = &res.threads[t];
            assert_int_equal(b->dropped, 0);
            assert_true(b->n > 0);
            double sum[PHASE_COUNT] = {0};
            for (size_t i = 0; i < b->n; i++) {
                const PhaseSpan *p = &b->spans[i];
                assert_true(p->phase >= 0 && p->phase < PHASE_COUNT);
                assert_true(p->end >= p->start);
                if (i > 0) assert_true(p->start >= b->spans[i - 1].end);
                assert_true(p->step >= 0 && p->step <= res.steps);
                sum[p->phase] += p->end - p->start;
                if (p->phase != PHASE_COMPUTE) continue;
                assert_true(p->batch >= 0 && p->batch < N_BATCHES);
                seen[p->batch]++;
                /* the batch's own step */
                assert_int_equal(p->step, p->batch / tc->bps + 1);
            }
            for (int p = 0; p < PHASE_COUNT; p++)
                if (fabs(sum[p] - s->phase_wall[p]) > 0.01 * s->phase_wall[p] + 1e-9)
                    fail_msg("%s thread %d %s: spans %g s, total %g s", tc->variant, t, phase_name((Phase)p), sum[p],
                             s->phase_wall[p]);
        }
        for (int i = 0; i < N_BATCHES; i++)
            if (seen[i] != 1) fail_msg("%s: batch %d is %d compute spans", tc->variant, i, seen[i]);
        /* the file the bench writes from the same spans */
        char path[TU_PATH_MAX], name[64];
        sb_error err;
        snprintf(name, sizeof name, "trace-%s.json", tc->variant);
        tu_path(path, name);
        assert_int_equal(trace_write(path, "test", tc->variant, NULL, &res, &err), SB_OK);
        check_trace(path, NULL, N_BATCHES, "0");
        variant_find(tc->variant)->destroy(st);
        free(params);
    }
    free(tf.ids);
}

/* A buffer too small for the run: every thread keeps at most its capacity,
 * the trace says how many were dropped, and the run is unchanged. */
static void test_trainer_full_buffers(void **state) {
    (void)state;
    ModelConfig m = model_config_from_preset(model_preset_find("tiny"), 64);
    TokenFile tf = td_random_tokens(64, N_BATCHES + 1, 2, m.T, 11);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        void *st = NULL;
        float *params;
        RunResult res;
        run_case(&cases[k], &tf, m, 3, &st, &params, &res);
        uint64_t dropped = 0;
        for (int t = 0; t < res.n_threads; t++) {
            assert_true(res.spans[t].n <= 3);
            assert_int_equal(res.spans[t].cap, 3);
            dropped += res.spans[t].dropped;
        }
        assert_true(dropped > 0);
        char path[TU_PATH_MAX];
        sb_error err;
        tu_path(path, "trace-full.json");
        assert_int_equal(trace_write(path, "test", cases[k].variant, NULL, &res, &err), SB_OK);
        /* a full buffer loses compute spans: the format and the count are checked */
        check_trace(path, NULL, -1, "any");
        variant_find(cases[k].variant)->destroy(st);
        free(params);
    }
    free(tf.ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_buffer_drops_and_counts),
        cmocka_unit_test(test_clock_spans),
        cmocka_unit_test(test_trainer_spans),
        cmocka_unit_test(test_trainer_full_buffers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
