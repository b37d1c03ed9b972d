/* test_classifier.c - the fused, blocked classifier (core/classifier.c)
 * against the unfused chain it replaces, and the model's sampling path.
 *
 * The fused version must give the same bits as matmul_forward,
 * softmax_crossentropy_forward and _backward and matmul_backward over all N
 * rows at once: for N below one block, exactly one block, and several blocks
 * with a ragged last one, at a vocabulary that is no multiple of the vector
 * width. Outputs start as NaN (dlnf) or garbage (dwte), so a row or entry the
 * fused version skips, or an accumulation that forgets to start from zero,
 * fails. A mutant that divides a block's dlogits by its own row count instead
 * of the batch's (the mean over N) is caught by the same comparison whenever
 * N spans more than one block. model_forward without targets must leave in
 * ws->probs[i] the softmax of the last position of sequence i. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/layers.h"
#include "../core/matmul.h"
#include "../core/model.h"
#include "../core/rng.h"

static float *filled(size_t n, float lo, float hi, Rng *r) {
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng_float(r);
    return x;
}

static void check_fused_equals_unfused(int N, int D, int V) {
    Rng r;
    rng_seed(&r, 100 + (uint64_t)N);
    float *lnf = filled((size_t)N * D, -2.0f, 2.0f, &r), *wte = filled((size_t)V * D, -0.5f, 0.5f, &r);
    int *targets = malloc((size_t)N * sizeof(int));
    assert_non_null(targets);
    for (int i = 0; i < N; i++) targets[i] = (int)rng_below(&r, (uint32_t)V);
    float *scratch = malloc(MATMUL_SCRATCH_FLOATS * sizeof(float));
    int rows = N < CLASSIFIER_ROWS ? N : CLASSIFIER_ROWS;
    float *block = malloc((size_t)rows * V * sizeof(float));
    float *dlnf = malloc((size_t)N * D * sizeof(float)), *dwte = filled((size_t)V * D, 5.0f, 6.0f, &r);
    float *losses = malloc((size_t)N * sizeof(float));
    /* the unfused chain over all rows at once */
    float *logits = malloc((size_t)N * V * sizeof(float)), *ref_dlnf = malloc((size_t)N * D * sizeof(float));
    float *ref_dwte = calloc((size_t)V * D, sizeof(float)), *ref_losses = malloc((size_t)N * sizeof(float));
    assert_true(scratch && block && dlnf && losses && logits && ref_dlnf && ref_dwte && ref_losses);
    for (size_t i = 0; i < (size_t)N * D; i++) dlnf[i] = NAN;
    matmul_forward(logits, scratch, lnf, wte, NULL, N, D, V);
    softmax_crossentropy_forward(logits, ref_losses, targets, N, V);
    softmax_crossentropy_backward(logits, targets, N, V, N);
    matmul_backward(ref_dlnf, ref_dwte, NULL, scratch, logits, lnf, wte, N, D, V);

    float *packed = malloc(matmul_packed_floats(D, V) * sizeof(float));
    assert_non_null(packed);
    classifier_forward_backward(dlnf, dwte, losses, block, packed, scratch, lnf, wte, targets, N, D, V);
    free(packed);
    assert_memory_equal(losses, ref_losses, (size_t)N * sizeof(float));
    assert_memory_equal(dlnf, ref_dlnf, (size_t)N * D * sizeof(float));
    assert_memory_equal(dwte, ref_dwte, (size_t)V * D * sizeof(float));

    free(lnf), free(wte), free(targets), free(scratch), free(block), free(dlnf), free(dwte), free(losses);
    free(logits), free(ref_dlnf), free(ref_dwte), free(ref_losses);
}

static void test_one_short_block(void **state) {
    (void)state;
    check_fused_equals_unfused(37, 16, 101);
}

static void test_exactly_one_block(void **state) {
    (void)state;
    check_fused_equals_unfused(CLASSIFIER_ROWS, 24, 333);
}

static void test_several_blocks_ragged_last(void **state) {
    (void)state;
    check_fused_equals_unfused(3 * CLASSIFIER_ROWS + 29, 20, 517);
}

/* Sampling: ws->probs[i] is the softmax of sequence i's last position. */
static void test_forward_without_targets_gives_last_positions(void **state) {
    (void)state;
    ModelConfig c = {.V = 67, .T = 16, .D = 16, .L = 1, .H = 2};
    const int b = 3, t = 11;
    Workspace ws;
    sb_error err;
    assert_int_equal(workspace_init(&ws, &c, 4, 16, &err), SB_OK);
    float *params = malloc(model_param_count(&c) * sizeof(float));
    assert_non_null(params);
    model_init(params, &c, 5);
    int in[3 * 11];
    for (int i = 0; i < b * t; i++) in[i] = (i * 7 + 3) % c.V;
    assert_true(model_forward(&ws, params, in, NULL, b, t) == 0.0f);
    float *scratch = malloc(MATMUL_SCRATCH_FLOATS * sizeof(float)), *want = malloc((size_t)c.V * sizeof(float));
    assert_true(scratch && want);
    for (int i = 0; i < b; i++) {
        matmul_forward(want, scratch, ws.lnf + ((size_t)i * t + t - 1) * c.D, params, NULL, 1, c.D, c.V);
        softmax_crossentropy_forward(want, NULL, NULL, 1, c.V);
        assert_memory_equal(ws.probs + (size_t)i * c.V, want, (size_t)c.V * sizeof(float));
        double sum = 0;
        for (int v = 0; v < c.V; v++) sum += ws.probs[(size_t)i * c.V + v];
        assert_true(fabs(sum - 1.0) < 1e-5);
    }
    free(scratch), free(want), free(params);
    workspace_free(&ws);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_short_block),
        cmocka_unit_test(test_exactly_one_block),
        cmocka_unit_test(test_several_blocks_ragged_last),
        cmocka_unit_test(test_forward_without_targets_gives_last_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
