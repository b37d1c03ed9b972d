/* Tests of core/checkpoint: a save and load round trip is bit-exact and gives
 * back the same ModelConfig; the bytes on disk are exactly the documented
 * format (eight little-endian int32 magic 20261124, version 1, V, T, D, L, H,
 * 0, then the float32 parameters), read back byte by byte rather than through
 * the code under test; every malformed file (wrong magic or version, one byte
 * short or long, an impossible shape, shorter than the header) is refused with
 * SB_EFORMAT and a message naming the file; I/O failures are SB_EIO; and a
 * save either lands whole or leaves the old file and no temporary behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/checkpoint.h"
#include "support/testutil.h"

/* Small, but every dimension distinct so a swapped field shows. */
static const ModelConfig small = {.V = 7, .T = 3, .D = 4, .L = 1, .H = 2};

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Values with awkward bit patterns: negative zero, subnormals, a NaN with a
 * payload, infinities, and ordinary numbers; a round trip must keep them all. */
static float *awkward_params(const ModelConfig *c, size_t *n_out) {
    size_t n = model_param_count(c);
    float *p = malloc(n * sizeof(float));
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = (float)((double)i * 0.37 - 50.0) / 7.0f;
    /* -0, the smallest subnormal, the largest negative subnormal, the smallest
     * normal, +-FLT_MAX: finite, so a checkpoint may hold them */
    const uint32_t special[] = {0x80000000u, 0x00000001u, 0x807fffffu, 0x00800000u, 0x7f7fffffu, 0xff7fffffu};
    for (size_t k = 0; k < sizeof special / sizeof special[0] && k < n; k++) memcpy(&p[k * 5], &special[k], 4);
    *n_out = n;
    return p;
}

static void save_ok(const char *path, const ModelConfig *c, const float *p) {
    sb_error err;
    sb_status st = checkpoint_save(path, c, p, &err);
    if (st) print_error("save %s: %s\n", path, err.msg);
    assert_int_equal(st, SB_OK);
}

static void test_round_trip_bit_exact(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    tu_path(path, "round.ckpt");
    size_t n;
    float *p = awkward_params(&small, &n);
    save_ok(path, &small, p);
    ModelConfig c;
    memset(&c, 0xab, sizeof c);
    float *q = NULL;
    sb_error err;
    assert_int_equal(checkpoint_load(path, &c, &q, &err), SB_OK);
    assert_non_null(q);
    assert_int_equal(c.V, small.V);
    assert_int_equal(c.T, small.T);
    assert_int_equal(c.D, small.D);
    assert_int_equal(c.L, small.L);
    assert_int_equal(c.H, small.H);
    assert_memory_equal(p, q, n * sizeof(float));
    free(p);
    free(q);
}

/* A model with zero layers is a valid shape and must round-trip too. */
static void test_round_trip_zero_layers(void **state) {
    (void)state;
    const ModelConfig c0 = {.V = 11, .T = 5, .D = 6, .L = 0, .H = 3};
    char path[TU_PATH_MAX];
    tu_path(path, "l0.ckpt");
    size_t n;
    float *p = awkward_params(&c0, &n);
    save_ok(path, &c0, p);
    ModelConfig c;
    float *q;
    sb_error err;
    assert_int_equal(checkpoint_load(path, &c, &q, &err), SB_OK);
    assert_int_equal(c.L, 0);
    assert_int_equal(c.V, 11);
    assert_memory_equal(p, q, n * sizeof(float));
    free(p);
    free(q);
}

/* The documented format, checked from the raw bytes without the loader. */
static void test_on_disk_format(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    tu_path(path, "format.ckpt");
    size_t n;
    float *p = awkward_params(&small, &n);
    save_ok(path, &small, p);
    size_t len;
    unsigned char *b = tu_read_file(path, &len);
    assert_non_null(b);
    assert_int_equal(len, 32 + 4 * n);
    const int32_t want[8] = {20261124, 2, small.V, small.T, small.D, small.L, small.H, (int32_t)small.vocab_id};
    for (int i = 0; i < 8; i++) assert_int_equal((int32_t)le32(b + 4 * i), want[i]);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &p[i], 4);
        assert_int_equal(le32(b + 32 + 4 * i), bits);
    }
    free(b);
    free(p);
}

/* The parameter count the file size is judged by, written out tensor by
 * tensor from docs/DESIGN.md rather than taken from the closed form. */
static void test_file_size_matches_layout(void **state) {
    (void)state;
    const ModelConfig c = {.V = 10, .T = 6, .D = 8, .L = 3, .H = 4};
    size_t D = 8, per_layer = D + D + 3 * D * D + 3 * D + D * D + D + D + D + 4 * D * D + 4 * D + D * 4 * D + D;
    size_t want = 10 * D + 6 * D + 3 * per_layer + D + D;
    assert_int_equal(model_param_count(&c), want);
    char path[TU_PATH_MAX];
    tu_path(path, "size.ckpt");
    float *p = calloc(want, sizeof(float));
    assert_non_null(p);
    save_ok(path, &c, p);
    assert_int_equal(tu_file_size(path), (long)(32 + 4 * want));
    free(p);
}

/* Writes a good checkpoint of `small` to name and returns its bytes. */
static unsigned char *good_file(char *path, const char *name, size_t *len) {
    tu_path(path, name);
    size_t n;
    float *p = awkward_params(&small, &n);
    save_ok(path, &small, p);
    free(p);
    unsigned char *b = tu_read_file(path, len);
    assert_non_null(b);
    return b;
}

/* Loads path expecting SB_EFORMAT, a message naming the file and containing
 * word, and nothing allocated. */
static void expect_format_error(const char *path, const char *word) {
    ModelConfig c = {0};
    float *q = (float *)&c; /* must be reset to NULL by the loader */
    sb_error err = {0};
    sb_status st = checkpoint_load(path, &c, &q, &err);
    if (st != SB_EFORMAT) print_error("status %s, message: %s\n", sb_status_name(st), err.msg);
    assert_int_equal(st, SB_EFORMAT);
    assert_int_equal(err.code, SB_EFORMAT);
    assert_null(q);
    assert_contains(err.msg, path);
    assert_contains(err.msg, word);
}

static void test_wrong_magic(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "magic.ckpt", &len);
    put_le32(b, 20261125); /* the token file's magic: a plausible mix-up */
    tu_write_file(path, b, len);
    expect_format_error(path, "magic");
    free(b);
}

static void test_wrong_version(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "version.ckpt", &len);
    put_le32(b + 4, 3);
    tu_write_file(path, b, len);
    expect_format_error(path, "version");
    free(b);
}

/* Version 2 keeps the vocabulary's fingerprint in the last header field;
 * version 1 files (0 there) still load, and load with none recorded. */
static void test_vocab_fingerprint_kept(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "fingerprint.ckpt", &len);
    put_le32(b + 28, 0x5eed1234);
    tu_write_file(path, b, len);
    ModelConfig c;
    float *p;
    sb_error err;
    assert_int_equal(checkpoint_load(path, &c, &p, &err), SB_OK);
    assert_int_equal(c.vocab_id, 0x5eed1234);
    free(p);
    assert_int_equal(checkpoint_vocab_check(path, &c, 0x5eed1234, "same", &err), SB_OK);
    assert_int_equal(checkpoint_vocab_check(path, &c, 0, "unrecorded", &err), SB_OK);
    assert_int_equal(checkpoint_vocab_check(path, &c, 0x0ddba11, "other.tok", &err), SB_ECONFIG);
    assert_non_null(strstr(err.msg, "another vocabulary than other.tok's"));
    put_le32(b + 4, 1);
    put_le32(b + 28, 0);
    tu_write_file(path, b, len);
    assert_int_equal(checkpoint_load(path, &c, &p, &err), SB_OK);
    assert_int_equal(c.vocab_id, 0);
    free(p);
    free(b);
}

static void test_nonzero_reserved_field(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "reserved.ckpt", &len);
    put_le32(b + 4, 1); /* in version 1 the last field is reserved */
    put_le32(b + 28, 7);
    tu_write_file(path, b, len);
    expect_format_error(path, "reserved");
    free(b);
}

/* A directory is not a short checkpoint: it is an I/O error naming the path. */
static void test_directory_is_io_error(void **state) {
    (void)state;
    ModelConfig c;
    float *q = NULL;
    sb_error err;
    assert_int_equal(checkpoint_load(tu_tmpdir(), &c, &q, &err), SB_EIO);
    assert_null(q);
    assert_contains(err.msg, "not a regular file");
}

static void test_truncated_by_one_byte(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "short.ckpt", &len);
    tu_write_file(path, b, len - 1);
    expect_format_error(path, "truncated");
    free(b);
}

static void test_one_trailing_byte(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "long.ckpt", &len);
    unsigned char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, b, len);
    longer[len] = 0;
    tu_write_file(path, longer, len + 1);
    expect_format_error(path, "trailing");
    free(longer);
    free(b);
}

/* A header whose shape cannot be a model is refused before its size is
 * trusted for anything. */
static void test_impossible_header_heads(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "heads.ckpt", &len);
    put_le32(b + 24, 3); /* H = 3 does not divide D = 4 */
    tu_write_file(path, b, len);
    expect_format_error(path, "impossible");
    free(b);
}

static void test_impossible_header_negative_vocab(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "negv.ckpt", &len);
    put_le32(b + 8, (uint32_t)-7);
    tu_write_file(path, b, len);
    expect_format_error(path, "impossible");
    free(b);
}

/* Sizes so large that a careless loader would overflow or try to allocate
 * terabytes: refused by the shape limits, not by a failed malloc. */
static void test_impossible_header_huge(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "huge.ckpt", &len);
    put_le32(b + 16, 0x7fffffff); /* D */
    tu_write_file(path, b, len);
    expect_format_error(path, "impossible");
    free(b);
}

static void test_shorter_than_header(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "stub.ckpt", &len);
    tu_write_file(path, b, 31);
    expect_format_error(path, "short");
    tu_write_file(path, b, 10);
    expect_format_error(path, "short");
    tu_write_file(path, b, 0);
    expect_format_error(path, "short");
    free(b);
}

static void test_missing_file_is_io_error(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    tu_path(path, "does-not-exist.ckpt");
    ModelConfig c;
    float *q = (float *)&c;
    sb_error err;
    assert_int_equal(checkpoint_load(path, &c, &q, &err), SB_EIO);
    assert_null(q);
    assert_contains(err.msg, path);
}

/* Saving into a directory that does not exist fails with SB_EIO, names the
 * path, creates nothing, and leaves other files alone. */
static void test_save_into_missing_directory(void **state) {
    (void)state;
    char good[TU_PATH_MAX], copy[TU_PATH_MAX], bad[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(good, "keep.ckpt", &len);
    tu_path(copy, "keep.copy");
    tu_write_file(copy, b, len);
    tu_path(bad, "no-such-dir/model.ckpt");
    size_t n;
    float *p = awkward_params(&small, &n);
    sb_error err;
    assert_int_equal(checkpoint_save(bad, &small, p, &err), SB_EIO);
    assert_contains(err.msg, bad);
    assert_false(tu_file_exists(bad));
    assert_true(tu_files_equal(good, copy));
    free(p);
    free(b);
}

/* A successful save leaves exactly the file: no "*.tmp.*" sibling. */
static void test_no_temporary_left_after_save(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], path[TU_PATH_MAX];
    tu_path(dir, "clean");
    assert_int_equal(mkdir(dir, 0777), 0);
    tu_path(path, "clean/model.ckpt");
    size_t n;
    float *p = awkward_params(&small, &n);
    save_ok(path, &small, p);
    save_ok(path, &small, p); /* over an existing file too */
    assert_int_equal(tu_count_entries(dir, ""), 1);
    assert_int_equal(tu_count_entries(dir, ".tmp."), 0);
    free(p);
}

/* Saving over an existing checkpoint replaces it completely. */
static void test_save_replaces_existing(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    size_t len;
    unsigned char *b = good_file(path, "replace.ckpt", &len);
    const ModelConfig other = {.V = 9, .T = 2, .D = 2, .L = 1, .H = 1};
    size_t n;
    float *p = awkward_params(&other, &n);
    save_ok(path, &other, p);
    ModelConfig c;
    float *q;
    sb_error err;
    assert_int_equal(checkpoint_load(path, &c, &q, &err), SB_OK);
    assert_int_equal(c.V, 9);
    assert_int_equal(c.D, 2);
    assert_memory_equal(p, q, n * sizeof(float));
    free(q);
    free(p);
    free(b);
}

/* A NaN or an infinity anywhere is refused on load, naming the tensor (and
 * layer) and the index inside it. */
static void test_nonfinite_refused(void **state) {
    (void)state;
    char path[TU_PATH_MAX];
    tu_path(path, "nonfinite.ckpt");
    size_t n;
    float *p = awkward_params(&small, &n);
    const struct { size_t at; float v; const char *name; } cases[] = {
        {0, NAN, "wte[0]"},
        {n - 1, INFINITY, "lnf_b["},
        {(size_t)small.V * small.D + (size_t)small.T * small.D + (size_t)small.D + 1, -INFINITY, "layer 0 ln1_b[1]"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float keep = p[cases[k].at];
        p[cases[k].at] = cases[k].v;
        save_ok(path, &small, p);
        ModelConfig c;
        float *q = NULL;
        sb_error err;
        assert_int_equal(checkpoint_load(path, &c, &q, &err), SB_EFORMAT);
        assert_null(q);
        assert_contains(err.msg, cases[k].name);
        assert_contains(err.msg, path);
        p[cases[k].at] = keep;
    }
    free(p);
}

/* A save onto a directory is refused before anything is written, with no
 * temporary left. */
static void test_failed_rename_leaves_no_temporary(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], target[TU_PATH_MAX];
    tu_path(dir, "renamefail");
    assert_int_equal(mkdir(dir, 0777), 0);
    tu_path(target, "renamefail/model.ckpt");
    assert_int_equal(mkdir(target, 0777), 0);
    char inner[TU_PATH_MAX];
    tu_path(inner, "renamefail/model.ckpt/inside");
    tu_write_file(inner, "x", 1); /* a non-empty directory cannot be replaced */
    size_t n;
    float *p = awkward_params(&small, &n);
    sb_error err;
    assert_int_equal(checkpoint_save(target, &small, p, &err), SB_EIO);
    assert_contains(err.msg, target);
    assert_int_equal(tu_count_entries(dir, ".tmp."), 0);
    assert_true(tu_file_exists(inner));
    free(p);
}

/* A save that fails while writing (here: the file size limit, which even
 * root cannot write past) must leave the existing good checkpoint byte for
 * byte and no temporary. Run in a child so the limit stays there. */
static void test_failed_write_keeps_old_file(void **state) {
    (void)state;
    char dir[TU_PATH_MAX], path[TU_PATH_MAX], copy[TU_PATH_MAX];
    tu_path(dir, "writefail");
    assert_int_equal(mkdir(dir, 0777), 0);
    tu_path(path, "writefail/model.ckpt");
    size_t n;
    float *p = awkward_params(&small, &n);
    save_ok(path, &small, p);
    tu_path(copy, "writefail.copy");
    size_t len;
    unsigned char *b = tu_read_file(path, &len);
    tu_write_file(copy, b, len);
    for (size_t i = 0; i < n; i++) p[i] = 1.0f;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {100, 100};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
        sb_error err;
        sb_status st = checkpoint_save(path, &small, p, &err);
        _exit(st == SB_EIO ? 0 : st == SB_OK ? 1 : 2);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* 1: the save claimed success */
    assert_true(tu_files_equal(path, copy));
    assert_int_equal(tu_count_entries(dir, ""), 1);
    free(b);
    free(p);
}

static int teardown_all(void **state) {
    (void)state;
    tu_cleanup();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_bit_exact),
        cmocka_unit_test(test_round_trip_zero_layers),
        cmocka_unit_test(test_on_disk_format),
        cmocka_unit_test(test_file_size_matches_layout),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_nonzero_reserved_field),
        cmocka_unit_test(test_vocab_fingerprint_kept),
        cmocka_unit_test(test_directory_is_io_error),
        cmocka_unit_test(test_truncated_by_one_byte),
        cmocka_unit_test(test_one_trailing_byte),
        cmocka_unit_test(test_impossible_header_heads),
        cmocka_unit_test(test_impossible_header_negative_vocab),
        cmocka_unit_test(test_impossible_header_huge),
        cmocka_unit_test(test_shorter_than_header),
        cmocka_unit_test(test_missing_file_is_io_error),
        cmocka_unit_test(test_save_into_missing_directory),
        cmocka_unit_test(test_no_temporary_left_after_save),
        cmocka_unit_test(test_save_replaces_existing),
        cmocka_unit_test(test_failed_rename_leaves_no_temporary),
        cmocka_unit_test(test_nonfinite_refused),
        cmocka_unit_test(test_failed_write_keeps_old_file),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
