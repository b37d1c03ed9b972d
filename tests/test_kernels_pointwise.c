/* test_kernels_pointwise.c - the fast GELU and softmax/cross-entropy kernels
 * against their plain references (core/gelu.c, core/crossentropy.c).
 *
 * Sizes: 1, 3, 15, 16, 17, 33 and 5005 (the vocabulary), so every tail length
 * class is hit; rows are odd in number. Outputs start as NaN with NaN guards
 * after the end, so a skipped element fails the comparison and a write past
 * the end is caught. Tolerances, from the error of the vector math
 * (vtanh16 about 1e-7 absolute, vexp16 about 2 ulp) and float rounding:
 *   GELU forward: |fast - ref| <= 1e-6 (1 + |ref|);
 *   GELU backward: |fast - ref| <= 1e-6 (|dout| + |ref|) + 2e-7 a(x) |dout|,
 *     where a(x) = |x| 0.5 sqrt(2/pi) (1 + 0.134145 x^2) is the factor by
 *     which the formula's sech^2 = 1 - tanh^2 multiplies an error in tanh:
 *     near |x| = 5, tanh is within 1e-7 of 1 and a(x) is about 8, so both
 *     versions are about 1e-6 from exact there (measured: worst |fast - ref|
 *     is 0.56 times this bound);
 *   softmax probabilities: |fast - ref| <= 1e-6 and
 *     |fast - ref| <= 1e-5 |ref| + 1e-30 (the fast row sum is in float lanes,
 *     the reference's in double; the relative test checks the tiny ones too);
 *   loss: |fast - ref| <= 1e-5; each row sums to 1 within 1e-5;
 *   a row of zero logits has loss log(V) within 1e-5;
 *   backward: the same arithmetic as the reference, so the same bits.
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

static const int SIZES[] = {1, 3, 15, 16, 17, 33, 5005};
#define NSIZES ((int)(sizeof(SIZES) / sizeof(SIZES[0])))

/* GELU inputs: mostly in [-6, 6], some +-20 and beyond, a few exact values. */
static void gelu_inputs(float *x, int n, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    static const float special[] = {0.0f, -0.0f, 1e-4f, -1e-4f, 20.0f, -20.0f, 3.0f, -3.0f, 50.0f, -50.0f};
    for (int i = 0; i < n; i++) {
        uint32_t k = rng_below(&r, 8);
        if (k == 0) x[i] = kb_uniform(&r, -25.0f, 25.0f);
        else if (k == 1) x[i] = special[rng_below(&r, 10)];
        else x[i] = kb_uniform(&r, -6.0f, 6.0f);
    }
}

static void check_close(const float *fast, const float *ref, int n, float tol_abs, float tol_rel, float *worst) {
    for (int i = 0; i < n; i++) {
        float err = fabsf(fast[i] - ref[i]);
        if (!(err <= tol_abs + tol_rel * fabsf(ref[i])))
            fail_msg("element %d of %d: fast %.9g ref %.9g (err %.3g)", i, n, fast[i], ref[i], err);
        float scaled = err / (1.0f + fabsf(ref[i]));
        if (scaled > *worst) *worst = scaled;
    }
}

static void test_gelu_forward_matches_ref(void **state) {
    (void)state;
    float worst = 0.0f;
    for (int s = 0; s < NSIZES; s++) {
        int n = SIZES[s];
        float *x = malloc((size_t)n * sizeof(float));
        float *ref = kb_nan_buffer((size_t)n), *fast = kb_nan_buffer((size_t)n), *again = kb_nan_buffer((size_t)n);
        gelu_inputs(x, n, 100 + (uint64_t)n);
        gelu_forward_ref(ref, x, n);
        gelu_forward(fast, x, n);
        check_close(fast, ref, n, 1e-6f, 1e-6f, &worst);
        kb_assert_guard_intact(fast, (size_t)n);
        /* bitwise the same on a second call and from/to shifted buffers */
        gelu_forward(again, x, n);
        assert_memory_equal(fast, again, (size_t)n * sizeof(float));
        float *xs = malloc(((size_t)n + 1) * sizeof(float));
        memcpy(xs + 1, x, (size_t)n * sizeof(float));
        gelu_forward(again + 1, xs + 1, n);
        assert_memory_equal(fast, again + 1, (size_t)n * sizeof(float));
        free(xs);
        free(x);
        free(ref);
        free(fast);
        free(again);
    }
    print_message("gelu_forward: worst |fast-ref|/(1+|ref|) = %.3g\n", (double)worst);
}

static void test_gelu_backward_matches_ref(void **state) {
    (void)state;
    float worst = 0.0f;
    for (int s = 0; s < NSIZES; s++) {
        int n = SIZES[s];
        float *x = malloc((size_t)n * sizeof(float)), *dout = malloc((size_t)n * sizeof(float));
        float *ref = kb_nan_buffer((size_t)n), *fast = kb_nan_buffer((size_t)n), *again = kb_nan_buffer((size_t)n);
        gelu_inputs(x, n, 200 + (uint64_t)n);
        Rng r;
        rng_seed(&r, 300 + (uint64_t)n);
        for (int i = 0; i < n; i++) dout[i] = kb_uniform(&r, -2.0f, 2.0f);
        gelu_backward_ref(ref, x, dout, n);
        gelu_backward(fast, x, dout, n);
        for (int i = 0; i < n; i++) {
            double xi = x[i], amp = fabs(xi) * 0.5 * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * xi * xi);
            double err = fabs((double)fast[i] - (double)ref[i]);
            double tol = 1e-6 * (fabs(dout[i]) + fabs(ref[i])) + 2e-7 * amp * fabs(dout[i]);
            if (!(err <= tol))
                fail_msg("element %d of %d: x %.9g fast %.9g ref %.9g (err %.3g, tol %.3g)", i, n, x[i], fast[i],
                         ref[i], err, tol);
            if (err / tol > worst) worst = (float)(err / tol);
        }
        kb_assert_guard_intact(fast, (size_t)n);
        gelu_backward(again, x, dout, n);
        assert_memory_equal(fast, again, (size_t)n * sizeof(float));
        float *xs = malloc(((size_t)n + 3) * sizeof(float)), *ds = malloc(((size_t)n + 3) * sizeof(float));
        memcpy(xs + 3, x, (size_t)n * sizeof(float));
        memcpy(ds + 1, dout, (size_t)n * sizeof(float));
        gelu_backward(again + 2, xs + 3, ds + 1, n);
        assert_memory_equal(fast, again + 2, (size_t)n * sizeof(float));
        free(xs);
        free(ds);
        free(x);
        free(dout);
        free(ref);
        free(fast);
        free(again);
    }
    print_message("gelu_backward: worst |fast-ref| / tolerance = %.3g\n", (double)worst);
}

/* GELU at a few known points: gelu(0) = 0, gelu(x) -> x and -> 0 at +-20,
 * gelu'(0) = 0.5. */
static void test_gelu_known_values(void **state) {
    (void)state;
    float x[5] = {0.0f, 20.0f, -20.0f, 1.0f, -1.0f}, y[5], d[5], one[5] = {1, 1, 1, 1, 1};
    gelu_forward(y, x, 5);
    gelu_backward(d, x, one, 5);
    assert_true(y[0] == 0.0f);
    assert_true(fabsf(y[1] - 20.0f) <= 1e-6f);
    assert_true(fabsf(y[2]) <= 1e-6f);
    assert_true(fabsf(y[3] - 0.841192f) <= 1e-5f); /* 0.5 (1 + tanh(sqrt(2/pi) 1.044715)) */
    assert_true(fabsf(y[4] + 0.158808f) <= 1e-5f);
    assert_true(fabsf(d[0] - 0.5f) <= 1e-6f);
    assert_true(fabsf(d[1] - 1.0f) <= 1e-6f);
    assert_true(fabsf(d[2]) <= 1e-6f);
}

/* N rows of V logits: row kinds cycle through spread +-30, small spread,
 * all very negative (so a tail padded with 0 instead of -inf would win the
 * max), all zero, and one dominant logit. */
static void softmax_inputs(float *logits, int *targets, int N, int V, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int n = 0; n < N; n++) {
        float *row = logits + (size_t)n * V;
        int kind = n % 5;
        for (int v = 0; v < V; v++) {
            switch (kind) {
            case 0: row[v] = kb_uniform(&r, -30.0f, 30.0f); break;
            case 1: row[v] = kb_uniform(&r, -1.0f, 1.0f); break;
            case 2: row[v] = kb_uniform(&r, -1030.0f, -1000.0f); break;
            case 3: row[v] = 0.0f; break;
            default: row[v] = kb_uniform(&r, -3.0f, 3.0f); break;
            }
        }
        if (kind == 4) row[rng_below(&r, (uint32_t)V)] = 40.0f;
        targets[n] = (int)rng_below(&r, (uint32_t)V);
    }
}

static void test_softmax_forward_matches_ref(void **state) {
    (void)state;
    const int Ns[] = {1, 5, 7};
    double worst_abs = 0, worst_rel = 0, worst_loss = 0;
    for (int s = 0; s < NSIZES; s++) {
        for (int k = 0; k < 3; k++) {
            int V = SIZES[s], N = Ns[k];
            size_t total = (size_t)(unsigned)N * (unsigned)V;
            float *logits = malloc(total * sizeof(float));
            int *targets = malloc((size_t)N * sizeof(int));
            softmax_inputs(logits, targets, N, V, 1000 + (uint64_t)(V * 10 + N));
            float *ref = kb_nan_buffer(total), *fast = kb_nan_buffer(total), *again = kb_nan_buffer(total + 1);
            float *lref = kb_nan_buffer((size_t)N), *lfast = kb_nan_buffer((size_t)N), *lagain = kb_nan_buffer((size_t)N);
            memcpy(ref, logits, total * sizeof(float));
            memcpy(fast, logits, total * sizeof(float));
            softmax_crossentropy_forward_ref(ref, lref, targets, N, V);
            softmax_crossentropy_forward(fast, lfast, targets, N, V);
            kb_assert_guard_intact(fast, total);
            kb_assert_guard_intact(lfast, (size_t)N);
            for (int n = 0; n < N; n++) {
                const float *pf = fast + (size_t)n * V, *pr = ref + (size_t)n * V;
                double rowsum = 0;
                for (int v = 0; v < V; v++) {
                    double e = fabs((double)pf[v] - (double)pr[v]);
                    if (!(e <= 1e-6 && e <= 1e-5 * fabs((double)pr[v]) + 1e-30))
                        fail_msg("V %d N %d row %d col %d: fast %.9g ref %.9g", V, N, n, v, pf[v], pr[v]);
                    if (e > worst_abs) worst_abs = e;
                    if (pr[v] > 0 && e / pr[v] > worst_rel) worst_rel = e / pr[v];
                    rowsum += pf[v];
                }
                assert_true(fabs(rowsum - 1.0) <= 1e-5);
                double le = fabs((double)lfast[n] - (double)lref[n]);
                if (!(le <= 1e-5))
                    fail_msg("V %d N %d row %d: loss fast %.9g ref %.9g", V, N, n, lfast[n], lref[n]);
                if (le > worst_loss) worst_loss = le;
                if (n % 5 == 3) /* all-zero logits: uniform, loss log V */
                    assert_true(fabs((double)lfast[n] - log((double)V)) <= 1e-5);
            }
            /* bitwise the same on a second call, and one float off alignment */
            memcpy(again + 1, logits, total * sizeof(float));
            softmax_crossentropy_forward(again + 1, lagain, targets, N, V);
            assert_memory_equal(fast, again + 1, total * sizeof(float));
            assert_memory_equal(lfast, lagain, (size_t)N * sizeof(float));
            memcpy(again, logits, total * sizeof(float));
            softmax_crossentropy_forward(again, lagain, targets, N, V);
            assert_memory_equal(fast, again, total * sizeof(float));
            assert_memory_equal(lfast, lagain, (size_t)N * sizeof(float));
            /* without targets: the same probabilities, losses untouched */
            float *nolos = kb_nan_buffer((size_t)N);
            memcpy(again, logits, total * sizeof(float));
            softmax_crossentropy_forward(again, nolos, NULL, N, V);
            assert_memory_equal(fast, again, total * sizeof(float));
            kb_assert_guard_intact(nolos, 0);
            free(nolos);
            free(logits);
            free(targets);
            free(ref);
            free(fast);
            free(again);
            free(lref);
            free(lfast);
            free(lagain);
        }
    }
    print_message("softmax forward: worst abs %.3g, rel %.3g, loss %.3g\n", worst_abs, worst_rel, worst_loss);
}

static void test_softmax_backward_matches_ref(void **state) {
    (void)state;
    const int Ns[] = {1, 5, 7};
    for (int s = 0; s < NSIZES; s++) {
        for (int k = 0; k < 3; k++) {
            int V = SIZES[s], N = Ns[k];
            size_t total = (size_t)(unsigned)N * (unsigned)V;
            float *probs = malloc(total * sizeof(float));
            int *targets = malloc((size_t)N * sizeof(int));
            float *losses = malloc((size_t)N * sizeof(float));
            softmax_inputs(probs, targets, N, V, 2000 + (uint64_t)(V * 10 + N));
            softmax_crossentropy_forward(probs, losses, targets, N, V);
            float *ref = kb_nan_buffer(total), *fast = kb_nan_buffer(total), *again = kb_nan_buffer(total + 1);
            memcpy(ref, probs, total * sizeof(float));
            memcpy(fast, probs, total * sizeof(float));
            memcpy(again + 1, probs, total * sizeof(float));
            softmax_crossentropy_backward_ref(ref, targets, N, V, N);
            softmax_crossentropy_backward(fast, targets, N, V, N);
            softmax_crossentropy_backward(again + 1, targets, N, V, N);
            assert_memory_equal(fast, ref, total * sizeof(float));
            assert_memory_equal(fast, again + 1, total * sizeof(float));
            kb_assert_guard_intact(fast, total);
            /* each row of the gradient sums to 0 (probabilities sum to 1) */
            for (int n = 0; n < N; n++) {
                double sum = 0;
                for (int v = 0; v < V; v++) sum += fast[(size_t)n * V + v];
                assert_true(fabs(sum) <= 1e-5 / N);
            }
            free(probs);
            free(targets);
            free(losses);
            free(ref);
            free(fast);
            free(again);
        }
    }
}

/* A NaN logit anywhere in a row must make that row's loss NaN, as libm's
 * expf makes the reference's: a diverging run has to show in its loss, not
 * be hidden by a vector exp that maps NaN to 0. Other rows stay finite. */
static void test_softmax_nan_logit_gives_nan_loss(void **state) {
    (void)state;
    const int N = 2, V = 37;
    float *p = malloc(sizeof(float) * N * V), losses[2];
    int targets[2] = {0, 5};
    for (int i = 0; i < N * V; i++) p[i] = 0.01f * (float)(i % 11);
    p[V + 20] = NAN; /* row 1, not its target */
    softmax_crossentropy_forward(p, losses, targets, N, V);
    assert_true(isfinite(losses[0]));
    assert_true(isnan(losses[1]));
    free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gelu_forward_matches_ref),
        cmocka_unit_test(test_gelu_backward_matches_ref),
        cmocka_unit_test(test_gelu_known_values),
        cmocka_unit_test(test_softmax_forward_matches_ref),
        cmocka_unit_test(test_softmax_backward_matches_ref),
        cmocka_unit_test(test_softmax_nan_logit_gives_nan_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
