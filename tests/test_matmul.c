/* test_matmul.c - the packed GEMM against plain loops, at sizes that cross
 * every block of the kernel and leave tails in each: the register tile
 * (12 x 32 on AVX-512, 6 x 16 on AVX/AVX2, 6 x 8 on SSE) and the blocks
 * kc, mc, nc this machine chose from its caches (matmul_blocking()), so the
 * sizes follow the blocking wherever the test runs.
 *
 * matmul.c promises more than closeness: each output is its starting value
 * plus the products added one k at a time, so it must equal, bit for bit, the
 * plain loop over k of fused multiply-adds (fmaf) where the target has FMA,
 * or of a multiply then an add where it has not. That is what keeps training
 * bitwise reproducible whatever the blocking; the double-precision
 * references of matmul_*_ref check the values. The _packed products, with
 * the weight packed once by matmul_pack_weight, must give the same bits, and
 * the packing must stay inside matmul_packed_floats (a guard after it).
 * matmul_gemm, which bench-core times, is held to the same loop in all four
 * transpositions. The edge paths: a tile cut by M, by N or both; the partial
 * last panel of a block of A read in place (inp, dout); equal blocks of M;
 * a last short block of K and of N. */
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
    const MatmulBlocking *bl = matmul_blocking();
    const int kc = bl->kc, mc = bl->mc, nc = bl->nc, mr = bl->mr, nr = bl->nr;
    const int sizes[][3] = {
        {1, 1, 1}, {13, 37, 45}, {121, 257, 33}, {131, 300, 530}, {250, 70, 1030},
        /* from this machine's blocking: rows past two blocks of mc with a partial
         * tile, K past kc in forward (C) and in dweight (N), columns past nc */
        {2 * mc + mr / 2 + 1, kc + 7, nc + nr / 2 + 3},
        {kc + 29, 2 * kc + 1, 2 * nr + 1},
        /* whole tiles and whole blocks only: no edge path */
        {2 * mc, kc, 2 * nr},
        /* fewer rows than a tile, one column; every other remainder of M by the tile */
        {mr - 1, 3, 1}, {mr + 2, 19, nr + 1}, {3 * mr + 3, kc + 1, nr - 1},
    };
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

/* C[M][N] += op(A) . op(B) as a plain loop in increasing k. */
static void plain_gemm(float *C, const float *A, int ta, const float *B, int tb, int M, int N, int K) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = C[(size_t)i * N + j];
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                float b = tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
                s = madd(a, b, s);
            }
            C[(size_t)i * N + j] = s;
        }
}

static void test_gemm_every_transposition_bitwise(void **state) {
    (void)state;
    const MatmulBlocking *bl = matmul_blocking();
    const int M = bl->mc + bl->mr + 1, N = bl->nr * 2 + 5, K = bl->kc + 3;
    Rng r;
    rng_seed(&r, 29);
    float *scratch = malloc(sizeof(float) * MATMUL_SCRATCH_FLOATS);
    float *A = random_floats((size_t)M * K, &r), *B = random_floats((size_t)K * N, &r);
    float *c1 = random_floats((size_t)M * N, &r), *c2 = malloc(sizeof(float) * M * N);
    for (int t = 0; t < 4; t++) {
        int ta = t & 1, tb = t >> 1;
        memcpy(c2, c1, sizeof(float) * M * N);
        matmul_gemm(c1, scratch, A, ta, B, tb, M, N, K);
        plain_gemm(c2, A, ta, B, tb, M, N, K);
        assert_memory_equal(c1, c2, sizeof(float) * M * N);
    }
    free(scratch); free(A); free(B); free(c1); free(c2);
}

/* The blocks from the caches: within the limits, whole tiles, and the
 * defaults where a size is unknown. */
static void test_blocking_from_caches(void **state) {
    (void)state;
    MatmulBlocking b;
    matmul_blocking_choose(&b, 32768, 524288, 33554432, 6, 16); /* this project's Zen 3 VM */
    assert_int_equal(b.kc, 384);
    assert_int_equal(b.mc, 108);
    assert_int_equal(b.nc, 1024);
    assert_true(b.from_caches);
    matmul_blocking_choose(&b, 0, 0, 0, 12, 32);
    assert_int_equal(b.kc, 256);
    assert_int_equal(b.mc, 120);
    assert_int_equal(b.nc, 512);
    assert_false(b.from_caches);
    static const size_t l1[] = {4096, 32768, 49152, 1 << 20}, l2[] = {65536, 1 << 20, 1 << 22, 1 << 26};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            matmul_blocking_choose(&b, l1[i], l2[j], l2[j] * 8, 12, 32);
            assert_true(b.kc >= 16 && b.kc <= MATMUL_KC_MAX && b.kc % 16 == 0);
            assert_true(b.mc >= 12 && b.mc <= MATMUL_MC_MAX && b.mc % 12 == 0);
            assert_true(b.nc >= 32 && b.nc <= MATMUL_NC_MAX && b.nc % 32 == 0);
        }
    const MatmulBlocking *live = matmul_blocking();
    assert_true(live->mc % live->mr == 0 && live->nc % live->nr == 0 && live->kc <= MATMUL_KC_MAX);
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
        cmocka_unit_test(test_gemm_every_transposition_bitwise),
        cmocka_unit_test(test_blocking_from_caches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
