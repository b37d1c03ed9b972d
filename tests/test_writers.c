/* test_writers.c - one writer per output, and a write that fails leaves nothing half-replaced (issue 25).
 *
 * Two writers: the test takes the lock of an output itself (flock on
 * OUTPUT.lock, or DIR/.lock for a run folder), writing its own pid into it as
 * a holder does, and runs tokenize, train and the bench on that output: each
 * must be refused at once, naming the holder's pid, and write nothing; with
 * the lock let go the same command succeeds and leaves no lock file behind.
 * (Holding the lock in the test makes the overlap certain, where two
 * programs started together overlap only by chance.)
 *
 * Failed writes, under a file-size limit (RLIMIT_FSIZE: a write past it fails
 * with EFBIG, as on a full disk): train --save --json --trace whose checkpoint
 * cannot be written keeps the old --json and --trace as they were; a bench
 * whose full run's checkpoint cannot be written fails instead of reporting
 * "complete" without it, and context.json says which write failed; a bench
 * whose gbench.json outgrows the limit leaves runs.csv with exactly the runs
 * context.json says finished (not one row ahead). A bench takes about 3 s. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/testutil.h"

static char text[TU_PATH_MAX], tok[TU_PATH_MAX], data_dir[TU_PATH_MAX];

/* Takes path's lock as a holder does: flock, then "pid N: ..." inside. */
static int hold_lock(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    char line[64];
    int n = snprintf(line, sizeof line, "pid %ld: test_writers\n", (long)getpid());
    assert_int_equal(write(fd, line, (size_t)n), n);
    return fd;
}

/* The command is refused, naming this process as the holder, and says no "done:". */
static void refused_by_holder(const char *const *args) {
    TuRun r;
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    tu_cli_limited(&r, (TuLimits){.seconds = 60}, args);
    tu_assert_failed_with(&r, pid);
    assert_null(strstr(r.out, "done:"));
    tu_run_free(&r);
}

static void succeeds(const char *const *args) {
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.seconds = 60}, args);
    tu_assert_succeeded(&r);
    tu_run_free(&r);
}

static void test_tokenize_second_writer_refused(void **state) {
    (void)state;
    char out[TU_PATH_MAX], lock[TU_PATH_MAX + 8], vocab[TU_PATH_MAX + 8];
    tu_path(out, "locked.tok");
    snprintf(lock, sizeof lock, "%s.lock", out);
    snprintf(vocab, sizeof vocab, "%s.vocab", out);
    int fd = hold_lock(lock);
    const char *args[] = {"tokenize", text, "--out", out, "--vocab", "64", NULL};
    refused_by_holder(args);
    assert_false(tu_file_exists(out));
    assert_false(tu_file_exists(vocab));
    close(fd);
    succeeds(args);
    assert_true(tu_file_exists(out) && tu_file_exists(vocab));
    assert_false(tu_file_exists(lock)); /* let go: removed */
}

static void test_train_second_writer_refused(void **state) {
    (void)state;
    char save[TU_PATH_MAX], json[TU_PATH_MAX], trace[TU_PATH_MAX], lock[TU_PATH_MAX + 8];
    tu_path(save, "locked.ckpt");
    tu_path(json, "locked.json");
    tu_path(trace, "locked.trace");
    const char *args[] = {"train", "--data", tok, "--model", "tiny", "--batches", "4", "--quiet", "--save", save,
                          "--json", json, "--trace", trace, NULL};
    const char *outs[] = {save, json, trace};
    for (int k = 0; k < 3; k++) { /* each output's lock alone refuses the command */
        snprintf(lock, sizeof lock, "%s.lock", outs[k]);
        int fd = hold_lock(lock);
        refused_by_holder(args);
        close(fd);
        unlink(lock);
        for (int i = 0; i < 3; i++) assert_false(tu_file_exists(outs[i]));
    }
    succeeds(args);
    for (int i = 0; i < 3; i++) assert_true(tu_file_exists(outs[i]));
}

/* The bench's words: a small plan (one full run of flat, the sweep at 1 and 2 threads). */
static void bench_args(const char **w, const char *out) {
    const char *fixed[] = {"bench", "--quick", "--model", "tiny", "--variants", "flat", "--threads", "1,2",
                           "--full-threads", "2", "--batches", "8", "--sweep-batches", "4", "--reps", "1",
                           "--no-counters", "--data-dir", data_dir, "--corpus-bytes", "200000", "--out", out, NULL};
    memcpy(w, fixed, sizeof fixed);
}


static void test_bench_second_writer_refused(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], lock[TU_PATH_MAX + 8];
    tu_path(dir, "locked-run");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    int fd = hold_lock(lock);
    const char *w[32];
    bench_args(w, dir);
    refused_by_holder(w);
    assert_int_equal(tu_count_entries(dir, ""), 1); /* the lock alone */
    close(fd);
    succeeds(w); /* a folder holding only a lock nobody holds is free */
    assert_false(tu_file_exists(lock));
}

/* Every file of a run folder names the run (context.json's run_id), the checkpoints aside (a fixed binary format). */
static void test_every_file_carries_the_run_id(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], path[2 * TU_PATH_MAX], id[128];
    const char *w[32];
    bench_args(w, tu_path(dir, "id-run"));
    succeeds(w);
    snprintf(path, sizeof path, "%s/context.json", dir);
    char *ctx = (char *)tu_read_file(path, NULL);
    const char *p = strstr(ctx, "\"run_id\": \"");
    assert_non_null(p);
    p += strlen("\"run_id\": \"");
    snprintf(id, sizeof id, "%.*s", (int)strcspn(p, "\""), p);
    free(ctx);
    assert_true(strlen(id) > 8);
    static const char *const files[] = {"runs.csv", "threads.csv", "groups.csv", "loss.csv", "summary.json",
                                        "gbench.json", "warnings.json", "core.json", "samples.txt",
                                        "trace-full-flat-2.json", "trace-sweep-flat-2.json",
                                        "trace-sweep-serial-1.json"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        char *t = (char *)tu_read_file(path, NULL);
        int header_only = t && strchr(t, '\n') && !strchr(t, '\n')[1]; /* a CSV of no rows: flat has no groups */
        if (!t || !(strstr(t, id) || (header_only && strstr(t, ",run_id\n"))))
            fail_msg("%s does not carry the run id %s", files[k], id);
        free(t);
    }
}

static void test_train_outputs_replaced_together(void **state) {
    (void)state;
    char save[TU_PATH_MAX], json[TU_PATH_MAX], trace[TU_PATH_MAX];
    tu_path(save, "together.ckpt");
    tu_path(json, "together.json");
    tu_path(trace, "together.trace");
    tu_write_file(json, "old json", 8);
    tu_write_file(trace, "old trace", 9);
    TuRun r; /* the tiny model's checkpoint is 27 KB, its --json and --trace under 4 KB */
    tu_cli_limited(&r, (TuLimits){.seconds = 60, .fsize_bytes = 16 * 1024},
                   (const char *const[]){"train", "--data", tok, "--model", "tiny", "--batches", "4", "--quiet",
                                         "--save", save, "--json", json, "--trace", trace, NULL});
    tu_assert_failed_with(&r, "checkpoint");
    tu_run_free(&r);
    size_t n;
    char *j = (char *)tu_read_file(json, &n);
    assert_true(n == 8 && memcmp(j, "old json", 8) == 0);
    free(j);
    char *t = (char *)tu_read_file(trace, &n);
    assert_true(n == 9 && memcmp(t, "old trace", 9) == 0);
    free(t);
    assert_false(tu_file_exists(save));
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".tmp."), 0);
}

/* Data rows of dir/runs.csv. */
static int runs_rows(const char *dir) {
    char path[TU_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    char *s = (char *)tu_read_file(path, NULL);
    assert_non_null(s);
    int lines = 0;
    for (char *p = s; *p; p++) lines += *p == '\n';
    free(s);
    return lines - 1;
}

/* context.json's "runs_finished", and its text into ctx (owned). */
static int runs_finished(const char *dir, char **ctx) {
    char path[TU_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/context.json", dir);
    *ctx = (char *)tu_read_file(path, NULL);
    assert_non_null(*ctx);
    const char *p = strstr(*ctx, "\"runs_finished\": ");
    assert_non_null(p);
    return atoi(p + strlen("\"runs_finished\": "));
}

/* A bench under a file-size limit: it fails, its folder is whole (runs.csv as
 * long as context.json says), marked incomplete, with no temporary left. */
static void bench_fails_whole(const char *name, long limit, const char *word, int want_failed_write) {
    char dir[TU_PATH_MAX];
    tu_path(dir, name);
    const char *w[32];
    bench_args(w, dir);
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.seconds = 60, .fsize_bytes = limit}, w);
    tu_assert_failed_with(&r, word);
    tu_run_free(&r);
    char *ctx;
    int finished = runs_finished(dir, &ctx);
    assert_int_equal(runs_rows(dir), finished);
    assert_non_null(strstr(ctx, "\"complete\": false"));
    if (want_failed_write) assert_non_null(strstr(ctx, "a failed write"));
    free(ctx);
    assert_int_equal(tu_count_entries(dir, ".tmp."), 0);
}

/* The largest file of a run folder but its checkpoints, and the size of the
 * next largest: a limit between the two fails that file alone. */
static long largest_but_checkpoints(const char *dir, char *name, size_t cap, long *next) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    long top = 0;
    *next = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".ckpt")) continue;
        char path[TU_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        long size = tu_file_size(path);
        if (size > top) {
            *next = top;
            top = size;
            snprintf(name, cap, "%s", e->d_name);
        } else if (size > *next) {
            *next = size;
        }
    }
    closedir(d);
    return top;
}

static void test_bench_write_fails(void **state) {
    (void)state;
    const char *w[32];
    char dir[TU_PATH_MAX], big[300];
    bench_args(w, tu_path(dir, "unlimited-run"));
    succeeds(w); /* the dataset made, so the limited runs below write only their folders */
    bench_fails_whole("ckpt-fails", 150 * 1000, "model-flat.ckpt", 1); /* the checkpoint is 200 KB, the rest < 10 KB */
    /* the largest file but the checkpoints (core.json, written once before the runs) fails alone: the bench
     * stops naming it, before any run, and leaves no temporary and no file that claims a run */
    long next, top = largest_but_checkpoints(dir, big, sizeof big, &next);
    assert_true(top > next + 200);
    assert_string_equal(big, "core.json");
    char early[TU_PATH_MAX], runs[TU_PATH_MAX + 16];
    tu_path(early, "core-fails");
    bench_args(w, early);
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.seconds = 60, .fsize_bytes = (next + top) / 2}, w);
    tu_assert_failed_with(&r, "core.json");
    tu_run_free(&r);
    snprintf(runs, sizeof runs, "%s/runs.csv", early);
    assert_false(tu_file_exists(runs));
    assert_int_equal(tu_count_entries(early, ".tmp."), 0);
}

/* env's path made absolute against the current folder (default def). */
static void absolute_env(const char *env, const char *def) {
    const char *p = getenv(env);
    p = p && *p ? p : def;
    char cwd[TU_PATH_MAX], abs[2 * TU_PATH_MAX];
    if (p[0] == '/' || !getcwd(cwd, sizeof cwd)) return;
    snprintf(abs, sizeof abs, "%s/%s", cwd, p);
    setenv(env, abs, 1);
}

static int setup(void **state) {
    (void)state;
    /* the benches write results/LATEST in their working folder: the test's, not the repository's */
    absolute_env("SPHERE_BENCH", "build/sphere-bench");
    absolute_env("TEST_TMPDIR", "build/tmp");
    if (chdir(tu_tmpdir()) != 0) return -1;
    tu_path(text, "writers.txt");
    tu_path(tok, "writers.tok");
    tu_path(data_dir, "writers-data");
    char words[6000];
    size_t n = 0;
    for (int i = 0; n + 8 < sizeof words; i++) n += (size_t)snprintf(words + n, sizeof words - n, "w%d ", i % 37);
    tu_write_file(text, words, n);
    TuRun r;
    tu_cli(&r, "tokenize", text, "--out", tok, "--vocab", "64", NULL);
    int ok = r.exited && r.status == 0;
    tu_run_free(&r);
    return ok ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_second_writer_refused),
        cmocka_unit_test(test_train_second_writer_refused),
        cmocka_unit_test(test_bench_second_writer_refused),
        cmocka_unit_test(test_every_file_carries_the_run_id),
        cmocka_unit_test(test_train_outputs_replaced_together),
        cmocka_unit_test(test_bench_write_fails),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    tu_cleanup();
    return rc;
}
