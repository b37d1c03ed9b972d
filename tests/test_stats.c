/* Tests of the statistics (bench/stats.c) against cases worked by hand:
 * identical samples, clearly separated samples, overlapping samples, one
 * repetition; the summary of a sample; and the verdict read from an
 * interval alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../bench/stats.h"
#include "support/testutil.h"

static void test_describe(void **state) {
    (void)state;
    /* 2 4 4 4 5 5 7 9: mean 5, squares sum 32, sd sqrt(32/7), median 4.5 */
    double v[] = {9, 4, 5, 4, 2, 4, 7, 5};
    SampleStats s;
    stats_describe(&s, v, 8);
    assert_int_equal(s.n, 8);
    assert_close(s.mean, 5.0, 1e-12);
    assert_close(s.median, 4.5, 1e-12);
    assert_close(s.sd, sqrt(32.0 / 7.0), 1e-12);
    assert_close(s.cv, sqrt(32.0 / 7.0) / 5.0, 1e-12);
    assert_close(s.min, 2.0, 0);
    assert_close(s.max, 9.0, 0);
    assert_close(s.spread, 7.0 / 4.5, 1e-12);
    assert_close(v[0], 9.0, 0); /* the input is left as it was */
}

static void test_one_repetition(void **state) {
    (void)state;
    double a[] = {3.0}, b[] = {1.0, 1.1, 0.9};
    SampleStats s;
    stats_describe(&s, a, 1);
    assert_close(s.median, 3.0, 0);
    assert_close(s.mean, 3.0, 0);
    assert_true(isnan(s.sd) && isnan(s.cv) && isnan(s.spread)); /* no spread from one run, not 0 % */
    RatioCI ci;
    stats_ratio_ci(&ci, a, 1, b, 3, STATS_BOOT_SEED);
    assert_close(ci.ratio, 3.0, 1e-12);
    assert_true(isnan(ci.lo) && isnan(ci.hi));
    assert_int_equal(stats_verdict(&ci), VERDICT_NONE);
    assert_null(stats_verdict_text(VERDICT_NONE));
    stats_ratio_ci(&ci, b, 3, a, 1, STATS_BOOT_SEED);
    assert_int_equal(stats_verdict(&ci), VERDICT_NONE);
}

/* Every resample of identical samples has the same median: the interval is one point. */
static void test_identical(void **state) {
    (void)state;
    double a[] = {2, 2, 2, 2}, b[] = {1, 1, 1};
    RatioCI ci;
    stats_ratio_ci(&ci, a, 4, b, 3, STATS_BOOT_SEED);
    assert_close(ci.ratio, 2.0, 0);
    assert_close(ci.lo, 2.0, 0);
    assert_close(ci.hi, 2.0, 0);
    assert_int_equal(stats_verdict(&ci), VERDICT_FASTER);
    stats_ratio_ci(&ci, b, 3, b, 3, STATS_BOOT_SEED); /* the same on both sides: exactly 1, unresolved */
    assert_close(ci.lo, 1.0, 0);
    assert_close(ci.hi, 1.0, 0);
    assert_int_equal(stats_verdict(&ci), VERDICT_UNRESOLVED);
}

/* Separated: every resampled median of a lies in 10..12 and of b in 1..3, so
 * every resampled ratio lies in 10/3..12/1 and so does the interval. */
static void test_separated(void **state) {
    (void)state;
    double a[] = {10, 11, 12}, b[] = {1, 2, 3};
    RatioCI ci;
    stats_ratio_ci(&ci, a, 3, b, 3, STATS_BOOT_SEED);
    assert_close(ci.ratio, 5.5, 1e-12);
    assert_true(ci.lo >= 10.0 / 3.0 && ci.hi <= 12.0 && ci.lo <= ci.ratio && ci.ratio <= ci.hi);
    assert_int_equal(stats_verdict(&ci), VERDICT_FASTER);
    stats_ratio_ci(&ci, b, 3, a, 3, STATS_BOOT_SEED);
    assert_true(ci.lo >= 1.0 / 12.0 && ci.hi <= 0.3);
    assert_int_equal(stats_verdict(&ci), VERDICT_SLOWER);
    assert_string_equal(stats_verdict_text(stats_verdict(&ci)), "slower");
}

/* Overlapping: {1,2,3} against itself. A resampled median of 3 values is 1,
 * 2 or 3 with chances 7/27, 13/27, 7/27, so the resampled ratio is below 1
 * with chance (1 - (49 + 169 + 49) / 729) / 2 = 0.317 and above 1 as often:
 * both 2.5 % tails reach past 1 (the lowest ratio, 1/3, has chance 49/729 =
 * 6.7 %, so the 2.5 % point is 1/3, and likewise 3 at the top). */
static void test_overlapping(void **state) {
    (void)state;
    double a[] = {1, 2, 3}, b[] = {3, 1, 2};
    RatioCI ci;
    stats_ratio_ci(&ci, a, 3, b, 3, STATS_BOOT_SEED);
    assert_close(ci.ratio, 1.0, 0);
    assert_close(ci.lo, 1.0 / 3.0, 1e-12);
    assert_close(ci.hi, 3.0, 1e-12);
    assert_int_equal(stats_verdict(&ci), VERDICT_UNRESOLVED);
    assert_string_equal(stats_verdict_text(VERDICT_UNRESOLVED), "no difference resolved at this number of repetitions");
}

/* The same samples and seed give the same interval; the interval scales. */
static void test_deterministic_and_scale(void **state) {
    (void)state;
    double a[] = {1.00, 1.07, 0.98, 1.12, 1.03, 0.95, 1.01, 1.09, 1.04}, b[] = {1.0, 1.02, 0.97, 1.05, 0.99, 1.01};
    RatioCI x, y;
    stats_ratio_ci(&x, a, 9, b, 6, STATS_BOOT_SEED);
    stats_ratio_ci(&y, a, 9, b, 6, STATS_BOOT_SEED);
    assert_true(x.lo == y.lo && x.hi == y.hi);
    assert_true(x.lo < x.ratio && x.ratio < x.hi);
    RatioCI h = stats_ci_scale(x, 0.5);
    assert_close(h.lo, 0.5 * x.lo, 1e-15);
    assert_close(h.hi, 0.5 * x.hi, 1e-15);
    /* a verdict is the interval's alone: a ratio of 1.5 whose interval holds 1 is unresolved */
    RatioCI wide = {.ratio = 1.5, .lo = 0.9, .hi = 2.0}, above = {.ratio = 1.01, .lo = 1.001, .hi = 1.02};
    assert_int_equal(stats_verdict(&wide), VERDICT_UNRESOLVED);
    assert_int_equal(stats_verdict(&above), VERDICT_FASTER);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe),      cmocka_unit_test(test_one_repetition),
        cmocka_unit_test(test_identical),     cmocka_unit_test(test_separated),
        cmocka_unit_test(test_overlapping),   cmocka_unit_test(test_deterministic_and_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
