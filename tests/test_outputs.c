/* Tests of what the program does to files, run as a user runs it ($SPHERE_BENCH):
 * nothing lost, nothing clobbered, nothing silent (issue 17). An output that
 * is a special file is refused and a symbolic link written through; every
 * output is checked before the work; an output that is an input is refused;
 * a diverged run or a non-finite checkpoint fails loudly; the token file and
 * its vocabulary are replaced together; SIGTERM leaves no temporary; inputs
 * that are FIFOs or devices are refused without blocking; the kernels run on
 * a 256 KB stack; a low temperature samples words; what tokenize writes,
 * generate reads; a full standard output fails the command. Children here may get resource limits (stack, file size)
 * and a time limit, so a command that would hang fails the test instead. */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/testutil.h"

typedef struct {
    char text[TU_PATH_MAX], tok[TU_PATH_MAX], vocab[TU_PATH_MAX], ckpt[TU_PATH_MAX];
    char V[16];
} Fixture;

static Fixture fx;

/* ---- running the program with limits ---- */

/* The command fails (no crash, no hang: 20 s) with word in stderr and
 * prints no "done:" line, i.e. it failed before the work. */
static void refused(const char *word, const char *const *args) {
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.seconds = 20}, args);
    if (!(r.exited && r.status != 0 && r.err && strstr(r.err, word))) {
        print_error("command:");
        for (int i = 0; args[i]; i++) print_error(" '%s'", args[i]);
        print_error("\n");
    }
    tu_assert_failed_with(&r, word);
    assert_true(!r.out || !strstr(r.out, "done:"));
    tu_run_free(&r);
}
#define REFUSED(word, ...) refused(word, (const char *const[]){__VA_ARGS__, NULL})

static void ok_limited(TuLimits lim, const char *const *args) {
    TuRun r;
    tu_cli_limited(&r, lim, args);
    if (r.signaled || r.status != 0) {
        print_error("command failed (signal %d):", r.sig);
        for (int i = 0; args[i]; i++) print_error(" '%s'", args[i]);
        print_error("\n");
    }
    tu_assert_succeeded(&r);
    tu_run_free(&r);
}
#define OK(...) ok_limited((TuLimits){.seconds = 120}, (const char *const[]){__VA_ARGS__, NULL})

static int setup(void **state) {
    (void)state;
    tu_path(fx.text, "corpus.txt");
    tu_path(fx.tok, "corpus.tok");
    snprintf(fx.vocab, sizeof fx.vocab, "%.4080s.vocab", fx.tok);
    tu_path(fx.ckpt, "fresh.ckpt");
    OK("corpus", "--out", fx.text, "--bytes", "200000");
    OK("tokenize", fx.text, "--out", fx.tok, "--vocab", "512");
    size_t len;
    unsigned char *b = tu_read_file(fx.tok, &len);
    assert_non_null(b);
    snprintf(fx.V, sizeof fx.V, "%u", (unsigned)b[8] | (unsigned)b[9] << 8);
    free(b);
    OK("init", "--model", "tiny", "--vocab", fx.V, "--out", fx.ckpt);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_cleanup();
    return 0;
}

/* A copy of the fresh checkpoint under name, for a test to damage. */
static char *copy_ckpt(char *out, const char *name) {
    size_t n;
    unsigned char *b = tu_read_file(fx.ckpt, &n);
    tu_write_file(tu_path(out, name), b, n);
    free(b);
    return out;
}

/* ---- item 2: special files and symbolic links as outputs ---- */

static void test_special_file_outputs_refused(void **state) {
    (void)state;
    char fifo[TU_PATH_MAX], dir[TU_PATH_MAX];
    assert_int_equal(mkfifo(tu_path(fifo, "out.fifo"), 0600), 0);
    REFUSED("FIFO", "init", "--model", "tiny", "--vocab", fx.V, "--out", fifo);
    REFUSED("FIFO", "train", "--data", fx.tok, "--model", "tiny", "--batches", "2", "--save", fifo);
    REFUSED("FIFO", "grad", "--ckpt", fx.ckpt, "--data", fx.tok, "--out", fifo);
    REFUSED("FIFO", "tokenize", fx.text, "--out", fifo);
    REFUSED("FIFO", "corpus", "--out", fifo, "--bytes", "5000");
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(mkdir(tu_path(dir, "out.dir"), 0700), 0);
    REFUSED("directory", "init", "--model", "tiny", "--vocab", fx.V, "--out", dir);
}

static void test_symlink_output_written_through(void **state) {
    (void)state;
    char target[TU_PATH_MAX], link[TU_PATH_MAX];
    tu_write_file(tu_path(target, "link-target.ckpt"), "old", 3);
    assert_int_equal(symlink("link-target.ckpt", tu_path(link, "link.ckpt")), 0);
    OK("init", "--model", "tiny", "--vocab", fx.V, "--out", link);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_true(tu_files_equal(target, fx.ckpt));
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".tmp."), 0);
}

/* ---- item 3: diverged training ---- */

static void test_diverged_training_fails_and_saves_nothing(void **state) {
    (void)state;
    char save[TU_PATH_MAX], json[TU_PATH_MAX];
    copy_ckpt(save, "good.ckpt");
    tu_path(json, "diverged.json");
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.seconds = 120},
                (const char *const[]){"train", "--data", fx.tok, "--model", "tiny", "--batches", "60", "--lr", "10",
                                      "--weight-decay", "10", "--save", save, "--json", json, NULL});
    tu_assert_failed_with(&r, "diverged");
    assert_contains(r.err, "step");
    tu_run_free(&r);
    assert_true(tu_files_equal(save, fx.ckpt));
    assert_false(tu_file_exists(json));
}

/* ---- item 4: non-finite parameters ---- */

static void test_nonfinite_checkpoint_refused(void **state) {
    (void)state;
    char bad[TU_PATH_MAX], out[TU_PATH_MAX];
    copy_ckpt(bad, "nan.ckpt");
    FILE *f = fopen(bad, "r+b");
    assert_non_null(f);
    float nan = NAN;
    assert_int_equal(fseek(f, 32 + 4 * 7, SEEK_SET), 0); /* wte[7] */
    assert_int_equal(fwrite(&nan, 4, 1, f), 1);
    fclose(f);
    tu_path(out, "nan.grad");
    REFUSED("wte[7]", "grad", "--ckpt", bad, "--data", fx.tok, "--out", out);
    REFUSED("wte[7]", "train", "--data", fx.tok, "--init", bad, "--batches", "2");
    REFUSED("wte[7]", "generate", "--ckpt", bad, "--vocab", fx.vocab, "--prompt", "the", "-n", "3");
    assert_false(tu_file_exists(out));
}

/* ---- item 5: low temperature ---- */

static void test_low_temperature_samples_words(void **state) {
    (void)state;
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.seconds = 60},
                (const char *const[]){"generate", "--ckpt", fx.ckpt, "--vocab", fx.vocab, "--prompt", "the", "-n",
                                      "20", "--temperature", "0.02", NULL});
    tu_assert_succeeded(&r);
    assert_null(strstr(r.out, "<unk>"));
    tu_run_free(&r);
}

/* ---- item 6: outputs checked before the work ---- */

static void test_bad_outputs_refused_before_work(void **state) {
    (void)state;
    char dir[TU_PATH_MAX];
    tu_path(dir, "a-folder");
    mkdir(dir, 0700);
    REFUSED("directory", "train", "--data", fx.tok, "--model", "tiny", "--batches", "2", "--save", dir);
    REFUSED("empty", "train", "--data", fx.tok, "--model", "tiny", "--batches", "2", "--save", "");
    REFUSED("directory", "train", "--data", fx.tok, "--model", "tiny", "--batches", "2", "--json", dir);
    REFUSED("directory", "grad", "--ckpt", fx.ckpt, "--data", fx.tok, "--out", dir);
}

/* ---- item 7: the token file and its vocabulary, together ---- */

static void test_tokenize_pair_committed_together(void **state) {
    (void)state;
    char text[TU_PATH_MAX], out[TU_PATH_MAX], vocab[TU_PATH_MAX], keep_tok[TU_PATH_MAX], keep_voc[TU_PATH_MAX];
    /* 40000 tokens of four words: a vocabulary of 28 bytes, a token file of 160 KB */
    size_t n = 40000 * 2;
    char *t = malloc(n);
    for (size_t i = 0; i < n; i += 2) t[i] = (char)('w' + (i / 2) % 4), t[i + 1] = ' ';
    tu_write_file(tu_path(text, "pair.txt"), t, n);
    free(t);
    tu_path(out, "pair.tok");
    snprintf(vocab, sizeof vocab, "%.4080s.vocab", out);
    OK("tokenize", fx.text, "--out", out, "--vocab", "512");
    size_t len;
    unsigned char *b = tu_read_file(out, &len);
    tu_write_file(tu_path(keep_tok, "pair.keep"), b, len);
    free(b);
    b = tu_read_file(vocab, &len);
    tu_write_file(tu_path(keep_voc, "pair.vocab.keep"), b, len);
    free(b);
    TuRun r;
    tu_cli_limited(&r, (TuLimits){.seconds = 60, .fsize_bytes = 64 * 1024},
                (const char *const[]){"tokenize", text, "--out", out, NULL});
    assert_true(r.exited && r.status != 0);
    tu_run_free(&r);
    assert_true(tu_files_equal(out, keep_tok));
    assert_true(tu_files_equal(vocab, keep_voc));
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".tmp."), 0);
    assert_int_equal(tu_count_entries(tu_tmpdir(), ".old."), 0);
}

/* ---- item 9: temporaries on signals, stale temporaries ---- */

static void test_sigterm_removes_temporary(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], out[TU_PATH_MAX], o[TU_PATH_MAX], e[TU_PATH_MAX];
    tu_path(dir, "sig");
    mkdir(dir, 0700);
    snprintf(out, sizeof out, "%.4000s/big.txt", dir);
    pid_t pid = tu_spawn(&(TuLimits){.seconds = 120},
                      (const char *const[]){"corpus", "--out", out, "--bytes", "400000000", NULL},
                      tu_path(o, "sig.out"), tu_path(e, "sig.err"));
    int seen = 0;
    for (int i = 0; i < 2000 && !seen; i++) {
        usleep(5000);
        seen = tu_count_entries(dir, ".tmp.") > 0;
    }
    assert_true(seen);
    usleep(50000);
    kill(pid, SIGTERM);
    TuRun r;
    memset(&r, 0, sizeof r);
    tu_finish(&r, pid, o, e);
    assert_true(r.signaled && r.sig == SIGTERM);
    tu_run_free(&r);
    assert_int_equal(tu_count_entries(dir, ".tmp."), 0);
    assert_int_equal(tu_count_entries(dir, ""), 0);
}

static void test_stale_temporary_cleared(void **state) {
    (void)state;
    char out[TU_PATH_MAX], stale[TU_PATH_MAX], alive[TU_PATH_MAX];
    tu_path(out, "stale.ckpt");
    /* a PID no process has: the largest a pid_t may hold */
    snprintf(stale, sizeof stale, "%.4000s.tmp.%d", out, 2147483646);
    assert_true(kill(2147483646, 0) != 0);
    tu_write_file(stale, "x", 1);
    snprintf(alive, sizeof alive, "%.4000s.tmp.%ld", out, (long)getpid()); /* ours: alive, kept */
    tu_write_file(alive, "x", 1);
    OK("init", "--model", "tiny", "--vocab", fx.V, "--out", out);
    assert_false(tu_file_exists(stale));
    assert_true(tu_file_exists(alive));
    unlink(alive);
}

/* ---- item 10: FIFOs and devices as inputs ---- */

static void test_special_inputs_refused_without_blocking(void **state) {
    (void)state;
    char fifo[TU_PATH_MAX], out[TU_PATH_MAX];
    assert_int_equal(mkfifo(tu_path(fifo, "in.fifo"), 0600), 0);
    tu_path(out, "never.out");
    REFUSED("FIFO", "train", "--data", fifo, "--model", "tiny", "--batches", "2");
    REFUSED("FIFO", "train", "--data", fx.tok, "--init", fifo, "--batches", "2");
    REFUSED("FIFO", "grad", "--ckpt", fifo, "--data", fx.tok, "--out", out);
    REFUSED("FIFO", "grad", "--ckpt", fx.ckpt, "--data", fifo, "--out", out);
    REFUSED("FIFO", "generate", "--ckpt", fx.ckpt, "--vocab", fifo, "--prompt", "the");
    REFUSED("FIFO", "tokenize", fifo, "--out", out);
    REFUSED("character device", "tokenize", "/dev/zero", "--out", out);
    assert_false(tu_file_exists(out));
}

/* ---- item 11: a small stack ---- */

static void test_small_stack(void **state) {
    (void)state;
    char save[TU_PATH_MAX], grad[TU_PATH_MAX];
    TuLimits small = {.seconds = 120, .stack_bytes = 256 * 1024};
    tu_path(save, "small-stack.ckpt");
    tu_path(grad, "small-stack.grad");
    ok_limited(small, (const char *const[]){"train", "--data", fx.tok, "--model", "tiny", "--batches", "3", "--save",
                                            save, "--quiet", NULL});
    ok_limited(small, (const char *const[]){"grad", "--ckpt", fx.ckpt, "--data", fx.tok, "--out", grad, NULL});
    ok_limited(small, (const char *const[]){"generate", "--ckpt", save, "--vocab", fx.vocab, "--prompt", "the", "-n",
                                            "5", NULL});
}

/* ---- item 12: one rule for what a word is ---- */

static void test_tokenize_vocabulary_loads(void **state) {
    (void)state;
    char text[TU_PATH_MAX], out[TU_PATH_MAX], vocab[TU_PATH_MAX], ck[TU_PATH_MAX];
    static const char t[] = "alpha be\0ta <unk> gamma alpha <pad> delta\0 be ta";
    tu_write_file(tu_path(text, "nul.txt"), t, sizeof t - 1);
    tu_path(out, "nul.tok");
    snprintf(vocab, sizeof vocab, "%.4080s.vocab", out);
    OK("tokenize", text, "--out", out, "--vocab", "64");
    tu_path(ck, "nul.ckpt");
    OK("init", "--model", "tiny", "--vocab", "64", "--out", ck);
    OK("generate", "--ckpt", ck, "--vocab", vocab, "--prompt", "alpha", "-n", "3");
}

/* ---- item 13: an output that is an input ---- */

static void test_output_same_as_input_refused(void **state) {
    (void)state;
    char data[TU_PATH_MAX], m[TU_PATH_MAX], text[TU_PATH_MAX], x[TU_PATH_MAX], link[TU_PATH_MAX];
    size_t n;
    unsigned char *b = tu_read_file(fx.tok, &n);
    tu_write_file(tu_path(data, "same.tok"), b, n);
    free(b);
    copy_ckpt(m, "same.ckpt");
    b = tu_read_file(fx.text, &n);
    tu_write_file(tu_path(text, "same.txt"), b, n);
    free(b);
    tu_path(x, "same.out");
    assert_int_equal(symlink("same.tok", tu_path(link, "same-link.tok")), 0);
    REFUSED("same file", "train", "--data", data, "--model", "tiny", "--batches", "2", "--save", data);
    REFUSED("same file", "train", "--data", data, "--model", "tiny", "--batches", "2", "--save", link);
    REFUSED("same file", "grad", "--ckpt", m, "--data", data, "--out", m);
    REFUSED("same file", "tokenize", text, "--out", text);
    REFUSED("same file", "train", "--data", data, "--model", "tiny", "--batches", "2", "--save", x, "--json", x);
    assert_true(tu_files_equal(m, fx.ckpt));
    assert_true(tu_files_equal(data, fx.tok));
    assert_true(tu_files_equal(text, fx.text));
    assert_false(tu_file_exists(x));
}

/* ---- a model and the vocabulary its ids mean ---- */

/* Two corpora tokenized to the same vocabulary size give ids that mean other
 * words: a model trained on one is refused with the other's token file or
 * vocabulary (by the fingerprint tokenize records and train keeps in the
 * checkpoint), and accepted with its own. */
static void test_other_vocabulary_refused(void **state) {
    (void)state;
    char text[2][TU_PATH_MAX], tok[2][TU_PATH_MAX], vocab[2][TU_PATH_MAX], ckpt[TU_PATH_MAX], grad[TU_PATH_MAX];
    for (int k = 0; k < 2; k++) {
        char name[32];
        snprintf(name, sizeof name, "corpus-%c.txt", 'a' + k);
        tu_path(text[k], name);
        snprintf(name, sizeof name, "corpus-%c.tok", 'a' + k);
        tu_path(tok[k], name);
        snprintf(vocab[k], sizeof vocab[k], "%.4080s.vocab", tok[k]);
        OK("corpus", "--out", text[k], "--bytes", "100000", "--seed", k ? "2" : "1");
        OK("tokenize", text[k], "--out", tok[k], "--vocab", "100");
    }
    tu_path(ckpt, "trained-a.ckpt");
    tu_path(grad, "other.grad");
    OK("train", "--model", "tiny", "--data", tok[0], "--batches", "2", "--quiet", "--save", ckpt);
    OK("generate", "--ckpt", ckpt, "--vocab", vocab[0], "--prompt", "the", "-n", "3");
    REFUSED("another vocabulary", "generate", "--ckpt", ckpt, "--vocab", vocab[1], "--prompt", "the", "-n", "3");
    REFUSED("another vocabulary", "train", "--init", ckpt, "--data", tok[1], "--batches", "2", "--quiet");
    REFUSED("another vocabulary", "grad", "--ckpt", ckpt, "--data", tok[1], "--out", grad);
    assert_false(tu_file_exists(grad));
    OK("train", "--init", ckpt, "--data", tok[0], "--batches", "2", "--quiet");
}

/* ---- standard output is an output too ---- */

/* Runs the program with stdout on /dev/full (every write fails with
 * ENOSPC) and returns its exit status; stderr must name the failure. */
static int status_on_full_stdout(const char *const *args) {
    char err[TU_PATH_MAX];
    tu_path(err, "full-stderr.txt");
    pid_t pid = tu_spawn(&(TuLimits){.seconds = 60}, args, "/dev/full", err);
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_true(errno == EINTR);
    char *msg = (char *)tu_read_file(err, NULL);
    assert_non_null(msg);
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(msg, "standard output")) {
        print_error("'%s' on a full stdout: status %d, stderr: %s\n", args[0], status, msg);
        fail();
    }
    free(msg);
    unlink(err);
    return WEXITSTATUS(status);
}

/* A command whose printed result cannot be written fails, naming standard
 * output, whatever it printed (help, a plan, a bench's list of runs, a
 * training run's lines, sampled text); the work's files are still written. */
static void test_full_stdout_fails(void **state) {
    (void)state;
    char saved[TU_PATH_MAX];
    tu_path(saved, "full-stdout.ckpt");
    assert_int_equal(status_on_full_stdout((const char *const[]){"help", NULL}), 1);
    assert_int_equal(status_on_full_stdout((const char *const[]){"help", "train", NULL}), 1);
    assert_int_equal(status_on_full_stdout((const char *const[]){"plan", "--threads", "64", NULL}), 1);
    assert_int_equal(status_on_full_stdout((const char *const[]){"bench", "--list", "--quick", NULL}), 1);
    assert_int_equal(status_on_full_stdout((const char *const[]){"generate", "--ckpt", fx.ckpt, "--vocab", fx.vocab,
                                                                  "--prompt", "the", "-n", "5", NULL}),
                     1);
    assert_int_equal(status_on_full_stdout((const char *const[]){"train", "--model", "tiny", "--data", fx.tok,
                                                                  "--batches", "2", "--save", saved, NULL}),
                     1);
    assert_true(tu_file_exists(saved));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special_file_outputs_refused),
        cmocka_unit_test(test_symlink_output_written_through),
        cmocka_unit_test(test_diverged_training_fails_and_saves_nothing),
        cmocka_unit_test(test_nonfinite_checkpoint_refused),
        cmocka_unit_test(test_low_temperature_samples_words),
        cmocka_unit_test(test_bad_outputs_refused_before_work),
        cmocka_unit_test(test_tokenize_pair_committed_together),
        cmocka_unit_test(test_sigterm_removes_temporary),
        cmocka_unit_test(test_stale_temporary_cleared),
        cmocka_unit_test(test_special_inputs_refused_without_blocking),
        cmocka_unit_test(test_small_stack),
        cmocka_unit_test(test_tokenize_vocabulary_loads),
        cmocka_unit_test(test_output_same_as_input_refused),
        cmocka_unit_test(test_full_stdout_fails),
        cmocka_unit_test(test_other_vocabulary_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
