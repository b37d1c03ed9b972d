/* Tests of `make compare` (report/compare.py) on synthetic run folders, and
 * of gbench.json (bench/gbench_json.c) as Google Benchmark's own compare.py
 * reads it. Both tools are run as a user runs them, through the shell:
 *   - B 20 % slower than A over 9 repetitions with 3 % noise: every
 *     configuration resolved "slower", exit 1 under --fail-above 10 and 0
 *     under --fail-above 30 (the slowdown is not beyond 30 %);
 *   - B the same as A but for its noise: nothing resolved, exit 0;
 *   - one repetition: "n/a", no verdict; a missing folder: exit 2;
 *   - gbench.json from synthetic runs: compare.py prints every configuration
 *     and its U test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../bench/gbench_json.h"
#include "../core/path.h"
#include "../core/presets.h"
#include "support/testutil.h"

#define GBENCH_COMPARE "/usr/share/benchmark/compare.py"

/* Nine multipliers within +-3 %, two orders of them so A and B differ by noise. */
static const double noise_a[9] = {1.00, 1.03, 0.98, 1.01, 0.97, 1.02, 0.99, 1.03, 0.97};
static const double noise_b[9] = {0.99, 0.97, 1.02, 1.03, 1.00, 0.98, 1.01, 0.97, 1.03};

/* A run folder holding only runs.csv: two configurations at `scale` x their base rate. */
static void write_folder(char *dir, const char *name, double scale, const double *noise, int reps) {
    tu_path(dir, name);
    mkdir(dir, 0755);
    char path[SB_PATH_MAX];
    sb_error err;
    assert_int_equal(path_join(path, sizeof path, dir, "runs.csv", &err), SB_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "kind,variant,route,threads,rep,batch_tokens,tokens_per_s\n");
    for (int r = 0; r < reps; r++) {
        fprintf(f, "sweep,flat,none,4,%d,4096,%.3f\n", r + 1, 20000.0 * scale * noise[r]);
        fprintf(f, "route,sphere,steal,64,%d,4096,%.3f\n", r + 1, 30000.0 * scale * noise[(r + 4) % 9]);
    }
    fclose(f);
}

/* Runs a shell command; its exit status, its output into out (malloc'd). */
static int shell(const char *cmd, char **out) {
    char full[4 * SB_PATH_MAX], path[SB_PATH_MAX];
    tu_path(path, "compare.out");
    assert_true(snprintf(full, sizeof full, "%s > '%s' 2>&1", cmd, path) < (int)sizeof full);
    int st = system(full);
    size_t n;
    *out = (char *)tu_read_file(path, &n);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int compare(const char *a, const char *b, const char *extra, char **out) {
    char cmd[3 * SB_PATH_MAX];
    assert_true(snprintf(cmd, sizeof cmd, "python3 -m report.compare '%s' '%s' %s", a, b, extra) < (int)sizeof cmd);
    return shell(cmd, out);
}

static void test_resolved_slowdown(void **state) {
    (void)state;
    char a[TU_PATH_MAX], b[TU_PATH_MAX], *out;
    write_folder(a, "slow_a", 1.0, noise_a, 9);
    write_folder(b, "slow_b", 0.8, noise_b, 9);
    assert_int_equal(compare(a, b, "--fail-above 10", &out), 1);
    assert_contains(out, "sweep flat 4 threads 4096 tokens");
    assert_contains(out, "route sphere steal 64 threads 4096 tokens");
    assert_contains(out, "geometric mean");
    assert_contains(out, "0.800");
    assert_contains(out, "slower by 20.0 % (resolved)");
    assert_null(strstr(out, "no difference resolved"));
    free(out);
    assert_int_equal(compare(a, b, "--fail-above 30", &out), 0); /* resolved, but not beyond 30 % */
    free(out);
    assert_int_equal(compare(b, a, "--fail-above 10", &out), 0); /* the other way round it is faster */
    assert_contains(out, "faster");
    free(out);
}

static void test_noise_not_resolved(void **state) {
    (void)state;
    char a[TU_PATH_MAX], b[TU_PATH_MAX], *out;
    write_folder(a, "noise_a", 1.0, noise_a, 9);
    write_folder(b, "noise_b", 1.0, noise_b, 9);
    assert_int_equal(compare(a, b, "--fail-above 1", &out), 0);
    assert_contains(out, "no difference resolved at this number of repetitions");
    assert_null(strstr(out, "slower"));
    assert_null(strstr(out, "faster"));
    free(out);
}

static void test_one_repetition_and_bad_input(void **state) {
    (void)state;
    char a[TU_PATH_MAX], b[TU_PATH_MAX], *out;
    write_folder(a, "one_a", 1.0, noise_a, 1);
    write_folder(b, "one_b", 0.5, noise_b, 1);
    assert_int_equal(compare(a, b, "--fail-above 10", &out), 0); /* no interval: no verdict, no failure */
    assert_contains(out, "n/a");
    assert_null(strstr(out, "slower"));
    free(out);
    char missing[TU_PATH_MAX];
    tu_path(missing, "no_such_run");
    assert_int_equal(compare(a, missing, "", &out), 2);
    assert_contains(out, "no_such_run");
    free(out);
}

/* Synthetic runs: a configuration of 9 repetitions and one of 1. */
static void write_gbench(char *dir, const char *name, double scale) {
    static RunRecord runs[10];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < 10; i++) {
        runs[i].spec = (RunSpec){.kind = i < 9 ? RUN_SWEEP : RUN_FULL, .variant = variant_find(i < 9 ? "flat" : "sphere"),
                                 .threads = i < 9 ? 4 : 64, .rep = i < 9 ? i + 1 : 1, .B = 64, .T = 64, .batches = 32};
        runs[i].res.wall_s = 2.0 / (scale * noise_a[i % 9]);
        runs[i].res.process_cpu_s = 3.9 / (scale * noise_a[i % 9]);
        runs[i].tokens_per_s = 32 * 4096 / runs[i].res.wall_s;
    }
    MachineInfo m;
    machine_info_read(&m);
    ModelConfig mc = model_config_from_preset(model_preset_find("tiny"), 100);
    SummaryRow rows[10];
    int nr = summarize(rows, runs, 10, 2, &mc, NULL);
    assert_int_equal(nr, 2);
    sb_error err;
    tu_path(dir, name);
    mkdir(dir, 0755);
    assert_int_equal(gbench_json_write(dir, &m, "test-run", runs, 10, rows, nr, &err), SB_OK);
}

static void test_gbench_json_read_by_compare_py(void **state) {
    (void)state;
    if (!tu_file_exists(GBENCH_COMPARE)) fail_msg("%s is missing: install libbenchmark-tools (make deps)", GBENCH_COMPARE);
    char a[TU_PATH_MAX], b[TU_PATH_MAX], cmd[4 * SB_PATH_MAX], *out;
    write_gbench(a, "gb_a", 1.0);
    write_gbench(b, "gb_b", 0.8);
    /* Google Benchmark's tool needs SciPy: the Debian python3 has it when another python3 comes first */
    assert_true(snprintf(cmd, sizeof cmd, "PY=python3; python3 -c 'import scipy' 2>/dev/null || PY=/usr/bin/python3; "
                         "$PY " GBENCH_COMPARE " benchmarks '%s/gbench.json' '%s/gbench.json'", a, b) < (int)sizeof cmd);
    int rc = shell(cmd, &out);
    if (rc != 0) print_error("%s\n", out);
    assert_int_equal(rc, 0);
    assert_contains(out, "sweep/flat/threads:4/tokens:4096");
    assert_contains(out, "sweep/flat/threads:4/tokens:4096_median");
    assert_contains(out, "sweep/flat/threads:4/tokens:4096_pvalue");
    assert_contains(out, "U Test, Repetitions: 9 vs 9");
    assert_contains(out, "full/sphere/threads:64/tokens:4096");
    assert_contains(out, "+0.2500"); /* 20 % fewer tokens/s: 25 % more time */
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolved_slowdown),
        cmocka_unit_test(test_noise_not_resolved),
        cmocka_unit_test(test_one_repetition_and_bad_input),
        cmocka_unit_test(test_gbench_json_read_by_compare_py),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
