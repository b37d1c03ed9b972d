/* test_json_files.c - every JSON file the program writes is strict JSON.
 *
 * Each file is read by python3's json module made strict: NaN, Infinity and
 * -Infinity refused (parse_constant), duplicate keys refused, the file
 * decoded as UTF-8. The checker is first shown to refuse what the old
 * hand-written JSON could contain (nan, NaN, Infinity), so a pass means
 * something. Then the files: the corpus's .json, train --json (serial and
 * sphere), plan --json and peak --json through the program itself, and a
 * bench's context.json, summary.json and core.json from the writers the bench
 * calls (a quick bench takes minutes), with missing values (a serial run's
 * control CPU, a peak without bandwidth) among them. The run's model block
 * carries flops_per_token from core/model.h. A summary without its scratch
 * memory writes null for every figure, never 0. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../bench/core_bench.h"
#include "../bench/harness.h"
#include "../bench/machine.h"
#include "../bench/results.h"
#include "../core/model.h"
#include "../core/path.h"
#include "../core/presets.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

/* Reads argv[1] strictly; with argv[2] ("model.flops_per_token",
 * "configurations.0.control_cpu_s") prints that value as JSON. No single
 * quotes: it travels inside a shell's single-quoted word. */
static const char checker[] =
    "import json, sys\n"
    "def constant(name):\n"
    "    raise ValueError(\"not JSON: \" + name)\n"
    "def pairs(kv):\n"
    "    keys = [k for k, _ in kv]\n"
    "    if len(keys) != len(set(keys)):\n"
    "        raise ValueError(\"duplicate key\")\n"
    "    return dict(kv)\n"
    "with open(sys.argv[1], encoding=\"utf-8\") as f:\n"
    "    v = json.load(f, parse_constant=constant, object_pairs_hook=pairs)\n"
    "for part in (sys.argv[2].split(\".\") if len(sys.argv) > 2 else []):\n"
    "    v = v[int(part)] if isinstance(v, list) else v[part]\n"
    "if len(sys.argv) > 2:\n"
    "    print(json.dumps(v))\n";

/* Runs the checker on path; returns its exit status, its output in out[cap]. */
static int strict_check(const char *path, const char *query, char *out, size_t cap) {
    char cmd[3 * TU_PATH_MAX];
    snprintf(cmd, sizeof cmd, "python3 -c '%s' '%s' %s 2>&1", checker, path, query ? query : "");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    if (n && out[n - 1] == '\n') out[n - 1] = '\0';
    return pclose(p);
}

/* path must be strict JSON. */
static void assert_strict(const char *path) {
    char out[4096];
    if (strict_check(path, NULL, out, sizeof out) != 0) fail_msg("%s is not strict JSON: %s", path, out);
}

/* The value at query in path, as JSON text (e.g. "null", "63168"). */
static void value_at(const char *path, const char *query, char *out, size_t cap) {
    if (strict_check(path, query, out, cap) != 0) fail_msg("%s: %s: %s", path, query, out);
}

static int setup(void **state) {
    (void)state;
    if (system("python3 -c 'import json' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_json_files: python3 (with its json module) is needed to check the JSON files "
                        "strictly; install it (apt-get install python3)\n");
        return -1;
    }
    return 0;
}

/* The checker refuses what the old hand-written JSON could hold. */
static void test_checker_is_strict(void **state) {
    (void)state;
    static const char *const bad[] = {"{\"a\": nan}", "{\"a\": NaN}", "{\"a\": Infinity}", "{\"a\": -Infinity}",
                                      "{\"a\": 1, \"a\": 2}", "{\"a\": \"\xff\"}", "{\"a\": 1,}"};
    char path[TU_PATH_MAX], out[4096];
    tu_path(path, "bad.json");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_write_file(path, bad[i], strlen(bad[i]));
        if (strict_check(path, NULL, out, sizeof out) == 0) fail_msg("the checker accepted %s", bad[i]);
    }
    tu_write_file(path, "{\"a\": null}", 11);
    assert_strict(path);
}

/* Writes a run's stdout to dir/name and checks it. */
static void stdout_strict(const TuRun *r, const char *name) {
    char path[TU_PATH_MAX];
    tu_path(path, name);
    tu_write_file(path, r->out, strlen(r->out));
    assert_strict(path);
}

static void test_program_json_files(void **state) {
    (void)state;
    char text[TU_PATH_MAX], stats[TU_PATH_MAX], tok[TU_PATH_MAX], run[TU_PATH_MAX], out[256];
    sb_error err;
    tu_path(text, "corpus.txt");
    tu_path(tok, "corpus.tok");
    assert_int_equal(path_suffix(stats, sizeof stats, text, ".json", &err), SB_OK);
    TuRun r;
    tu_cli(&r, "corpus", "--out", text, "--bytes", "50000", NULL);
    tu_assert_succeeded(&r);
    tu_run_free(&r);
    assert_strict(stats);
    tu_cli(&r, "tokenize", text, "--out", tok, "--vocab", "300", NULL);
    tu_assert_succeeded(&r);
    tu_run_free(&r);

    static const char *const variants[] = {"serial", "sphere"};
    for (int v = 0; v < 2; v++) {
        tu_path(run, v ? "sphere.json" : "serial.json");
        tu_cli(&r, "train", "--variant", variants[v], "--threads", v ? "4" : "1", "--model", "tiny", "--data", tok,
               "--batches", "6", "--batches-per-step", "2", "--quiet", "--json", run, NULL);
        tu_assert_succeeded(&r);
        tu_run_free(&r);
        assert_strict(run);
        /* the FLOP count the report reads, from core/model.h, in the run's model block */
        ModelConfig c = model_config_from_preset(model_preset_find("tiny"), 300);
        value_at(run, "model.flops_per_token", out, sizeof out);
        assert_close(strtod(out, NULL), model_flops_per_token(&c, c.T), 0);
        assert_close(model_flops_per_token(&c, c.T) * 2 * c.T, model_flops_per_batch(&c, 2, c.T), 0);
        value_at(run, "model.params", out, sizeof out);
        assert_int_equal(strtoull(out, NULL, 10), model_param_count(&c));
    }

    tu_cli(&r, "plan", "--threads", "20", "--fanout", "3", "--json", NULL);
    tu_assert_succeeded(&r);
    stdout_strict(&r, "plan.json");
    tu_run_free(&r);
    tu_cli(&r, "peak", "--array-mb", "1", "--json", NULL);
    tu_assert_succeeded(&r);
    stdout_strict(&r, "peak.json");
    tu_run_free(&r);
}

/* A stdout that cannot be written is an error, not a silent success. */
static void test_plan_to_a_full_device_fails(void **state) {
    (void)state;
    char cmd[TU_PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "'%s' plan --threads 20 --json >/dev/full 2>/dev/null", tu_cli_path());
    int status = system(cmd);
    assert_true(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

/* The bench's JSON files from the writers it calls, with missing values. */
static void test_bench_json_files(void **state) {
    (void)state;
    const ModelConfig mid = {.V = 64, .T = 16, .D = 32, .L = 2, .H = 4};
    enum { MB = 4, MT = 16 };
    TokenFile tf = td_random_tokens((uint32_t)mid.V, 40, MB, MT, 5);
    BenchSetup b = (BenchSetup){.data = &tf, .model = mid, .batches_per_step = 4, .adamw = adamw_defaults(), .init_seed = 1,
                     .cores = 2};
    RunSpec specs[] = {
        {.kind = RUN_SWEEP, .variant = variant_find("serial"), .threads = 1, .rep = 1, .B = MB, .T = MT, .batches = 8},
        {.kind = RUN_SWEEP, .variant = variant_find("sphere"), .route = "round-robin", .threads = 4, .rep = 1,
         .B = MB, .T = MT, .batches = 8},
    };
    RunRecord runs[2];
    sb_error err;
    for (int i = 0; i < 2; i++)
        if (harness_run(&runs[i], &b, &specs[i], &err)) fail_msg("%s", err.msg);
    MachineInfo m;
    machine_info_read(&m);
    snprintf(m.hostname, sizeof m.hostname, "odd \"host\"\t\\\x01\xff"); /* every kind of escape */
    PeakResult peak;
    memset(&peak, 0, sizeof peak);
    peak.fma_gflops_1t = 100.0;
    peak.read_gbs_1t = NAN; /* a measurement that failed */
    peak.add_gbs_all = INFINITY;
    SummaryRow rows[2];
    int nr = summarize(rows, runs, 2, 2, &mid, &peak);
    assert_true(isnan(rows[0].control_cpu_s)); /* serial: no control thread */
    DatasetInfo d;
    memset(&d, 0, sizeof d);
    snprintf(d.text_path, sizeof d.text_path, "data/corpus.txt");
    d.corpus.entropy_nats = NAN;
    const Variant *trainers[] = {variant_find("serial"), variant_find("sphere")};
    BenchOptions o = {.preset = "test", .B = MB, .T = MT, .batches_per_step = 4, .reps = 1, .full_reps = 1,
                      .wait = WAIT_BLOCK, .trainers = trainers, .n_trainers = 2};
    char dir[TU_PATH_MAX], path[TU_PATH_MAX], out[256];
    tu_path(dir, "run");
    assert_int_equal(results_write(dir, &m, &o, &b, &d, &peak, runs, 2, rows, nr, &err), SB_OK);

    assert_int_equal(path_join(path, sizeof path, dir, "context.json", &err), SB_OK);
    assert_strict(path);
    value_at(path, "model.flops_per_token", out, sizeof out);
    assert_close(strtod(out, NULL), model_flops_per_token(&mid, mid.T), 0);
    value_at(path, "peak.read_gbs_1t", out, sizeof out);
    assert_string_equal(out, "null");
    value_at(path, "peak.add_gbs_all", out, sizeof out);
    assert_string_equal(out, "null");
    value_at(path, "hostname", out, sizeof out);
    assert_string_equal(out, "\"odd \\\"host\\\"\\t\\\\\\u0001\\ufffd\"");
    value_at(path, "options.lr", out, sizeof out);
    assert_string_equal(out, "0.001");
    /* the trainers, from their Variant fields: a trainer that routes nothing has no routes */
    value_at(path, "trainers.0.routes", out, sizeof out);
    assert_string_equal(out, "[]");
    value_at(path, "trainers.1.name", out, sizeof out);
    assert_string_equal(out, "\"sphere\"");
    value_at(path, "trainers.1.min_threads", out, sizeof out);
    assert_int_equal(atoi(out), trainers[1]->min_threads);
    char want[256] = "\"", *end = want + 1;
    value_at(path, "trainers.1.summary", out, sizeof out);
    snprintf(end, sizeof want - 1, "%s\"", trainers[1]->summary);
    assert_string_equal(out, want);
    strcpy(want, "[");
    for (int k = 0; trainers[1]->routes[k]; k++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s\"%s\"", k ? ", " : "", trainers[1]->routes[k]);
    strcat(want, "]");
    value_at(path, "trainers.1.routes", out, sizeof out);
    assert_string_equal(out, want);

    assert_int_equal(path_join(path, sizeof path, dir, "summary.json", &err), SB_OK);
    assert_strict(path);
    value_at(path, "configurations.0.control_cpu_s", out, sizeof out);
    assert_string_equal(out, "null");

    CoreBench core;
    peak.read_gbs_1t = 10.0;
    assert_int_equal(core_bench_run(&core, model_preset_find("tiny"), 64, 1, &peak, &err), SB_OK);
    assert_true(isnan(core.reduce_fraction_of_bandwidth)); /* fits in cache: no figure */
    assert_int_equal(path_join(path, sizeof path, dir, "core.json", &err), SB_OK);
    assert_int_equal(core_bench_write(path, &core, 1, &peak, "test-run", &err), SB_OK);
    assert_strict(path);
    value_at(path, "presets.0.reduce_fraction_of_bandwidth", out, sizeof out);
    assert_string_equal(out, "null");

    for (int i = 0; i < 2; i++) run_record_free(&runs[i]);
    free(tf.ids);
}

/* The summary's figures are null, never 0, when its scratch memory could not
 * be had (summary_build's NULL scratch, summarize's path when malloc fails);
 * with the memory the same runs give numbers and verdicts, so the nulls come
 * from the missing memory alone. */
static void test_summary_without_memory_is_null(void **state) {
    (void)state;
    const ModelConfig mid = {.V = 64, .T = 16, .D = 32, .L = 2, .H = 4};
    enum { MB = 4, MT = 16 };
    TokenFile tf = td_random_tokens((uint32_t)mid.V, 40, MB, MT, 5);
    BenchSetup b = (BenchSetup){.data = &tf, .model = mid, .batches_per_step = 4, .adamw = adamw_defaults(),
                                .init_seed = 1, .cores = 2};
    static const char *const names[] = {"serial", "flat", "sharded"};
    RunRecord runs[6];
    sb_error err;
    for (int i = 0; i < 6; i++) {
        RunSpec s = {.kind = RUN_SWEEP, .variant = variant_find(names[i % 3]), .threads = i % 3 ? 2 : 1,
                     .rep = 1 + i / 3, .B = MB, .T = MT, .batches = 4};
        if (harness_run(&runs[i], &b, &s, &err)) fail_msg("%s", err.msg);
    }
    MachineInfo m;
    machine_info_read(&m);
    DatasetInfo d;
    memset(&d, 0, sizeof d);
    BenchOptions o = {.preset = "test", .B = MB, .T = MT, .batches_per_step = 4, .reps = 2, .full_reps = 1};
    char dir[TU_PATH_MAX], path[TU_PATH_MAX], out[256];
    tu_path(dir, "nomem");
    assert_int_equal(path_join(path, sizeof path, dir, "summary.json", &err), SB_OK);
    static const char *const figures[] = {"2.tokens_per_s_median", "2.tokens_per_s_sd", "2.speedup_vs_serial",
                                          "2.speedup_vs_serial_ci", "2.parallel_efficiency", "2.ratio_vs_flat",
                                          "2.ratio_vs_flat_ci", "2.ratio_vs_flat_verdict", "2.loss", "2.gflops"};
    double scratch[SUMMARY_SCRATCH(6)];
    for (int with = 1; with >= 0; with--) {
        SummaryRow rows[6];
        int nr = summary_build(rows, with ? scratch : NULL, runs, 6, 2, &mid, NULL);
        assert_int_equal(nr, 3);
        assert_string_equal(rows[2].variant, "sharded");
        assert_int_equal(rows[2].n, 2); /* the configuration and its count need no scratch */
        assert_int_equal(results_write(dir, &m, &o, &b, &d, NULL, runs, 6, rows, nr, &err), SB_OK);
        assert_strict(path);
        for (size_t k = 0; k < sizeof figures / sizeof *figures; k++) {
            char query[64];
            snprintf(query, sizeof query, "configurations.%s", figures[k]);
            value_at(path, query, out, sizeof out);
            if (with ? strcmp(out, "null") == 0 : strcmp(out, "null") != 0)
                fail_msg("%s scratch: %s is %s", with ? "with" : "without", query, out);
        }
        value_at(path, "configurations.2.reps", out, sizeof out);
        assert_string_equal(out, "2");
    }
    for (int i = 0; i < 6; i++) run_record_free(&runs[i]);
    free(tf.ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_is_strict),
        cmocka_unit_test(test_program_json_files),
        cmocka_unit_test(test_plan_to_a_full_device_fails),
        cmocka_unit_test(test_bench_json_files),
        cmocka_unit_test(test_summary_without_memory_is_null),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    tu_cleanup();
    return rc;
}
