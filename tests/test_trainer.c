/* test_trainer.c - the registry of trainers and the checks of the skeleton
 * every trainer shares (variants/variant.c, variants/team.c).
 *
 * The names string is made from the same list as the registry: it must list
 * every registered trainer's name, in order, and find each. The skeleton's
 * checks refuse thread counts outside the range, negative batches per step,
 * and a run too large for the machine, with messages that say so. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../variants/team.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

static void test_names_come_from_the_registry(void **state) {
    (void)state;
    char want[256] = "";
    size_t len = 0;
    int n = 0;
    for (const Variant *const *v = variant_all(); *v; v++, n++) {
        len += (size_t)snprintf(want + len, sizeof want - len, "%s%s", n ? ", " : "", (*v)->name);
        assert_true(len < sizeof want);
        assert_ptr_equal(variant_find((*v)->name), *v);
        assert_non_null((*v)->create);
        assert_non_null((*v)->run);
        assert_non_null((*v)->destroy);
    }
    assert_true(n >= 3);
    assert_string_equal(variant_names(), want);
    assert_null(variant_find("nonesuch"));
    assert_null(variant_find(NULL));
}

static void test_skeleton_checks(void **state) {
    (void)state;
    static const ModelConfig tiny = {32, 8, 16, 2, 4};
    TokenFile tf = td_random_tokens(32, 4, 2, 8, 1);
    VariantConfig c = td_config(&tf, tiny, 2, 8, 4, 0);
    sb_error err;
    assert_int_equal(team_check_config(&c, "x", 2, "why", &err), SB_OK);
    static const int bad[] = {0, 1, -3, VARIANT_MAX_THREADS + 1};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        c.threads = bad[k];
        assert_int_equal(team_check_config(&c, "x", 2, "why", &err), SB_ECONFIG);
        assert_contains(err.msg, "threads");
        assert_contains(err.msg, "why");
    }
    c.threads = 4;
    c.batches_per_step = -1;
    assert_int_equal(team_check_config(&c, "x", 2, "why", &err), SB_ECONFIG);
    assert_contains(err.msg, "per step");
    c.batches_per_step = 0;
    c.model.H = 3; /* D=16 does not split into 3 heads */
    assert_int_equal(team_check_config(&c, "x", 2, "why", &err), SB_ECONFIG);
    assert_int_equal(team_check_memory("x", 4, 1e6, &err), SB_OK);
    assert_int_equal(team_check_memory("x", 4, 1e18, &err), SB_ECONFIG);
    assert_contains(err.msg, "GB");
    assert_contains(err.msg, "fewer threads");
    free(tf.ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_come_from_the_registry),
        cmocka_unit_test(test_skeleton_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
