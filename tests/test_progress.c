/* Tests of the bench's position and ETA (bench/progress.c): the whole
 * bench's time left from the tokens done so far, and how it is printed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../bench/progress.h"
#include "support/testutil.h"

static void test_bench_eta(void **state) {
    (void)state;
    BenchPosition pos = {.run = 2, .runs = 4, .start_s = 100.0, .tokens_done = 100, .tokens_total = 400};
    /* 100 tokens in 10 s: the other 300 take 30 s */
    assert_close(progress_bench_eta(&pos, 100, 110.0), 30.0, 1e-12);
    /* with half of the current run done too: 150 in 10 s, 250 left */
    assert_close(progress_bench_eta(&pos, 150, 110.0), 10.0 * 250 / 150, 1e-12);
    assert_close(progress_bench_eta(&pos, 400, 130.0), 0.0, 1e-12);
    assert_close(progress_bench_eta(&pos, 500, 130.0), 0.0, 1e-12); /* never negative once begun */
    assert_true(progress_bench_eta(&pos, 0, 110.0) < 0);             /* no rate yet */
    assert_true(progress_bench_eta(&pos, 100, 100.0) < 0);
}

static void test_format_duration(void **state) {
    (void)state;
    char b[32];
    static const struct {
        double s;
        const char *want;
    } cases[] = {{0, "0 s"}, {45.4, "45 s"}, {59.6, "1 m 00 s"}, {185, "3 m 05 s"}, {3599, "59 m 59 s"},
                 {7620, "2 h 07 m"}, {-1, "?"}, {INFINITY, "?"}, {NAN, "?"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        progress_format_duration(b, sizeof b, cases[i].s);
        assert_string_equal(b, cases[i].want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_eta),
        cmocka_unit_test(test_format_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
