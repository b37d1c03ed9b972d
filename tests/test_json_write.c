/* test_json_write.c - the JSON writer writes strict JSON whatever it is given.
 *
 * Strings are escaped (quotes, backslashes, every control character, bytes
 * that are not UTF-8); NaN and infinities become null; every double reads
 * back bit for bit, in the fewest digits that do; commas, nesting and layout
 * come from the writer; misuse and a failing stream are reported, not
 * written over. The whole output is compared byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json_write.h"
#include "../core/rng.h"
#include "support/testutil.h"

/* A writer into memory; out() returns what it wrote after json_finish. */
typedef struct {
    char *buf;
    size_t len;
    FILE *f;
    JsonWriter w;
} Mem;

static void mem_open(Mem *m, int wrap) {
    m->buf = NULL;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    json_init(&m->w, m->f, "memory", wrap);
}

/* Finishes, expecting success, and returns the text (the caller frees it). */
static char *mem_finish(Mem *m) {
    sb_error err = {0};
    sb_status st = json_finish(&m->w, &err);
    if (st) fail_msg("json_finish: %s", err.msg);
    fclose(m->f);
    return m->buf;
}

static void test_strings_escaped(void **state) {
    (void)state;
    Mem m;
    mem_open(&m, 0);
    json_array_begin(&m.w);
    json_string(&m.w, "say \"hi\" \\ back/slash");
    json_string(&m.w, "tab\tnl\ncr\rbs\bff\f");
    json_string(&m.w, "\x01\x1f\x7f");          /* other controls as \u00XX; DEL is not a control in JSON */
    json_string(&m.w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* valid UTF-8 passes through */
    json_string(&m.w, "bad \xff end \xc3");      /* a stray byte, a truncated sequence */
    json_string(&m.w, "\xc0\xaf \xed\xa0\x80");  /* an overlong '/' and a surrogate: not UTF-8 either */
    json_string(&m.w, "");
    json_array_end(&m.w);
    char *s = mem_finish(&m);
    assert_string_equal(s, "[\"say \\\"hi\\\" \\\\ back/slash\", \"tab\\tnl\\ncr\\rbs\\bff\\f\", "
                           "\"\\u0001\\u001f\x7f\", \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", "
                           "\"bad \\ufffd end \\ufffd\", \"\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\", \"\"]\n");
    free(s);
}

static void test_non_finite_is_null(void **state) {
    (void)state;
    Mem m;
    mem_open(&m, 0);
    json_object_begin(&m.w);
    json_kv_double(&m.w, "nan", NAN);
    json_kv_double(&m.w, "inf", INFINITY);
    json_kv_double(&m.w, "minus_inf", -INFINITY);
    json_kv_double(&m.w, "half", 0.5);
    json_object_end(&m.w);
    char *s = mem_finish(&m);
    assert_string_equal(s, "{\"nan\": null, \"inf\": null, \"minus_inf\": null, \"half\": 0.5}\n");
    free(s);
}

/* One double through the writer, as text. */
static void print_double(char *out, size_t cap, double v) {
    Mem m;
    mem_open(&m, 0);
    json_double(&m.w, v);
    char *s = mem_finish(&m);
    snprintf(out, cap, "%s", s);
    out[strcspn(out, "\n")] = '\0';
    free(s);
}

static void assert_round_trip(double v) {
    char text[64];
    print_double(text, sizeof text, v);
    char *end;
    double back = strtod(text, &end);
    if (*end != '\0' || memcmp(&back, &v, sizeof v) != 0)
        fail_msg("%.17g was written as '%s', which reads back as %.17g", v, text, back);
}

static void test_doubles_round_trip(void **state) {
    (void)state;
    const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-300, 5e-324, DBL_MIN, DBL_MAX,
                            -DBL_MAX, 123456789012345678.0, 9007199254740993.0, 286.245, 1e21, 4.35e-7};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) assert_round_trip(fixed[i]);
    Rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = (uint64_t)rng_below(&r, UINT32_MAX) << 32 | rng_below(&r, UINT32_MAX);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v)) assert_round_trip(v);
        assert_round_trip(rng_double(&r) * 1e3);
    }
    /* the fewest digits that round-trip: no 0.10000000000000001 */
    char text[64];
    print_double(text, sizeof text, 0.1);
    assert_string_equal(text, "0.1");
    print_double(text, sizeof text, 1.0 / 3.0);
    assert_string_equal(text, "0.3333333333333333");
    print_double(text, sizeof text, 0.1 + 0.2); /* needs all 17 */
    assert_string_equal(text, "0.30000000000000004");
    print_double(text, sizeof text, 12345678.0);
    assert_string_equal(text, "12345678");
}

/* A float (AdamW's settings) in its own shortest form, not its double's. */
static void test_floats_shortest(void **state) {
    (void)state;
    Mem m;
    mem_open(&m, 0);
    json_array_begin(&m.w);
    json_float(&m.w, 0.001f);
    json_float(&m.w, 1.0f / 3.0f);
    json_float(&m.w, 16777217.0f);
    json_float(&m.w, NAN);
    json_array_end(&m.w);
    char *s = mem_finish(&m);
    assert_string_equal(s, "[0.001, 0.33333334, 16777216, null]\n");
    free(s);
    Rng r;
    rng_seed(&r, 12);
    for (int i = 0; i < 20000; i++) {
        uint32_t bits = rng_below(&r, UINT32_MAX);
        float v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v)) continue;
        mem_open(&m, 0);
        json_float(&m.w, v);
        s = mem_finish(&m);
        float back = strtof(s, NULL);
        if (memcmp(&back, &v, sizeof v) != 0) fail_msg("%.9g was written as %s", (double)v, s);
        free(s);
    }
}

static void test_integers_and_literals(void **state) {
    (void)state;
    Mem m;
    mem_open(&m, 0);
    json_array_begin(&m.w);
    json_int(&m.w, -9223372036854775807LL - 1);
    json_uint(&m.w, 18446744073709551615ULL);
    json_bool(&m.w, 1);
    json_bool(&m.w, 0);
    json_null(&m.w);
    json_array_end(&m.w);
    char *s = mem_finish(&m);
    assert_string_equal(s, "[-9223372036854775808, 18446744073709551615, true, false, null]\n");
    free(s);
}

static void write_nested(JsonWriter *w) {
    json_object_begin(w);
    json_key(w, "a");
    json_array_begin(w);
    json_int(w, 1);
    json_object_begin(w);
    json_kv_string(w, "b", "x");
    json_object_end(w);
    json_array_begin(w);
    json_array_end(w);
    json_array_end(w);
    json_key(w, "c");
    json_object_begin(w);
    json_object_end(w);
    json_kv_int(w, "d", 2);
    json_object_end(w);
}

/* The writer places every comma; wrap decides which levels break lines. */
static void test_nesting_and_layout(void **state) {
    (void)state;
    Mem m;
    mem_open(&m, 0);
    write_nested(&m.w);
    char *s = mem_finish(&m);
    assert_string_equal(s, "{\"a\": [1, {\"b\": \"x\"}, []], \"c\": {}, \"d\": 2}\n");
    free(s);
    mem_open(&m, 1);
    write_nested(&m.w);
    s = mem_finish(&m);
    assert_string_equal(s, "{\n  \"a\": [1, {\"b\": \"x\"}, []],\n  \"c\": {},\n  \"d\": 2\n}\n");
    free(s);
    mem_open(&m, 2);
    write_nested(&m.w);
    s = mem_finish(&m);
    assert_string_equal(s, "{\n  \"a\": [\n    1,\n    {\"b\": \"x\"},\n    []\n  ],\n  \"c\": {},\n  \"d\": 2\n}\n");
    free(s);
}

/* Each misuse is refused by json_finish with a message naming the stream. */
static void expect_misuse(void (*write)(JsonWriter *), const char *word) {
    Mem m;
    mem_open(&m, 0);
    write(&m.w);
    sb_error err = {0};
    assert_int_equal(json_finish(&m.w, &err), SB_EFORMAT);
    assert_contains(err.msg, "memory");
    assert_contains(err.msg, word);
    fclose(m.f);
    free(m.buf);
}

static void value_without_key(JsonWriter *w) {
    json_object_begin(w);
    json_int(w, 1);
    json_object_end(w);
}
static void key_in_array(JsonWriter *w) {
    json_array_begin(w);
    json_key(w, "k");
    json_array_end(w);
}
static void two_keys(JsonWriter *w) {
    json_object_begin(w);
    json_key(w, "k");
    json_key(w, "l");
}
static void dangling_key(JsonWriter *w) {
    json_object_begin(w);
    json_key(w, "k");
    json_object_end(w);
}
static void wrong_end(JsonWriter *w) {
    json_object_begin(w);
    json_array_end(w);
}
static void unclosed(JsonWriter *w) {
    json_array_begin(w);
    json_int(w, 1);
}
static void two_values(JsonWriter *w) {
    json_int(w, 1);
    json_int(w, 2);
}
static void too_deep(JsonWriter *w) {
    for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) json_array_begin(w);
}

static void test_misuse_reported(void **state) {
    (void)state;
    expect_misuse(value_without_key, "without a key");
    expect_misuse(key_in_array, "key outside an object");
    expect_misuse(two_keys, "key where a value is due");
    expect_misuse(dangling_key, "after a key without its value");
    expect_misuse(wrong_end, "array end outside an array");
    expect_misuse(unclosed, "unclosed");
    expect_misuse(two_values, "second top-level value");
    expect_misuse(too_deep, "nesting deeper");
}

/* A stream that cannot be written: the error comes back through sb_error. */
static void test_stream_error_reported(void **state) {
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f) skip();
    JsonWriter w;
    json_init(&w, f, "/dev/full", 1);
    json_object_begin(&w);
    for (int i = 0; i < 2000; i++) json_kv_double(&w, "value", i * 0.1); /* beyond one stdio buffer */
    json_object_end(&w);
    sb_error err = {0};
    assert_int_equal(json_finish(&w, &err), SB_EIO);
    assert_contains(err.msg, "/dev/full");
    assert_contains(err.msg, "cannot write");
    fclose(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_escaped),
        cmocka_unit_test(test_non_finite_is_null),
        cmocka_unit_test(test_doubles_round_trip),
        cmocka_unit_test(test_floats_shortest),
        cmocka_unit_test(test_integers_and_literals),
        cmocka_unit_test(test_nesting_and_layout),
        cmocka_unit_test(test_misuse_reported),
        cmocka_unit_test(test_stream_error_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
