/* test_reduce.c - the gradient-sum kernels: reduce_sum against its plain
 * reference and against repeated reduce_add, bitwise, for buffer counts that
 * cross the kernel's groups and lengths that cross its chunks and vector
 * tails; and AdamW's vectorised loop against the formula. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/adamw.h"
#include "../core/reduce.h"
#include "../core/rng.h"

static float **random_buffers(int k, size_t n, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    float **b = malloc(sizeof(float *) * (size_t)k);
    for (int i = 0; i < k; i++) {
        b[i] = malloc(sizeof(float) * n);
        /* magnitudes spread over decades, so a changed summation order shows in the bits */
        for (size_t j = 0; j < n; j++) b[i][j] = (rng_float(&r) - 0.5f) * powf(10.0f, (float)(j % 7) - 3.0f);
    }
    return b;
}

static void free_buffers(float **b, int k) {
    for (int i = 0; i < k; i++) free(b[i]);
    free(b);
}

/* Exactly the reference's bits: each element summed in buffer order. */
static void test_sum_matches_reference_bitwise(void **state) {
    (void)state;
    static const int ks[] = {1, 2, 3, 4, 5, 8, 9, 13, 63, 70};
    static const size_t ns[] = {1, 15, 16, 17, 1000, 32768, 32769, 2 * 32768 + 33};
    for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++)
        for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
            int k = ks[a];
            size_t n = ns[c];
            float **b = random_buffers(k, n, 11 + a * 31 + c);
            float *fast = malloc(sizeof(float) * (n + 1)), *ref = malloc(sizeof(float) * n);
            fast[n] = 12345.0f; /* guard: nothing written past the end */
            reduce_sum(fast, (const float *const *)b, k, n);
            reduce_sum_ref(ref, (const float *const *)b, k, n);
            assert_memory_equal(fast, ref, sizeof(float) * n);
            assert_true(fast[n] == 12345.0f);
            free(fast);
            free(ref);
            free_buffers(b, k);
        }
}

/* reduce_sum == a memcpy then k-1 reduce_add calls, bitwise: a trainer may
 * sum as gradients arrive or all at once and get the same model. In place
 * (out == bufs[0]) too. */
static void test_sum_equals_repeated_add(void **state) {
    (void)state;
    int k = 11;
    size_t n = 70001;
    float **b = random_buffers(k, n, 5);
    float *seq = malloc(sizeof(float) * n), *all = malloc(sizeof(float) * n);
    memcpy(seq, b[0], sizeof(float) * n);
    for (int i = 1; i < k; i++) reduce_add(seq, b[i], n);
    reduce_sum(all, (const float *const *)b, k, n);
    assert_memory_equal(seq, all, sizeof(float) * n);
    reduce_sum(b[0], (const float *const *)b, k, n);
    assert_memory_equal(seq, b[0], sizeof(float) * n);
    free(seq);
    free(all);
    free_buffers(b, k);
}

/* AdamW's loop (vectorised by the compiler) against the formula in double,
 * at a length with a vector tail. */
static void test_adamw_matches_formula(void **state) {
    (void)state;
    size_t n = 1037;
    AdamWConfig cfg = adamw_defaults();
    cfg.weight_decay = 0.1f;
    AdamW opt;
    sb_error err;
    assert_int_equal(adamw_init(&opt, n, cfg, &err), SB_OK);
    float *p = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
    double *pd = malloc(sizeof(double) * n), *m = calloc(n, sizeof(double)), *v = calloc(n, sizeof(double));
    Rng r;
    rng_seed(&r, 3);
    for (size_t i = 0; i < n; i++) pd[i] = p[i] = rng_float(&r) - 0.5f;
    for (int t = 1; t <= 3; t++) {
        for (size_t i = 0; i < n; i++) g[i] = rng_float(&r) - 0.5f;
        adamw_update(&opt, p, g);
        for (size_t i = 0; i < n; i++) {
            m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * g[i];
            v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * (double)g[i] * g[i];
            double mh = m[i] / (1 - pow(cfg.beta1, t)), vh = v[i] / (1 - pow(cfg.beta2, t));
            pd[i] -= cfg.lr * (mh / (sqrt(vh) + cfg.eps) + cfg.weight_decay * pd[i]);
        }
    }
    /* float rounding of a few updates of size ~lr: 1e-6 absolute */
    for (size_t i = 0; i < n; i++) assert_true(fabs(p[i] - pd[i]) <= 1e-6);
    adamw_free(&opt);
    free(p);
    free(g);
    free(pd);
    free(m);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_matches_reference_bitwise),
        cmocka_unit_test(test_sum_equals_repeated_add),
        cmocka_unit_test(test_adamw_matches_formula),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
