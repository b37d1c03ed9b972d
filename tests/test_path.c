/* Tests of core/path: joins that fit are exact, joins that do not fit fail with a message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "../core/path.h"

static void test_join_forms(void **state) {
    (void)state;
    char out[64];
    sb_error err = {0};
    assert_int_equal(path_join(out, sizeof out, "results/run", "runs.csv", &err), SB_OK);
    assert_string_equal(out, "results/run/runs.csv");
    assert_int_equal(path_join(out, sizeof out, "results/", "runs.csv", &err), SB_OK);
    assert_string_equal(out, "results/runs.csv");
    assert_int_equal(path_join(out, sizeof out, "", "runs.csv", &err), SB_OK);
    assert_string_equal(out, "runs.csv");
    assert_int_equal(path_suffix(out, sizeof out, "data/corpus.tok", ".vocab", &err), SB_OK);
    assert_string_equal(out, "data/corpus.tok.vocab");
}

/* Exactly cap-1 characters fit; one more is refused, leaving "" and naming the path. */
static void test_too_long_is_refused(void **state) {
    (void)state;
    char out[8];
    sb_error err = {0};
    assert_int_equal(path_join(out, sizeof out, "abc", "def", &err), SB_OK); /* 7 characters */
    assert_string_equal(out, "abc/def");
    assert_int_equal(path_join(out, sizeof out, "abc", "defg", &err), SB_EARG);
    assert_string_equal(out, "");
    assert_non_null(strstr(err.msg, "path too long"));
    assert_non_null(strstr(err.msg, "abc/defg"));
    assert_int_equal(path_suffix(out, sizeof out, "abcdef", ".xy", &err), SB_EARG);
    assert_non_null(strstr(err.msg, "abcdef.xy"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_forms),
        cmocka_unit_test(test_too_long_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
