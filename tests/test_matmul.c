/* test_matmul.c - the packed GEMM against plain loops, at sizes that cross
 * every block of the kernel (MR 12 rows, NR 32 columns, KC 256, MC 120,
 * NC 512) and leave tails in each.
 *
 * matmul.c promises more than closeness: each output is its starting value
 * plus the products added one k at a time, so it must equal, bit for bit, the
 * plain loop over k of fused multiply-adds (fmaf) where the target has FMA,
 * or of a multiply then an add where it has not. That is what keeps training
 * bitwise reproducible whatever the blocking; the double-precision
 * references of matmul_*_ref check the values. The _packed products, with
 * the weight packed once by matmul_pack_weight, must give the same bits, and
 * the packing must stay inside matmul_packed_floats (a guard after it). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/matmul.h"
#include "../core/rng.h"

static float *random_floats(size_t n, Rng *r) {
    float *p = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) p[i] = rng_float(r) - 0.5f;
    return p;
}

/* s + a * b as the kernel computes it. Written out, because GCC does not
 * contract a scalar `s += a * b` reliably even with -ffp-contract=fast. */
static inline float madd(float a, float b, float s) {
#ifdef __FMA__
    return fmaf(a, b, s);
#else
    return s + a * b;
#endif
}

/* The three products as plain float loops in increasing k. */
static void plain_forward(float *out, const float *inp, const float *w, const float *bias, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            float s = bias ? bias[o] : 0.0f;
            for (int c = 0; c < C; c++) s = madd(inp[(size_t)n * C + c], w[(size_t)o * C + c], s);
            out[(size_t)n * OC + o] = s;
        }
}

static void plain_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, int N, int C,
                           int OC) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float s = 0.0f;
            for (int o = 0; o < OC; o++) s = madd(dout[(size_t)n * OC + o], w[(size_t)o * C + c], s);
            dinp[(size_t)n * C + c] = s;
        }
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++) {
            float s = dw[(size_t)o * C + c];
            for (int n = 0; n < N; n++) s = madd(dout[(size_t)n * OC + o], inp[(size_t)n * C + c], s);
            dw[(size_t)o * C + c] = s;
        }
}

static void test_blocked_equals_plain_loop_bitwise(void **state) {
    (void)state;
    /* N, C, OC: rows past MC (120), K past KC (256) in forward (C) and in
     * backward (OC, N), columns past NC (512), and odd tails everywhere */
    static const int sizes[][3] = {{1, 1, 1}, {13, 37, 45}, {121, 257, 33}, {131, 300, 530}, {250, 70, 1030}};
    Rng r;
    rng_seed(&r, 17);
    float *scratch = malloc(sizeof(float) * MATMUL_SCRATCH_FLOATS);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int N = sizes[s][0], C = sizes[s][1], OC = sizes[s][2];
        float *inp = random_floats((size_t)N * C, &r), *w = random_floats((size_t)OC * C, &r);
        float *bias = random_floats((size_t)OC, &r), *dout = random_floats((size_t)N * OC, &r);
        float *o1 = malloc(sizeof(float) * N * OC), *o2 = malloc(sizeof(float) * N * OC);
        float *di1 = malloc(sizeof(float) * N * C), *di2 = malloc(sizeof(float) * N * C);
        float *dw1 = random_floats((size_t)OC * C, &r), *dw2 = malloc(sizeof(float) * OC * C);
        memcpy(dw2, dw1, sizeof(float) * OC * C); /* dweight accumulates: start from the same nonzero values */
        matmul_forward(o1, scratch, inp, w, bias, N, C, OC);
        plain_forward(o2, inp, w, bias, N, C, OC);
        assert_memory_equal(o1, o2, sizeof(float) * N * OC);
        matmul_backward(di1, dw1, NULL, scratch, dout, inp, w, N, C, OC);
        plain_backward(di2, dw2, dout, inp, w, N, C, OC);
        assert_memory_equal(di1, di2, sizeof(float) * N * C);
        assert_memory_equal(dw1, dw2, sizeof(float) * OC * C);
        /* the same products from a weight packed once */
        size_t np = matmul_packed_floats(C, OC);
        float *packed = malloc(sizeof(float) * (np + 16));
        for (int g = 0; g < 16; g++) packed[np + (size_t)g] = -7.0f;
        matmul_pack_weight(packed, w, C, OC);
        for (int g = 0; g < 16; g++) assert_true(packed[np + (size_t)g] == -7.0f);
        matmul_forward_packed(o1, scratch, inp, packed, bias, N, C, OC);
        assert_memory_equal(o1, o2, sizeof(float) * N * OC);
        float *dw3 = malloc(sizeof(float) * OC * C);
        memcpy(dw3, dw2, sizeof(float) * OC * C);
        matmul_backward_packed(di1, dw3, NULL, scratch, dout, inp, packed, N, C, OC);
        plain_backward(di2, dw2, dout, inp, w, N, C, OC);
        assert_memory_equal(di1, di2, sizeof(float) * N * C);
        assert_memory_equal(dw3, dw2, sizeof(float) * OC * C);
        free(packed); free(dw3);
        free(inp); free(w); free(bias); free(dout); free(o1); free(o2);
        free(di1); free(di2); free(dw1); free(dw2);
    }
    free(scratch);
}

/* The values, against double-precision sums, at a size crossing every block;
 * float accumulation over K <= 530 terms of size <= 0.25: 1e-5 relative. */
static void test_blocked_matches_double_reference(void **state) {
    (void)state;
    int N = 131, C = 300, OC = 530;
    Rng r;
    rng_seed(&r, 23);
    float *scratch = malloc(sizeof(float) * MATMUL_SCRATCH_FLOATS);
    float *inp = random_floats((size_t)N * C, &r), *w = random_floats((size_t)OC * C, &r);
    float *bias = random_floats((size_t)OC, &r), *dout = random_floats((size_t)N * OC, &r);
    float *o1 = malloc(sizeof(float) * N * OC), *o2 = malloc(sizeof(float) * N * OC);
    float *di1 = malloc(sizeof(float) * N * C), *di2 = malloc(sizeof(float) * N * C);
    float *dw1 = calloc((size_t)OC * C, sizeof(float)), *dw2 = calloc((size_t)OC * C, sizeof(float));
    float *db1 = calloc((size_t)OC, sizeof(float)), *db2 = calloc((size_t)OC, sizeof(float));
    matmul_forward(o1, scratch, inp, w, bias, N, C, OC);
    matmul_forward_ref(o2, inp, w, bias, N, C, OC);
    for (int i = 0; i < N * OC; i++) assert_true(fabsf(o1[i] - o2[i]) <= 1e-5f * (1.0f + fabsf(o2[i])));
    matmul_backward(di1, dw1, db1, scratch, dout, inp, w, N, C, OC);
    matmul_backward_ref(di2, dw2, db2, dout, inp, w, N, C, OC);
    for (int i = 0; i < N * C; i++) assert_true(fabsf(di1[i] - di2[i]) <= 1e-5f * (1.0f + fabsf(di2[i])));
    for (int i = 0; i < OC * C; i++) assert_true(fabsf(dw1[i] - dw2[i]) <= 1e-5f * (1.0f + fabsf(dw2[i])));
    for (int i = 0; i < OC; i++) assert_true(fabsf(db1[i] - db2[i]) <= 1e-5f * (1.0f + fabsf(db2[i])));
    free(scratch); free(inp); free(w); free(bias); free(dout); free(o1); free(o2);
    free(di1); free(di2); free(dw1); free(dw2); free(db1); free(db2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_equals_plain_loop_bitwise),
        cmocka_unit_test(test_blocked_matches_double_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
