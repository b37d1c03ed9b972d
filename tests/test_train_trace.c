/* test_train_trace.c - `train --trace` through the program: for every
 * trainer the file is strict JSON in the Chrome Trace Event Format whose
 * spans add up to the per-thread totals `train --json` writes for the same
 * run (support/trace_check.c), and the trace is an output like the others:
 * it may not overwrite the data. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/testutil.h"
#include "support/trace_check.h"

static void test_train_trace(void **state) {
    (void)state;
    char text[TU_PATH_MAX], tok[TU_PATH_MAX], trace[TU_PATH_MAX], run[TU_PATH_MAX];
    tu_path(text, "corpus.txt");
    tu_path(tok, "corpus.tok");
    TuRun r;
    tu_cli(&r, "corpus", "--out", text, "--bytes", "60000", NULL);
    tu_assert_succeeded(&r);
    tu_run_free(&r);
    tu_cli(&r, "tokenize", text, "--out", tok, "--vocab", "300", NULL);
    tu_assert_succeeded(&r);
    tu_run_free(&r);
    static const char *const variants[] = {"serial", "flat", "sphere", "sharded"};
    static const char *const threads[] = {"1", "3", "7", "3"};
    for (int v = 0; v < 4; v++) {
        tu_path(trace, "train-trace.json");
        tu_path(run, "train-run.json");
        tu_cli(&r, "train", "--variant", variants[v], "--threads", threads[v], "--fanout", "2", "--model", "tiny",
               "--data", tok, "--batch", "2", "--batches", "9", "--batches-per-step", "4", "--quiet", "--json", run,
               "--trace", trace, NULL);
        tu_assert_succeeded(&r);
        assert_contains(r.out, "wrote");
        tu_run_free(&r);
        check_trace(trace, run, 9, "0");
    }
    /* the trace is an output like the others: it may not overwrite the data */
    tu_cli(&r, "train", "--model", "tiny", "--data", tok, "--batches", "2", "--trace", tok, NULL);
    tu_assert_failed_with(&r, "--trace");
    tu_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_trace),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
