/* test_batch_sum.c - the K-thread batch-order gradient sum against serial.
 *
 * batch_sum_step then step_book_update is one step of a trainer; over a run
 * it must give serial's parameters bitwise for any thread count, any step
 * size (partial steps, fewer batches than threads, more than REDUCE_RUN_MAX
 * in one step), since it sums every element in batch order. A sum that skipped or repeated a batch would
 * differ. Every thread's row is complete and the batches add up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../variants/batch_sum.h"
#include "../variants/serial.h"
#include "support/trainer_data.h"

static const ModelConfig odd = {.V = 29, .T = 8, .D = 10, .L = 2, .H = 2};
enum { TB = 2, TT = 8 };

static float *serial_run(const TokenFile *tf, int bps, uint64_t first, uint64_t batches) {
    VariantConfig c = td_config(tf, odd, TB, TT, 1, bps);
    float *p = malloc(model_param_count(&odd) * sizeof(float));
    model_init(p, &odd, 1);
    void *state;
    sb_error err;
    RunResult res;
    if (variant_serial.create(&state, &c, &err) || variant_serial.run(state, p, first, batches, &res, &err))
        fail_msg("serial: %s", err.msg);
    variant_serial.destroy(state);
    return p;
}

/* Every step's batches through batch_sum_step, then the shared end of step. */
static float *batch_sum_run(const TokenFile *tf, int threads, int bps, uint64_t first, uint64_t batches,
                            uint64_t *computed) {
    VariantConfig c = td_config(tf, odd, TB, TT, threads, bps);
    size_t n = model_param_count(&odd);
    float *p = malloc(n * sizeof(float));
    model_init(p, &odd, 1);
    BatchSum *bs;
    sb_error err;
    RunResult res;
    if (batch_sum_create(&bs, &c, &err) || batch_sum_begin(bs, p, first, batches, ROLE_WORKER, &res, &err))
        fail_msg("batch_sum: %s", err.msg);
    uint64_t k = 0;
    while (k < batches) {
        int in_step = (int)(batches - k < (uint64_t)bps ? batches - k : (uint64_t)bps);
        float *sum;
        double loss;
        if (batch_sum_step(bs, first + k, in_step, &sum, &loss, &err)) fail_msg("step: %s", err.msg);
        step_book_update(batch_sum_book(bs), p, sum, in_step, loss);
        k += (uint64_t)in_step;
    }
    batch_sum_end(bs, SB_OK, &res);
    assert_int_equal(res.n_threads, threads);
    uint64_t total = 0;
    for (int t = 0; t < res.n_threads; t++) {
        assert_int_equal(res.threads[t].id, t);
        total += res.threads[t].batches;
    }
    *computed = total;
    assert_int_equal(res.batches, batches);
    batch_sum_destroy(bs);
    return p;
}

static void test_equals_serial(void **state) {
    (void)state;
    TokenFile tf = td_random_tokens((uint32_t)odd.V, 60, TB, TT, 41);
    static const int cases[][3] = {{1, 3, 10}, {2, 5, 11}, {3, 4, 19}, {7, 3, 8}, {4, 20, 45}, {16, 6, 13}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int threads = cases[k][0], bps = cases[k][1];
        uint64_t batches = (uint64_t)cases[k][2], computed;
        float *a = batch_sum_run(&tf, threads, bps, 2, batches, &computed);
        float *b = serial_run(&tf, bps, 2, batches);
        assert_int_equal(computed, batches);
        size_t differ = 0, n = model_param_count(&odd);
        for (size_t i = 0; i < n; i++) differ += memcmp(&a[i], &b[i], sizeof(float)) != 0;
        if (differ) fail_msg("%d threads, %d per step: %zu parameters differ from serial", threads, bps, differ);
        free(a);
        free(b);
    }
    free(tf.ids);
}

/* A step larger than the room made for it is refused, not overrun. */
static void test_refuses_oversized_step(void **state) {
    (void)state;
    TokenFile tf = td_random_tokens((uint32_t)odd.V, 20, TB, TT, 42);
    VariantConfig c = td_config(&tf, odd, TB, TT, 2, 3);
    float *p = malloc(model_param_count(&odd) * sizeof(float));
    model_init(p, &odd, 1);
    BatchSum *bs;
    sb_error err;
    RunResult res;
    assert_int_equal(batch_sum_create(&bs, &c, &err), SB_OK);
    assert_int_equal(batch_sum_begin(bs, p, 0, 6, ROLE_WORKER, &res, &err), SB_OK);
    float *sum;
    double loss;
    assert_int_equal(batch_sum_step(bs, 0, 4, &sum, &loss, &err), SB_ECONFIG);
    batch_sum_end(bs, SB_OK, &res);
    batch_sum_destroy(bs);
    free(p);
    free(tf.ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equals_serial),
        cmocka_unit_test(test_refuses_oversized_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
