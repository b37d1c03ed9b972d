/* test_bench.c - the harness tells the truth about what it measured.
 *
 * Per-thread CPU adds up to the process's; tokens/s is the tokens processed
 * over the wall time of the measured region; a run's threads.csv has one row
 * per thread; the summary's ratios are computed from the same runs; and a
 * missing or corrupt dataset is rebuilt, never used. No timing is asserted:
 * only the relations between the numbers the bench reports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/core_bench.h"
#include "../core/presets.h"
#include "../dataset/cache.h"
#include "../bench/harness.h"
#include "../bench/machine.h"
#include "../bench/results.h"
#include "../core/model.h"
#include "../core/path.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

static const ModelConfig mid = {.V = 64, .T = 16, .D = 32, .L = 2, .H = 4};
enum { MB = 8, MT = 16 };

static TokenFile random_tokens(uint64_t n_batches) { return td_random_tokens((uint32_t)mid.V, n_batches, MB, MT, 5); }

static BenchSetup setup_for(const TokenFile *tf) {
    BenchSetup b;
    memset(&b, 0, sizeof b);
    b.data = tf;
    b.model = mid;
    b.batches_per_step = 8;
    b.adamw = adamw_defaults();
    b.init_seed = 1;
    b.cores = 2;
    return b;
}

/* The relations every recorded run must satisfy. */
static void check_record(const RunRecord *r) {
    assert_int_equal(r->res.tokens, r->spec.batches * (uint64_t)(r->spec.B * r->spec.T));
    assert_close(r->tokens_per_s, (double)r->res.tokens / r->res.wall_s, 1e-9 * r->tokens_per_s);
    double tcpu = 0.0, wmax = 0.0, wsum = 0.0;
    uint64_t batches = 0;
    int nw = 0;
    for (int t = 0; t < r->res.n_threads; t++) {
        tcpu += r->threads[t].cpu_s;
        batches += r->threads[t].batches;
        if (r->threads[t].role == ROLE_WORKER) {
            wsum += r->threads[t].cpu_s;
            if (r->threads[t].cpu_s > wmax) wmax = r->threads[t].cpu_s;
            nw++;
        }
    }
    assert_int_equal(batches, r->spec.batches);
    assert_int_equal(r->n_workers, nw);
    assert_close(r->mean_worker_cpu_s, wsum / nw, 1e-12);
    assert_close(r->imbalance, wmax / (wsum / nw), 1e-9);
    if (r->threads[0].role == ROLE_CONTROL)
        assert_close(r->control_cpu_s, r->threads[0].cpu_s, 0);
    else /* serial: no control thread, so no control CPU (not its worker's) */
        assert_true(isnan(r->control_cpu_s));
    assert_true(r->res.process_cpu_s > 0.1);
    assert_close(tcpu, r->res.process_cpu_s, 0.05 * r->res.process_cpu_s + 0.02);
}

static void test_runs_are_consistent(void **state) {
    (void)state;
    TokenFile tf = random_tokens(800);
    BenchSetup b = setup_for(&tf);
    static const char *names[] = {"serial", "flat", "sphere"};
    for (int k = 0; k < 3; k++) {
        RunSpec s = {.kind = RUN_SWEEP, .variant = variant_find(names[k]), .threads = k == 0 ? 1 : 4, .rep = 1,
                     .B = MB, .T = MT, .batches = 640};
        RunRecord r;
        sb_error err;
        if (harness_run(&r, &b, &s, &err)) fail_msg("%s: %s", names[k], err.msg);
        assert_int_equal(r.res.n_threads, s.threads);
        check_record(&r);
        run_record_free(&r);
    }
    free(tf.ids);
}

/* Counts data lines of a CSV whose first fields match a prefix. */
static int count_rows(const char *path, const char *prefix) {
    size_t n;
    char *text = (char *)tu_read_file(path, &n);
    assert_non_null(text);
    int rows = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, prefix, strlen(prefix)) == 0) rows++;
    free(text);
    return rows;
}

static void test_results_files_complete(void **state) {
    (void)state;
    TokenFile tf = random_tokens(60);
    BenchSetup b = setup_for(&tf);
    RunSpec specs[] = {
        {.kind = RUN_SWEEP, .variant = variant_find("serial"), .threads = 1, .rep = 1, .B = MB, .T = MT, .batches = 16},
        {.kind = RUN_SWEEP, .variant = variant_find("flat"), .threads = 3, .rep = 1, .B = MB, .T = MT, .batches = 16},
        {.kind = RUN_SWEEP, .variant = variant_find("sphere"), .route = "round-robin", .threads = 5, .rep = 1, .B = MB,
         .T = MT, .batches = 16},
        {.kind = RUN_SWEEP, .variant = variant_find("flat"), .threads = 3, .rep = 2, .B = MB, .T = MT, .batches = 16},
    };
    RunRecord runs[4];
    sb_error err;
    for (int i = 0; i < 4; i++)
        if (harness_run(&runs[i], &b, &specs[i], &err)) fail_msg("%s", err.msg);
    MachineInfo m;
    machine_info_read(&m);
    assert_true(m.cores >= 1);
    SummaryRow rows[4];
    PeakResult peak;
    memset(&peak, 0, sizeof peak);
    peak.fma_gflops_1t = 100.0;
    int nr = summarize(rows, runs, 4, 2, &mid, &peak);
    assert_int_equal(nr, 3); /* the two flat runs are one configuration */
    for (int i = 0; i < nr; i++)
        if (strcmp(rows[i].variant, "flat") == 0) {
            assert_int_equal(rows[i].n, 2);
            double lo = runs[1].tokens_per_s < runs[3].tokens_per_s ? runs[1].tokens_per_s : runs[3].tokens_per_s;
            double hi = runs[1].tokens_per_s + runs[3].tokens_per_s - lo;
            assert_close(rows[i].median_tps, 0.5 * (lo + hi), 1e-9 * hi);
            assert_close(rows[i].speedup_vs_serial, rows[i].median_tps / runs[0].tokens_per_s, 1e-9);
            assert_true(isnan(rows[i].ratio_vs_flat));
            /* model FLOPs at the median rate, over two cores' peak (3 threads > 2 cores) */
            double gf = rows[i].median_tps * model_flops_per_batch(&mid, MB, MT) / (MB * MT) / 1e9;
            assert_close(rows[i].gflops, gf, 1e-9 * gf);
            assert_close(rows[i].fraction_of_peak, gf / 200.0, 1e-12);
        }
    DatasetInfo d;
    memset(&d, 0, sizeof d);
    BenchOptions o = {.preset = "test", .B = MB, .T = MT, .batches_per_step = 8, .reps = 1, .full_reps = 1,
                      .wait = WAIT_BLOCK};
    char dir[TU_PATH_MAX];
    tu_path(dir, "run");
    assert_int_equal(results_write(dir, &m, &o, &b, &d, &peak, runs, 4, rows, nr, &err), SB_OK);
    char path[SB_PATH_MAX];
    assert_int_equal(path_join(path, sizeof path, dir, "threads.csv", &err), SB_OK);
    assert_int_equal(count_rows(path, "sweep,serial,none,1,1,"), 1);
    assert_int_equal(count_rows(path, "sweep,flat,none,3,1,"), 3);
    assert_int_equal(count_rows(path, "sweep,sphere,round-robin,5,1,"), 5);
    assert_int_equal(count_rows(path, "sweep,flat,none,3,2,"), 3);
    assert_int_equal(path_join(path, sizeof path, dir, "runs.csv", &err), SB_OK);
    assert_int_equal(count_rows(path, "kind,"), 1); /* a header line */
    assert_int_equal(count_rows(path, "sweep,"), 4);
    assert_int_equal(path_join(path, sizeof path, dir, "groups.csv", &err), SB_OK);
    assert_int_equal(count_rows(path, "sweep,sphere,round-robin,5,1,"), 4); /* the root's four children */
    char prefix[128];
    snprintf(prefix, sizeof prefix, "sweep,sphere,round-robin,5,1,%d,", MB * MT); /* batch_tokens tells sizes apart */
    assert_int_equal(count_rows(path, prefix), 4);
    assert_int_equal(path_join(path, sizeof path, dir, "loss.csv", &err), SB_OK);
    assert_int_equal(count_rows(path, "kind,variant,route,threads,rep,batch_tokens,step,tokens,loss"), 1);
    snprintf(prefix, sizeof prefix, "sweep,serial,none,1,1,%d,1,", MB * MT);
    assert_int_equal(count_rows(path, prefix), 1);
    static const char *files[] = {"context.json", "summary.json", "loss.csv"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(path_join(path, sizeof path, dir, files[i], &err), SB_OK);
        assert_true(tu_file_size(path) > 0);
    }
    for (int i = 0; i < 4; i++) run_record_free(&runs[i]);
    free(tf.ids);
}

/* The field of a summary line under a right-aligned header column: the word
 * of the line that ends where name ends. */
static void column_of(char *out, size_t n, const char *line, const char *header, const char *name) {
    const char *h = strstr(header, name);
    assert_non_null(h);
    size_t end = (size_t)(h - header) + strlen(name), start = end;
    while (start > 0 && line[start - 1] != ' ') start--;
    snprintf(out, n, "%.*s", (int)(end - start), line + start);
}

/* The console summary prints an undefined figure (NaN) as "n/a", never
 * "nan": serial's efficiency over itself and the wrk:ctl of a trainer without
 * a control thread are undefined, and a row with every figure undefined
 * stands for any other. Each row keeps the header's width, the longest
 * kind's (trace-off) too. */
static void test_summary_table_prints_no_nan(void **state) {
    (void)state;
    RatioCI none = {.ratio = NAN, .lo = NAN, .hi = NAN};
    SummaryRow rows[4] = {
        {.kind = RUN_SWEEP, .variant = "serial", .route = "none", .threads = 1, .batch_tokens = 128, .n = 3,
         .median_tps = 1000, .spread = 0.01, .speedup_vs_serial = NAN, .efficiency = NAN, .ratio_vs_flat = NAN,
         .speedup_ci = none, .flat_ci = none, .control_to_worker = NAN, .imbalance = 1, .utilisation = 0.99,
         .loss = 4.2},
        {.kind = RUN_SWEEP, .variant = "flat", .route = "none", .threads = 2, .batch_tokens = 128, .n = 3,
         .median_tps = 1900, .spread = 0.02, .speedup_vs_serial = 1.9, .efficiency = 0.95, .ratio_vs_flat = NAN,
         .speedup_ci = {1.9, 1.8, 2.0}, .flat_ci = none, .control_to_worker = 40, .imbalance = 1.01,
         .utilisation = 0.97, .loss = 4.2},
        {.kind = RUN_FULL, .variant = "sharded", .route = "none", .threads = 2, .batch_tokens = 128, .n = 1,
         .median_tps = NAN, .spread = NAN, .speedup_vs_serial = NAN, .efficiency = NAN, .ratio_vs_flat = NAN,
         .speedup_ci = none, .flat_ci = none, .control_to_worker = NAN, .imbalance = NAN, .utilisation = NAN,
         .loss = NAN},
        {.kind = RUN_TRACE_OFF, .variant = "sphere", .route = "none", .threads = 2, .batch_tokens = 128, .n = 3,
         .median_tps = 1800, .spread = 0.02, .speedup_vs_serial = 1.8, .efficiency = 0.9, .ratio_vs_flat = NAN,
         .speedup_ci = {1.8, 1.7, 1.9}, .flat_ci = none, .control_to_worker = 40, .imbalance = 1.01,
         .utilisation = 0.97, .loss = 4.2},
    };
    MachineInfo m;
    memset(&m, 0, sizeof m);
    snprintf(m.cpu_model, sizeof m.cpu_model, "test cpu");
    m.cores = 2;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    summary_print(f, rows, 4, &m);
    fclose(f);
    if (strcasestr(text, "nan")) fail_msg("'nan' in the summary:\n%s", text);
    const char *h = strstr(text, "\nkind ");
    assert_non_null(h);
    char header[512], line[512], field[32];
    snprintf(header, sizeof header, "%.*s", (int)strcspn(h + 1, "\n"), h + 1);
    static const char *const starts[] = {"\nsweep     serial ", "\nsweep     flat ", "\nfull      sharded ",
                                         "\ntrace-off sphere "};
    for (int i = 0; i < 4; i++) {
        const char *l = strstr(text, starts[i]);
        if (!l) fail_msg("no row starting '%s' in:\n%s", starts[i] + 1, text);
        snprintf(line, sizeof line, "%.*s", (int)strcspn(l + 1, "\n"), l + 1);
        assert_int_equal(strlen(line), strlen(header));
        if (i == 3) continue; /* the longest kind, for its width */
        column_of(field, sizeof field, line, header, "effic.");
        assert_string_equal(field, i == 1 ? "95.0%" : "n/a");
        column_of(field, sizeof field, line, header, "wrk:ctl");
        assert_string_equal(field, i == 1 ? "40.0" : "n/a");
        if (i == 2)
            for (size_t c = 0; c < 5; c++) {
                static const char *const cols[] = {"tokens/s", "util", "imbal", "loss", "spread"};
                column_of(field, sizeof field, line, header, cols[c]);
                assert_string_equal(field, "n/a");
            }
    }
    free(text);
}

static void test_dataset_rebuilt_when_corrupt(void **state) {
    (void)state;
    char dir[TU_PATH_MAX];
    tu_path(dir, "data");
    DatasetInfo d;
    TokenFile tf;
    sb_error err;
    assert_int_equal(dataset_ensure(&d, &tf, dir, 200000, 3, 512, &err), SB_OK);
    assert_true(d.regenerated);
    uint64_t n = tf.n_tokens;
    tokens_free(&tf);
    /* a second call trusts nothing but finds everything in order */
    assert_int_equal(dataset_ensure(&d, &tf, dir, 200000, 3, 512, &err), SB_OK);
    assert_false(d.regenerated);
    assert_int_equal(tf.n_tokens, n);
    tokens_free(&tf);
    /* a truncated token file is noticed and rebuilt */
    char tok[SB_PATH_MAX];
    assert_int_equal(path_join(tok, sizeof tok, dir, "corpus.tok", &err), SB_OK);
    size_t len;
    unsigned char *bytes = tu_read_file(tok, &len);
    tu_write_file(tok, bytes, len - 4);
    free(bytes);
    assert_int_equal(dataset_ensure(&d, &tf, dir, 200000, 3, 512, &err), SB_OK);
    assert_true(d.regenerated);
    assert_contains(d.why, "corpus.tok");
    assert_int_equal(tf.n_tokens, n);
    tokens_free(&tf);
    /* other parameters (another seed) are not taken for the cached ones */
    assert_int_equal(dataset_ensure(&d, &tf, dir, 200000, 4, 512, &err), SB_OK);
    assert_true(d.regenerated);
    assert_contains(d.why, "other parameters");
    tokens_free(&tf);
    /* statistics that are not strict JSON are not trusted, even when every
     * number is still there (a file cut before its closing brace) */
    char json[SB_PATH_MAX];
    assert_int_equal(path_join(json, sizeof json, dir, "corpus.txt.json", &err), SB_OK);
    bytes = tu_read_file(json, &len);
    assert_non_null(strstr((char *)bytes, "\"expected_bytes_per_token\""));
    tu_write_file(json, bytes, len - 3);
    free(bytes);
    assert_int_equal(dataset_ensure(&d, &tf, dir, 200000, 4, 512, &err), SB_OK);
    assert_true(d.regenerated);
    assert_contains(d.why, "corpus.txt.json");
    assert_contains(d.why, "at byte");
    tokens_free(&tf);
    /* a count that is not a number (null) is not taken for one */
    tu_write_file(json, "{\"bytes\": 200000, \"tokens\": 1, \"types\": 1, \"seed\": null, "
                        "\"entropy_nats_per_token\": 1}", 85);
    assert_int_equal(dataset_ensure(&d, &tf, dir, 200000, 4, 512, &err), SB_OK);
    assert_true(d.regenerated);
    assert_contains(d.why, "null");
    tokens_free(&tf);
    /* a missing statistics file too */
    remove(json);
    assert_int_equal(dataset_ensure(&d, &tf, dir, 200000, 4, 512, &err), SB_OK);
    assert_true(d.regenerated);
    assert_contains(d.why, "missing");
    tokens_free(&tf);
}

static void test_bench_cli_refuses(void **state) {
    (void)state;
    TuRun r;
    tu_cli(&r, "bench", "--threads", "2,x", NULL);
    tu_assert_failed_with(&r, "--threads");
    tu_run_free(&r);
    tu_cli(&r, "bench", "--variants", "serial", NULL);
    tu_assert_failed_with(&r, "baseline");
    tu_run_free(&r);
    tu_cli(&r, "bench", "--reps", "0", NULL);
    tu_assert_failed_with(&r, "--reps");
    tu_run_free(&r);
    tu_cli(&r, "bench", "--wait", "sometimes", NULL);
    tu_assert_failed_with(&r, "--wait");
    tu_run_free(&r);
    tu_cli(&r, "peak", "--array-mb", "0", NULL);
    tu_assert_failed_with(&r, "--array-mb");
    tu_run_free(&r);
}

/* Under a limit of 64 descriptors that cannot be raised, the full run's 24
 * threads cannot all open their counters: the bench still succeeds, and its
 * console and warnings.json say on how many of the 24 threads each counter
 * counted (before, the console said nothing and warnings.json neither). */
static void test_counters_under_64_descriptors(void **state) {
    (void)state;
    char data[TU_PATH_MAX], out[TU_PATH_MAX], warn[TU_PATH_MAX];
    tu_path(data, "fd-data");
    tu_path(out, "fd-run");
    const char *args[] = {"bench", "--quick", "--model", "tiny", "--variants", "flat", "--threads", "1,2",
                          "--full-threads", "24", "--data-dir", data, "--corpus-bytes", "300000", "--out", out, NULL};
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.nofile = 64}, args);
    tu_assert_succeeded(&r);
    if (!strstr(r.err, "counter task-clock       counts")) { /* no software counters here: nothing opens */
        tu_run_free(&r);
        skip();
    }
    size_t len = strlen(r.out) + strlen(r.err) + 1;
    char *all = malloc(len);
    assert_non_null(all);
    snprintf(all, len, "%s%s", r.out, r.err);
    assert_contains(all, "counters of full flat 24 threads rep 1: counted on only some of the 24 threads");
    assert_true(strstr(all, "(task-clock ") && strstr(strstr(all, "(task-clock "), " of 24"));
    free(all);
    sb_error err;
    assert_int_equal(path_join(warn, sizeof warn, out, "warnings.json", &err), SB_OK);
    size_t n;
    char *w = (char *)tu_read_file(warn, &n);
    assert_contains(w, "\"figure\": \"counters of full flat 24 threads rep 1\"");
    assert_contains(w, " of 24");
    free(w);
    tu_run_free(&r);
}

/* The core count is what the process may use, not what the machine has: a
 * taskset or cpuset of one CPU makes every run above 1 thread oversubscribed,
 * and --pin must target that CPU. */
static void test_cores_follow_affinity(void **state) {
    (void)state;
    cpu_set_t saved, one;
    assert_int_equal(sched_getaffinity(0, sizeof saved, &saved), 0);
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &saved)) last = c;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    MachineInfo m;
    machine_info_read(&m);
    assert_int_equal(sched_setaffinity(0, sizeof saved, &saved), 0);
    assert_int_equal(m.cores, 1);
    assert_int_equal(m.cpu_ids[0], last);
    assert_true(m.cpus_online >= 1);
    machine_info_read(&m);
    assert_int_equal(m.cores, CPU_COUNT(&saved));
}

/* bench-core on the tiny preset: every kernel timed with a positive time,
 * compute kernels' GFLOP/s = flops / time, fractions against the peak it was
 * given, and no bandwidth fraction for a gradient sum that fits in cache. The
 * JSON carries the fields the issue names. No timing is judged here. */
static void test_core_bench_fields(void **state) {
    (void)state;
    PeakResult peak;
    memset(&peak, 0, sizeof peak);
    peak.fma_gflops_1t = 100.0;
    peak.read_gbs_1t = 10.0;
    CoreBench r;
    sb_error err;
    assert_int_equal(core_bench_run(&r, model_preset_find("tiny"), 64, 3, &peak, &err), SB_OK);
    assert_true(r.n_kernels >= 12);
    for (int i = 0; i < r.n_kernels; i++) {
        const KernelTiming *k = &r.kernels[i];
        if (isnan(k->seconds)) continue; /* cross-entropy no slower than its copy */
        assert_true(k->seconds > 0);
        if (!k->memory_bound) {
            assert_close(k->gflops, k->flops / k->seconds / 1e9, 1e-9 * k->gflops);
            assert_close(k->fraction, k->gflops / 100.0, 1e-12);
        } else {
            assert_close(k->fraction, k->gbs / 10.0, 1e-12);
        }
    }
    assert_string_equal(r.kernels[0].name, "step");
    assert_close(r.step_fraction_of_peak, r.step_gflops / 100.0, 1e-12);
    assert_true(r.reduce_in_cache);
    assert_true(isnan(r.reduce_fraction_of_bandwidth));
    char path[TU_PATH_MAX];
    tu_path(path, "core.json");
    assert_int_equal(core_bench_write(path, &r, 1, &peak, NULL, &err), SB_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    const char *keys[] = {"\"step_gflops\"", "\"step_fraction_of_peak\"", "\"matmul_fraction_of_peak\"",
                          "\"reduce_fraction_of_bandwidth\": null", "\"reduce_in_cache\": true", "\"peak\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) assert_non_null(strstr(buf, keys[i]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_are_consistent),
        cmocka_unit_test(test_cores_follow_affinity),
        cmocka_unit_test(test_core_bench_fields),
        cmocka_unit_test(test_results_files_complete),
        cmocka_unit_test(test_summary_table_prints_no_nan),
        cmocka_unit_test(test_dataset_rebuilt_when_corrupt),
        cmocka_unit_test(test_bench_cli_refuses),
        cmocka_unit_test(test_counters_under_64_descriptors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
