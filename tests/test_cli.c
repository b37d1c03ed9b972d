/* Tests of the sphere-bench program as a user runs it ($SPHERE_BENCH, default
 * build/sphere-bench, started with fork/exec, stdout and stderr captured).
 * Every bad invocation (no command, unknown words, missing or malformed
 * options, missing, empty, truncated or foreign files, data that does not fit
 * the model, offsets past the end) must exit non-zero without a crash, with a
 * stderr line that names the problem, and must never overwrite an existing
 * output file. The happy path runs end to end on small data: corpus ->
 * tokenize -> init -> grad (loss of a fresh model about ln V, gradient file of
 * the right size) -> train (the loss falls; the checkpoint loads) ->
 * generate (the prompt, then N words of the vocabulary). The help names every
 * trainer of the registry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/checkpoint.h"
#include "../core/model_shape.h"
#include "../core/tokenizer.h"
#include "../variants/variant.h"
#include "support/testutil.h"

/* Files made once by the group setup through the program itself. */
typedef struct {
    char text[TU_PATH_MAX];    /* corpus --bytes 200000 */
    char tok[TU_PATH_MAX];     /* tokenize --vocab 512 */
    char vocab[TU_PATH_MAX];   /* tok + ".vocab" */
    char ckpt[TU_PATH_MAX];    /* init --model tiny --vocab V */
    char trained[TU_PATH_MAX]; /* train --batches 100 from ckpt's preset */
    char small[TU_PATH_MAX];   /* init --model tiny --vocab 100: smaller than the data's V */
    char empty[TU_PATH_MAX];   /* 0 bytes */
    char blank[TU_PATH_MAX];   /* whitespace only */
    char trunc[TU_PATH_MAX];   /* tok without its last byte */
    char foreign[TU_PATH_MAX]; /* tok with another magic */
    char missing[TU_PATH_MAX]; /* never created */
    int V;                     /* the token file's vocabulary size */
    char word[256];            /* the most frequent word (id 5) */
} Fixture;

static const char *const tiny_shape = "tiny"; /* T 8, D 16, L 2, H 4 */

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Runs a command that must succeed, then frees its output. */
static void run_ok(const char *const *args) {
    TuRun r;
    tu_cli_argv(&r, args);
    if (r.signaled || r.status != 0) {
        print_error("command failed:");
        for (int i = 0; args[i]; i++) print_error(" %s", args[i]);
        print_error("\n");
    }
    tu_assert_succeeded(&r);
    tu_run_free(&r);
}
#define RUN_OK(...) run_ok((const char *const[]){__VA_ARGS__, NULL})

/* Runs a command that must fail cleanly with word in its stderr. */
static void fails_with(const char *word, const char *const *args) {
    TuRun r;
    tu_cli_argv(&r, args);
    int ok = !r.signaled && r.exited && r.status != 0 && strstr(r.err, word);
    if (!ok) {
        print_error("command:");
        for (int i = 0; args[i]; i++) print_error(" '%s'", args[i]);
        print_error("\n");
    }
    tu_assert_failed_with(&r, word);
    tu_run_free(&r);
}
#define FAILS_WITH(word, ...) fails_with(word, (const char *const[]){__VA_ARGS__, NULL})

static int setup_fixture(void **state) {
    Fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tu_path(f->text, "corpus.txt");
    tu_path(f->tok, "corpus.tok");
    snprintf(f->vocab, sizeof f->vocab, "%.4080s.vocab", f->tok);
    tu_path(f->ckpt, "fresh.ckpt");
    tu_path(f->trained, "trained.ckpt");
    tu_path(f->small, "small.ckpt");
    tu_path(f->empty, "empty");
    tu_path(f->blank, "blank.txt");
    tu_path(f->trunc, "truncated.tok");
    tu_path(f->foreign, "foreign.tok");
    tu_path(f->missing, "missing-file");

    RUN_OK("corpus", "--out", f->text, "--bytes", "200000");
    RUN_OK("tokenize", f->text, "--out", f->tok, "--vocab", "512");
    size_t len;
    unsigned char *b = tu_read_file(f->tok, &len);
    assert_non_null(b);
    assert_true(len > 24);
    f->V = (int)le32(b + 8);
    char v[32];
    snprintf(v, sizeof v, "%d", f->V);
    RUN_OK("init", "--model", tiny_shape, "--vocab", v, "--out", f->ckpt);
    RUN_OK("init", "--model", tiny_shape, "--vocab", "100", "--out", f->small);
    RUN_OK("train", "--variant", "serial", "--model", tiny_shape, "--data", f->tok, "--batches", "100", "--save",
           f->trained);

    tu_write_file(f->empty, "", 0);
    tu_write_file(f->blank, " \n\t  \n", 6);
    tu_write_file(f->trunc, b, len - 1);
    b[0] = 'X'; /* neither the token file's magic nor the checkpoint's */
    tu_write_file(f->foreign, b, len);
    free(b);

    Vocab voc;
    sb_error err;
    assert_int_equal(vocab_load(&voc, f->vocab, &err), SB_OK);
    assert_true(voc.size > TOKEN_FIRST_WORD);
    snprintf(f->word, sizeof f->word, "%s", voc.words[TOKEN_FIRST_WORD]);
    vocab_free(&voc);
    *state = f;
    return 0;
}

static int teardown_fixture(void **state) {
    free(*state);
    tu_cleanup();
    return 0;
}

/* ---- happy paths ---- */

/* The data the setup made is what the formats promise. */
static void test_pipeline_outputs(void **state) {
    Fixture *f = *state;
    long text = tu_file_size(f->text);
    assert_true(text >= 198000 && text <= 202000); /* within 1% of --bytes */
    size_t len;
    unsigned char *b = tu_read_file(f->tok, &len);
    assert_int_equal(le32(b), 20261125);
    assert_int_equal(le32(b + 4), 2);
    assert_true(f->V > TOKEN_FIRST_WORD && f->V <= 512);
    uint32_t vocab_id = le32(b + 12);
    uint64_t n = (uint64_t)le32(b + 16) | (uint64_t)le32(b + 20) << 32;
    assert_int_equal(len, 24 + 4 * n);
    free(b);
    Vocab voc;
    sb_error err;
    assert_int_equal(vocab_load(&voc, f->vocab, &err), SB_OK);
    assert_int_equal(voc.size, (uint32_t)f->V);
    assert_int_equal(voc.id, vocab_id); /* the fingerprint tokenize recorded is the file's */
    assert_true(vocab_id != 0);
    vocab_free(&voc);
    ModelConfig c;
    float *p;
    assert_int_equal(checkpoint_load(f->ckpt, &c, &p, &err), SB_OK);
    assert_int_equal(c.V, f->V);
    assert_int_equal(c.T, 8);
    assert_int_equal(c.D, 16);
    assert_int_equal(c.L, 2);
    assert_int_equal(c.H, 4);
    free(p);
}

static double parse_loss(const char *out) {
    const char *l = strstr(out, "loss ");
    assert_non_null(l);
    char *end;
    double x = strtod(l + 5, &end);
    assert_true(end != l + 5);
    return x;
}

/* A fresh model predicts about uniformly: loss ln V. The gradient file has
 * the checkpoint format and the model's shape. */
static void test_grad_fresh_model(void **state) {
    Fixture *f = *state;
    char g[TU_PATH_MAX], g2[TU_PATH_MAX];
    tu_path(g, "fresh.grad");
    tu_path(g2, "fresh2.grad");
    TuRun r;
    tu_cli(&r, "grad", "--ckpt", f->ckpt, "--data", f->tok, "--out", g, NULL);
    tu_assert_succeeded(&r);
    double loss = parse_loss(r.out);
    assert_close(loss, log((double)f->V), 0.1);
    tu_run_free(&r);
    ModelConfig c;
    float *grads;
    sb_error err;
    assert_int_equal(checkpoint_load(g, &c, &grads, &err), SB_OK);
    assert_int_equal(c.V, f->V);
    assert_int_equal(c.D, 16);
    size_t n = model_param_count(&c);
    assert_int_equal(tu_file_size(g), (long)(32 + 4 * n));
    double norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        assert_true(isfinite(grads[i]));
        norm += (double)grads[i] * grads[i];
    }
    assert_true(norm > 0.0);
    free(grads);
    /* The same window twice gives the same bytes. */
    tu_cli(&r, "grad", "--ckpt", f->ckpt, "--data", f->tok, "--out", g2, NULL);
    tu_assert_succeeded(&r);
    tu_run_free(&r);
    assert_true(tu_files_equal(g, g2));
    /* Another window and batch size work too. */
    RUN_OK("grad", "--ckpt", f->ckpt, "--data", f->tok, "--offset", "1000", "--batch", "3", "--out", g2);
    assert_false(tu_files_equal(g, g2));
}

/* The losses printed on train's "step" lines, in order. */
static int step_losses(const char *out, double *loss, int max) {
    int n = 0;
    for (const char *l = strstr(out, "step "); l && n < max; l = strstr(l + 1, "\nstep ")) {
        const char *x = strstr(l, "loss ");
        assert_non_null(x);
        loss[n++] = strtod(x + 5, NULL);
    }
    return n;
}

/* Mean of x[from .. to-1]. */
static double mean(const double *x, int from, int to) {
    double s = 0.0;
    for (int i = from; i < to; i++) s += x[i];
    return s / (to - from);
}

/* The number after `key` in out (e.g. "(" for "(4 per step"), or -1. */
static long number_after(const char *out, const char *key) {
    const char *x = strstr(out, key);
    return x ? strtol(x + strlen(key), NULL, 10) : -1;
}

/* Without --threads and --batches-per-step, train runs every trainer at the
 * defaults the trainer states (variant.h), and paces its step lines by the
 * batches per step the trainer takes: about 40 lines, never more. The help
 * shows each trainer's defaults. */
static void test_train_takes_trainer_defaults(void **state) {
    Fixture *f = *state;
    TuRun r;
    tu_cli(&r, "train", "--help", NULL);
    tu_assert_succeeded(&r);
    char want[128];
    for (const Variant *const *v = variant_all(); *v; v++) {
        snprintf(want, sizeof want, "%s %d", (*v)->name, (*v)->default_threads);
        assert_contains(r.out, want);
        snprintf(want, sizeof want, "%s %s", (*v)->name, (*v)->batches_per_step_doc);
        assert_contains(r.out, want);
    }
    tu_run_free(&r);
    for (const Variant *const *v = variant_all(); *v; v++) {
        tu_cli(&r, "train", "--variant", (*v)->name, "--model", "tiny", "--data", f->tok, "--batches", "8", "--quiet",
               NULL);
        tu_assert_succeeded(&r);
        VariantConfig c = {.threads = (*v)->default_threads};
        snprintf(want, sizeof want, "variant %s, ", (*v)->name);
        assert_int_equal(number_after(r.out, want), (*v)->default_threads);
        assert_int_equal(number_after(r.out, "batches ("), (*v)->default_batches_per_step(&c));
        tu_run_free(&r);
    }
    /* 7 threads in a tree of fan-out 2 have 4 workers: 400 batches are 100 steps, a line every 3rd */
    tu_cli(&r, "train", "--variant", "sphere", "--threads", "7", "--fanout", "2", "--model", "tiny", "--data", f->tok,
           "--batches", "400", NULL);
    tu_assert_succeeded(&r);
    assert_int_equal(number_after(r.out, "batches ("), 4);
    double loss[128];
    int lines = step_losses(r.out, loss, 128);
    assert_true(lines >= 30 && lines <= 40);
    tu_run_free(&r);
}

static void test_train_serial_tiny(void **state) {
    Fixture *f = *state;
    char save[TU_PATH_MAX];
    tu_path(save, "train.ckpt");
    TuRun r;
    tu_cli(&r, "train", "--variant", "serial", "--model", "tiny", "--data", f->tok, "--batches", "200",
           "--print-every", "1", "--save", save, NULL);
    tu_assert_succeeded(&r);
    double loss[256];
    int n = step_losses(r.out, loss, 256);
    assert_int_equal(n, 200);
    for (int i = 0; i < n; i++) assert_true(isfinite(loss[i]));
    /* Single batches of 16 tokens are noisy; averages over 20 steps are not. */
    double first = mean(loss, 0, 20), last = mean(loss, 180, 200);
    if (!(last < first - 0.3)) print_error("loss %.4f over the first 20 steps, %.4f over the last 20\n", first, last);
    assert_true(last < first - 0.3);
    assert_close(loss[0], log((double)f->V), 0.1);
    assert_contains(r.out, "saved");
    tu_run_free(&r);
    ModelConfig c;
    float *p;
    sb_error err;
    assert_int_equal(checkpoint_load(save, &c, &p, &err), SB_OK);
    assert_int_equal(c.V, f->V);
    assert_int_equal(c.T, 8);
    assert_int_equal(c.L, 2);
    free(p);
    /* The saved model is the trained one: its loss on batch 0 fell. */
    char g[TU_PATH_MAX];
    tu_path(g, "trained.grad");
    tu_cli(&r, "grad", "--ckpt", save, "--data", f->tok, "--batch", "2", "--out", g, NULL);
    tu_assert_succeeded(&r);
    assert_true(parse_loss(r.out) < log((double)f->V) - 0.3);
    tu_run_free(&r);
}

/* Splits s at whitespace into at most max words (s is modified). */
static int split_words(char *s, char **w, int max) {
    int n = 0;
    for (char *tok = strtok(s, " \t\n"); tok && n < max; tok = strtok(NULL, " \t\n")) w[n++] = tok;
    return n;
}

static void test_generate_words_from_vocab(void **state) {
    Fixture *f = *state;
    TuRun r, r2;
    tu_cli(&r, "generate", "--ckpt", f->trained, "--vocab", f->vocab, "--prompt", f->word, "-n", "12", "--seed",
           "3", NULL);
    tu_assert_succeeded(&r);
    Vocab voc;
    sb_error err;
    assert_int_equal(vocab_load(&voc, f->vocab, &err), SB_OK);
    char *copy = strdup(r.out), *w[64] = {0};
    int n = split_words(copy, w, 64);
    assert_int_equal(n, 1 + 12);
    assert_string_equal(w[0], f->word);
    for (int i = 1; i < n; i++) {
        int found = 0;
        for (uint32_t k = TOKEN_FIRST_WORD; k < voc.size && !found; k++) found = strcmp(w[i], voc.words[k]) == 0;
        if (!found) print_error("generated word %d '%s' is not a word of %s\n", i, w[i], f->vocab);
        assert_true(found);
    }
    free(copy);
    /* The seed fixes the text. */
    tu_cli(&r2, "generate", "--ckpt", f->trained, "--vocab", f->vocab, "--prompt", f->word, "-n", "12", "--seed",
           "3", NULL);
    tu_assert_succeeded(&r2);
    assert_string_equal(r.out, r2.out);
    tu_run_free(&r2);
    tu_run_free(&r);
    vocab_free(&voc);
}

static void test_help(void **state) {
    (void)state;
    TuRun r;
    tu_cli(&r, "help", NULL);
    tu_assert_succeeded(&r);
    assert_contains(r.out, "grad");
    tu_run_free(&r);
    tu_cli(&r, "help", "grad", NULL);
    tu_assert_succeeded(&r);
    assert_contains(r.out, "--offset");
    tu_run_free(&r);
    tu_cli(&r, "train", "--help", NULL);
    tu_assert_succeeded(&r);
    assert_contains(r.out, "--batches-per-step");
    tu_run_free(&r);
}

/* The top-level help's train line and train --help's --variant name every
 * registered trainer: both come from the registry, never a hand-written list. */
static void test_help_names_every_trainer(void **state) {
    (void)state;
    TuRun r;
    tu_cli(&r, "help", NULL);
    tu_assert_succeeded(&r);
    const char *train = strstr(r.out, "\n  train ");
    assert_non_null(train);
    const char *eol = strchr(train + 1, '\n');
    assert_non_null(eol);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(eol - train - 1), train + 1);
    for (const Variant *const *v = variant_all(); *v; v++) assert_contains(line, (*v)->name);
    tu_run_free(&r);
    tu_cli(&r, "train", "--help", NULL);
    tu_assert_succeeded(&r);
    const char *opt = strstr(r.out, "\n  --variant ");
    assert_non_null(opt);
    eol = strchr(++opt, '\n');
    assert_non_null(eol);
    snprintf(line, sizeof line, "%.*s", (int)(eol - opt), opt);
    for (const Variant *const *v = variant_all(); *v; v++) assert_contains(line, (*v)->name);
    tu_run_free(&r);
}

/* ---- refusals ---- */

static void test_usage_errors(void **state) {
    (void)state;
    char x[TU_PATH_MAX], y[TU_PATH_MAX];
    tu_path(x, "usage-x");
    tu_path(y, "usage-y");
    TuRun r;
    tu_cli(&r, NULL);
    tu_assert_failed_with(&r, "usage");
    tu_run_free(&r);
    FAILS_WITH("no command 'frobnicate'", "frobnicate");
    FAILS_WITH("no command 'frobnicate'", "help", "frobnicate");
    FAILS_WITH("unknown option '--bogus'", "init", "--model", "tiny", "--vocab", "100", "--out", x, "--bogus");
    FAILS_WITH("unknown option '--vocab'", "grad", "--vocab", "100");
    FAILS_WITH("unexpected argument 'extra'", "init", "extra");
    FAILS_WITH("needs a value", "init", "--model");
    FAILS_WITH("--out is required", "init", "--model", "tiny", "--vocab", "100");
    FAILS_WITH("--vocab is required", "init", "--model", "tiny", "--out", x);
    FAILS_WITH("--model is required", "init", "--vocab", "100", "--out", x);
    FAILS_WITH("--ckpt is required", "grad", "--data", x, "--out", y);
    FAILS_WITH("--data is required", "train", "--model", "tiny");
    FAILS_WITH("--out is required", "corpus");
    FAILS_WITH("text file", "tokenize", "--out", x);
    assert_false(tu_file_exists(x));
    assert_false(tu_file_exists(y));
}

static void test_bad_numbers(void **state) {
    Fixture *f = *state;
    char out[TU_PATH_MAX];
    tu_path(out, "never-written");
    FAILS_WITH("--vocab", "tokenize", f->text, "--out", out, "--vocab", "abc");
    FAILS_WITH("integer", "tokenize", f->text, "--out", out, "--vocab", "abc");
    FAILS_WITH("integer", "tokenize", f->text, "--out", out, "--vocab", "12x");
    FAILS_WITH("integer", "tokenize", f->text, "--out", out, "--vocab", "");
    FAILS_WITH("integer", "init", "--model", "tiny", "--vocab", "99999999999999999999", "--out", out);
    FAILS_WITH("--vocab 5 is outside", "tokenize", f->text, "--out", out, "--vocab", "5");
    FAILS_WITH("--batch 0 is outside", "grad", "--ckpt", f->ckpt, "--data", f->tok, "--out", out, "--batch", "0");
    FAILS_WITH("--offset -1 is outside", "grad", "--ckpt", f->ckpt, "--data", f->tok, "--out", out, "--offset",
               "-1");
    FAILS_WITH("--batches 0 is outside", "train", "--model", "tiny", "--data", f->tok, "--batches", "0");
    FAILS_WITH("--lr", "train", "--model", "tiny", "--data", f->tok, "--lr", "nan");
    FAILS_WITH("--lr", "train", "--model", "tiny", "--data", f->tok, "--lr", "-1");
    /* decimal only: strtod alone reads "0x10" as 16 and "inf" as infinity */
    FAILS_WITH("decimal number, got '0x10'", "train", "--model", "tiny", "--data", f->tok, "--lr", "0x10");
    FAILS_WITH("decimal number, got 'inf'", "train", "--model", "tiny", "--data", f->tok, "--clip", "inf");
    FAILS_WITH("--temperature", "generate", "--ckpt", f->trained, "--vocab", f->vocab, "--prompt", "a",
               "--temperature", "0");
    FAILS_WITH("--bytes 10 is outside", "corpus", "--out", out, "--bytes", "10");
    /* bench-core refuses before measuring anything */
    FAILS_WITH("no model preset 'huge'", "bench-core", "--model", "bench,huge", "--json", out);
    FAILS_WITH("--reps 0 is outside", "bench-core", "--reps", "0", "--json", out);
    FAILS_WITH("--vocab 2 is outside", "bench-core", "--vocab", "2");
    assert_false(tu_file_exists(out));
}

static void test_tokenize_refusals(void **state) {
    Fixture *f = *state;
    char out[TU_PATH_MAX];
    tu_path(out, "refused.tok");
    FAILS_WITH("cannot open", "tokenize", f->missing, "--out", out);
    FAILS_WITH("no words", "tokenize", f->empty, "--out", out);
    FAILS_WITH("no words", "tokenize", f->blank, "--out", out);
    assert_false(tu_file_exists(out));
}

/* The same bad token files through both readers, train and grad. */
static void test_bad_token_files(void **state) {
    Fixture *f = *state;
    char out[TU_PATH_MAX];
    tu_path(out, "refused.grad");
    const char *cases[][2] = {
        {f->missing, "cannot open"},
        {f->empty, "shorter than"},
        {f->trunc, "truncated"},
        {f->foreign, "magic"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FAILS_WITH(cases[i][1], "train", "--variant", "serial", "--model", "tiny", "--data", cases[i][0], "--batches",
                   "2");
        FAILS_WITH(cases[i][1], "grad", "--ckpt", f->ckpt, "--data", cases[i][0], "--out", out);
    }
    assert_false(tu_file_exists(out));
}

/* A token file whose vocabulary the model cannot embed: V 100 < the data's. */
static void test_data_does_not_fit_model(void **state) {
    Fixture *f = *state;
    char out[TU_PATH_MAX];
    tu_path(out, "refused2.grad");
    FAILS_WITH("vocabulary", "grad", "--ckpt", f->small, "--data", f->tok, "--out", out);
    FAILS_WITH("vocabulary", "train", "--init", f->small, "--data", f->tok, "--batches", "2");
    FAILS_WITH("words but the model", "generate", "--ckpt", f->small, "--vocab", f->vocab, "--prompt", f->word);
    /* a model whose vocabulary no token file can have: no hint to tokenize with --vocab 3 */
    char tiny_v[TU_PATH_MAX];
    tu_path(tiny_v, "v3.ckpt");
    ModelConfig c3 = {.V = 3, .T = 8, .D = 16, .L = 2, .H = 4};
    float *zeros = calloc(model_param_count(&c3), sizeof *zeros);
    sb_error err;
    assert_non_null(zeros);
    assert_int_equal(checkpoint_save(tiny_v, &c3, zeros, &err), SB_OK);
    free(zeros);
    TuRun r;
    tu_cli(&r, "train", "--init", tiny_v, "--data", f->tok, "--batches", "2", "--batch", "2", NULL);
    tu_assert_failed_with(&r, "below tokenize's smallest");
    assert_null(strstr(r.err, "--vocab 3"));
    tu_run_free(&r);
    /* windows and batch ranges past the end of the data */
    FAILS_WITH("offset", "grad", "--ckpt", f->ckpt, "--data", f->tok, "--out", out, "--offset", "100000000");
    FAILS_WITH("holds only", "train", "--model", "tiny", "--data", f->tok, "--batches", "100000000");
    FAILS_WITH("no whole batch", "train", "--model", "tiny", "--data", f->tok, "--first-batch", "100000000");
    assert_false(tu_file_exists(out));
}

static void test_bad_models_and_checkpoints(void **state) {
    Fixture *f = *state;
    char out[TU_PATH_MAX];
    tu_path(out, "refused3");
    FAILS_WITH("preset 'huge'", "init", "--model", "huge", "--vocab", "100", "--out", out);
    FAILS_WITH("preset 'huge'", "train", "--model", "huge", "--data", f->tok);
    FAILS_WITH("variant 'nope'", "train", "--variant", "nope", "--model", "tiny", "--data", f->tok);
    FAILS_WITH("not both", "train", "--init", f->ckpt, "--model", "tiny", "--data", f->tok);
    FAILS_WITH("cannot open checkpoint", "grad", "--ckpt", f->missing, "--data", f->tok, "--out", out);
    FAILS_WITH("not a sphere-bench checkpoint", "grad", "--ckpt", f->tok, "--data", f->tok, "--out", out);
    FAILS_WITH("cannot open checkpoint", "train", "--init", f->missing, "--data", f->tok);
    FAILS_WITH("cannot open checkpoint", "generate", "--ckpt", f->missing, "--vocab", f->vocab, "--prompt", "a");
    assert_false(tu_file_exists(out));
}

static void test_generate_refusals(void **state) {
    Fixture *f = *state;
    FAILS_WITH("cannot open vocabulary", "generate", "--ckpt", f->trained, "--vocab", f->missing, "--prompt",
               f->word);
    FAILS_WITH("--prompt", "generate", "--ckpt", f->trained, "--vocab", f->vocab, "--prompt", "");
    FAILS_WITH("no words", "generate", "--ckpt", f->trained, "--vocab", f->vocab, "--prompt", "  \t ");
    FAILS_WITH("--prompt is required", "generate", "--ckpt", f->trained, "--vocab", f->vocab);
}

/* Outputs into a directory that does not exist fail with a message naming it. */
static void test_unwritable_outputs(void **state) {
    Fixture *f = *state;
    char out[TU_PATH_MAX];
    tu_path(out, "no-such-dir/out");
    FAILS_WITH("no-such-dir/out", "corpus", "--out", out, "--bytes", "5000");
    FAILS_WITH("no-such-dir/out", "tokenize", f->text, "--out", out);
    FAILS_WITH("no-such-dir/out", "init", "--model", "tiny", "--vocab", "100", "--out", out);
    FAILS_WITH("no-such-dir/out", "grad", "--ckpt", f->ckpt, "--data", f->tok, "--out", out);
    FAILS_WITH("no-such-dir/out", "train", "--model", "tiny", "--data", f->tok, "--batches", "2", "--save", out);
}

/* commands.h: exit status 2 for a usage error, 1 when the work failed. */
static void test_exit_status_kinds(void **state) {
    Fixture *f = *state;
    char x[TU_PATH_MAX];
    tu_path(x, "status-x");
    TuRun r;
    tu_cli(&r, "init", "--bogus", NULL);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    tu_cli(&r, "grad", "--ckpt", f->ckpt, "--data", f->tok, "--out", x, "--batch", "zero", NULL);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    tu_cli(&r, "tokenize", f->missing, "--out", x, NULL);
    assert_int_equal(r.status, 1);
    tu_run_free(&r);
    tu_cli(&r, "grad", "--ckpt", f->ckpt, "--data", f->trunc, "--out", x, NULL);
    assert_int_equal(r.status, 1);
    tu_run_free(&r);
    assert_false(tu_file_exists(x));
}

/* Every failed command leaves an existing output file byte for byte (and a
 * tokenizer's existing vocabulary beside it), with no temporary file left. */
static void test_failure_keeps_existing_output(void **state) {
    Fixture *f = *state;
    char dir[TU_PATH_MAX], keep[TU_PATH_MAX], keep_vocab[TU_PATH_MAX];
    tu_path(dir, "keep");
    assert_int_equal(mkdir(dir, 0777), 0);
    tu_path(keep, "keep/precious");
    tu_path(keep_vocab, "keep/precious.vocab");
    static const char bytes[] = "precious bytes, not a checkpoint\n";
    static const char vbytes[] = "precious vocabulary\n";
    tu_write_file(keep, bytes, sizeof bytes - 1);
    tu_write_file(keep_vocab, vbytes, sizeof vbytes - 1);
    const char *const cases[][16] = {
        {"grad", "--ckpt", f->ckpt, "--data", f->tok, "--offset", "100000000", "--out", keep, NULL},
        {"grad", "--ckpt", f->ckpt, "--data", f->trunc, "--out", keep, NULL},
        {"grad", "--ckpt", f->small, "--data", f->tok, "--out", keep, NULL},
        {"grad", "--ckpt", f->ckpt, "--data", f->tok, "--batch", "0", "--out", keep, NULL},
        {"train", "--model", "tiny", "--data", f->trunc, "--batches", "2", "--save", keep, NULL},
        {"train", "--model", "tiny", "--data", f->tok, "--batches", "100000000", "--save", keep, NULL},
        {"train", "--init", f->small, "--data", f->tok, "--batches", "2", "--save", keep, NULL},
        {"tokenize", f->empty, "--out", keep, NULL},
        {"tokenize", f->missing, "--out", keep, NULL},
        {"tokenize", f->text, "--out", keep, "--vocab", "abc", NULL},
        {"init", "--model", "huge", "--vocab", "100", "--out", keep, NULL},
        {"init", "--model", "tiny", "--vocab", "abc", "--out", keep, NULL},
        {"corpus", "--out", keep, "--bytes", "10", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fails_with("", cases[i]);
        size_t n, nv;
        unsigned char *now = tu_read_file(keep, &n), *vnow = tu_read_file(keep_vocab, &nv);
        int same = now && vnow && n == sizeof bytes - 1 && memcmp(now, bytes, n) == 0 && nv == sizeof vbytes - 1 &&
                   memcmp(vnow, vbytes, nv) == 0;
        if (!same) print_error("the existing output changed after: %s %s ...\n", cases[i][0], cases[i][1]);
        assert_true(same);
        free(now);
        free(vnow);
        assert_int_equal(tu_count_entries(dir, ""), 2);
    }
}

/* cli_error prefixes "sphere-bench: COMMAND: "; the message after it should
 * not say the command a second time. */
static void test_error_names_command_once(void **state) {
    Fixture *f = *state;
    char x[TU_PATH_MAX];
    tu_path(x, "once-x");
    const char *const cases[][8] = {
        {"init", "--bogus", NULL},
        {"init", "--model", "tiny", "--vocab", "100", NULL},
        {"corpus", "--out", x, "--bytes", "10", NULL},
        {"tokenize", f->text, "--out", x, "--vocab", "abc", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TuRun r;
        tu_cli_argv(&r, cases[i]);
        tu_assert_failed_with(&r, cases[i][0]);
        char twice[64];
        snprintf(twice, sizeof twice, "%s: %s:", cases[i][0], cases[i][0]);
        if (strstr(r.err, twice)) print_error("stderr names the command twice: %s", r.err);
        assert_null(strstr(r.err, twice));
        tu_run_free(&r);
    }
}


/* ---- the command line's conventions ---- */

/* --version: the revision and how the binary was built. */
static void test_version(void **state) {
    (void)state;
    TuRun r;
    tu_cli(&r, "--version", NULL);
    tu_assert_succeeded(&r);
    assert_contains(r.out, "sphere-bench ");
    assert_contains(r.out, "build flags: ");
    assert_contains(r.out, "-std=c11");
    /* run from inside another git checkout, it reports the revision it was built from, not that one's */
    char repo[TU_PATH_MAX], there[TU_PATH_MAX], cmd[4 * TU_PATH_MAX];
    tu_path(repo, "other-checkout");
    tu_path(there, "version-there.txt");
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && cd '%s' && git init -q . && echo a > f && git add f && "
             "git -c user.name=t -c user.email=t@t commit -qm other",
             repo, repo);
    if (system(cmd) == 0) {
        char *prog = realpath(tu_cli_path(), NULL), *out = realpath(tu_tmpdir(), NULL);
        assert_non_null(prog);
        assert_non_null(out);
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --version > '%s/version-there.txt'", repo, prog, out);
        assert_int_equal(system(cmd), 0);
        char *text = (char *)tu_read_file(there, NULL);
        assert_non_null(text);
        assert_string_equal(text, r.out);
        free(text);
        free(prog);
        free(out);
    }
    tu_run_free(&r);
    FAILS_WITH("takes no arguments", "--version", "extra");
}

/* "--opt=value" is "--opt value"; an option given twice, a value given to a
 * flag, are refused by name with the usage status. */
static void test_option_forms(void **state) {
    (void)state;
    char x[TU_PATH_MAX], y[TU_PATH_MAX], eq[TU_PATH_MAX];
    tu_path(x, "forms-x");
    tu_path(y, "forms-y");
    snprintf(eq, sizeof eq, "--out=%.4000s", x);
    RUN_OK("init", "--model=tiny", "--vocab=100", eq);
    RUN_OK("init", "--model", "tiny", "--vocab", "100", "--out", y);
    assert_true(tu_files_equal(x, y));
    const char *const twice[][10] = {
        {"init", "--model", "tiny", "--model", "tiny", "--vocab", "100", "--out", y, NULL},
        {"init", "--model=tiny", "--model", "bench", "--vocab", "100", "--out", y, NULL},
        {"bench", "--quick", "--quick", "--list", NULL},
        {"bench", "--reps", "2", "--reps=3", "--list", NULL},
    };
    const char *const names[] = {"--model", "--model", "--quick", "--reps"};
    for (size_t i = 0; i < sizeof twice / sizeof twice[0]; i++) {
        TuRun r;
        tu_cli_argv(&r, twice[i]);
        char want[64];
        snprintf(want, sizeof want, "option %s is given twice", names[i]);
        tu_assert_failed_with(&r, want);
        assert_int_equal(r.status, 2);
        tu_run_free(&r);
    }
    FAILS_WITH("--quick takes no value", "bench", "--quick=1", "--list");
    FAILS_WITH("unknown option '--bogus'", "init", "--bogus=1");
    FAILS_WITH("--vocab wants an integer", "init", "--model", "tiny", "--vocab=", "--out", x);
    FAILS_WITH("--wait takes block or spin, got 'maybe'", "train", "--model", "tiny", "--data", x, "--wait=maybe");
}

/* bench refuses bad options before any work (no dataset is made): an empty
 * trainer list, a trainer named twice, a plan over the run limit. */
static void test_bench_refusals(void **state) {
    (void)state;
    char data[TU_PATH_MAX];
    tu_path(data, "bench-data");
    static const char *const cases[][2] = {
        {"", "--variants '' has an empty name"},
        {",,,", "--variants ',,,' has an empty name"},
        {"flat,,sphere", "empty name"},
        {"serial", "not a parallel trainer"},
        {"flat,flat", "'flat' twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TuRun r;
        tu_cli(&r, "bench", "--variants", cases[i][0], "--data-dir", data, NULL);
        tu_assert_failed_with(&r, cases[i][1]);
        assert_int_equal(r.status, 2);
        tu_run_free(&r);
    }
    FAILS_WITH("more than the 4096 one bench can hold", "bench", "--reps", "1000", "--threads", "1,2,3,4,5",
               "--data-dir", data);
    FAILS_WITH("--wait takes block or spin", "bench", "--wait", "sometimes", "--data-dir", data);
    FAILS_WITH("--full-threads 1 is outside", "bench", "--full-threads=1", "--data-dir", data);
    /* a counter list is checked before the run folder and the dataset are made */
    char out[TU_PATH_MAX];
    tu_path(out, "bench-events-run");
    FAILS_WITH("no event called \"bogus\"", "bench", "--quick", "--events", "task-clock,bogus", "--data-dir", data,
               "--out", out);
    FAILS_WITH("(\"cycles\") is given twice", "bench", "--quick", "--events", "cycles,task-clock,cycles",
               "--data-dir", data, "--out", out);
    assert_false(tu_file_exists(out));
    assert_false(tu_file_exists(data));
}

/* bench never writes into a folder holding another run's files: it is
 * refused before the dataset is made, and the file there is untouched. */
static void test_bench_refuses_used_folder(void **state) {
    (void)state;
    char data[TU_PATH_MAX], out[TU_PATH_MAX], old[TU_PATH_MAX];
    tu_path(data, "used-data");
    tu_path(out, "used-run");
    tu_path(old, "used-run/runs.csv");
    assert_int_equal(mkdir(out, 0755), 0);
    tu_write_file(old, "kind,variant\n", 13);
    TuRun r;
    tu_cli(&r, "bench", "--quick", "--out", out, "--data-dir", data, NULL);
    tu_assert_failed_with(&r, "already holds runs.csv");
    tu_run_free(&r);
    assert_false(tu_file_exists(data));
    assert_int_equal(tu_file_size(old), 13);
}

/* bench --list prints the plan and exits: no dataset, nothing measured. */
static void test_bench_list(void **state) {
    (void)state;
    char data[TU_PATH_MAX];
    tu_path(data, "list-data");
    TuRun r;
    tu_cli(&r, "bench", "--list", "--quick", "--threads=1,2", "--data-dir", data, NULL);
    tu_assert_succeeded(&r);
    assert_contains(r.out, "30 runs"); /* 3 full; 3 repetitions of 4 sweep and of 3 routing runs; 6 tracing */
    assert_contains(r.out, "   1  full      flat");
    assert_contains(r.out, "   3  full      sharded");
    assert_contains(r.out, "   4  sweep     serial   -              1 threads  rep 1  16 x 64  8 batches  (traced)");
    assert_contains(r.out, "  24  route     sphere   steal         64 threads  rep 3");
    assert_contains(r.out, "  25  trace-off sphere   -              2 threads  rep 1");
    assert_contains(r.out, "  30  trace-on  sphere   -              2 threads  rep 3");
    tu_run_free(&r);
    tu_cli(&r, "bench", "--list", "--variants", "flat", "--threads", "1,2", "--batch-tokens", "0", "--data-dir", data,
           NULL);
    tu_assert_succeeded(&r);
    /* full flat; serial at 1 and flat at 2, 9 times; flat untraced and traced 3 times each: 1 + 9 x 2 + 6 */
    assert_contains(r.out, "25 runs");
    assert_contains(r.out, "  19  sweep     flat     -              2 threads  rep 9");
    assert_contains(r.out, "  25  trace-on  flat     -              2 threads  rep 3");
    tu_run_free(&r);
    assert_false(tu_file_exists(data));
}

/* help lists the exit statuses; help bench what --quick sets and each file a run writes. */
static void test_help_documents(void **state) {
    (void)state;
    TuRun r;
    tu_cli(&r, "help", NULL);
    tu_assert_succeeded(&r);
    assert_contains(r.out, "exit status: 0 success, 1 the work failed");
    assert_contains(r.out, "2 usage");
    assert_contains(r.out, "--version");
    tu_run_free(&r);
    tu_cli(&r, "help", "bench", NULL);
    tu_assert_succeeded(&r);
    assert_contains(r.out, "--quick sets: --sweep-batches 8, --reps 3");
    static const char *const files[] = {"context.json", "runs.csv",   "threads.csv",        "groups.csv", "loss.csv",
                                        "summary.json", "samples.txt", "model-TRAINER.ckpt", "core.json",  "results/LATEST",
                                        "gbench.json",  "warnings.json", "trace-KIND-TRAINER-THREADS.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) assert_contains(r.out, files[i]);
    assert_contains(r.out, "exit status");
    tu_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_outputs),
        cmocka_unit_test(test_grad_fresh_model),
        cmocka_unit_test(test_train_serial_tiny),
        cmocka_unit_test(test_train_takes_trainer_defaults),
        cmocka_unit_test(test_generate_words_from_vocab),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_help_names_every_trainer),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_tokenize_refusals),
        cmocka_unit_test(test_bad_token_files),
        cmocka_unit_test(test_data_does_not_fit_model),
        cmocka_unit_test(test_bad_models_and_checkpoints),
        cmocka_unit_test(test_generate_refusals),
        cmocka_unit_test(test_unwritable_outputs),
        cmocka_unit_test(test_exit_status_kinds),
        cmocka_unit_test(test_failure_keeps_existing_output),
        cmocka_unit_test(test_error_names_command_once),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_option_forms),
        cmocka_unit_test(test_bench_refusals),
        cmocka_unit_test(test_bench_refuses_used_folder),
        cmocka_unit_test(test_bench_list),
        cmocka_unit_test(test_help_documents),
    };
    return cmocka_run_group_tests(tests, setup_fixture, teardown_fixture);
}
