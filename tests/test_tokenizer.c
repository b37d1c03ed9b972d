/* test_tokenizer.c - word-level tokenizer: specials, ranking and its
 * tie-break, lower-casing, UNK, small vocabularies, refusals, and the
 * vocabulary file through vocab_load / vocab_lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/tokenizer.h"
#include "../core/tokens.h"

static const char *tmp_dir(void) {
    const char *d = getenv("TEST_TMPDIR");
    if (!d || !*d) d = "build/tmp";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", d);
    assert_int_equal(system(cmd), 0);
    return d;
}

static void tmp_path(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/test_tokenizer_%ld_%s", tmp_dir(), (long)getpid(), name);
}

static void write_text(const char *path, const char *text, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Tokenizes `text` with vocab size V; loads the token file and vocabulary. */
static void run(const char *text, uint32_t V, TokenizeStats *stats, TokenFile *tf, Vocab *v) {
    char txt[512], out[512], vocab[600];
    tmp_path(txt, sizeof txt, "in.txt");
    tmp_path(out, sizeof out, "out.tok");
    snprintf(vocab, sizeof vocab, "%s.vocab", out);
    write_text(txt, text, strlen(text));
    sb_error err = {0};
    sb_status st = tokenize_file(txt, out, V, stats, &err);
    if (st != SB_OK) fail_msg("tokenize_file: %s", err.msg);
    assert_int_equal(tokens_load(tf, out, &err), SB_OK);
    assert_int_equal(vocab_load(v, vocab, &err), SB_OK);
    assert_int_equal(tf->vocab_size, v->size);
    assert_int_equal(stats->vocab_size, v->size);
    unlink(txt);
    unlink(out);
    unlink(vocab);
}

static const char *const specials[] = {"<pad>", "<unk>", "<bos>", "<eos>", "<mask>"};

/* c x3; a, b, zz x2 (tie: byte order); ab, d x1 (tie: "ab" < "d"). */
static const char *const ranked_text = "b a B c C c A d\n\tzz\r\nZz  ab";

static void test_ranking_and_lower_case(void **state) {
    (void)state;
    TokenizeStats s;
    TokenFile tf;
    Vocab v;
    run(ranked_text, 100, &s, &tf, &v);
    const char *expect_vocab[] = {"<pad>", "<unk>", "<bos>", "<eos>", "<mask>", "c", "a", "b", "zz", "ab", "d"};
    assert_int_equal(v.size, 11);
    for (int i = 0; i < 11; i++) assert_string_equal(v.words[i], expect_vocab[i]);
    /* b a B c C c A d zz Zz ab */
    const uint32_t expect_ids[] = {7, 6, 7, 5, 5, 5, 6, 10, 8, 8, 9};
    assert_int_equal(tf.n_tokens, 11);
    assert_memory_equal(tf.ids, expect_ids, sizeof expect_ids);
    assert_int_equal(s.tokens, 11);
    assert_int_equal(s.types, 6);
    assert_int_equal(s.unknown, 0);
    assert_int_equal(s.bytes, strlen(ranked_text));
    assert_int_equal(s.vocab_size, 11); /* smaller than the 100 asked for: 5 + types */
    tokens_free(&tf);
    vocab_free(&v);
}

static void test_unk_when_vocab_small(void **state) {
    (void)state;
    TokenizeStats s;
    TokenFile tf;
    Vocab v;
    run(ranked_text, 7, &s, &tf, &v); /* room for "c" and "a" only */
    assert_int_equal(v.size, 7);
    assert_string_equal(v.words[5], "c");
    assert_string_equal(v.words[6], "a");
    const uint32_t expect_ids[] = {TOKEN_UNK, 6, TOKEN_UNK, 5, 5, 5, 6, TOKEN_UNK, TOKEN_UNK, TOKEN_UNK, TOKEN_UNK};
    assert_memory_equal(tf.ids, expect_ids, sizeof expect_ids);
    assert_int_equal(s.unknown, 6);
    assert_int_equal(s.types, 6);
    assert_int_equal(tf.vocab_size, 7);
    tokens_free(&tf);
    vocab_free(&v);
}

static void test_specials_and_lookup(void **state) {
    (void)state;
    TokenizeStats s;
    TokenFile tf;
    Vocab v;
    run("Hello world hello\n", TOKENIZER_MIN_VOCAB, &s, &tf, &v);
    assert_int_equal(v.size, 6);
    for (int i = 0; i < 5; i++) assert_string_equal(v.words[i], specials[i]);
    assert_int_equal(TOKEN_PAD, 0);
    assert_int_equal(TOKEN_MASK, 4);
    assert_int_equal(vocab_lookup(&v, "hello"), 5);
    assert_int_equal(vocab_lookup(&v, "HeLLo"), 5);
    assert_int_equal(vocab_lookup(&v, "world"), TOKEN_UNK);
    assert_int_equal(vocab_lookup(&v, "hell"), TOKEN_UNK);
    assert_int_equal(vocab_lookup(&v, "hellos"), TOKEN_UNK);
    assert_int_equal(vocab_lookup(&v, "<eos>"), TOKEN_EOS);
    assert_int_equal(vocab_lookup(NULL, "hello"), TOKEN_UNK);
    tokens_free(&tf);
    vocab_free(&v);
    assert_null(v.words);
}

static void test_long_word_is_unk(void **state) {
    (void)state;
    char text[1200];
    memset(text, 'q', 600); /* a 600-byte word */
    strcpy(text + 600, " ok fine ok");
    TokenizeStats s;
    TokenFile tf;
    Vocab v;
    run(text, 100, &s, &tf, &v);
    assert_int_equal(tf.n_tokens, 4);
    assert_int_equal(tf.ids[0], TOKEN_UNK);
    assert_int_equal(s.unknown, 1);
    assert_int_equal(s.types, 2);
    assert_int_equal(v.size, 7);
    tokens_free(&tf);
    vocab_free(&v);
}

/* More than one read chunk (1 MiB), so words straddle chunk boundaries; every
 * token must map back to its exact word. */
static void test_large_text_exact(void **state) {
    (void)state;
    enum { WORDS = 250000, TYPES = 997 };
    char *text = malloc(WORDS * 12 + 1);
    assert_non_null(text);
    size_t len = 0;
    for (int i = 0; i < WORDS; i++) len += (size_t)sprintf(text + len, "%sw%d", i ? (i % 17 ? " " : "\n") : "", i % TYPES);
    TokenizeStats s;
    TokenFile tf;
    Vocab v;
    run(text, 1 << 20, &s, &tf, &v);
    assert_true(len > (1u << 20));
    assert_int_equal(s.bytes, len);
    assert_int_equal(tf.n_tokens, WORDS);
    assert_int_equal(s.types, TYPES);
    assert_int_equal(v.size, 5 + TYPES);
    char word[32];
    for (int i = 0; i < WORDS; i++) {
        sprintf(word, "w%d", i % TYPES);
        assert_string_equal(v.words[tf.ids[i]], word);
    }
    /* Counts differ by at most one, so the top of the ranking is the most
     * frequent types in byte order: w0 .. w(WORDS % TYPES - 1) have one more. */
    assert_string_equal(v.words[5], "w0");
    assert_string_equal(v.words[6], "w1");
    assert_string_equal(v.words[7], "w10");
    free(text);
    tokens_free(&tf);
    vocab_free(&v);
}

static void test_refusals(void **state) {
    (void)state;
    char txt[512], out[512];
    tmp_path(txt, sizeof txt, "refuse.txt");
    tmp_path(out, sizeof out, "refuse.tok");
    sb_error err = {0};
    write_text(txt, "", 0);
    assert_int_equal(tokenize_file(txt, out, 100, NULL, &err), SB_EFORMAT);
    assert_non_null(strstr(err.msg, "no words"));
    assert_non_null(strstr(err.msg, txt));
    write_text(txt, " \n\t\r\n  ", 7);
    assert_int_equal(tokenize_file(txt, out, 100, NULL, &err), SB_EFORMAT);
    assert_non_null(strstr(err.msg, "no words"));
    assert_int_not_equal(access(out, F_OK), 0);

    write_text(txt, "a b", 3);
    assert_int_equal(tokenize_file(txt, out, TOKENIZER_MIN_VOCAB - 1, NULL, &err), SB_ECONFIG);
    assert_int_equal(tokenize_file(txt, out, TOKENIZER_MAX_VOCAB + 1u, NULL, &err), SB_ECONFIG);
    assert_int_equal(tokenize_file(txt, out, 0, NULL, &err), SB_ECONFIG);
    unlink(txt);
    assert_int_equal(tokenize_file(txt, out, 100, NULL, &err), SB_EIO);
    assert_non_null(strstr(err.msg, txt));
}

static void expect_vocab_refused(const char *path, const char *content, sb_status code, const char *word) {
    if (content) write_text(path, content, strlen(content));
    Vocab v;
    sb_error err = {0};
    sb_status st = vocab_load(&v, path, &err);
    if (st != code) fail_msg("%s: expected %s, got %s: %s", content ? content : "(missing)", sb_status_name(code),
                             sb_status_name(st), err.msg);
    assert_non_null(strstr(err.msg, path));
    if (word && !strstr(err.msg, word)) fail_msg("message lacks \"%s\": %s", word, err.msg);
    assert_null(v.words);
    assert_int_equal(v.size, 0);
}

static void test_vocab_load_refusals(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "bad.vocab");
    unlink(path);
    expect_vocab_refused(path, NULL, SB_EIO, NULL);
    expect_vocab_refused(path, "", SB_EFORMAT, "empty");
    expect_vocab_refused(path, "<pad>\n<unk>\n<bos>\n<eos>\n<mask>\n", SB_EFORMAT, "5 lines");
    expect_vocab_refused(path, "<pad>\n<unk>\n<bos>\n<eos>\nthe\nof\n", SB_EFORMAT, "line 4");
    expect_vocab_refused(path, "the\n<unk>\n<bos>\n<eos>\n<mask>\nof\n", SB_EFORMAT, "line 0");
    expect_vocab_refused(path, "<pad>\n<unk>\n<bos>\n<eos>\n<mask>\nof\nthe\nof\n", SB_EFORMAT, "line 7");
    expect_vocab_refused(path, "<pad>\n<unk>\n<bos>\n<eos>\n<mask>\nof\n\nthe\n", SB_EFORMAT, "line 6");
    expect_vocab_refused(path, "<pad>\n<unk>\n<bos>\n<eos>\n<mask>\nof the\n", SB_EFORMAT, "whitespace");
    expect_vocab_refused(path, "<pad>\n<unk>\n<bos>\n<eos>\n<mask>\nThe\n", SB_EFORMAT, "upper-case");
    /* The last line may lack its newline. */
    write_text(path, "<pad>\n<unk>\n<bos>\n<eos>\n<mask>\nof\nthe", 37);
    Vocab v;
    sb_error err;
    assert_int_equal(vocab_load(&v, path, &err), SB_OK);
    assert_int_equal(v.size, 7);
    assert_int_equal(vocab_lookup(&v, "the"), 6);
    vocab_free(&v);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranking_and_lower_case), cmocka_unit_test(test_unk_when_vocab_small),
        cmocka_unit_test(test_specials_and_lookup),    cmocka_unit_test(test_long_word_is_unk),
        cmocka_unit_test(test_large_text_exact),       cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_vocab_load_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
