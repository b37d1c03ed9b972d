/* test_kernels_attention.c - the fast attention and LayerNorm kernels
 * against their plain references (core/attention.c, core/layernorm.c).
 *
 * Attention runs at head sizes 1, 3, 5, 16, 17, 32, 33 crossed with
 * T = 1, 2, 7, 64, 128 (H from 1 to 8 and B from 1 to 3 in rotation), so every
 * tail length class of both the key axis and the head axis is hit, plus two
 * large shapes (T = 128 with hs = 160, T = 300 with hs = 112) whose blocks
 * once sent them to the reference. The scratch is exactly
 * attention_scratch_floats long with a NaN guard after it, so a kernel that
 * needs more than that size says is caught. LayerNorm runs at D = 1, 3, 5, 15, 16,
 * 17, 32, 33, 64, 256, 257 with N = 1, 3, 7. Outputs start as NaN with NaN
 * guards after the end, so a skipped element fails the comparison and a write
 * past the end is caught; a wrong causal mask or a skipped tail changes
 * results by O(1), far beyond these tolerances:
 *   attention forward, att and out: |fast - ref| <= 1e-5 (1 + |ref|)
 *     (vexp16 is within about 2 ulp of expf and the row sum is in 16 lanes;
 *     measured worst 6.4e-7);
 *   attention backward, dqkv: |fast - ref| <= 1e-5 (1 + |ref|)
 *     (the softmax-backward dot is in 16 lanes; measured worst 4.2e-7);
 *   att is exactly 0 past each row's t, and each row sums to 1 within 1e-5;
 *   LayerNorm forward, out, mean, rstd, and backward, dinp, dweight, dbias
 *     (which add into nonzero initial values): |fast - ref| <= 1e-5 (1 + |ref|)
 *     (the row reductions are in 4 x 16 lanes instead of one running sum; an
 *     ulp of a mean near 3 times an rstd near 10 moves out by about 2e-6:
 *     measured worst 1.9e-6 forward, 3.8e-7 backward).
 * Every fast kernel must also give the same bits on a second call and when
 * its buffers sit at another alignment. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/layers.h"
#include "../core/rng.h"
#include "support/kernel_buffers.h"

#define TOL 1e-5f

static float *random_buffer(size_t n, float lo, float hi, uint64_t seed) {
    float *p = kb_nan_buffer(n);
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = kb_uniform(&r, lo, hi);
    return p;
}

/* A copy of n floats starting `shift` floats into a fresh buffer. */
static float *shifted_copy(const float *p, size_t n, int shift) {
    float *q = kb_nan_buffer(n + (size_t)shift);
    memcpy(q + shift, p, n * sizeof(float));
    return q;
}

static void check_close(const char *what, const float *fast, const float *ref, size_t n, float *worst) {
    for (size_t i = 0; i < n; i++) {
        float err = fabsf(fast[i] - ref[i]);
        if (!(err <= TOL * (1.0f + fabsf(ref[i]))))
            fail_msg("%s: element %zu of %zu: fast %.9g ref %.9g (err %.3g)", what, i, n, fast[i], ref[i], err);
        float scaled = err / (1.0f + fabsf(ref[i]));
        if (scaled > *worst) *worst = scaled;
    }
}

/* ---- attention ----------------------------------------------------------- */

typedef struct {
    int B, T, D, H;
} AttShape;

static const int HEAD_SIZES[] = {1, 3, 5, 16, 17, 32, 33};
static const int TS[] = {1, 2, 7, 64, 128};
#define NHS ((int)(sizeof(HEAD_SIZES) / sizeof(HEAD_SIZES[0])))
#define NTS ((int)(sizeof(TS) / sizeof(TS[0])))
/* large blocks: about 4 T hs floats of scratch in backward */
static const AttShape BIG[] = {{1, 128, 160, 1}, {1, 300, 112, 1}};
#define NBIG ((int)(sizeof(BIG) / sizeof(BIG[0])))
#define NSHAPES (NHS * NTS + NBIG)

static AttShape att_shape(int k) {
    if (k >= NHS * NTS) return BIG[k - NHS * NTS];
    int hs = HEAD_SIZES[k / NTS], T = TS[k % NTS];
    int H = 1 + (k * 3) % 8, B = 1 + k % 3;
    AttShape s = {B, T, hs * H, H};
    return s;
}

/* Forward of one shape: fast vs ref, att's zeros and row sums, the same bits
 * again and from shifted buffers. */
static void check_attention_forward(AttShape s, uint64_t seed, float *worst) {
    int B = s.B, T = s.T, D = s.D, H = s.H;
    size_t nin = (size_t)B * T * 3 * D, nout = (size_t)B * T * D, natt = (size_t)B * H * T * T;
    float *inp = random_buffer(nin, -2.0f, 2.0f, seed);
    float *out_ref = kb_nan_buffer(nout), *att_ref = kb_nan_buffer(natt);
    float *out = kb_nan_buffer(nout), *att = kb_nan_buffer(natt);
    size_t nscr = attention_scratch_floats(T, D, H);
    float *scratch = kb_nan_buffer(nscr + 1);
    attention_forward_ref(out_ref, att_ref, inp, B, T, D, H);
    attention_forward(out, att, scratch, inp, B, T, D, H);
    check_close("attention_forward att", att, att_ref, natt, worst);
    check_close("attention_forward out", out, out_ref, nout, worst);
    kb_assert_guard_intact(out, nout);
    kb_assert_guard_intact(att, natt);
    kb_assert_guard_intact(scratch, nscr + 1);
    for (size_t row = 0; row < (size_t)B * H * T; row++) {
        int t = (int)(row % (size_t)T);
        const float *a = att + row * T;
        float sum = 0.0f;
        for (int j = 0; j <= t; j++) sum += a[j];
        assert_true(fabsf(sum - 1.0f) <= 1e-5f);
        for (int j = t + 1; j < T; j++) assert_true(a[j] == 0.0f);
    }
    /* determinism: again, and with every buffer one float further on */
    float *out2 = kb_nan_buffer(nout + 1), *att2 = kb_nan_buffer(natt + 1);
    attention_forward(out2, att2, scratch, inp, B, T, D, H);
    assert_memory_equal(out, out2, nout * sizeof(float));
    assert_memory_equal(att, att2, natt * sizeof(float));
    float *inp_s = shifted_copy(inp, nin, 1);
    attention_forward(out2 + 1, att2 + 1, scratch + 1, inp_s + 1, B, T, D, H);
    kb_assert_guard_intact(scratch, nscr + 1);
    assert_memory_equal(out, out2 + 1, nout * sizeof(float));
    assert_memory_equal(att, att2 + 1, natt * sizeof(float));
    free(inp_s);
    free(out2);
    free(att2);
    free(scratch);
    free(inp);
    free(out_ref);
    free(att_ref);
    free(out);
    free(att);
}

static void test_attention_forward_matches_ref(void **state) {
    (void)state;
    float worst = 0.0f;
    for (int k = 0; k < NSHAPES; k++) check_attention_forward(att_shape(k), 1000 + (uint64_t)k, &worst);
    print_message("attention_forward: worst |fast-ref|/(1+|ref|) = %.3g\n", (double)worst);
}

static void check_attention_backward(AttShape s, uint64_t seed, float *worst) {
    int B = s.B, T = s.T, D = s.D, H = s.H;
    size_t nin = (size_t)B * T * 3 * D, nout = (size_t)B * T * D, natt = (size_t)B * H * T * T;
    float *inp = random_buffer(nin, -2.0f, 2.0f, seed);
    float *dout = random_buffer(nout, -1.0f, 1.0f, seed + 7);
    float *out = kb_nan_buffer(nout), *att = kb_nan_buffer(natt);
    attention_forward_ref(out, att, inp, B, T, D, H); /* both backwards see the same att */
    size_t nscr = attention_scratch_floats(T, D, H);
    float *scratch = kb_nan_buffer(nscr + 3);
    float *dinp_ref = kb_nan_buffer(nin), *dinp = kb_nan_buffer(nin);
    attention_backward_ref(dinp_ref, scratch, dout, inp, att, B, T, D, H);
    attention_backward(dinp, scratch, dout, inp, att, B, T, D, H);
    check_close("attention_backward dinp", dinp, dinp_ref, nin, worst);
    kb_assert_guard_intact(dinp, nin);
    kb_assert_guard_intact(scratch, nscr + 3);
    float *dinp2 = kb_nan_buffer(nin + 3);
    attention_backward(dinp2, scratch, dout, inp, att, B, T, D, H);
    assert_memory_equal(dinp, dinp2, nin * sizeof(float));
    float *inp_s = shifted_copy(inp, nin, 1), *dout_s = shifted_copy(dout, nout, 2),
          *att_s = shifted_copy(att, natt, 3);
    attention_backward(dinp2 + 3, scratch + 3, dout_s + 2, inp_s + 1, att_s + 3, B, T, D, H);
    assert_memory_equal(dinp, dinp2 + 3, nin * sizeof(float));
    kb_assert_guard_intact(scratch, nscr + 3);
    free(inp_s);
    free(dout_s);
    free(att_s);
    free(dinp2);
    free(inp);
    free(dout);
    free(out);
    free(att);
    free(scratch);
    free(dinp_ref);
    free(dinp);
}

static void test_attention_backward_matches_ref(void **state) {
    (void)state;
    float worst = 0.0f;
    for (int k = 0; k < NSHAPES; k++) check_attention_backward(att_shape(k), 2000 + (uint64_t)k, &worst);
    print_message("attention_backward: worst |fast-ref|/(1+|ref|) = %.3g\n", (double)worst);
}

/* Row t of a single head attends to keys 0..t only: with v_t2 = e_t2 (one-hot
 * value vectors, hs = T) out[t] is att[t], and equal scores (q = 0) give
 * out[t][t2] = 1/(t+1) for t2 <= t and exactly 0 past t. */
static void test_attention_causal_uniform(void **state) {
    (void)state;
    const int T = 21, D = 21;
    float *inp = calloc((size_t)T * 3 * D, sizeof(float));
    for (int t = 0; t < T; t++) inp[(size_t)t * 3 * D + 2 * D + t] = 1.0f;
    float *out = kb_nan_buffer((size_t)T * D), *att = kb_nan_buffer((size_t)T * T);
    float *scratch = kb_nan_buffer(attention_scratch_floats(T, D, 1));
    attention_forward(out, att, scratch, inp, 1, T, D, 1);
    free(scratch);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < D; j++) {
            float want = j <= t ? 1.0f / (float)(t + 1) : 0.0f;
            assert_true(fabsf(out[t * D + j] - want) <= 1e-6f);
            if (j > t) assert_true(out[t * D + j] == 0.0f);
        }
    free(inp);
    free(out);
    free(att);
}

/* ---- LayerNorm ----------------------------------------------------------- */

static const int LN_DS[] = {1, 3, 5, 15, 16, 17, 32, 33, 64, 256, 257};
static const int LN_NS[] = {1, 3, 7};
#define NLND ((int)(sizeof(LN_DS) / sizeof(LN_DS[0])))
#define NLNN ((int)(sizeof(LN_NS) / sizeof(LN_NS[0])))

/* rows with a nonzero mean and varying spread */
static float *ln_inputs(int N, int D, uint64_t seed) {
    float *x = kb_nan_buffer((size_t)(unsigned)N * (unsigned)D);
    Rng r;
    rng_seed(&r, seed);
    for (int n = 0; n < N; n++) {
        float mu = kb_uniform(&r, -3.0f, 3.0f), sd = kb_uniform(&r, 0.1f, 4.0f);
        for (int i = 0; i < D; i++) x[(size_t)n * D + i] = mu + sd * kb_uniform(&r, -1.7f, 1.7f);
    }
    return x;
}

static void test_layernorm_forward_matches_ref(void **state) {
    (void)state;
    float worst = 0.0f;
    for (int a = 0; a < NLND; a++)
        for (int c = 0; c < NLNN; c++) {
            int D = LN_DS[a], N = LN_NS[c];
            size_t nx = (size_t)(unsigned)N * (unsigned)D, Dz = (unsigned)D, Nz = (unsigned)N;
            uint64_t seed = 3000 + (uint64_t)(D * 10 + N);
            float *x = ln_inputs(N, D, seed);
            float *w = random_buffer(Dz, 0.5f, 1.5f, seed + 1), *bias = random_buffer(Dz, -1, 1, seed + 2);
            float *o_ref = kb_nan_buffer(nx), *m_ref = kb_nan_buffer(Nz), *s_ref = kb_nan_buffer(Nz);
            float *o = kb_nan_buffer(nx), *m = kb_nan_buffer(Nz), *s = kb_nan_buffer(Nz);
            layernorm_forward_ref(o_ref, m_ref, s_ref, x, w, bias, N, D);
            layernorm_forward(o, m, s, x, w, bias, N, D);
            check_close("layernorm_forward out", o, o_ref, nx, &worst);
            check_close("layernorm_forward mean", m, m_ref, Nz, &worst);
            check_close("layernorm_forward rstd", s, s_ref, Nz, &worst);
            kb_assert_guard_intact(o, nx);
            kb_assert_guard_intact(m, Nz);
            kb_assert_guard_intact(s, Nz);
            /* again, and with shifted buffers */
            float *o2 = kb_nan_buffer(nx + 1), *m2 = kb_nan_buffer(Nz + 1), *s2 = kb_nan_buffer(Nz + 1);
            layernorm_forward(o2, m2, s2, x, w, bias, N, D);
            assert_memory_equal(o, o2, nx * sizeof(float));
            assert_memory_equal(m, m2, Nz * sizeof(float));
            assert_memory_equal(s, s2, Nz * sizeof(float));
            float *xs = shifted_copy(x, nx, 1), *ws = shifted_copy(w, Dz, 2),
                  *bs = shifted_copy(bias, Dz, 3);
            layernorm_forward(o2 + 1, m2 + 1, s2 + 1, xs + 1, ws + 2, bs + 3, N, D);
            assert_memory_equal(o, o2 + 1, nx * sizeof(float));
            assert_memory_equal(m, m2 + 1, Nz * sizeof(float));
            assert_memory_equal(s, s2 + 1, Nz * sizeof(float));
            free(xs), free(ws), free(bs), free(o2), free(m2), free(s2);
            free(x), free(w), free(bias), free(o_ref), free(m_ref), free(s_ref), free(o), free(m), free(s);
        }
    print_message("layernorm_forward: worst |fast-ref|/(1+|ref|) = %.3g\n", (double)worst);
}

static void test_layernorm_backward_matches_ref(void **state) {
    (void)state;
    float worst = 0.0f;
    for (int a = 0; a < NLND; a++)
        for (int c = 0; c < NLNN; c++) {
            int D = LN_DS[a], N = LN_NS[c];
            size_t nx = (size_t)(unsigned)N * (unsigned)D, Dz = (unsigned)D, Nz = (unsigned)N;
            uint64_t seed = 4000 + (uint64_t)(D * 10 + N);
            float *x = ln_inputs(N, D, seed);
            float *w = random_buffer(Dz, 0.5f, 1.5f, seed + 1), *bias = random_buffer(Dz, -1, 1, seed + 2);
            float *dout = random_buffer(nx, -1.0f, 1.0f, seed + 3);
            float *o = kb_nan_buffer(nx), *m = kb_nan_buffer(Nz), *s = kb_nan_buffer(Nz);
            layernorm_forward_ref(o, m, s, x, w, bias, N, D);
            /* nonzero initial gradients: backward adds into all three */
            float *dx0 = random_buffer(nx, -1, 1, seed + 4), *dw0 = random_buffer(Dz, -1, 1, seed + 5),
                  *db0 = random_buffer(Dz, -1, 1, seed + 6);
            float *dx_ref = shifted_copy(dx0, nx, 0), *dw_ref = shifted_copy(dw0, Dz, 0),
                  *db_ref = shifted_copy(db0, Dz, 0);
            float *dx = shifted_copy(dx0, nx, 0), *dw = shifted_copy(dw0, Dz, 0),
                  *db = shifted_copy(db0, Dz, 0);
            layernorm_backward_ref(dx_ref, dw_ref, db_ref, dout, x, w, m, s, N, D);
            layernorm_backward(dx, dw, db, dout, x, w, m, s, N, D);
            check_close("layernorm_backward dinp", dx, dx_ref, nx, &worst);
            check_close("layernorm_backward dweight", dw, dw_ref, Dz, &worst);
            check_close("layernorm_backward dbias", db, db_ref, Dz, &worst);
            kb_assert_guard_intact(dx, nx);
            kb_assert_guard_intact(dw, Dz);
            kb_assert_guard_intact(db, Dz);
            /* again from the same start, and with shifted buffers */
            float *dx2 = shifted_copy(dx0, nx, 0), *dw2 = shifted_copy(dw0, Dz, 0),
                  *db2 = shifted_copy(db0, Dz, 0);
            layernorm_backward(dx2, dw2, db2, dout, x, w, m, s, N, D);
            assert_memory_equal(dx, dx2, nx * sizeof(float));
            assert_memory_equal(dw, dw2, Dz * sizeof(float));
            assert_memory_equal(db, db2, Dz * sizeof(float));
            free(dx2), free(dw2), free(db2);
            dx2 = shifted_copy(dx0, nx, 1), dw2 = shifted_copy(dw0, Dz, 2), db2 = shifted_copy(db0, Dz, 3);
            float *xs = shifted_copy(x, nx, 3), *ws = shifted_copy(w, Dz, 1), *ds = shifted_copy(dout, nx, 2);
            layernorm_backward(dx2 + 1, dw2 + 2, db2 + 3, ds + 2, xs + 3, ws + 1, m, s, N, D);
            assert_memory_equal(dx, dx2 + 1, nx * sizeof(float));
            assert_memory_equal(dw, dw2 + 2, Dz * sizeof(float));
            assert_memory_equal(db, db2 + 3, Dz * sizeof(float));
            free(dx2), free(dw2), free(db2), free(xs), free(ws), free(ds);
            free(x), free(w), free(bias), free(dout), free(o), free(m), free(s);
            free(dx0), free(dw0), free(db0), free(dx_ref), free(dw_ref), free(db_ref), free(dx), free(dw), free(db);
        }
    print_message("layernorm_backward: worst |fast-ref|/(1+|ref|) = %.3g\n", (double)worst);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_forward_matches_ref),
        cmocka_unit_test(test_attention_backward_matches_ref),
        cmocka_unit_test(test_attention_causal_uniform),
        cmocka_unit_test(test_layernorm_forward_matches_ref),
        cmocka_unit_test(test_layernorm_backward_matches_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
