/* test_machine.c - what a build records of itself (scripts/build_info.sh,
 * read by bench/machine.c).
 *
 * The revision is the source tree's, and its dirty flag says whether tracked
 * files differ from the commit: a file git does not track (a new run folder,
 * results/LATEST, data/) leaves it 0, so a bench after `make bench` on an
 * unchanged tree records a clean revision; a change to a tracked file makes
 * it 1; outside a checkout the revision is "unknown". Checked on a private
 * git repository made for the test. The header is rewritten only when its
 * text changes (an unchanged tree rebuilds nothing). The program reports the
 * revision it was built from wherever it runs: test_cli's test_version. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../bench/machine.h"
#include "support/testutil.h"

/* Runs build_info.sh on src into out; returns the header's text. */
static char *build_info(const char *out, const char *src) {
    char cmd[4 * TU_PATH_MAX];
    snprintf(cmd, sizeof cmd, "sh scripts/build_info.sh '%s' '%s' cc -O3 '-DX=\"q\"'", out, src);
    assert_int_equal(system(cmd), 0);
    char *h = (char *)tu_read_file(out, NULL);
    assert_non_null(h);
    return h;
}

static void test_build_info_counts_tracked_files_only(void **state) {
    (void)state;
    char repo[TU_PATH_MAX], out[TU_PATH_MAX], file[TU_PATH_MAX], cmd[3 * TU_PATH_MAX];
    tu_path(repo, "repo");
    tu_path(out, "build_info.h");
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && cd '%s' && git init -q . && echo a > tracked.txt && git add tracked.txt && "
             "git -c user.name=t -c user.email=t@t commit -qm one",
             repo, repo);
    if (system(cmd) != 0) skip(); /* no git here: nothing to check */
    char *h = build_info(out, repo);
    assert_contains(h, "#define SB_GIT_DIRTY 0");
    assert_contains(h, "#define SB_BUILD_FLAGS \"cc -O3 -DX=\\\"q\\\"\""); /* quotes escaped for C */
    const char *rev = strstr(h, "SB_GIT_REVISION \"");
    assert_non_null(rev);
    assert_int_equal((int)strcspn(rev + 17, "\""), 12);
    free(h);
    struct stat before, after;
    assert_int_equal(stat(out, &before), 0);
    snprintf(file, sizeof file, "%.4000s/untracked.txt", repo);
    tu_write_file(file, "new run\n", 8); /* a file git does not track */
    h = build_info(out, repo);
    assert_contains(h, "#define SB_GIT_DIRTY 0");
    free(h);
    assert_int_equal(stat(out, &after), 0);
    assert_true(before.st_ino == after.st_ino && before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
                before.st_mtim.tv_nsec == after.st_mtim.tv_nsec); /* same text: not rewritten */
    snprintf(file, sizeof file, "%.4000s/tracked.txt", repo);
    tu_write_file(file, "b\n", 2); /* a tracked file changed */
    h = build_info(out, repo);
    assert_contains(h, "#define SB_GIT_DIRTY 1");
    free(h);
}

static void test_build_info_outside_a_checkout(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], out[TU_PATH_MAX], cmd[4 * TU_PATH_MAX];
    tu_path(dir, "not-a-checkout");
    tu_path(out, "build_info_none.h");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    /* tu_tmpdir() may sit inside this repository: GIT_CEILING_DIRECTORIES (an
     * absolute path) stops git from looking above it */
    char *ceiling = realpath(tu_tmpdir(), NULL);
    assert_non_null(ceiling);
    snprintf(cmd, sizeof cmd, "GIT_CEILING_DIRECTORIES='%s' sh scripts/build_info.sh '%s' '%s' cc", ceiling, out,
             dir);
    free(ceiling);
    assert_int_equal(system(cmd), 0);
    char *h = (char *)tu_read_file(out, NULL);
    assert_non_null(h);
    assert_contains(h, "#define SB_GIT_REVISION \"unknown\"");
    assert_contains(h, "#define SB_GIT_DIRTY 0");
    free(h);
}

/* The program linked into this test says what its own build recorded. */
static void test_machine_reports_the_build(void **state) {
    (void)state;
    MachineInfo m;
    machine_info_read(&m);
    assert_true(m.git_revision[0] != 0);
    assert_true(m.git_dirty == 0 || m.git_dirty == 1);
    assert_non_null(strstr(m.cflags, "-std=c11"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_info_counts_tracked_files_only),
        cmocka_unit_test(test_build_info_outside_a_checkout),
        cmocka_unit_test(test_machine_reports_the_build),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
