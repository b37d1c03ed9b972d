/* test_bench_stop.c - a run folder stands alone and survives an interruption.
 *
 * The real program runs a small bench (tiny model, a 600 kB corpus in a
 * private data folder, three runs); SIGINT is sent once the first run's files
 * are written and the log says the second run has begun (it takes about 2 s:
 * 3000 serial batches). The bench must finish that run,
 * exit with 128 + SIGINT, leave files that parse, marked incomplete in
 * context.json with the runs that finished, no temporary behind, and a folder
 * from which `make report RUN=...` succeeds. The report it writes into the
 * folder must link only to files inside it, so a copy of the folder made
 * anywhere else shows every plot, and a folder whose files name different
 * runs is refused. The bench runs in the test's temporary folder, so the
 * results/LATEST it writes is not the repository's: that file, which names
 * the user's last bench for `make report`, must be unchanged by the test.
 * About 8 s on 2 cores, most of it the bench's peak and kernel measurements. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/testutil.h"

static char run_dir[TU_PATH_MAX];

/* out <- p, made absolute against the current folder. */
static void absolute(char *out, const char *p) {
    char cwd[TU_PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    if (p[0] == '/')
        snprintf(out, TU_PATH_MAX, "%s", p);
    else
        assert_true(snprintf(out, TU_PATH_MAX, "%s/%s", cwd, p) < TU_PATH_MAX);
}

/* The bench in the background, its working folder the test's temporary one. */
static pid_t spawn_bench(const char *dir_rel, const char *data_rel, const char *log) {
    char prog[TU_PATH_MAX], dir[TU_PATH_MAX], data[TU_PATH_MAX], where[TU_PATH_MAX];
    absolute(prog, tu_cli_path());
    absolute(dir, dir_rel);
    absolute(data, data_rel);
    absolute(where, tu_tmpdir());
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), o = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0), dup2(o, 1), dup2(o, 2);
        alarm(120);
        if (chdir(where) != 0) _exit(126);
        execl(prog, prog, "bench", "--quick", "--model", "tiny", "--variants", "flat", "--threads",
              "1,2", "--full-threads", "4", "--batches", "8", "--sweep-batches", "3000", "--reps", "1", "--no-counters",
              "--data-dir", data, "--corpus-bytes", "600000", "--out", dir, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* How many times word occurs in s. */
static int count_of(const char *s, const char *word) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, word)); p += strlen(word)) n++;
    return n;
}

static void test_interrupted_bench_leaves_a_reportable_folder(void **state) {
    (void)state;
    char data[TU_PATH_MAX], log[TU_PATH_MAX], runs[TU_PATH_MAX + 16], ctx_path[TU_PATH_MAX + 16];
    tu_path(run_dir, "run");
    tu_path(data, "data");
    tu_path(log, "bench.log");
    snprintf(runs, sizeof runs, "%s/runs.csv", run_dir);
    snprintf(ctx_path, sizeof ctx_path, "%s/context.json", run_dir);
    size_t latest_n = 0;
    char *latest = tu_file_exists("results/LATEST") ? (char *)tu_read_file("results/LATEST", &latest_n) : NULL;
    pid_t pid = spawn_bench(run_dir, data, log);
    int seen = 0; /* runs.csv appears when the first run has finished; then run 2 starts */
    for (int i = 0; i < 9000 && !seen; i++) {
        usleep(10000);
        char *so_far = tu_file_exists(runs) ? (char *)tu_read_file(log, NULL) : NULL;
        seen = so_far && strstr(so_far, "run 2 of 9");
        free(so_far);
    }
    assert_true(seen);
    usleep(100000);
    kill(pid, SIGINT);
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_true(errno == EINTR);
    char *out = (char *)tu_read_file(log, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 128 + SIGINT) {
        print_error("bench did not exit with 128 + SIGINT:\n%s\n", out);
        fail();
    }
    assert_contains(out, "stopped by SIGINT");
    free(out);
    if (latest) { /* the repository's pointer to the user's last bench, untouched */
        size_t n = 0;
        char *now = (char *)tu_read_file("results/LATEST", &n);
        assert_int_equal(n, latest_n);
        assert_memory_equal(now, latest, n);
        free(now);
        free(latest);
    } else {
        assert_false(tu_file_exists("results/LATEST"));
    }
    char *ctx = (char *)tu_read_file(ctx_path, NULL);
    assert_contains(ctx, "\"complete\": false");
    assert_contains(ctx, "\"stopped_by\": \"SIGINT\"");
    assert_contains(ctx, "\"runs_planned\": 9");
    assert_contains(ctx, "\"finished\": [");
    assert_contains(ctx, "\"runs_finished\": 2"); /* the run in progress finished, the third never began */
    assert_contains(ctx, "\"kind\": \"sweep\", \"variant\": \"serial\"");
    /* the trainers the plan runs: serial (the baseline) and flat, no other */
    assert_contains(ctx, "\"trainers\": [");
    assert_contains(ctx, "\"name\": \"serial\"");
    assert_contains(ctx, "\"name\": \"flat\"");
    assert_int_equal(count_of(ctx, "\"name\": "), 2);
    free(ctx);
    assert_int_equal(tu_count_entries(run_dir, ".tmp."), 0);
    /* every file parses, and all carry one run id (report/runfolder.py refuses a mix) */
    char cmd[4 * TU_PATH_MAX];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import csv, json, sys; d = sys.argv[1]; "
             "ids = {json.load(open(d + \"/\" + f))[\"run_id\"] for f in (\"context.json\", \"summary.json\")}; "
             "ids |= {r[\"run_id\"] for f in (\"runs.csv\", \"threads.csv\", \"loss.csv\") "
             "for r in csv.DictReader(open(d + \"/\" + f))}; sys.exit(len(ids) != 1)' '%s'",
             run_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "make --no-print-directory report RUN='%s' >/dev/null", run_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/REPORT.md", run_dir);
    char *report = (char *)tu_read_file(cmd, NULL);
    assert_contains(report, "Incomplete run");
    free(report);
}

/* Every link target of a copied folder's REPORT.md, relative to the copy;
 * then the copy with one row of another run. */
static void test_copied_folder_links_resolve(void **state) {
    (void)state;
    assert_true(run_dir[0]); /* made by the test above */
    char copy[TU_PATH_MAX], cmd[4 * TU_PATH_MAX], path[2 * TU_PATH_MAX];
    tu_path(copy, "elsewhere");
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", run_dir, copy);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/REPORT.md", copy);
    char *report = (char *)tu_read_file(path, NULL);
    int links = 0;
    for (const char *p = strstr(report, "]("); p; p = strstr(p + 1, "](")) {
        const char *end = strchr(p + 2, ')');
        assert_non_null(end);
        char target[512];
        snprintf(target, sizeof target, "%.*s", (int)(end - p - 2), p + 2);
        if (strstr(target, "://")) continue;
        assert_true(target[0] != '/' && strncmp(target, "..", 2) != 0); /* inside the folder */
        snprintf(path, sizeof path, "%s/%s", copy, target);
        if (!tu_file_exists(path)) {
            print_error("REPORT.md links to %s, missing in the copy\n", target);
            fail();
        }
        links++;
    }
    assert_true(links >= 4); /* plots, each as PNG and SVG */
    free(report);
    /* a row of another run in the copy: the report refuses the folder */
    snprintf(cmd, sizeof cmd, "sed -i '2s/[^,]*$/another-run/' '%s/loss.csv' && "
             "python3 -m report '%s' --no-plots --out '%s/again.md' 2>&1 | grep -q 'mixes files of different runs'",
             copy, copy, copy);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/again.md", copy);
    assert_false(tu_file_exists(path));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interrupted_bench_leaves_a_reportable_folder),
        cmocka_unit_test(test_copied_folder_links_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
