/* test_machine.c - the machine context's git fields (bench/machine.c).
 *
 * git_dirty says whether tracked files differ from the commit: a file git
 * does not track (a new run folder, results/LATEST, data/) leaves it false,
 * so a bench run after `make bench` on an unchanged tree records a clean
 * revision; a change to a tracked file makes it true. Checked in a private
 * git repository made for the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/machine.h"
#include "support/testutil.h"

static void test_git_dirty_counts_tracked_files_only(void **state) {
    (void)state;
    char repo[TU_PATH_MAX], cwd[PATH_MAX], cmd[3 * TU_PATH_MAX];
    tu_path(repo, "repo");
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && cd '%s' && git init -q . && echo a > tracked.txt && git add tracked.txt && "
             "git -c user.name=t -c user.email=t@t commit -qm one",
             repo, repo);
    if (system(cmd) != 0) skip(); /* no git here: nothing to check */
    assert_int_equal(chdir(repo), 0);
    MachineInfo m;
    machine_info_read(&m);
    assert_int_equal(m.git_dirty, 0);
    assert_int_equal((int)strlen(m.git_revision), 12);
    tu_write_file("untracked.txt", "new run\n", 8); /* a file git does not track */
    machine_info_read(&m);
    assert_int_equal(m.git_dirty, 0);
    tu_write_file("tracked.txt", "b\n", 2); /* a tracked file changed */
    machine_info_read(&m);
    assert_int_equal(m.git_dirty, 1);
    assert_int_equal(chdir(cwd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_git_dirty_counts_tracked_files_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
