/* test_tokens.c - the token file: round trip, every malformed file refused
 * with the right status and a message naming the file, windows and batch
 * counts at their edges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    snprintf(out, n, "%s/test_tokens_%ld_%s", tmp_dir(), (long)getpid(), name);
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes a raw file: header fields as given, then `n_ids` ids, then `extra` junk bytes. */
static void write_raw(const char *path, uint32_t magic, uint32_t version, uint32_t vocab, uint64_t count,
                      const uint32_t *ids, size_t n_ids, size_t extra, size_t truncate_to) {
    size_t size = TOKENS_HEADER_BYTES + 4 * n_ids + extra;
    unsigned char *buf = calloc(size, 1);
    assert_non_null(buf);
    put32(buf, magic);
    put32(buf + 4, version);
    put32(buf + 8, vocab);
    put32(buf + 12, 0);
    put32(buf + 16, (uint32_t)count);
    put32(buf + 20, (uint32_t)(count >> 32));
    for (size_t i = 0; i < n_ids; i++) put32(buf + TOKENS_HEADER_BYTES + 4 * i, ids[i]);
    if (truncate_to && truncate_to < size) size = truncate_to;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, size, f), size);
    fclose(f);
    free(buf);
}

static void expect_refused(const char *path, sb_status code, const char *word) {
    TokenFile tf;
    sb_error err = {0};
    sb_status st = tokens_load(&tf, path, &err);
    if (st != code) fail_msg("%s: expected %s, got %s: %s", path, sb_status_name(code), sb_status_name(st), err.msg);
    assert_int_equal(err.code, code);
    assert_non_null(strstr(err.msg, path));
    if (getenv("TEST_VERBOSE")) fprintf(stderr, "  refused: %s\n", err.msg);
    if (word && !strstr(err.msg, word)) fail_msg("message lacks \"%s\": %s", word, err.msg);
    assert_null(tf.ids);
    assert_int_equal(tf.n_tokens, 0);
}

static const uint32_t ids10[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_round_trip(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "rt.tok");
    enum { N = 3000017 }; /* more than one I/O chunk */
    uint32_t *ids = malloc(N * sizeof *ids);
    assert_non_null(ids);
    for (uint32_t i = 0; i < N; i++) ids[i] = (i * 2654435761u) % 50000u;
    sb_error err = {0};
    assert_int_equal(tokens_save(path, ids, N, 50000, 0, &err), SB_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, TOKENS_HEADER_BYTES + 4 * (uint64_t)N);

    /* The header bytes are little-endian on disk whatever the host. */
    FILE *f = fopen(path, "rb");
    unsigned char h[TOKENS_HEADER_BYTES];
    assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    assert_int_equal(h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24, TOKENS_MAGIC);
    assert_int_equal(h[16] | h[17] << 8 | h[18] << 16 | (uint32_t)h[19] << 24, N);

    TokenFile tf;
    assert_int_equal(tokens_load(&tf, path, &err), SB_OK);
    assert_int_equal(tf.vocab_size, 50000);
    assert_int_equal(tf.n_tokens, N);
    assert_memory_equal(tf.ids, ids, N * sizeof *ids);
    tokens_free(&tf);
    assert_null(tf.ids);
    free(ids);

    /* No temporary file is left next to it. */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    unlink(path);
}

static void test_missing(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "does_not_exist.tok");
    expect_refused(path, SB_EIO, NULL);
}

static void test_empty_and_short(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "empty.tok");
    FILE *f = fopen(path, "wb");
    fclose(f);
    expect_refused(path, SB_EFORMAT, "header");
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, 10, ids10, 10, 0, TOKENS_HEADER_BYTES - 1);
    expect_refused(path, SB_EFORMAT, "header");
    unlink(path);
}

static void test_truncated_and_trailing(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "bad_size.tok");
    size_t full = TOKENS_HEADER_BYTES + 40;
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, 10, ids10, 10, 0, full - 1);
    expect_refused(path, SB_EFORMAT, "truncated");
    expect_refused(path, SB_EFORMAT, "63 bytes"); /* actual size */
    expect_refused(path, SB_EFORMAT, "64 bytes expected");
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, 10, ids10, 10, 1, 0);
    expect_refused(path, SB_EFORMAT, "trailing");
    /* A count that does not match the ids present. */
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, 11, ids10, 10, 0, 0);
    expect_refused(path, SB_EFORMAT, "11 tokens");
    /* An absurd count must not overflow the size check. */
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, UINT64_MAX, ids10, 10, 0, 0);
    expect_refused(path, SB_EFORMAT, NULL);
    unlink(path);
}

static void test_bad_header(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "bad_header.tok");
    write_raw(path, 0x12345678u, TOKENS_VERSION, 10, 10, ids10, 10, 0, 0);
    expect_refused(path, SB_EFORMAT, "magic 305419896 found, 20261125 expected");
    write_raw(path, TOKENS_MAGIC, 3, 10, 10, ids10, 10, 0, 0);
    expect_refused(path, SB_EFORMAT, "version 3");
    /* version 1 (no fingerprint) is still read */
    write_raw(path, TOKENS_MAGIC, 1, 10, 10, ids10, 10, 0, 0);
    TokenFile tf;
    sb_error err;
    assert_int_equal(tokens_load(&tf, path, &err), SB_OK);
    assert_int_equal(tf.vocab_id, 0);
    tokens_free(&tf);
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 0, 10, ids10, 10, 0, 0);
    expect_refused(path, SB_EFORMAT, "vocab size 0");
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, 0, NULL, 0, 0, 0);
    expect_refused(path, SB_EFORMAT, "zero tokens");
    unlink(path);
}

static void test_id_out_of_range(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "bad_id.tok");
    uint32_t ids[10];
    memcpy(ids, ids10, sizeof ids);
    ids[7] = 10; /* == vocab */
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, 10, ids, 10, 0, 0);
    expect_refused(path, SB_EFORMAT, "token 7 ");
    ids[7] = 7;
    write_raw(path, TOKENS_MAGIC, TOKENS_VERSION, 10, 10, ids, 10, 0, 0);
    TokenFile tf;
    sb_error err;
    assert_int_equal(tokens_load(&tf, path, &err), SB_OK);
    tokens_free(&tf);
    unlink(path);
}

static void test_save_refuses(void **state) {
    (void)state;
    char path[512];
    tmp_path(path, sizeof path, "save_refused.tok");
    sb_error err;
    assert_int_equal(tokens_save(path, ids10, 10, 9, 0, &err), SB_ERANGE); /* id 9 >= 9 */
    assert_int_equal(tokens_save(path, ids10, 0, 10, 0, &err), SB_ECONFIG);
    assert_int_not_equal(access(path, F_OK), 0);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.tok", tmp_dir());
    assert_int_equal(tokens_save(bad, ids10, 10, 10, 0, &err), SB_EIO);
    assert_non_null(strstr(err.msg, bad));
}

static void test_window_and_batches(void **state) {
    (void)state;
    enum { B = 2, T = 3 };
    uint32_t ids[20];
    for (int i = 0; i < 20; i++) ids[i] = (uint32_t)(100 + i);
    TokenFile tf = {.vocab_size = 200, .n_tokens = 20, .ids = ids};
    /* (n-1)/(B*T) = 19/6 = 3 whole batches. */
    assert_int_equal(tokens_batch_count(&tf, B, T), 3);
    assert_int_equal(tokens_batch_count(&tf, 1, 19), 1);
    assert_int_equal(tokens_batch_count(&tf, 1, 20), 0);
    assert_int_equal(tokens_batch_count(&tf, 0, 4), 0);
    /* The seed configuration: 4096 tokens per batch need one extra token for the last target. */
    TokenFile seed_sized = {.vocab_size = 1, .n_tokens = 2272 * 4096 + 1, .ids = NULL};
    assert_int_equal(tokens_batch_count(&seed_sized, 32, 128), 2272);
    seed_sized.n_tokens--;
    assert_int_equal(tokens_batch_count(&seed_sized, 32, 128), 2271);

    int in[B * T], tg[B * T];
    sb_error err;
    assert_int_equal(tokens_window(in, tg, &tf, 0, B, T, &err), SB_OK);
    for (int i = 0; i < B * T; i++) {
        assert_int_equal(in[i], 100 + i);
        assert_int_equal(tg[i], 101 + i);
    }
    /* Last valid offset: n - B*T - 1 = 13; its last target is token 19. */
    assert_int_equal(tokens_window(in, tg, &tf, 13, B, T, &err), SB_OK);
    assert_int_equal(in[0], 113);
    assert_int_equal(tg[B * T - 1], 119);
    assert_int_equal(tokens_window(in, tg, &tf, 14, B, T, &err), SB_ERANGE);
    assert_non_null(strstr(err.msg, "14"));
    assert_non_null(strstr(err.msg, "20"));
    assert_int_equal(tokens_window(in, tg, &tf, UINT64_MAX, B, T, &err), SB_ERANGE);
    /* Every batch the count promises has a window. */
    for (uint64_t k = 0; k < tokens_batch_count(&tf, B, T); k++)
        assert_int_equal(tokens_window(in, tg, &tf, k * B * T, B, T, &err), SB_OK);
    assert_int_equal(tokens_window(in, tg, &tf, 0, 0, T, &err), SB_ECONFIG);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),          cmocka_unit_test(test_missing),
        cmocka_unit_test(test_empty_and_short),     cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_bad_header),          cmocka_unit_test(test_id_out_of_range),
        cmocka_unit_test(test_save_refuses),        cmocka_unit_test(test_window_and_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
