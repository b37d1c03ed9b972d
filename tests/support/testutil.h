/* testutil.h - helpers shared by the cmocka tests: a private scratch directory,
 * small file reads and writes, a double-precision closeness assertion, and
 * running build/sphere-bench as a child process with its exit status, stdout
 * and stderr captured, exactly as a user would run it.
 *
 * Every helper that can fail asserts (cmocka fail()), so a test body reads as
 * the behaviour it checks. Include after <cmocka.h>. */
#ifndef SB_TESTUTIL_H
#define SB_TESTUTIL_H

#include <math.h>
#include <stddef.h>
#include <sys/types.h>
#include <string.h>

/* cmocka 1.1.5 has no assert_double_equal and its assert_float_equal compares
 * in float, too coarse to judge double reference values. */
#define assert_close(a, b, tol)                                                    \
    do {                                                                           \
        double tu_a_ = (double)(a), tu_b_ = (double)(b);                           \
        if (!(fabs(tu_a_ - tu_b_) <= (double)(tol))) {                             \
            print_error("%s = %.17g, expected %.17g (tolerance %g)\n", #a, tu_a_,  \
                        tu_b_, (double)(tol));                                     \
            fail();                                                                \
        }                                                                          \
    } while (0)

/* Asserts that the string haystack contains needle, printing both if not. */
#define assert_contains(haystack, needle)                                          \
    do {                                                                           \
        const char *tu_h_ = (haystack), *tu_n_ = (needle);                         \
        if (!tu_h_ || !strstr(tu_h_, tu_n_)) {                                     \
            print_error("expected \"%s\" in: %s\n", tu_n_, tu_h_ ? tu_h_ : "(null)"); \
            fail();                                                                \
        }                                                                          \
    } while (0)

#define TU_PATH_MAX 4096

/* A fresh directory of this process, made on first use with mkdtemp under
 * $TEST_TMPDIR (default build/tmp), so test binaries never share files. */
const char *tu_tmpdir(void);
/* Writes tu_tmpdir()/name into out (TU_PATH_MAX bytes) and returns out. */
char *tu_path(char *out, const char *name);
/* Removes tu_tmpdir() and everything in it; call at the end of main. */
void tu_cleanup(void);

/* Creates or replaces path with exactly n bytes of data. */
void tu_write_file(const char *path, const void *data, size_t n);
/* The whole file, NUL-terminated (not counted in *n), malloc'ed; NULL if it
 * cannot be opened. */
unsigned char *tu_read_file(const char *path, size_t *n);
int tu_file_exists(const char *path);
/* Bytes of a file, or -1 when it does not exist. */
long tu_file_size(const char *path);
/* 1 when both files exist and hold the same bytes. */
int tu_files_equal(const char *a, const char *b);
/* Entries of directory dir whose name contains part ("" counts all). */
int tu_count_entries(const char *dir, const char *part);
/* This process's threads (/proc/self/task) once the ones already joined have
 * left it: a joined thread can stay listed for a moment after pthread_join
 * returns, so this waits (up to 1 s) for the count to stop falling. */
int tu_settled_thread_count(void);

typedef struct {
    int exited;    /* WIFEXITED */
    int status;    /* WEXITSTATUS when exited */
    int signaled;  /* WIFSIGNALED: a crash, an abort or the time limit */
    int sig;
    char *out;     /* everything written to stdout, NUL-terminated */
    char *err;     /* everything written to stderr, NUL-terminated */
} TuRun;

/* Path of the program under test: $SPHERE_BENCH, default build/sphere-bench. */
const char *tu_cli_path(void);
/* Runs the program with the given words (NULL-terminated after the last),
 * stdin from /dev/null, killed by SIGALRM after 120 s. Free with tu_run_free. */
void tu_cli(TuRun *r, ...) __attribute__((sentinel));
/* The same with an argument vector (argv[0] is supplied here). */
void tu_cli_argv(TuRun *r, const char *const *args);

/* Limits a child runs under; 0 leaves a limit as it is (seconds: 120 s). */
typedef struct {
    int seconds;      /* killed by SIGALRM after this */
    long stack_bytes; /* RLIMIT_STACK */
    long fsize_bytes; /* RLIMIT_FSIZE (SIGXFSZ ignored, so writes fail with EFBIG) */
    long nofile;      /* RLIMIT_NOFILE, soft and hard (so the child cannot raise it) */
} TuLimits;

/* tu_cli_argv under limits. */
void tu_cli_limited(TuRun *r, TuLimits lim, const char *const *args);
/* The two halves, for a test that acts while the program runs (e.g. sends it
 * a signal): start it with stdout and stderr into files out and err, then
 * wait for it and read them (the files are removed). */
pid_t tu_spawn(const TuLimits *lim, const char *const *args, const char *out, const char *err);
void tu_finish(TuRun *r, pid_t pid, const char *out, const char *err);
void tu_run_free(TuRun *r);

/* The run failed cleanly: exited (no signal) with a non-zero status, and
 * stderr contains word. Prints the run's stderr when it did not. */
void tu_assert_failed_with(const TuRun *r, const char *word);
/* The run succeeded: exited 0. Prints its stderr when it did not. */
void tu_assert_succeeded(const TuRun *r);

#endif
