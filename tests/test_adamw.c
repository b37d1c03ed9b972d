/* Tests of core/adamw: the optimizer against numbers worked out by hand in
 * double (the derivations are in the comments), the step counter that the
 * original project never advanced (the second update must use the bias
 * corrections of t = 2, not those of a stuck t = 1), decoupled weight decay
 * (a zero gradient shrinks a parameter by exactly lr*wd*p and nothing more),
 * the scale invariance of the first step, and the documented defaults. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/adamw.h"
#include "support/testutil.h"

/* lr 0.1, wd 0.01, betas 0.9 / 0.999, eps 1e-8 */
static AdamWConfig hand_config(void) {
    AdamWConfig c = adamw_defaults();
    c.lr = 0.1f;
    c.weight_decay = 0.01f;
    return c;
}

static void test_defaults(void **state) {
    (void)state;
    AdamWConfig c = adamw_defaults();
    assert_true(c.lr == 1e-3f);
    assert_true(c.beta1 == 0.9f);
    assert_true(c.beta2 == 0.999f);
    assert_true(c.eps == 1e-8f);
    assert_true(c.weight_decay == 0.0f);
}

static void test_init_state(void **state) {
    (void)state;
    AdamW opt;
    sb_error err;
    assert_int_equal(adamw_init(&opt, 5, hand_config(), &err), SB_OK);
    assert_int_equal(opt.step, 0);
    assert_int_equal(opt.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_true(opt.m[i] == 0.0f);
        assert_true(opt.v[i] == 0.0f);
    }
    adamw_free(&opt);
    assert_null(opt.m);
    assert_null(opt.v);
    adamw_free(&opt); /* a second free is harmless */
}

/* params {1, -2, 0.5}, lr 0.1, wd 0.01, b1 0.9, b2 0.999, eps 1e-8.
 *
 * Step 1 (t = 1), g = {0.5, 0, -1}:
 *   m = 0.1 g = {0.05, 0, -0.1};  v = 0.001 g^2 = {0.00025, 0, 0.001}
 *   bias corrections 1 - 0.9 = 0.1 and 1 - 0.999 = 0.001, so mhat = g, vhat = g^2
 *   p0: 1 - 0.1 (0.5 / (0.5 + 1e-8) + 0.01 * 1)        = 1 - 0.1 (0.99999998 + 0.01)  = 0.899000002
 *   p1: -2 - 0.1 (0 / (0 + 1e-8) + 0.01 * -2)          = -2 + 0.002                   = -1.998
 *   p2: 0.5 - 0.1 (-1 / (1 + 1e-8) + 0.01 * 0.5)       = 0.5 - 0.1 (-0.99999999 + 0.005) = 0.599499999
 *
 * Step 2 (t = 2), g = {-0.25, 0.3, 0}:
 *   m = 0.9 m + 0.1 g = {0.045 - 0.025, 0.03, -0.09} = {0.02, 0.03, -0.09}
 *   v = 0.999 v + 0.001 g^2 = {0.00024975 + 0.0000625, 0.00009, 0.000999} = {0.00031225, 0.00009, 0.000999}
 *   bias corrections 1 - 0.81 = 0.19 and 1 - 0.998001 = 0.001999
 *   p0: mhat 0.02/0.19 = 0.105263158, vhat 0.00031225/0.001999 = 0.156203102, sqrt 0.395225381,
 *       ratio 0.266337033, wd*p 0.00899000002: 0.899000002 - 0.1 (0.275327033) = 0.871467299
 *   p1: mhat 0.157894737, vhat 0.0450225113, sqrt 0.212185087, ratio 0.744136788, wd*p -0.01998:
 *       -1.998 - 0.1 (0.724156788) = -2.07041568
 *   p2: mhat -0.473684211, vhat 0.499749875, sqrt 0.706929894, ratio -0.670058245, wd*p 0.00599499999:
 *       0.599499999 - 0.1 (-0.664063245) = 0.665906323
 *
 * A counter stuck at t = 1 would use corrections 0.1 and 0.001 again in step 2:
 *   p0: mhat 0.2, vhat 0.31225, ratio 0.357914064 -> 0.862309596
 *   p1: mhat 0.3, vhat 0.09, ratio 0.999999967   -> -2.096002
 *   p2: mhat -0.9, vhat 0.999, ratio -0.900450329 -> 0.688945532
 * which differs from the right answer by about 1e-2 in every element. */
static const float hand_p0[3] = {1.0f, -2.0f, 0.5f};
static const float hand_g1[3] = {0.5f, 0.0f, -1.0f};
static const float hand_g2[3] = {-0.25f, 0.3f, 0.0f};
static const double hand_after1[3] = {0.899000002, -1.998, 0.599499999};
static const double hand_after2[3] = {0.871467299, -2.07041568, 0.665906323};
static const double stuck_after2[3] = {0.862309596, -2.096002, 0.688945532};

static void test_hand_computed_two_steps(void **state) {
    (void)state;
    AdamW opt;
    sb_error err;
    float p[3];
    memcpy(p, hand_p0, sizeof p);
    assert_int_equal(adamw_init(&opt, 3, hand_config(), &err), SB_OK);

    adamw_update(&opt, p, hand_g1);
    assert_int_equal(opt.step, 1);
    /* The moments are float: 1 - 0.999f is 0.00099998713 (1.3e-5 off), so
     * v is checked relatively; the parameters are not affected, because the
     * same error divides out in vhat = v / (1 - beta2^t). */
    for (int i = 0; i < 3; i++) assert_close(p[i], hand_after1[i], 1e-6);
    const double m1[3] = {0.05, 0.0, -0.1}, v1[3] = {0.00025, 0.0, 0.001};
    for (int i = 0; i < 3; i++) {
        assert_close(opt.m[i], m1[i], 1e-7);
        assert_close(opt.v[i], v1[i], 2e-5 * v1[i] + 1e-12);
    }

    adamw_update(&opt, p, hand_g2);
    assert_int_equal(opt.step, 2);
    for (int i = 0; i < 3; i++) assert_close(p[i], hand_after2[i], 1e-6);
    const double m2[3] = {0.02, 0.03, -0.09}, v2[3] = {0.00031225, 0.00009, 0.000999};
    for (int i = 0; i < 3; i++) {
        assert_close(opt.m[i], m2[i], 1e-7);
        assert_close(opt.v[i], v2[i], 2e-5 * v2[i] + 1e-12);
    }
    adamw_free(&opt);
}

/* The original project's counter never advanced: its second update used the
 * bias corrections of t = 1. Ours must be measurably different from that. */
static void test_second_update_is_not_a_stuck_counter(void **state) {
    (void)state;
    AdamW opt;
    sb_error err;
    float p[3];
    memcpy(p, hand_p0, sizeof p);
    assert_int_equal(adamw_init(&opt, 3, hand_config(), &err), SB_OK);
    adamw_update(&opt, p, hand_g1);
    adamw_update(&opt, p, hand_g2);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(p[i] - stuck_after2[i]) > 5e-3);
        assert_close(p[i], hand_after2[i], 1e-6);
    }
    adamw_free(&opt);
}

static void test_step_counts_every_update(void **state) {
    (void)state;
    AdamW opt;
    sb_error err;
    float p[2] = {0.0f, 0.0f}, g[2] = {1.0f, -1.0f};
    assert_int_equal(adamw_init(&opt, 2, adamw_defaults(), &err), SB_OK);
    for (long t = 1; t <= 10; t++) {
        adamw_update(&opt, p, g);
        assert_int_equal(opt.step, t);
    }
    /* A constant gradient keeps mhat = g and vhat = g^2 at every t once the
     * bias corrections are right, so each step moves by lr (to eps): ten
     * steps move by 10 lr. With a wrong t the moments' bias would show. */
    assert_close(p[0], -10 * 1e-3, 1e-7);
    assert_close(p[1], 10 * 1e-3, 1e-7);
    adamw_free(&opt);
}

/* Decoupled weight decay: with a zero gradient (fresh moments) the update is
 * exactly lr * wd * p; the gradient term contributes 0 / (0 + eps) = 0. */
static void test_zero_gradient_weight_decay_only(void **state) {
    (void)state;
    const float p0[4] = {1.0f, -2.0f, 0.5f, 3.25f};
    float p[4], g[4] = {0};
    memcpy(p, p0, sizeof p);
    AdamW opt;
    sb_error err;
    AdamWConfig c = hand_config();
    assert_int_equal(adamw_init(&opt, 4, c, &err), SB_OK);
    adamw_update(&opt, p, g);
    for (int i = 0; i < 4; i++) {
        double expect = (double)p0[i] - 0.1 * 0.01 * (double)p0[i];
        assert_close(p[i], expect, 1e-7 * fabs(p0[i]) + 1e-9);
    }
    adamw_free(&opt);
}

/* Without weight decay a zero gradient leaves the parameters bit for bit. */
static void test_zero_gradient_no_decay_is_identity(void **state) {
    (void)state;
    const float p0[3] = {1.0f, -2.0f, 0.1f};
    float p[3], g[3] = {0};
    memcpy(p, p0, sizeof p);
    AdamW opt;
    sb_error err;
    assert_int_equal(adamw_init(&opt, 3, adamw_defaults(), &err), SB_OK);
    adamw_update(&opt, p, g);
    adamw_update(&opt, p, g);
    assert_memory_equal(p, p0, sizeof p);
    adamw_free(&opt);
}

/* Adam's first step is lr * sign(g) whatever the gradient's scale (as long as
 * |g| >> eps): the property that makes its learning rate meaningful. */
static void test_first_step_is_scale_free(void **state) {
    (void)state;
    const float scales[3] = {1e-3f, 1.0f, 1e3f};
    for (int s = 0; s < 3; s++) {
        float p[2] = {0.0f, 0.0f}, g[2] = {scales[s], -2.0f * scales[s]};
        AdamW opt;
        sb_error err;
        assert_int_equal(adamw_init(&opt, 2, adamw_defaults(), &err), SB_OK);
        adamw_update(&opt, p, g);
        assert_close(p[0], -1e-3, 3e-8);
        assert_close(p[1], 1e-3, 3e-8);
        adamw_free(&opt);
    }
}

/* Slices updated with the shared step number give bitwise what one whole
 * update gives, wherever the slices are cut (vector-aligned or not), and
 * leave opt->step to the caller. Three steps, so t really is passed. */
static void test_range_update_equals_whole(void **state) {
    (void)state;
    enum { N = 103 };
    static const size_t cuts[][4] = {{0, 16, 48, N}, {0, 1, 50, N}, {0, 33, 34, N}, {0, 0, 96, N}};
    float g[N], whole[N];
    for (int i = 0; i < N; i++) {
        whole[i] = 0.01f * (float)(i - 40);
        g[i] = 0.3f * (float)((i * 37) % 11) - 1.1f;
    }
    float p0[N];
    memcpy(p0, whole, sizeof whole);
    AdamW a, b;
    sb_error err;
    AdamWConfig c = hand_config();
    assert_int_equal(adamw_init(&a, N, c, &err), SB_OK);
    for (int t = 1; t <= 3; t++) adamw_update(&a, whole, g);
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        float p[N];
        memcpy(p, p0, sizeof p);
        assert_int_equal(adamw_init(&b, N, c, &err), SB_OK);
        for (long t = 1; t <= 3; t++) {
            for (int s = 2; s >= 0; s--) /* slices in any order */
                adamw_update_range(&b, t, p, g, cuts[k][s], cuts[k][s + 1]);
            assert_int_equal(b.step, 0);
        }
        assert_memory_equal(p, whole, sizeof p);
        assert_memory_equal(b.m, a.m, sizeof(float) * N);
        assert_memory_equal(b.v, a.v, sizeof(float) * N);
        adamw_free(&b);
    }
    /* and a range update with the wrong t differs: the test can fail */
    float p[N];
    memcpy(p, p0, sizeof p);
    assert_int_equal(adamw_init(&b, N, c, &err), SB_OK);
    for (long t = 1; t <= 3; t++) adamw_update_range(&b, 1, p, g, 0, N);
    assert_memory_not_equal(p, whole, sizeof p);
    adamw_free(&b);
    adamw_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_init_state),
        cmocka_unit_test(test_hand_computed_two_steps),
        cmocka_unit_test(test_second_update_is_not_a_stuck_counter),
        cmocka_unit_test(test_step_counts_every_update),
        cmocka_unit_test(test_zero_gradient_weight_decay_only),
        cmocka_unit_test(test_zero_gradient_no_decay_is_identity),
        cmocka_unit_test(test_first_step_is_scale_free),
        cmocka_unit_test(test_range_update_equals_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
