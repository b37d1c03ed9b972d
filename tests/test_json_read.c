/* test_json_read.c - the flat-object reader takes keys only as keys and refuses the rest.
 *
 * Numbers, strings and escapes read back exactly; a key is never found inside
 * a string value or a nested object (which is refused outright); every
 * malformed input is refused with a message naming the file, the fault and
 * the byte. What the writer writes, the reader reads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json_read.h"
#include "../core/json_write.h"
#include "support/testutil.h"

static JsonFlat obj; /* 20 kB: static, not on cmocka's stack */

static void parse_ok(const char *text) {
    sb_error err = {0};
    if (json_flat_parse(&obj, text, "t.json", &err)) fail_msg("refused %s: %s", text, err.msg);
}

static double number(const char *key) {
    double v;
    sb_error err = {0};
    if (json_flat_number(&obj, key, &v, "t.json", &err)) fail_msg("%s", err.msg);
    return v;
}

static void test_values_read(void **state) {
    (void)state;
    parse_ok(" {\"bytes\": 72999997, \"neg\": -0.5e-3, \"big\": 1E+21, \"zero\": 0,\n\t\"yes\": true, \"no\": false, "
             "\"none\": null, \"s\": \"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\", \"raw\": \"caf\xc3\xa9\"} \n");
    assert_int_equal(obj.n, 9);
    assert_true(number("bytes") == 72999997.0);
    assert_true(number("neg") == -0.5e-3);
    assert_true(number("big") == 1e21);
    assert_true(number("zero") == 0.0);
    assert_true(number("yes") == 1.0);
    assert_true(number("no") == 0.0);
    assert_true(isnan(number("none")));
    assert_string_equal(json_flat_string(&obj, "s"), "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(json_flat_string(&obj, "raw"), "caf\xc3\xa9");
    assert_null(json_flat_string(&obj, "bytes")); /* a number, not a string */
    parse_ok("{}");
    assert_int_equal(obj.n, 0);
}

/* The strstr reader it replaces found "bytes" here and read 7. */
static void test_key_inside_a_string_is_not_a_key(void **state) {
    (void)state;
    parse_ok("{\"note\": \"\\\"bytes\\\": 7\", \"bytes\": 5}");
    assert_true(number("bytes") == 5.0);
    parse_ok("{\"note\": \"\\\"bytes\\\": 7, \\\"bytes\\\" 8\"}");
    double v;
    sb_error err = {0};
    assert_int_equal(json_flat_number(&obj, "bytes", &v, "t.json", &err), SB_EFORMAT);
    assert_contains(err.msg, "t.json");
    assert_contains(err.msg, "no \"bytes\"");
    assert_int_equal(json_flat_number(&obj, "note", &v, "t.json", &err), SB_EFORMAT);
    assert_contains(err.msg, "is a string");
}

static void refused(const char *text, const char *word) {
    sb_error err = {0};
    if (json_flat_parse(&obj, text, "t.json", &err) != SB_EFORMAT) fail_msg("accepted: %s", text);
    if (!strstr(err.msg, word) || !strstr(err.msg, "t.json") || !strstr(err.msg, "at byte"))
        fail_msg("refused %s with '%s', expected '%s', the file and the byte", text, err.msg, word);
}

/* A nested object is refused, so a key nested in it is never read as the flat one. */
static void test_nested_keys_refused(void **state) {
    (void)state;
    refused("{\"outer\": {\"bytes\": 5}}", "nested object");
    refused("{\"bytes\": [5]}", "nested object or array");
}

static void test_malformed_refused(void **state) {
    (void)state;
    refused("", "'{' expected");
    refused("[1]", "'{' expected");
    refused("{\"a\": 1,}", "a key expected");
    refused("{a: 1}", "a key expected");
    refused("{\"a\" 1}", "':' expected");
    refused("{\"a\": 1 \"b\": 2}", "',' or '}' expected");
    refused("{\"a\": 1", "',' or '}' expected");
    refused("{\"a\": 1} x", "text after the object");
    refused("{\"a\": 1}{}", "text after the object");
    refused("{\"a\": NaN}", "a value expected");
    refused("{\"a\": Infinity}", "a value expected");
    refused("{\"a\": nan}", "a value expected");
    refused("{\"a\": -}", "malformed number");
    refused("{\"a\": +1}", "a value expected");
    refused("{\"a\": 01}", "malformed number");
    refused("{\"a\": 1.}", "no digit after the point");
    refused("{\"a\": .5}", "a value expected");
    refused("{\"a\": 1e}", "no digit in the exponent");
    refused("{\"a\": \"x}", "unterminated string");
    refused("{\"a\": \"x\ny\"}", "raw control character");
    refused("{\"a\": \"\\q\"}", "unknown escape");
    refused("{\"a\": \"\\u12\"}", "four hex digits");
    refused("{\"a\": \"\\ud800\"}", "high surrogate");
    refused("{\"a\": \"\\udc00\"}", "lone low surrogate");
    refused("{\"a\": \"\\u0000\"}", "u0000");
    refused("{\"a\": 1, \"a\": 2}", "duplicate key");
    refused("{\"a\": tru}", "a value expected");
    char long_key[200];
    snprintf(long_key, sizeof long_key, "{\"%0100d\": 1}", 0);
    refused(long_key, "too long");
    char *many = malloc(16 * (JSON_FLAT_MAX_FIELDS + 2));
    assert_non_null(many);
    size_t n = 0;
    n += (size_t)sprintf(many + n, "{");
    for (int i = 0; i <= JSON_FLAT_MAX_FIELDS; i++) n += (size_t)sprintf(many + n, "%s\"k%d\": %d", i ? ", " : "", i, i);
    sprintf(many + n, "}");
    refused(many, "more members");
    free(many);
}

/* What the writer writes for a flat object, the reader reads back exactly. */
static void test_reads_what_the_writer_writes(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    JsonWriter w;
    json_init(&w, f, "memory", 1);
    json_object_begin(&w);
    json_kv_uint(&w, "bytes", 72999997);
    json_kv_double(&w, "entropy", 5.036249177123456);
    json_kv_double(&w, "third", 1.0 / 3.0);
    json_kv_string(&w, "process", "tab\there \"quoted\" \x01");
    json_kv_double(&w, "missing", NAN);
    json_object_end(&w);
    sb_error err = {0};
    assert_int_equal(json_finish(&w, &err), SB_OK);
    fclose(f);
    parse_ok(buf);
    assert_true(number("bytes") == 72999997.0);
    assert_true(number("entropy") == 5.036249177123456);
    assert_true(number("third") == 1.0 / 3.0);
    assert_string_equal(json_flat_string(&obj, "process"), "tab\there \"quoted\" \x01");
    assert_true(isnan(number("missing")));
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_read),
        cmocka_unit_test(test_key_inside_a_string_is_not_a_key),
        cmocka_unit_test(test_nested_keys_refused),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_reads_what_the_writer_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
