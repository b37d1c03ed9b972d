/* test_mpi_root.c - scripts/mpi_root.sh, the check that stops make bench-mpi
 * as root before Open MPI's mpirun refuses with a message naming neither the
 * reason nor the make variable to change.
 *
 * The script asks `id -u` who runs it; a stub `id` first on PATH answers what
 * each test sets in FAKE_UID, so root and an ordinary user are both covered
 * whoever runs the tests. The script runs through /bin/sh, as make runs it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/testutil.h"

static void as_user(const char *uid) {
    char dir[4096], stub[4200], path[8192];
    tu_path(dir, "bin");
    mkdir(dir, 0700);
    snprintf(stub, sizeof stub, "%s/id", dir);
    const char *text = "#!/bin/sh\necho \"$FAKE_UID\"\n";
    tu_write_file(stub, text, strlen(text));
    chmod(stub, 0700);
    snprintf(path, sizeof path, "%s:/usr/bin:/bin", dir);
    setenv("PATH", path, 1);
    setenv("FAKE_UID", uid, 1);
    setenv("SPHERE_BENCH", "/bin/sh", 1);
    unsetenv("OMPI_ALLOW_RUN_AS_ROOT");
    unsetenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM");
}

static void check(TuRun *r, const char *args) {
    const char *argv[] = {"scripts/mpi_root.sh", "make bench-mpi", args, NULL};
    tu_cli_argv(r, argv);
}

/* Root without the switch: stopped, with the reason and both ways out, the
 * second carrying the user's own MPIRUN_ARGS. */
static void test_root_is_stopped_with_the_commands(void **state) {
    (void)state;
    as_user("0");
    TuRun r;
    check(&r, "--oversubscribe");
    tu_assert_failed_with(&r, "refuses root");
    assert_non_null(strstr(r.err, "runuser -u USER -- make bench-mpi"));
    assert_non_null(strstr(r.err, "make bench-mpi MPIRUN_ARGS=\"--oversubscribe --allow-run-as-root\""));
    assert_string_equal(r.out, "");
    tu_run_free(&r);
}

/* Root who told mpirun already, by the switch or by both variables, passes;
 * one variable alone is not enough for mpirun, so not for the check either. */
static void test_root_who_said_so_passes(void **state) {
    (void)state;
    as_user("0");
    TuRun r;
    check(&r, "--hostfile h --allow-run-as-root");
    tu_assert_succeeded(&r);
    tu_run_free(&r);
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    check(&r, "--oversubscribe");
    tu_assert_failed_with(&r, "refuses root");
    tu_run_free(&r);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    check(&r, "--oversubscribe");
    tu_assert_succeeded(&r);
    tu_run_free(&r);
}

/* An ordinary user is never stopped, and never told about root. */
static void test_user_passes_silently(void **state) {
    (void)state;
    as_user("1000");
    TuRun r;
    check(&r, "--oversubscribe");
    tu_assert_succeeded(&r);
    assert_string_equal(r.err, "");
    tu_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_is_stopped_with_the_commands),
        cmocka_unit_test(test_root_who_said_so_passes),
        cmocka_unit_test(test_user_passes_silently),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
