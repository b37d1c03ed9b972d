/* test_trainer.c - the registry of trainers and the checks of the skeleton
 * every trainer shares (variants/variant.c, variants/team.c).
 *
 * The names string is made from the same list as the registry: it must list
 * every registered trainer's name, in order, and find each. The skeleton's
 * checks refuse thread counts outside the range, negative batches per step,
 * and a run too large for the machine, with messages that say so. Every
 * trainer says its defaults (threads, batches per step) and trains by them,
 * and a step's batch count is batches per step but for the last. */
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

typedef struct {
    int threads, batches_per_step;
} Seen;

static void see_run(const RunResult *res, void *ctx) {
    Seen *seen = ctx;
    seen->threads = res->n_threads;
    seen->batches_per_step = res->batches_per_step;
}

/* At its default threads and at 5 (serial: 1), a config that gives no batches
 * per step trains at the trainer's stated default, and one that gives 3 at 3. */
static void test_every_trainer_says_its_defaults(void **state) {
    (void)state;
    static const ModelConfig tiny = {.V = 32, .T = 8, .D = 16, .L = 2, .H = 4};
    TokenFile tf = td_random_tokens(32, 12, 2, 8, 1);
    for (const Variant *const *v = variant_all(); *v; v++) {
        const Variant *t = *v;
        assert_true(t->default_threads >= t->min_threads && t->default_threads <= VARIANT_MAX_THREADS);
        assert_non_null(t->default_batches_per_step);
        assert_non_null(t->batches_per_step_doc);
        const int threads[] = {t->default_threads, t->min_threads > 1 || t->default_threads > 1 ? 5 : 1};
        for (int i = 0; i < 2; i++)
            for (int given = 0; given <= 3; given += 3) {
                VariantConfig c = td_config(&tf, tiny, 2, 8, threads[i], given);
                int want = variant_batches_per_step(t, &c);
                assert_int_equal(want, given ? given : t->default_batches_per_step(&c));
                assert_true(want >= 1);
                Seen seen = {0, 0};
                free(td_train(t, &c, 0, 12, see_run, &seen));
                assert_int_equal(seen.threads, threads[i]);
                assert_int_equal(seen.batches_per_step, want);
            }
    }
    /* a config the trainer refuses still gets a usable answer */
    VariantConfig bad = td_config(&tf, tiny, 2, 8, 0, 0);
    for (const Variant *const *v = variant_all(); *v; v++) assert_true((*v)->default_batches_per_step(&bad) >= 1);
    free(tf.ids);
}

static void test_step_batches(void **state) {
    (void)state;
    assert_int_equal(train_step_batches(10, 0, 4), 4);
    assert_int_equal(train_step_batches(10, 4, 4), 4);
    assert_int_equal(train_step_batches(10, 8, 4), 2);
    assert_int_equal(train_step_batches(3, 0, 8), 3);
    assert_int_equal(train_step_count(10, 4), 3);
}

static void test_skeleton_checks(void **state) {
    (void)state;
    static const ModelConfig tiny = {.V = 32, .T = 8, .D = 16, .L = 2, .H = 4};
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
        cmocka_unit_test(test_every_trainer_says_its_defaults),
        cmocka_unit_test(test_step_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
