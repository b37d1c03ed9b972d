/* test_mpi.c - sphere-bench-mpi launched with mpirun on this machine, against
 * the threaded trainers run in this process.
 *
 * The model is the tiny preset on random tokens (every batch differs, so a
 * lost or repeated batch changes the result). With one rank every policy is
 * the threaded trainer: the rank sums its batches in batch order with K
 * threads and applies the shared end of step, so the checkpoint equals
 * serial's (and sharded's) bitwise. With more ranks each rank's sum covers
 * a contiguous block of the step's batches and the blocks are added in rank
 * (flat), tree or library (allreduce) order: the same numbers summed in
 * another grouping, which moves each element by a few ulps of its largest
 * term. Through AdamW (which divides by sqrt(v)) at lr 1e-2 over a few steps
 * that stays below SUM_ORDER_MAX_TOL per parameter, while one lost batch
 * moves parameters by about lr (checked below), so the tolerance still tells
 * a reordered sum from a wrong one. Run to run, each policy is bitwise
 * identical: every order is fixed by the plan, not by timing. The bench
 * command writes its folder with a row per run, rank and thread.
 *
 * Open MPI refuses to run as root unless told; CI runs as root, so these
 * tests (and only these) pass --allow-run-as-root and its two variables.
 * MPIRUN (default mpirun on PATH) and SPHERE_BENCH_MPI (default
 * build/sphere-bench-mpi) name the programs; a missing one fails the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/checkpoint.h"
#include "../core/model.h"
#include "../core/presets.h"
#include "../core/tokens.h"
#include "../variants/serial.h"
#include "../variants/sharded.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

#define SUM_ORDER_MAX_TOL 2e-4
#define LR "0.01"
enum { V = 40, NB = 24, TB = 2, TT = 8 }; /* the tiny preset's B and T */

static char data_path[TU_PATH_MAX];
static char other_vocab_path[TU_PATH_MAX]; /* V + 1 */
static char same_vocab_path[TU_PATH_MAX];  /* V, other tokens */
static char mpirun_path[TU_PATH_MAX];

static const char *mpi_program(void) {
    const char *p = getenv("SPHERE_BENCH_MPI");
    return p && *p ? p : "build/sphere-bench-mpi";
}

/* mpirun -np R [--oversubscribe ...] sphere-bench-mpi WORDS... */
static void mpi(TuRun *r, int np, const char *const *words) {
    const char *args[64];
    char npbuf[16];
    snprintf(npbuf, sizeof npbuf, "%d", np);
    int n = 0;
    const char *fixed[] = {"--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", npbuf, mpi_program()};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) args[n++] = fixed[i];
    for (int i = 0; words[i]; i++) args[n++] = words[i];
    args[n] = NULL;
    setenv("SPHERE_BENCH", mpirun_path, 1);
    tu_cli_argv(r, args);
}

static ModelConfig tiny_model(void) {
    return model_config_from_preset(model_preset_find("tiny"), V);
}

/* Trains through a threaded trainer here: fresh params (seed 1), lr 1e-2. */
static float *train_here(const Variant *v, int threads, int bps, uint64_t first, uint64_t batches) {
    TokenFile tf;
    sb_error err;
    if (tokens_load(&tf, data_path, &err)) fail_msg("%s", err.msg);
    ModelConfig m = tiny_model();
    VariantConfig c = td_config(&tf, m, TB, TT, threads, bps);
    c.adamw.lr = 1e-2f;
    float *p = malloc(model_param_count(&m) * sizeof(float));
    model_init(p, &m, 1);
    void *state;
    RunResult res;
    if (v->create(&state, &c, &err) || v->run(state, p, first, batches, &res, &err)) fail_msg("%s", err.msg);
    v->destroy(state);
    tokens_free(&tf);
    return p;
}

static float *load(const char *path) {
    ModelConfig c;
    float *p;
    sb_error err;
    if (checkpoint_load(path, &c, &p, &err)) fail_msg("%s", err.msg);
    return p;
}

static double max_diff(const float *a, const float *b, size_t *differ) {
    ModelConfig m = tiny_model();
    size_t n = model_param_count(&m);
    double mx = 0;
    *differ = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        *differ += memcmp(&a[i], &b[i], sizeof(float)) != 0;
        if (d > mx) mx = d;
    }
    return mx;
}

/* Trains with np ranks; the checkpoint's path into ckpt. */
static void train_mpi(int np, const char *policy, const char *threads, int cc, const char *fanout, const char *ckpt,
                      const char *json) {
    const char *w[40] = {"train", "--data", data_path, "--model", "tiny", "--policy", policy, "--threads", threads,
                         "--batches", "19", "--batches-per-step", "6", "--lr", LR, "--quiet", "--save", ckpt};
    int n = 18;
    if (cc) w[n++] = "--controls-compute";
    if (fanout) w[n++] = "--fanout", w[n++] = fanout;
    if (json) w[n++] = "--json", w[n++] = json;
    w[n] = NULL;
    TuRun r;
    mpi(&r, np, w);
    if (!(r.exited && r.status == 0)) fail_msg("np %d %s: exit %d\n%s\n%s", np, policy, r.status, r.out, r.err);
    tu_run_free(&r);
}

static const char *const policies[] = {"flat", "tree", "allreduce"};

static void test_one_rank_equals_threaded(void **state) {
    (void)state;
    float *serial = train_here(&variant_serial, 1, 6, 0, 19);
    float *sharded = train_here(&variant_sharded, 3, 6, 0, 19);
    size_t differ;
    max_diff(serial, sharded, &differ);
    assert_int_equal(differ, 0);
    for (int p = 0; p < 3; p++) {
        char ckpt[TU_PATH_MAX];
        tu_path(ckpt, "one.ckpt");
        train_mpi(1, policies[p], "3", 0, NULL, ckpt, NULL);
        float *got = load(ckpt);
        max_diff(got, serial, &differ);
        if (differ) fail_msg("1 rank, %s: %zu parameters differ from serial", policies[p], differ);
        free(got);
    }
    free(serial);
    free(sharded);
}

/* Every policy, with and without computing controls, on 4 ranks: within the
 * tolerance of serial, and bitwise the same when run again. */
static void test_policies_match_serial(void **state) {
    (void)state;
    float *serial = train_here(&variant_serial, 1, 6, 0, 19);
    struct { const char *policy; int cc; const char *fanout; } cases[] = {
        {"flat", 0, NULL}, {"flat", 1, NULL}, {"tree", 0, "2"}, {"tree", 1, "2"}, {"allreduce", 0, NULL}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char a[TU_PATH_MAX], b[TU_PATH_MAX];
        tu_path(a, "a.ckpt");
        tu_path(b, "b.ckpt");
        train_mpi(4, cases[k].policy, "2", cases[k].cc, cases[k].fanout, a, NULL);
        train_mpi(4, cases[k].policy, "2", cases[k].cc, cases[k].fanout, b, NULL);
        float *pa = load(a), *pb = load(b);
        size_t differ, again;
        double d = max_diff(pa, serial, &differ);
        max_diff(pa, pb, &again);
        if (d > SUM_ORDER_MAX_TOL || again)
            fail_msg("4 ranks, %s%s: max difference from serial %g (tolerance %g), %zu parameters differ run to run",
                     cases[k].policy, cases[k].cc ? " (controls compute)" : "", d, SUM_ORDER_MAX_TOL, again);
        free(pa);
        free(pb);
    }
    /* one lost batch moves parameters far more than the tolerance */
    float *shifted = train_here(&variant_serial, 1, 6, 1, 19);
    size_t differ;
    assert_true(max_diff(shifted, serial, &differ) > 10 * SUM_ORDER_MAX_TOL);
    free(shifted);
    free(serial);
}

static int count(const char *s, const char *word) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, word)); p += strlen(word)) n++;
    return n;
}

/* flat on 3 ranks x 2 threads: rank 0 (control, does not compute) has 1
 * thread, ranks 1 and 2 have 2 each: 5 thread rows and 3 rank rows, each with
 * host, rank and comm columns; the context names the library. */
static void test_rows_complete(void **state) {
    (void)state;
    char ckpt[TU_PATH_MAX], json[TU_PATH_MAX];
    tu_path(ckpt, "rows.ckpt");
    tu_path(json, "rows.json");
    train_mpi(3, "flat", "2", 0, NULL, ckpt, json);
    char *j = (char *)tu_read_file(json, NULL);
    assert_non_null(j);
    assert_int_equal(count(j, "\"comm_cpu_s\""), 5);
    assert_int_equal(count(j, "\"mpi_calls\""), 3);
    assert_int_equal(count(j, "\"host\""), 5 + 3);
    assert_contains(j, "\"library\"");
    assert_contains(j, "\"params_agree\": true");
    assert_contains(j, "\"batches\": 19");
    free(j);
}

/* Rank 1 dies at step 2: the job fails, names the rank, and the checkpoint
 * already at --save is untouched. */
static void test_dead_rank(void **state) {
    (void)state;
    char ckpt[TU_PATH_MAX];
    tu_path(ckpt, "keep.ckpt");
    tu_write_file(ckpt, "precious", 8);
    const char *w[] = {"train", "--data", data_path, "--model", "tiny", "--policy", "tree", "--batches", "19",
                       "--batches-per-step", "6", "--save", ckpt, NULL};
    setenv("SPHERE_BENCH_MPI_FAULT", "1:2", 1);
    TuRun r;
    mpi(&r, 3, w);
    unsetenv("SPHERE_BENCH_MPI_FAULT");
    assert_true(r.exited && r.status != 0);
    char both[1 << 16];
    snprintf(both, sizeof both, "%s%s", r.out ? r.out : "", r.err ? r.err : "");
    assert_contains(both, "rank 1");
    size_t n;
    unsigned char *k = tu_read_file(ckpt, &n);
    assert_int_equal(n, 8);
    assert_memory_equal(k, "precious", 8);
    free(k);
    tu_run_free(&r);
}

/* --json and --save are replaced together: a checkpoint that cannot be written (over a
 * file-size limit of 24 blocks, 12 or 24 KB; the tiny model's is 27 KB, the JSON 2 KB) leaves
 * the old --json as it was. The limit is set in each rank by sh (mpirun itself writes large
 * shared-memory files), with SIGXFSZ ignored as tu_spawn does, so a write past it fails with
 * EFBIG, as on a full disk. */
static void test_outputs_replaced_together(void **state) {
    (void)state;
    char ckpt[TU_PATH_MAX], json[TU_PATH_MAX];
    tu_path(ckpt, "together.ckpt");
    tu_path(json, "together.json");
    tu_write_file(json, "old json", 8);
    const char *w[] = {"--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2", "/bin/sh", "-c",
                       "ulimit -f 24; trap '' XFSZ; exec \"$0\" \"$@\"", mpi_program(), "train", "--data", data_path, "--model",
                       "tiny", "--batches", "8", "--quiet", "--save", ckpt, "--json", json, NULL};
    TuRun r;
    setenv("SPHERE_BENCH", mpirun_path, 1);
    tu_cli_limited(&r, (TuLimits){.seconds = 60}, w); /* the limit on the ranks alone: mpirun writes large files */
    if (!(r.exited && r.status != 0 && strstr(r.err, "checkpoint")))
        fail_msg("expected the checkpoint to fail; exit %d:\n%s", r.status, r.err);
    tu_run_free(&r);
    size_t n;
    char *j = (char *)tu_read_file(json, &n);
    assert_true(n == 8 && memcmp(j, "old json", 8) == 0);
    free(j);
    assert_false(tu_file_exists(ckpt));
}

/* A bad option: every rank refuses it, one message, exit 2. */
static void test_bad_option_one_message(void **state) {
    (void)state;
    const char *w1[] = {"train", "--data", data_path, "--model", "tiny", "--policy", "ring", NULL};
    const char *w2[] = {"train", "--data", data_path, "--model", "tiny", "--threads", "0", NULL};
    const char *w3[] = {"train", "--data", "/nonexistent/x.tok", "--model", "tiny", NULL};
    const char *const *cases[] = {w1, w2, w3};
    const char *words[] = {"unknown policy 'ring'", "--threads", "/nonexistent/x.tok"};
    for (int k = 0; k < 3; k++) {
        TuRun r;
        mpi(&r, 3, cases[k]);
        assert_true(r.exited && r.status != 0);
        if (count(r.err, "sphere-bench-mpi:") != 1 || !strstr(r.err, words[k]))
            fail_msg("expected one message naming %s, got:\n%s", words[k], r.err);
        tu_run_free(&r);
    }
    /* its usage and hints name this program, not the main one */
    TuRun r;
    mpi(&r, 1, (const char *const[]){"train", "--bogus", NULL});
    assert_true(r.exited && r.status == 2);
    assert_contains(r.err, "sphere-bench-mpi: train: unknown option '--bogus' (see 'sphere-bench-mpi train --help')");
    tu_run_free(&r);
    mpi(&r, 1, (const char *const[]){"train", "--help", NULL});
    assert_true(r.exited && r.status == 0);
    assert_contains(r.out, "usage: sphere-bench-mpi train ");
    tu_run_free(&r);
}

/* mpirun -np 1 PROG A... : -np 1 PROG B... (MPMD: two ranks, two command lines), 60 s at most. */
static void mpmd(TuRun *r, const char *const *a, const char *const *b) {
    const char *args[80];
    int n = 0;
    const char *fixed[] = {"--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "1", mpi_program()};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) args[n++] = fixed[i];
    for (int i = 0; a[i]; i++) args[n++] = a[i];
    args[n++] = ":";
    for (size_t i = 4; i < sizeof fixed / sizeof *fixed; i++) args[n++] = fixed[i];
    for (int i = 0; b[i]; i++) args[n++] = b[i];
    args[n] = NULL;
    setenv("SPHERE_BENCH", mpirun_path, 1);
    tu_cli_limited(r, (TuLimits){.seconds = 60}, args);
}

/* Two ranks started with different command lines, or with different token
 * files behind one option: refused before any work on every rank, with one
 * message naming rank 1 and what differs, exit 2, no hang, no crash (before
 * the check these hung, crashed the heap or trained something else). */
static void test_ranks_disagree(void **state) {
    (void)state;
    static const char *const base[] = {"train", "--data", NULL, "--model", "tiny", "--quiet", NULL};
    static const struct {
        const char *extra[4]; /* rank 1's words after base (the data path replaced when data is set) */
        int data;             /* 1: other vocabulary, 2: same vocabulary, other tokens */
        const char *command;  /* rank 1's command, NULL: train */
        const char *word;     /* what the message must name */
    } cases[] = {
        {{"--batches", "6", NULL}, 0, NULL, "--batches"},
        {{"--threads", "2", NULL}, 0, NULL, "--threads"},
        {{"--policy", "tree", NULL}, 0, NULL, "--policy"},
        {{"--seed", "2", NULL}, 0, NULL, "--seed"},
        {{"--first-batch", "1", NULL}, 0, NULL, "--first-batch"},
        {{"--help", NULL}, 0, NULL, "--help"},
        {{NULL}, 1, NULL, "the model"},
        {{NULL}, 2, NULL, "checksum"},
        {{"--out", NULL, NULL}, 0, "bench", "the command"},
    };
    char out_dir[TU_PATH_MAX];
    tu_path(out_dir, "disagree-bench");
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const char *a[16], *b[16];
        int n = 0, m = 0;
        for (int i = 0; base[i] || i == 2; i++) a[n++] = i == 2 ? data_path : base[i];
        for (int i = 0; i < n; i++) b[m++] = a[i];
        a[n++] = "--batches", a[n++] = "8";
        a[n] = NULL;
        if (cases[k].data) b[2] = cases[k].data == 1 ? other_vocab_path : same_vocab_path;
        if (cases[k].command) b[0] = cases[k].command, b[m - 1] = "--out", b[m++] = out_dir; /* no --quiet in bench */
        if (strcmp(cases[k].word, "--batches")) b[m++] = "--batches", b[m++] = "8"; /* else rank 1's own */
        for (int i = 0; !cases[k].command && cases[k].extra[i]; i++) b[m++] = cases[k].extra[i];
        b[m] = NULL;
        TuRun r;
        mpmd(&r, a, b);
        if (!r.exited || r.status != 2 || count(r.err, "sphere-bench-mpi:") != 1 || !strstr(r.err, "rank 1: ") ||
            !strstr(r.err, cases[k].word))
            fail_msg("case %zu (%s): expected exit 2 and one message naming rank 1 and %s; got %s %d:\n%s\n%s", k,
                     cases[k].word, cases[k].word, r.exited ? "exit" : "signal", r.exited ? r.status : r.sig, r.out,
                     r.err);
        tu_run_free(&r);
    }
    const char *same[] = {"train", "--data", data_path, "--model", "tiny", "--batches", "8", "--quiet", NULL};
    TuRun r;
    mpmd(&r, same, same); /* the same command line twice is one job */
    if (!(r.exited && r.status == 0)) fail_msg("the same job on both ranks: exit %d\n%s", r.status, r.err);
    tu_run_free(&r);
}

/* Data lines of a CSV file (every line but its header). */
static int csv_rows(const char *path) {
    char *t = (char *)tu_read_file(path, NULL);
    assert_non_null(t);
    int lines = count(t, "\n");
    free(t);
    return lines - 1;
}

/* The bench on 2 ranks, 2 repetitions: every file, with one row per
 * configuration and repetition (flat, tree, allreduce, then flat and tree
 * with computing controls), per rank of each, per thread of each, and per
 * ping-pong size; then a folder that already holds them is refused. */
static void test_bench_folder(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], path[TU_PATH_MAX + 32];
    tu_path(dir, "mpi-bench");
    const char *w[] = {"bench", "--data", data_path, "--model", "tiny", "--batches", "8", "--reps", "2", "--out", dir,
                       NULL};
    TuRun r;
    mpi(&r, 2, w);
    if (!(r.exited && r.status == 0)) fail_msg("bench: exit %d\n%s\n%s", r.status, r.out, r.err);
    tu_run_free(&r);
    static const struct { const char *file; int rows; } want[] = {
        {"runs.csv", 2 * 5}, {"ranks.csv", 2 * 5 * 2}, {"threads.csv", 2 * 5 * 2}};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, want[k].file);
        assert_int_equal(csv_rows(path), want[k].rows);
    }
    snprintf(path, sizeof path, "%s/pingpong.csv", dir);
    int pp = csv_rows(path);
    assert_true(pp == 3 || pp == 4); /* 8 B, 1 KB, 64 KB, and one gradient when larger */
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    char *runs = (char *)tu_read_file(path, NULL);
    assert_contains(runs, "params_agree,run_id\n0,flat,0,2,1,1,8,");
    assert_int_equal(count(runs, ",allreduce,"), 2);
    free(runs);
    snprintf(path, sizeof path, "%s/context.json", dir);
    char *ctx = (char *)tu_read_file(path, NULL);
    assert_contains(ctx, "\"ranks\": 2");
    assert_contains(ctx, "\"library\"");
    assert_int_equal(tu_count_entries(dir, ".tmp."), 0);
    const char *id = strstr(ctx, "\"run_id\": \""); /* every file names the run */
    assert_non_null(id);
    char run_id[96];
    id += strlen("\"run_id\": \"");
    snprintf(run_id, sizeof run_id, "%.*s", (int)strcspn(id, "\""), id);
    static const char *const csvs[] = {"pingpong.csv", "runs.csv", "ranks.csv", "threads.csv"};
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, csvs[k]);
        char *t = (char *)tu_read_file(path, NULL);
        assert_true(t && strstr(t, ",run_id\n") && strstr(t, run_id));
        free(t);
    }
    free(ctx);
    mpi(&r, 2, w); /* the folder holds a run: refused, by one message */
    assert_true(r.exited && r.status != 0);
    assert_int_equal(count(r.err, "sphere-bench-mpi:"), 1);
    tu_run_free(&r);
}

/* A second MPI bench into a folder whose lock another process holds is refused at once, naming it. */
static void test_bench_folder_locked(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], lock[TU_PATH_MAX + 8], pid[32];
    tu_path(dir, "mpi-locked");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
    int n = snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_int_equal(write(fd, pid, (size_t)n), n);
    const char *w[] = {"bench", "--data", data_path, "--model", "tiny", "--batches", "8", "--reps", "1", "--out", dir,
                       NULL};
    TuRun r;
    mpi(&r, 2, w);
    close(fd);
    if (!(r.exited && r.status != 0 && count(r.err, "sphere-bench-mpi:") == 1 && strstr(r.err, pid)))
        fail_msg("expected one refusal naming %s; exit %d:\n%s", pid, r.status, r.err);
    tu_run_free(&r);
    assert_int_equal(tu_count_entries(dir, ".csv"), 0);
}

static int setup(void **state) {
    (void)state;
    const char *m = getenv("MPIRUN");
    if (m && *m) snprintf(mpirun_path, sizeof mpirun_path, "%s", m);
    else if (access("/usr/bin/mpirun", X_OK) == 0) snprintf(mpirun_path, sizeof mpirun_path, "/usr/bin/mpirun");
    else {
        fprintf(stderr, "test_mpi: no mpirun (install openmpi-bin: make deps), or set MPIRUN\n");
        return -1;
    }
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    TokenFile tf = td_random_tokens(V, NB, TB, TT, 77);
    sb_error err;
    tu_path(data_path, "mpi.tok");
    if (tokens_save(data_path, tf.ids, tf.n_tokens, V, 0, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    free(tf.ids);
    TokenFile other = td_random_tokens(V + 1, NB, TB, TT, 77), same = td_random_tokens(V, NB, TB, TT, 78);
    tu_path(other_vocab_path, "mpi-v41.tok");
    tu_path(same_vocab_path, "mpi-other.tok");
    sb_status st = tokens_save(other_vocab_path, other.ids, other.n_tokens, V + 1, 0, &err);
    if (!st) st = tokens_save(same_vocab_path, same.ids, same.n_tokens, V, 0, &err);
    free(other.ids);
    free(same.ids);
    if (st) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_rank_equals_threaded),
        cmocka_unit_test(test_policies_match_serial),
        cmocka_unit_test(test_rows_complete),
        cmocka_unit_test(test_dead_rank),
        cmocka_unit_test(test_bad_option_one_message),
        cmocka_unit_test(test_bench_folder),
        cmocka_unit_test(test_ranks_disagree),
        cmocka_unit_test(test_bench_folder_locked),
        cmocka_unit_test(test_outputs_replaced_together),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    tu_cleanup();
    return rc;
}
