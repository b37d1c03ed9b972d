/* Tests of core/safe_file.c's mechanisms the commands build on: a group of
 * files committed together (and rolled back when one rename fails), a run
 * folder made with its parents and refused when it holds files, outputs
 * compared by identity, and SIGTERM removing a live temporary. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/safe_file.h"
#include "support/testutil.h"

static void open_ok(SafeFile *sf, const char *path, const char *text) {
    sb_error err;
    sb_status st = safe_file_open(sf, path, "test file", &err);
    if (st) print_error("%s\n", err.msg);
    assert_int_equal(st, SB_OK);
    fputs(text, sf->f);
}

static void test_commit_all_replaces_every_file(void **state) {
    (void)state;
    char a[TU_PATH_MAX], b[TU_PATH_MAX];
    tu_write_file(tu_path(a, "all-a"), "old a", 5);
    tu_path(b, "all-b"); /* does not exist yet */
    SafeFile sf[2];
    open_ok(&sf[0], a, "new a");
    open_ok(&sf[1], b, "new b");
    sb_error err;
    assert_int_equal(safe_file_commit_all(sf, 2, 1, &err), SB_OK);
    size_t n;
    char *t = (char *)tu_read_file(a, &n);
    assert_string_equal(t, "new a");
    free(t);
    t = (char *)tu_read_file(b, &n);
    assert_string_equal(t, "new b");
    free(t);
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".tmp."), 0);
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".old."), 0);
}

/* The last rename fails (its temporary vanished): the first target gets its
 * old bytes back, a new one is removed, no temporary stays. */
static void test_commit_all_rolls_back(void **state) {
    (void)state;
    char a[TU_PATH_MAX], fresh[TU_PATH_MAX], b[TU_PATH_MAX];
    tu_write_file(tu_path(a, "back-a"), "old a", 5);
    tu_path(fresh, "back-fresh");
    tu_path(b, "back-b");
    SafeFile sf[3];
    open_ok(&sf[0], a, "new a");
    open_ok(&sf[1], fresh, "new fresh");
    open_ok(&sf[2], b, "new b");
    assert_int_equal(unlink(sf[2].tmp), 0);
    sb_error err;
    assert_int_equal(safe_file_commit_all(sf, 3, 1, &err), SB_EIO);
    assert_contains(err.msg, b);
    size_t n;
    char *t = (char *)tu_read_file(a, &n);
    assert_string_equal(t, "old a");
    free(t);
    assert_false(tu_file_exists(fresh));
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".tmp."), 0);
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".old."), 0);
}

static void test_dir_prepare(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], file[TU_PATH_MAX];
    sb_error err;
    tu_path(dir, "runs/a/new/nested/folder");
    assert_int_equal(safe_dir_prepare(dir, &err), SB_OK);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(safe_dir_prepare(dir, &err), SB_OK); /* empty: fine */
    snprintf(file, sizeof file, "%.4000s/summary.json", dir);
    tu_write_file(file, "{}", 2);
    assert_int_equal(safe_dir_prepare(dir, &err), SB_EIO);
    assert_contains(err.msg, "summary.json");
    assert_int_equal(safe_dir_prepare(file, &err), SB_EIO);
    assert_int_equal(safe_dir_prepare("", &err), SB_EARG);
}

/* A folder holding only temporaries of processes that died (a killed bench
 * or MPI bench) is taken, and they are cleared; a live process's temporary,
 * or any other file, still makes it another run's folder. */
static void test_dir_prepare_clears_dead_temporaries(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], dead[TU_PATH_MAX + 64], live[TU_PATH_MAX + 64];
    sb_error err;
    tu_path(dir, "rerun");
    assert_int_equal(safe_dir_prepare(dir, &err), SB_OK);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child); /* its pid now names no process */
    snprintf(dead, sizeof dead, "%s/runs.csv.tmp.%ld", dir, (long)child);
    tu_write_file(dead, "half a row", 10);
    assert_int_equal(safe_dir_prepare(dir, &err), SB_OK);
    assert_false(tu_file_exists(dead));
    snprintf(live, sizeof live, "%s/runs.csv.tmp.%ld", dir, (long)getppid()); /* alive: the test's parent */
    tu_write_file(live, "half a row", 10);
    assert_int_equal(safe_dir_prepare(dir, &err), SB_EIO);
    assert_contains(err.msg, "runs.csv.tmp.");
    assert_true(tu_file_exists(live));
}

static void test_files_distinct(void **state) {
    (void)state;
    char x[TU_PATH_MAX], link[TU_PATH_MAX], dotted[TU_PATH_MAX], y[TU_PATH_MAX];
    tu_write_file(tu_path(x, "distinct.x"), "x", 1);
    assert_int_equal(symlink("distinct.x", tu_path(link, "distinct.link")), 0);
    tu_path(y, "distinct.new");
    snprintf(dotted, sizeof dotted, "%.4000s/./distinct.new", tu_tmpdir());
    sb_error err;
    SafeRole same_inode[] = {{"--data", x, 0}, {"--save", link, 1}};
    assert_int_equal(safe_files_distinct(same_inode, 2, &err), SB_EARG);
    assert_contains(err.msg, "same file");
    SafeRole same_new[] = {{"--save", y, 1}, {"--json", dotted, 1}};
    assert_int_equal(safe_files_distinct(same_new, 2, &err), SB_EARG);
    SafeRole inputs[] = {{"--data", x, 0}, {"--init", link, 0}, {"--save", y, 1}, {"--json", NULL, 1}};
    assert_int_equal(safe_files_distinct(inputs, 4, &err), SB_OK);
}

/* Two new files in a folder whose real path (4092 bytes) fits but not with
 * their names: they are still told apart (by the paths given). */
static void test_files_distinct_deep(void **state) {
    (void)state;
    char here[TU_PATH_MAX], cwd[4096], part[201];
    assert_non_null(getcwd(here, sizeof here));
    assert_int_equal(chdir(tu_tmpdir()), 0);
    assert_non_null(getcwd(cwd, sizeof cwd));
    for (size_t len = strlen(cwd); len < 4092;) {
        size_t n = 4092 - len - 1 < 200 ? 4092 - len - 1 : 200;
        memset(part, 'd', n);
        part[n] = '\0';
        assert_true(mkdir(part, 0755) == 0 || errno == EEXIST);
        assert_int_equal(chdir(part), 0);
        len += 1 + n;
    }
    assert_non_null(getcwd(cwd, sizeof cwd));
    size_t depth = strlen(cwd);
    sb_error err;
    SafeRole two[] = {{"--save", "deep.a", 1}, {"--json", "deep.b", 1}};
    sb_status st = safe_files_distinct(two, 2, &err);
    assert_int_equal(chdir(here), 0);
    assert_int_equal(depth, 4092);
    assert_int_equal(st, SB_OK);
}

static void test_output_check(void **state) {
    (void)state;
    char missing[TU_PATH_MAX];
    sb_error err;
    assert_int_equal(safe_output_check("--out", NULL, &err), SB_OK);
    assert_int_equal(safe_output_check("--out", "", &err), SB_EARG);
    assert_int_equal(safe_output_check("--out", tu_tmpdir(), &err), SB_EIO);
    assert_contains(err.msg, "directory");
    assert_int_equal(safe_output_check("--out", "/dev/null", &err), SB_EIO);
    assert_contains(err.msg, "device");
    assert_int_equal(safe_output_check("--out", tu_path(missing, "no/such/folder/x"), &err), SB_EIO);
    assert_contains(err.msg, "does not exist");
}

/* A child opens a temporary and is killed by SIGTERM: the temporary is gone
 * and the child died of the signal. */
static void test_sigterm_removes_live_temporary(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    tu_path(path, "signalled.out");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        SafeFile sf;
        sb_error err;
        if (safe_file_open(&sf, path, "test file", &err)) _exit(3);
        raise(SIGTERM);
        _exit(4);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    assert_int_equal(tu_count_entries(tu_tmpdir(), "signalled.out"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_all_replaces_every_file),
        cmocka_unit_test(test_commit_all_rolls_back),
        cmocka_unit_test(test_dir_prepare),
        cmocka_unit_test(test_dir_prepare_clears_dead_temporaries),
        cmocka_unit_test(test_files_distinct_deep),
        cmocka_unit_test(test_files_distinct),
        cmocka_unit_test(test_output_check),
        cmocka_unit_test(test_sigterm_removes_live_temporary),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
