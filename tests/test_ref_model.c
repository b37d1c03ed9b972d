/* Tests of the double-precision reference model (tests/support/ref_model.*) on its own, before it
 * is trusted to judge core/'s float32 model: the buffer layout (count, offsets in docs/DESIGN.md order),
 * values that can be worked out by hand (all-zero weights give ln V; a zero-layer model), and
 * properties the spec implies without fixing numbers (causality, a lone position ignoring q and k,
 * heads being contiguous feature blocks, unused wpe rows having exactly zero gradient). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/ref_model.h"

/* This cmocka's assert_float_equal works in float, far too coarse to judge a double model. */
#define assert_close(a, b, tol)                                                           \
    do {                                                                                  \
        double a_ = (a), b_ = (b);                                                        \
        if (!(fabs(a_ - b_) <= (tol))) {                                                  \
            print_error("%.17g != %.17g (tolerance %g)\n", a_, b_, (double)(tol));        \
            fail();                                                                       \
        }                                                                                 \
    } while (0)

static const RefConfig small = {.V = 32, .maxT = 8, .D = 16, .L = 2, .H = 4};

/* Deterministic uniform values in [-a, a]; a fixed seed keeps failures reproducible. */
static double next_uniform(uint64_t *s, double a) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return a * (2.0 * (double)(*s >> 11) / 9007199254740992.0 - 1.0);
}

/* Random weights of a size that keeps every nonlinearity away from saturation, LayerNorm gains
 * near 1 so the normalised signal survives. */
static double *random_params(RefConfig c, uint64_t seed) {
    size_t n = ref_param_count(c);
    double *p = malloc(sizeof(double) * n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = next_uniform(&seed, 0.5);
    const char *gains[] = {"ln1_w", "ln2_w"};
    for (int l = 0; l < c.L; l++)
        for (int g = 0; g < 2; g++) {
            size_t sz, o = ref_param_offset(c, gains[g], l, &sz);
            for (size_t i = 0; i < sz; i++) p[o + i] += 1.0;
        }
    size_t sz, o = ref_param_offset(c, "lnf_w", 0, &sz);
    for (size_t i = 0; i < sz; i++) p[o + i] += 1.0;
    return p;
}

static void random_tokens(int *tok, int n, int V, uint64_t seed) {
    for (int i = 0; i < n; i++) tok[i] = (int)((next_uniform(&seed, 0.5) + 0.5) * V) % V;
}

static void test_param_count(void **state) {
    (void)state;
    /* Written out tensor by tensor rather than with the closed form the model file uses. */
    size_t D = 16;
    size_t per_layer = D + D + 3 * D * D + 3 * D + D * D + D + D + D + 4 * D * D + 4 * D + D * 4 * D + D;
    assert_int_equal(ref_param_count(small), 32 * D + 8 * D + 2 * per_layer + D + D);
    assert_int_equal(ref_param_count(small), 7232);
    RefConfig tiny = {.V = 3, .maxT = 1, .D = 2, .L = 0, .H = 1};
    assert_int_equal(ref_param_count(tiny), 3 * 2 + 1 * 2 + 2 + 2);
    /* Seed configuration with a 4096-word vocabulary: 4096*256 + 128*256 + 4*(12*256^2 + 13*256) + 512. */
    RefConfig seed = {.V = 4096, .maxT = 128, .D = 256, .L = 4, .H = 8};
    assert_int_equal(ref_param_count(seed), 4240896);
}

static void test_offsets_tile_buffer_in_design_order(void **state) {
    (void)state;
    static const char *per_layer[] = {"ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
                                      "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w", "fcproj_b"};
    const size_t D = 16;
    const size_t want[] = {D, D, 3 * D * D, 3 * D, D * D, D, D, D, 4 * D * D, 4 * D, D * 4 * D, D};
    size_t next = 0, sz;
    assert_int_equal(ref_param_offset(small, "wte", 0, &sz), next);
    assert_int_equal(sz, 32 * D);
    next += sz;
    assert_int_equal(ref_param_offset(small, "wpe", 0, &sz), next);
    assert_int_equal(sz, 8 * D);
    next += sz;
    for (int l = 0; l < small.L; l++)
        for (int k = 0; k < 12; k++) {
            assert_int_equal(ref_param_offset(small, per_layer[k], l, &sz), next);
            assert_int_equal(sz, want[k]);
            next += sz;
        }
    assert_int_equal(ref_param_offset(small, "lnf_w", 7, &sz), next); /* layer ignored */
    assert_int_equal(sz, D);
    next += sz;
    assert_int_equal(ref_param_offset(small, "lnf_b", 0, &sz), next);
    assert_int_equal(sz, D);
    next += sz;
    assert_int_equal(next, ref_param_count(small));

    assert_int_equal(ref_param_offset(small, "bogus", 0, &sz), (size_t)-1);
    assert_int_equal(sz, 0);
    assert_int_equal(ref_param_offset(small, "qkv_w", 2, NULL), (size_t)-1); /* L = 2 */
    assert_int_equal(ref_param_offset(small, "qkv_w", -1, NULL), (size_t)-1);
}

static void test_zero_params_give_ln_V(void **state) {
    (void)state;
    /* Zero weights: x = 0, LayerNorm gives 0/sqrt(1e-5)*0 + 0 = 0, so every logit is 0 and the
     * softmax is uniform; each position's loss is max + log(sum exp) = 0 + log(V) exactly. */
    size_t n = ref_param_count(small);
    double *p = calloc(n, sizeof(double));
    assert_non_null(p);
    int in[16], tg[16];
    random_tokens(in, 16, small.V, 1);
    random_tokens(tg, 16, small.V, 2);
    assert_true(ref_model_loss(small, p, in, tg, 1, 1) == log(32.0));
    double pos[16];
    assert_int_equal(ref_model_position_losses(small, p, in, tg, 2, 8, pos), 0);
    for (int i = 0; i < 16; i++) assert_true(pos[i] == log(32.0));
    /* The mean of 16 equal terms may round in the last bit, hence a tolerance here. */
    assert_close(ref_model_loss(small, p, in, tg, 2, 8), log(32.0), 1e-14);
    free(p);
}

/* The zero-layer model by hand. V=3, maxT=1, D=2, L=0:
 *   wte = [[1,0],[0,1],[1,1]], wpe[0] = [0,0], lnf_w = [2,1], lnf_b = [0.5,-1]; input 0, target 1.
 *   x = wte[0] + wpe[0] = (1,0); mean 0.5, biased var 0.25, so lnf normalises to (s,-s) with
 *   s = 0.5/sqrt(0.25 + 1e-5) = 1/sqrt(1.00004) ~= 0.99998000; y = (2s + 0.5, -s - 1).
 *   logits = y . wte^T = (2s + 0.5, -s - 1, s - 0.5) ~= (2.49996, -1.99998, 0.49998).
 *   loss = log(e^(2s+0.5) + e^(-s-1) + e^(s-0.5)) - (-s-1) ~= 2.636628 + 1.999980 = 4.636608. */
static const RefConfig tiny = {.V = 3, .maxT = 1, .D = 2, .L = 0, .H = 1};
static const double tiny_params[] = {1, 0, 0, 1, 1, 1, /* wte */ 0, 0, /* wpe */
                                     2, 1, /* lnf_w */ 0.5, -1 /* lnf_b */};

static void test_zero_layer_by_hand(void **state) {
    (void)state;
    const double s = 1.0 / sqrt(1.00004);
    const double l0 = 2 * s + 0.5, l1 = -s - 1, l2 = s - 0.5;
    const double want = log(exp(l0) + exp(l1) + exp(l2)) - l1;
    int in = 0, tg = 1;
    double got = ref_model_loss(tiny, tiny_params, &in, &tg, 1, 1);
    assert_close(got, want, 1e-13);
    assert_close(got, 4.636608, 1e-6);

    /* d loss / d lnf_b[d] = sum_v (softmax_v - [v == target]) * wte[v][d], since lnf_b adds
     * straight to y and logits are y . wte^T. Checks the finite differences themselves. */
    double p[12];
    memcpy(p, tiny_params, sizeof p);
    const double z = exp(l0) + exp(l1) + exp(l2);
    const double sm[3] = {exp(l0) / z, exp(l1) / z - 1.0, exp(l2) / z};
    const double dlnfb0 = sm[0] * 1 + sm[1] * 0 + sm[2] * 1;
    const double dlnfb1 = sm[0] * 0 + sm[1] * 1 + sm[2] * 1;
    assert_close(ref_model_fd_grad(tiny, p, 10, 1e-5, &in, &tg, 1, 1), dlnfb0, 1e-8);
    assert_close(ref_model_fd_grad(tiny, p, 11, 1e-5, &in, &tg, 1, 1), dlnfb1, 1e-8);
    assert_memory_equal(p, tiny_params, sizeof p); /* fd_grad restored what it perturbed */
}

static void test_matches_independent_transcription(void **state) {
    (void)state;
    /* Golden value from a separate pure-Python transcription of the spec (lists, per-head
     * slices, no shared code), fed the same LCG weights and tokens. It exercises what the
     * properties below cannot pin down: the 1/sqrt(D/H) scale, biased variance, eps, GELU. */
    double *p = random_params(small, 21);
    int in[16], tg[16];
    random_tokens(in, 16, small.V, 22);
    random_tokens(tg, 16, small.V, 23);
    assert_int_equal(in[0], 21); /* the Python run saw these tokens too */
    assert_int_equal(tg[15], 28);
    assert_close(ref_model_loss(small, p, in, tg, 2, 8), 4.088373488306832, 1e-12);
    free(p);
}

static void test_causality(void **state) {
    (void)state;
    double *p = random_params(small, 3);
    int in[16], tg[16];
    random_tokens(in, 16, small.V, 4);
    random_tokens(tg, 16, small.V, 5);
    double before[16], after[16];
    assert_int_equal(ref_model_position_losses(small, p, in, tg, 2, 8, before), 0);
    in[3] = (in[3] + 1) % small.V; /* row 0, position 3 */
    assert_int_equal(ref_model_position_losses(small, p, in, tg, 2, 8, after), 0);
    /* Earlier positions never see position 3, so they must match bit for bit; so must the
     * other sequence of the batch. */
    for (int t = 0; t < 3; t++) assert_true(before[t] == after[t]);
    for (int t = 3; t < 8; t++) assert_true(before[t] != after[t]);
    for (int t = 8; t < 16; t++) assert_true(before[t] == after[t]);
    free(p);
}

static void test_lone_position_ignores_q_and_k(void **state) {
    (void)state;
    /* With T = 1 each head's softmax is over one score, exactly 1, so attention returns v and
     * the loss cannot depend on the q and k slices of qkv; it must depend on the v slice. */
    double *p = random_params(small, 6);
    int in = 7, tg = 11;
    const size_t D = (size_t)small.D;
    for (int l = 0; l < small.L; l++) {
        size_t w = ref_param_offset(small, "qkv_w", l, NULL), b = ref_param_offset(small, "qkv_b", l, NULL);
        for (size_t r = 0; r < 2 * D; r += 5) {
            assert_true(ref_model_fd_grad(small, p, w + r * D + r % D, 1e-3, &in, &tg, 1, 1) == 0.0);
            assert_true(ref_model_fd_grad(small, p, b + r, 1e-3, &in, &tg, 1, 1) == 0.0);
        }
        double vsum = 0;
        for (size_t r = 2 * D; r < 3 * D; r++)
            vsum += fabs(ref_model_fd_grad(small, p, b + r, 1e-5, &in, &tg, 1, 1));
        assert_true(vsum > 1e-6);
    }
    free(p);
}

static void test_heads_are_contiguous_blocks(void **state) {
    (void)state;
    /* Swapping heads 0 and 2 everywhere they appear (their q, k, v rows of qkv and the matching
     * columns of proj_w) must leave the loss unchanged if head h owns features h*D/H..; with any
     * other assignment of features to heads the swap would mix heads and change it. */
    double *p = random_params(small, 7);
    int in[16], tg[16];
    random_tokens(in, 16, small.V, 8);
    random_tokens(tg, 16, small.V, 9);
    const double base = ref_model_loss(small, p, in, tg, 2, 8);
    const int D = small.D, hs = small.D / small.H;
    for (int l = 0; l < small.L; l++) {
        double *w = p + ref_param_offset(small, "qkv_w", l, NULL);
        double *b = p + ref_param_offset(small, "qkv_b", l, NULL);
        double *pw = p + ref_param_offset(small, "proj_w", l, NULL);
        for (int part = 0; part < 3; part++)
            for (int j = 0; j < hs; j++) {
                int r0 = part * D + 0 * hs + j, r2 = part * D + 2 * hs + j;
                for (int i = 0; i < D; i++) {
                    double t = w[r0 * D + i]; w[r0 * D + i] = w[r2 * D + i]; w[r2 * D + i] = t;
                }
                double t = b[r0]; b[r0] = b[r2]; b[r2] = t;
            }
        for (int o = 0; o < D; o++)
            for (int j = 0; j < hs; j++) {
                double t = pw[o * D + j]; pw[o * D + j] = pw[o * D + 2 * hs + j]; pw[o * D + 2 * hs + j] = t;
            }
    }
    assert_close(ref_model_loss(small, p, in, tg, 2, 8), base, 1e-12);
    /* Control: swapping only the k rows of heads 0 and 2 in layer 0 does change it. */
    double *w = p + ref_param_offset(small, "qkv_w", 0, NULL);
    for (int j = 0; j < hs; j++)
        for (int i = 0; i < D; i++) {
            int r0 = D + j, r2 = D + 2 * hs + j;
            double t = w[r0 * D + i]; w[r0 * D + i] = w[r2 * D + i]; w[r2 * D + i] = t;
        }
    assert_true(fabs(ref_model_loss(small, p, in, tg, 2, 8) - base) > 1e-9);
    free(p);
}

static void test_unused_wpe_rows_have_zero_gradient(void **state) {
    (void)state;
    /* T = 5 < maxT = 8: rows 5..7 of wpe are never read, so their finite difference is exactly 0
     * (tied weights rule out using wte rows for this: every row feeds a logit). */
    double *p = random_params(small, 10);
    double *copy = malloc(sizeof(double) * ref_param_count(small));
    assert_non_null(copy);
    memcpy(copy, p, sizeof(double) * ref_param_count(small));
    int in[10], tg[10];
    random_tokens(in, 10, small.V, 11);
    random_tokens(tg, 10, small.V, 12);
    const size_t wpe = ref_param_offset(small, "wpe", 0, NULL), D = (size_t)small.D;
    for (size_t i = 5 * D; i < 8 * D; i++)
        assert_true(ref_model_fd_grad(small, p, wpe + i, 1e-3, in, tg, 2, 5) == 0.0);
    double used = 0;
    for (size_t i = 4 * D; i < 5 * D; i++) used += fabs(ref_model_fd_grad(small, p, wpe + i, 1e-5, in, tg, 2, 5));
    assert_true(used > 1e-6);
    assert_memory_equal(p, copy, sizeof(double) * ref_param_count(small));
    free(copy);
    free(p);
}

static void test_invalid_arguments(void **state) {
    (void)state;
    double *p = random_params(small, 13);
    int in[9] = {0}, tg[9] = {0};
    assert_true(isnan(ref_model_loss(small, p, in, tg, 1, 9))); /* T > maxT */
    in[2] = small.V;
    assert_true(isnan(ref_model_loss(small, p, in, tg, 1, 4))); /* token out of range */
    in[2] = 0;
    tg[1] = -1;
    assert_true(isnan(ref_model_loss(small, p, in, tg, 1, 4)));
    tg[1] = 0;
    RefConfig odd = small;
    odd.H = 3; /* D = 16 is not a multiple of 3 */
    assert_true(isnan(ref_model_loss(odd, p, in, tg, 1, 4)));
    assert_false(isnan(ref_model_loss(small, p, in, tg, 1, 4)));
    free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_count),
        cmocka_unit_test(test_offsets_tile_buffer_in_design_order),
        cmocka_unit_test(test_zero_params_give_ln_V),
        cmocka_unit_test(test_zero_layer_by_hand),
        cmocka_unit_test(test_matches_independent_transcription),
        cmocka_unit_test(test_causality),
        cmocka_unit_test(test_lone_position_ignores_q_and_k),
        cmocka_unit_test(test_heads_are_contiguous_blocks),
        cmocka_unit_test(test_unused_wpe_rows_have_zero_gradient),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
