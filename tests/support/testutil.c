/* testutil.c - scratch files and child-process runs for the tests; see testutil.h.
 *
 * The program under test runs through fork/execv, never a shell, so no word
 * of an argument is reinterpreted; its stdout and stderr go to files in the
 * scratch directory, read back whole once it has exited. An alarm set in the
 * child survives the exec, so a hung program ends as a signalled one that the
 * test then reports, instead of hanging the suite. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define TU_MAX_ARGS 64
#define TU_CHILD_SECONDS 120

static char tu_dir[TU_PATH_MAX];

static void mkdir_p(const char *path) {
    char buf[TU_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0777);
            *p = '/';
        }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        print_error("cannot create %s: %s\n", buf, strerror(errno));
        fail();
    }
}

const char *tu_tmpdir(void) {
    if (tu_dir[0]) return tu_dir;
    const char *base = getenv("TEST_TMPDIR");
    if (!base || !*base) base = "build/tmp";
    mkdir_p(base);
    char tmpl[TU_PATH_MAX];
    if (snprintf(tmpl, sizeof tmpl, "%s/%s-XXXXXX", base, program_invocation_short_name) >= (int)sizeof tmpl ||
        !mkdtemp(tmpl)) {
        print_error("mkdtemp %s: %s\n", tmpl, strerror(errno));
        fail();
    }
    snprintf(tu_dir, sizeof tu_dir, "%s", tmpl);
    return tu_dir;
}

char *tu_path(char *out, const char *name) {
    if (snprintf(out, TU_PATH_MAX, "%s/%s", tu_tmpdir(), name) >= TU_PATH_MAX) {
        print_error("path %s/%s is too long\n", tu_tmpdir(), name);
        fail();
    }
    return out;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_cleanup(void) {
    if (!tu_dir[0]) return;
    nftw(tu_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    tu_dir[0] = 0;
}

void tu_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        print_error("cannot create %s: %s\n", path, strerror(errno));
        fail();
    }
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    int closed = fclose(f);
    if (w != n || closed != 0) {
        print_error("cannot write %s\n", path);
        fail();
    }
}

unsigned char *tu_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = 0;
    if (n) *n = len;
    return buf;
}

int tu_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

long tu_file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int tu_files_equal(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *da = tu_read_file(a, &na), *db = tu_read_file(b, &nb);
    int eq = da && db && na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return eq;
}

int tu_count_entries(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    if (!d) {
        print_error("cannot list %s: %s\n", dir, strerror(errno));
        fail();
    }
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part)) count++;
    closedir(d);
    return count;
}

const char *tu_cli_path(void) {
    const char *p = getenv("SPHERE_BENCH");
    return p && *p ? p : "build/sphere-bench";
}

void tu_cli(TuRun *r, ...) {
    const char *args[TU_MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, r);
    const char *w;
    while ((w = va_arg(ap, const char *))) {
        assert_true(n < TU_MAX_ARGS);
        args[n++] = w;
    }
    va_end(ap);
    args[n] = NULL;
    tu_cli_argv(r, args);
}

/* A fresh file name under the test folder for a child's captured output. */
static void capture_path(char *path, const char *what) {
    static unsigned counter;
    char name[64];
    snprintf(name, sizeof name, ".%s-%ld-%u", what, (long)getpid(), counter++);
    tu_path(path, name);
}

pid_t tu_spawn(const TuLimits *lim, const char *const *args, const char *out, const char *err) {
    const char *prog = tu_cli_path();
    if (access(prog, X_OK) != 0) {
        print_error("%s is not an executable (build it with make, or set SPHERE_BENCH)\n", prog);
        fail();
    }
    char *argv[TU_MAX_ARGS + 2];
    int n = 0;
    argv[n++] = (char *)prog;
    for (int i = 0; args[i]; i++) {
        assert_true(n < TU_MAX_ARGS + 1);
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600),
            e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0) _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        if (lim->stack_bytes) setrlimit(RLIMIT_STACK, &(struct rlimit){lim->stack_bytes, lim->stack_bytes});
        if (lim->fsize_bytes) {
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &(struct rlimit){lim->fsize_bytes, lim->fsize_bytes});
        }
        if (lim->nofile) setrlimit(RLIMIT_NOFILE, &(struct rlimit){lim->nofile, lim->nofile});
        alarm(lim->seconds > 0 ? (unsigned)lim->seconds : TU_CHILD_SECONDS);
        execv(prog, argv);
        dprintf(2, "testutil: cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    return pid;
}

void tu_finish(TuRun *r, pid_t pid, const char *out, const char *err) {
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_true(errno == EINTR);
    r->exited = WIFEXITED(status);
    r->status = r->exited ? WEXITSTATUS(status) : -1;
    r->signaled = WIFSIGNALED(status);
    r->sig = r->signaled ? WTERMSIG(status) : 0;
    r->out = (char *)tu_read_file(out, NULL);
    r->err = (char *)tu_read_file(err, NULL);
    assert_non_null(r->out);
    assert_non_null(r->err);
    unlink(out);
    unlink(err);
}

void tu_cli_limited(TuRun *r, TuLimits lim, const char *const *args) {
    char out[TU_PATH_MAX], err[TU_PATH_MAX];
    capture_path(out, "stdout");
    capture_path(err, "stderr");
    memset(r, 0, sizeof *r);
    tu_finish(r, tu_spawn(&lim, args, out, err), out, err);
}

void tu_cli_argv(TuRun *r, const char *const *args) { tu_cli_limited(r, (TuLimits){0}, args); }

void tu_run_free(TuRun *r) {
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

void tu_assert_failed_with(const TuRun *r, const char *word) {
    if (r->signaled) {
        print_error("the program died from signal %d (%s); stderr: %s\n", r->sig, strsignal(r->sig), r->err);
        fail();
    }
    if (!r->exited || r->status == 0) {
        print_error("expected a non-zero exit status, got %d; stdout: %s stderr: %s\n", r->status, r->out, r->err);
        fail();
    }
    if (!strstr(r->err, word)) {
        print_error("expected \"%s\" in stderr (exit %d): %s\n", word, r->status, r->err);
        fail();
    }
}

void tu_assert_succeeded(const TuRun *r) {
    if (r->signaled || !r->exited || r->status != 0) {
        print_error("expected success, got exit %d signal %d; stderr: %s\n", r->status, r->sig, r->err);
        fail();
    }
}

int tu_settled_thread_count(void) {
    int n = tu_count_entries("/proc/self/task", "");
    for (int quiet = 0, i = 0; quiet < 20 && i < 1000; i++) {
        usleep(1000);
        int m = tu_count_entries("/proc/self/task", "");
        quiet = m == n ? quiet + 1 : 0;
        n = m;
    }
    return n;
}
