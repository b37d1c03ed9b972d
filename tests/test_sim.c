/* test_sim.c - sphere-bench-mpi under SimGrid SMPI (build-smpi/, make sim) against itself on loopback and
 * against the alpha-beta model.
 *
 *   bitwise      the tiny preset on 4 ranks, each policy, simulated and run
 *                for real with mpirun: the checkpoints are the same bytes (a
 *                rank's sum and every combine are fixed by the plan, not by
 *                the MPI library or the clock);
 *   alpha-beta   on sim/platforms.py's exact platform (a star, LAT a link,
 *                BW a link, SimGrid's factors at 1) in timing mode with zero
 *                compute (and the host's CPU time between MPI calls not
 *                charged): the ping-pong's one-way time is 2 LAT + b / BW and
 *                flat's root, receiving R-1 sums then sending R-1 parameter
 *                copies through its one link each step, spends
 *                2 (2 LAT + (R-1) b / BW) a step in MPI, within 5 %;
 *   refusals     timing mode writes no checkpoint (--save refused, nothing
 *                written); a bad platform is refused with a message, by
 *                sim/platforms.py and by smpirun.
 * SPHERE_BENCH_SIM (default build-smpi/sphere-bench-mpi) and SPHERE_BENCH_MPI
 * (default build/sphere-bench-mpi) name the programs; smpirun and mpirun come
 * from PATH (make deps installs them). A missing one fails the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/model.h"
#include "../core/presets.h"
#include "../core/tokens.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

#define LAT 10e-6
#define BW 1.25e9
enum { V_TINY = 40, V_BENCH = 512, R = 4 };

static char tiny_data[TU_PATH_MAX], bench_data[TU_PATH_MAX], exact_xml[TU_PATH_MAX], exact_hosts[TU_PATH_MAX];

static const char *prog(const char *var, const char *def) {
    const char *p = getenv(var);
    return p && *p ? p : def;
}

/* Runs argv[0] (a program on PATH or a path) with the rest. */
static void run_argv(TuRun *r, const char *const *argv) {
    setenv("SPHERE_BENCH", argv[0], 1);
    tu_cli_argv(r, argv + 1);
}

static const char *const smpi_fixed[] = {"--cfg=smpi/host-speed:1Gf",   "--cfg=smpi/allreduce:ompi",
                                         "--cfg=smpi/shared-malloc:global", "--cfg=smpi/lat-factor:0:1",
                                         "--cfg=smpi/bw-factor:0:1",    "--log=root.thres:warning"};

/* smpirun -np R on the exact platform, the simulated program, words...;
 * no_host_compute: the host's own CPU time between MPI calls is not charged
 * (smpi/simulate-computation:no), so only the model's terms remain. */
static void smpi_run(TuRun *r, int no_host_compute, const char *const *words) {
    const char *a[64];
    int n = 0;
    a[n++] = "/usr/bin/smpirun", a[n++] = "-np", a[n++] = "4", a[n++] = "-platform", a[n++] = exact_xml;
    a[n++] = "-hostfile", a[n++] = exact_hosts;
    for (size_t i = 0; i < sizeof smpi_fixed / sizeof *smpi_fixed; i++) a[n++] = smpi_fixed[i];
    if (no_host_compute) a[n++] = "--cfg=smpi/simulate-computation:no";
    a[n++] = prog("SPHERE_BENCH_SIM", "build-smpi/sphere-bench-mpi");
    for (int i = 0; words[i]; i++) a[n++] = words[i];
    a[n] = NULL;
    run_argv(r, a);
}

static void smpi(TuRun *r, const char *const *words) { smpi_run(r, 0, words); }

static void real_mpi(TuRun *r, const char *const *words) {
    const char *a[64];
    int n = 0;
    const char *fixed[] = {"/usr/bin/mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "4"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) a[n++] = fixed[i];
    a[n++] = prog("SPHERE_BENCH_MPI", "build/sphere-bench-mpi");
    for (int i = 0; words[i]; i++) a[n++] = words[i];
    a[n] = NULL;
    run_argv(r, a);
}

static void test_bitwise_loopback(void **state) {
    (void)state;
    const char *policies[] = {"flat", "tree", "allreduce"};
    for (int p = 0; p < 3; p++) {
        char sim[TU_PATH_MAX], real[TU_PATH_MAX];
        tu_path(sim, "sim.ckpt");
        tu_path(real, "real.ckpt");
        const char *w1[] = {"train", "--data", tiny_data, "--model", "tiny", "--policy", policies[p], "--fanout", "2",
                            "--batches", "19", "--batches-per-step", "6", "--lr", "0.01", "--quiet", "--save", sim,
                            NULL};
        TuRun r;
        smpi(&r, w1);
        tu_assert_succeeded(&r);
        tu_run_free(&r);
        w1[17] = real;
        real_mpi(&r, w1);
        tu_assert_succeeded(&r);
        tu_run_free(&r);
        if (!tu_files_equal(sim, real)) fail_msg("%s on 4 ranks: the simulated checkpoint differs from the real one",
                                                 policies[p]);
        unlink(sim), unlink(real);
    }
}

/* The value of column `col` (0-based) in the first line of csv starting with `prefix`. */
static double csv_value(const char *csv, const char *prefix, int col) {
    for (const char *l = csv; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, prefix, strlen(prefix)) != 0) continue;
        const char *c = l;
        for (int i = 0; i < col && c; i++) c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
        if (c) return strtod(c, NULL);
    }
    fail_msg("no row '%s' in:\n%s", prefix, csv);
    return 0;
}

static void assert_near(double got, double want, const char *what) {
    if (!(fabs(got - want) <= 0.05 * want)) fail_msg("%s: simulated %.9g s, alpha-beta %.9g s (more than 5 %% apart)",
                                                     what, got, want);
}

static void test_alpha_beta(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], path[TU_PATH_MAX + 32];
    tu_path(dir, "exact");
    const char *w[] = {"bench", "--data", bench_data, "--batches", "8", "--reps", "1", "--timing", "--sim-costs",
                       "0,0,0", "--out", dir, NULL};
    TuRun r;
    smpi_run(&r, 1, w);
    tu_assert_succeeded(&r);
    tu_run_free(&r);
    ModelConfig m = model_config_from_preset(model_preset_find("bench"), V_BENCH);
    double b = (double)model_param_count(&m) * 4;
    snprintf(path, sizeof path, "%s/pingpong.csv", dir);
    char *pp = (char *)tu_read_file(path, NULL);
    assert_non_null(pp);
    assert_near(csv_value(pp, "1,h1,8,", 5), 2 * LAT + 8 / BW, "ping-pong, 8 bytes");
    char row[64];
    snprintf(row, sizeof row, "3,h3,%.0f,", b);
    assert_near(csv_value(pp, row, 5), 2 * LAT + b / BW, "ping-pong, one gradient");
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    char *runs = (char *)tu_read_file(path, NULL);
    assert_non_null(runs);
    /* 8 batches, 4 a step: 2 steps; comm_s_root is column 12 */
    assert_near(csv_value(runs, "0,flat,0,", 12), 2 * 2 * (2 * LAT + (R - 1) * b / BW), "flat's root in MPI");
    free(pp), free(runs);
}

static void test_timing_refuses_checkpoint(void **state) {
    (void)state;
    char ckpt[TU_PATH_MAX];
    tu_path(ckpt, "timing.ckpt");
    const char *w[] = {"train", "--data", bench_data, "--batches", "8", "--timing", "--save", ckpt, NULL};
    TuRun r;
    smpi(&r, w);
    tu_assert_failed_with(&r, "writes no checkpoint");
    assert_false(tu_file_exists(ckpt));
    tu_run_free(&r);
}

static void test_bad_platform_refused(void **state) {
    (void)state;
    char xml[TU_PATH_MAX], hosts[TU_PATH_MAX];
    tu_path(xml, "bad.xml");
    tu_path(hosts, "bad.hosts");
    const char *w1[] = {"/usr/bin/python3", "sim/platforms.py", "token-ring", "4", xml, hosts, NULL};
    TuRun r;
    run_argv(&r, w1);
    tu_assert_failed_with(&r, "no platform 'token-ring'");
    tu_run_free(&r);
    const char *w2[] = {"/usr/bin/python3", "sim/platforms.py", "node", "4", xml, hosts, NULL};
    run_argv(&r, w2);
    tu_assert_failed_with(&r, "needs --measured");
    tu_run_free(&r);
    const char *w3[] = {"/usr/bin/python3", "sim/platforms.py", "exact", "4", xml, hosts, "--lat", "-1", "--bw", "1e9",
                        NULL};
    run_argv(&r, w3);
    tu_assert_failed_with(&r, "--lat");
    tu_run_free(&r);
    /* a file that is no platform: smpirun refuses it */
    tu_write_file(xml, "<platform version=\"4.1\"><cluster id=", 36);
    const char *w4[] = {"/usr/bin/smpirun", "-np", "2", "-platform", xml, "-hostfile", exact_hosts,
                        prog("SPHERE_BENCH_SIM", "build-smpi/sphere-bench-mpi"), "train", "--data", tiny_data,
                        "--model", "tiny", "--batches", "2", NULL};
    run_argv(&r, w4);
    if (!(r.signaled || (r.exited && r.status != 0)) || (!strstr(r.out, "Parse error") && !strstr(r.err, "Parse error")))
        fail_msg("smpirun took a broken platform file: exit %d\n%s", r.status, r.err);
    tu_run_free(&r);
}

static int setup(void **state) {
    (void)state;
    if (access("/usr/bin/smpirun", X_OK) != 0 || access("/usr/bin/mpirun", X_OK) != 0) {
        fprintf(stderr, "test_sim: no smpirun or mpirun (make deps installs libsimgrid-dev and openmpi-bin)\n");
        return -1;
    }
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    sb_error err;
    TokenFile tf = td_random_tokens(V_TINY, 24, 2, 8, 77);
    tu_path(tiny_data, "tiny.tok");
    if (tokens_save(tiny_data, tf.ids, tf.n_tokens, V_TINY, 0, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
    free(tf.ids);
    tf = td_random_tokens(V_BENCH, 8, 64, 64, 78);
    tu_path(bench_data, "bench.tok");
    if (tokens_save(bench_data, tf.ids, tf.n_tokens, V_BENCH, 0, &err)) return fprintf(stderr, "%s\n", err.msg), -1;
    free(tf.ids);
    tu_path(exact_xml, "exact.xml");
    tu_path(exact_hosts, "exact.hosts");
    char cmd[4 * TU_PATH_MAX];
    snprintf(cmd, sizeof cmd, "python3 sim/platforms.py exact 4 '%s' '%s' --lat %g --bw %g", exact_xml, exact_hosts,
             LAT, BW);
    if (system(cmd) != 0) return fprintf(stderr, "test_sim: %s failed\n", cmd), -1;
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitwise_loopback),
        cmocka_unit_test(test_alpha_beta),
        cmocka_unit_test(test_timing_refuses_checkpoint),
        cmocka_unit_test(test_bad_platform_refused),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    tu_cleanup();
    return rc;
}
