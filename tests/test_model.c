/* test_model.c - the float32 model against the double-precision reference.
 *
 * The reference (tests/support/ref_model.c) is an independent reading of
 * docs/DESIGN.md in double. Here the fast model must (1) lay out its parameters
 * exactly as the reference does, (2) compute the same loss, and (3) produce,
 * for every single parameter, the gradient that central finite differences
 * of the reference give. Finite differences are taken in double (h = 1e-4 on
 * a loss of about 3), so their own error is below 1e-9 and what the
 * tolerance has to absorb is the float32 rounding of the fast model: about
 * 1e-6 relative per operation over a few hundred operations. Hence
 * |g - fd| <= 1e-5 + 1e-3 |fd| per parameter and a relative error norm under
 * 1e-3 per tensor; a wrong formula errs by O(|g|), a thousand times more. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model_shape.h"
#include "../core/presets.h"
#include "../core/matmul.h"
#include "../core/model.h"
#include "../core/rng.h"
#include "support/ref_model.h"

static const ModelConfig TINY = {.V = 11, .T = 8, .D = 16, .L = 2, .H = 4}; /* V T D L H */

static RefConfig ref_of(ModelConfig c) {
    RefConfig r = {c.V, c.T, c.D, c.L, c.H};
    return r;
}

/* Weights large enough that every path matters (std 0.3, LayerNorm weights
 * around 1, non-zero biases), unlike the near-uniform GPT-2 init. */
static float *random_params(ModelConfig c, uint64_t seed) {
    size_t n = model_param_count(&c);
    float *p = malloc(n * sizeof(float));
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = 0.6f * (rng_float(&r) - 0.5f) * 1.7f;
    for (int l = 0; l < c.L; l++) {
        LayerTensors t = layer_tensors(&c, p, l);
        for (int i = 0; i < c.D; i++) {
            t.ln1_w[i] += 1.0f;
            t.ln2_w[i] += 1.0f;
        }
    }
    ModelTensors m = model_tensors(&c, p);
    for (int i = 0; i < c.D; i++) m.lnf_w[i] += 1.0f;
    return p;
}

static void random_tokens(int *x, int n, int V, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) x[i] = (int)rng_below(&r, (uint32_t)V);
}

static double *to_double(const float *p, size_t n) {
    double *d = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) d[i] = p[i];
    return d;
}

static void test_layout_matches_reference(void **state) {
    (void)state;
    ModelConfig c = TINY;
    assert_int_equal(model_param_count(&c), ref_param_count(ref_of(c)));
    float *base = (float *)0 + 0; /* offsets only: pointers are never dereferenced */
    static const char *names[] = {"ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
                                  "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w", "fcproj_b"};
    for (int l = 0; l < c.L; l++) {
        LayerTensors t = layer_tensors(&c, base, l);
        float *ptrs[] = {t.ln1_w, t.ln1_b, t.qkv_w, t.qkv_b, t.proj_w, t.proj_b,
                         t.ln2_w, t.ln2_b, t.fc_w, t.fc_b, t.fcproj_w, t.fcproj_b};
        for (int k = 0; k < 12; k++)
            assert_int_equal((size_t)(ptrs[k] - base), ref_param_offset(ref_of(c), names[k], l, NULL));
    }
    ModelTensors m = model_tensors(&c, base);
    assert_int_equal((size_t)(m.wpe - base), ref_param_offset(ref_of(c), "wpe", 0, NULL));
    assert_int_equal((size_t)(m.lnf_w - base), ref_param_offset(ref_of(c), "lnf_w", 0, NULL));
    assert_int_equal((size_t)(m.lnf_b - base), ref_param_offset(ref_of(c), "lnf_b", 0, NULL));
}

/* Forward loss and every parameter's gradient against the reference, for a
 * pass of b x t tokens through a workspace of capacity B x T. */
static void check_against_reference(ModelConfig c, int B, int T, int b, int t, uint64_t seed) {
    size_t n = model_param_count(&c);
    float *p = random_params(c, seed);
    float *g = malloc(n * sizeof(float));
    int *in = malloc(sizeof(int) * b * t), *tg = malloc(sizeof(int) * b * t);
    random_tokens(in, b * t, c.V, seed + 1);
    random_tokens(tg, b * t, c.V, seed + 2);
    Workspace ws;
    assert_int_equal(workspace_init(&ws, &c, B, T, NULL), SB_OK);
    float loss = model_forward(&ws, p, in, tg, b, t);
    model_backward(g, &ws, p);

    double *pd = to_double(p, n);
    double ref = ref_model_loss(ref_of(c), pd, in, tg, b, t);
    assert_true(fabs(loss - ref) <= 1e-5 * fabs(ref));

    static const char *names[] = {"ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
                                  "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w", "fcproj_b"};
    int n_tensors = 4 + 12 * c.L;
    for (int k = 0; k < n_tensors; k++) {
        const char *name = k < 4 ? (const char *[]){"wte", "wpe", "lnf_w", "lnf_b"}[k] : names[(k - 4) % 12];
        int layer = k < 4 ? 0 : (k - 4) / 12;
        size_t size, off = ref_param_offset(ref_of(c), name, layer, &size);
        double err2 = 0.0, ref2 = 0.0;
        for (size_t i = off; i < off + size; i++) {
            double fd = ref_model_fd_grad(ref_of(c), pd, i, 1e-4, in, tg, b, t);
            double e = fabs(g[i] - fd);
            if (e > 1e-5 + 1e-3 * fabs(fd))
                fail_msg("%s[layer %d][%zu]: analytic %.9g, finite differences %.9g", name, layer, i - off, g[i], fd);
            err2 += e * e;
            ref2 += fd * fd;
        }
        if (ref2 > 0.0 && sqrt(err2 / ref2) > 1e-3)
            fail_msg("%s[layer %d]: relative error norm %.3g", name, layer, sqrt(err2 / ref2));
    }
    workspace_free(&ws);
    free(pd);
    free(p);
    free(g);
    free(in);
    free(tg);
}

static void test_gradients_full_context(void **state) {
    (void)state;
    check_against_reference(TINY, 2, 8, 2, 8, 11);
}

/* A pass shorter than the workspace: strides must follow the capacity, and
 * wpe rows past t get exactly zero gradient. */
static void test_gradients_short_pass(void **state) {
    (void)state;
    check_against_reference(TINY, 3, 8, 2, 5, 12);
}

/* One head and odd sizes that are not multiples of the vector width. */
static void test_gradients_odd_sizes(void **state) {
    (void)state;
    ModelConfig c = {.V = 7, .T = 5, .D = 9, .L = 1, .H = 3};
    check_against_reference(c, 3, 5, 3, 5, 13);
}

static void test_uniform_model_loss_is_ln_v(void **state) {
    (void)state;
    ModelConfig c = TINY;
    size_t n = model_param_count(&c);
    float *p = calloc(n, sizeof(float));
    int in[16], tg[16];
    random_tokens(in, 16, c.V, 3);
    random_tokens(tg, 16, c.V, 4);
    Workspace ws;
    assert_int_equal(workspace_init(&ws, &c, 2, 8, NULL), SB_OK);
    float loss = model_forward(&ws, p, in, tg, 2, 8);
    assert_true(fabsf(loss - logf((float)c.V)) < 1e-6f);
    workspace_free(&ws);
    free(p);
}

/* The same inputs give bitwise the same loss and gradient, in the same and in
 * a fresh workspace (no state leaks from one pass into the next). */
static void test_deterministic(void **state) {
    (void)state;
    ModelConfig c = TINY;
    size_t n = model_param_count(&c);
    float *p = random_params(c, 5), *g1 = malloc(n * sizeof(float)), *g2 = malloc(n * sizeof(float));
    int in[16], tg[16], other[16];
    random_tokens(in, 16, c.V, 6);
    random_tokens(tg, 16, c.V, 7);
    random_tokens(other, 16, c.V, 8);
    Workspace a, b;
    assert_int_equal(workspace_init(&a, &c, 2, 8, NULL), SB_OK);
    assert_int_equal(workspace_init(&b, &c, 2, 8, NULL), SB_OK);
    float l1 = model_forward(&a, p, in, tg, 2, 8);
    model_backward(g1, &a, p);
    model_forward(&a, p, other, tg, 2, 8); /* dirty the workspace */
    model_backward(g2, &a, p);
    float l2 = model_forward(&b, p, in, tg, 2, 8);
    model_backward(g2, &b, p);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(g1, g2, n * sizeof(float));
    float l3 = model_forward(&a, p, in, tg, 2, 8);
    model_backward(g2, &a, p);
    assert_memory_equal(&l1, &l3, sizeof l1);
    assert_memory_equal(g1, g2, n * sizeof(float));
    workspace_free(&a);
    workspace_free(&b);
    free(p);
    free(g1);
    free(g2);
}

/* The fast matmul against the plain triple loop, for sizes around the block
 * and vector widths. */
static void test_matmul_matches_reference(void **state) {
    (void)state;
    static const int sizes[][3] = {{1, 1, 1}, {4, 8, 4}, {5, 9, 7}, {7, 13, 3}, {8, 16, 12}, {13, 33, 17}, {64, 64, 256}};
    Rng r;
    rng_seed(&r, 9);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int N = sizes[s][0], C = sizes[s][1], OC = sizes[s][2];
        float *inp = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * OC * C), *b = malloc(sizeof(float) * OC);
        float *o1 = malloc(sizeof(float) * N * OC), *o2 = malloc(sizeof(float) * N * OC);
        float *di1 = malloc(sizeof(float) * N * C), *di2 = malloc(sizeof(float) * N * C);
        float *dw1 = calloc((size_t)OC * C, sizeof(float)), *dw2 = calloc((size_t)OC * C, sizeof(float));
        float *db1 = calloc(OC, sizeof(float)), *db2 = calloc(OC, sizeof(float));
        for (int i = 0; i < N * C; i++) inp[i] = rng_float(&r) - 0.5f;
        for (int i = 0; i < OC * C; i++) w[i] = rng_float(&r) - 0.5f;
        for (int i = 0; i < OC; i++) b[i] = rng_float(&r) - 0.5f;
        float *scratch = malloc(sizeof(float) * MATMUL_SCRATCH_FLOATS);
        matmul_forward(o1, scratch, inp, w, b, N, C, OC);
        matmul_forward_ref(o2, inp, w, b, N, C, OC);
        for (int i = 0; i < N * OC; i++) assert_true(fabsf(o1[i] - o2[i]) <= 1e-5f * (1.0f + fabsf(o2[i])));
        matmul_backward(di1, dw1, db1, scratch, o2, inp, w, N, C, OC);
        free(scratch);
        matmul_backward_ref(di2, dw2, db2, o2, inp, w, N, C, OC);
        for (int i = 0; i < N * C; i++) assert_true(fabsf(di1[i] - di2[i]) <= 1e-5f * (1.0f + fabsf(di2[i])));
        for (int i = 0; i < OC * C; i++) assert_true(fabsf(dw1[i] - dw2[i]) <= 1e-5f * (1.0f + fabsf(dw2[i])));
        for (int i = 0; i < OC; i++) assert_true(fabsf(db1[i] - db2[i]) <= 1e-5f * (1.0f + fabsf(db2[i])));
        free(inp); free(w); free(b); free(o1); free(o2); free(di1); free(di2);
        free(dw1); free(dw2); free(db1); free(db2);
    }
}

static void test_bad_shapes_refused(void **state) {
    (void)state;
    sb_error err;
    ModelConfig bad_heads = {.V = 11, .T = 8, .D = 16, .L = 2, .H = 3};
    assert_int_equal(model_config_check(&bad_heads, &err), SB_ECONFIG);
    assert_non_null(strstr(err.msg, "heads"));
    ModelConfig zero_v = {.V = 0, .T = 8, .D = 16, .L = 2, .H = 4};
    assert_int_equal(model_config_check(&zero_v, &err), SB_ECONFIG);
    Workspace ws;
    assert_int_equal(workspace_init(&ws, &TINY, 2, 9, &err), SB_ECONFIG); /* T past the context */
    assert_non_null(strstr(err.msg, "context"));
    assert_int_equal(workspace_init(&ws, &TINY, 0, 8, &err), SB_ECONFIG);
}

static void test_presets(void **state) {
    (void)state;
    const ModelPreset *s = model_preset_find("seed");
    assert_non_null(s);
    assert_int_equal(s->B, 32);
    assert_int_equal(s->T, 128);
    assert_int_equal(s->D, 256);
    assert_int_equal(s->L, 4);
    assert_int_equal(s->H, 8);
    const ModelPreset *b = model_preset_find("bench");
    assert_non_null(b);
    assert_int_equal(b->B * b->T, 4096); /* the dataset's 2272 batches assume 4096 tokens */
    assert_non_null(model_preset_find("tiny"));
    assert_null(model_preset_find("huge"));
    for (const ModelPreset *p = model_presets(); p->name; p++) {
        ModelConfig c = model_config_from_preset(p, 5000);
        assert_int_equal(model_config_check(&c, NULL), SB_OK);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_matches_reference),
        cmocka_unit_test(test_uniform_model_loss_is_ln_v),
        cmocka_unit_test(test_gradients_full_context),
        cmocka_unit_test(test_gradients_short_pass),
        cmocka_unit_test(test_gradients_odd_sizes),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_matmul_matches_reference),
        cmocka_unit_test(test_bad_shapes_refused),
        cmocka_unit_test(test_presets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
