/* test_csv.c - the CSV writer writes one rule whatever it is given.
 *
 * NaN and both infinities are NaN; every double and float reads back bit for
 * bit, in the fewest digits that do (the JSON writer's rule); a string with a
 * comma, a quote or a line break is quoted with its quotes doubled, any other
 * is written as it is; commas separate fields and a row ends with a newline.
 * Whole outputs are compared byte for byte. */
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

#include "../bench/csv.h"
#include "../core/rng.h"
#include "support/testutil.h"

/* A writer into memory. */
typedef struct {
    char *buf;
    size_t len;
    FILE *f;
    CsvWriter w;
} Mem;

static void mem_open(Mem *m) {
    m->buf = NULL;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    csv_init(&m->w, m->f);
}

/* What was written (the caller frees it). */
static char *mem_text(Mem *m) {
    assert_int_equal(fclose(m->f), 0);
    return m->buf;
}

static void assert_wrote(Mem *m, const char *want) {
    char *got = mem_text(m);
    assert_string_equal(got, want);
    free(got);
}

static void test_rows_and_names(void **state) {
    (void)state;
    Mem m;
    mem_open(&m);
    csv_names(&m.w, "kind,variant,threads");
    csv_names(&m.w, "loss");
    csv_row_end(&m.w);
    csv_str(&m.w, "sweep");
    csv_str(&m.w, "flat");
    csv_int(&m.w, -3);
    csv_uint(&m.w, 18446744073709551615ull);
    csv_row_end(&m.w);
    csv_int(&m.w, 7); /* a new row starts without a comma */
    csv_row_end(&m.w);
    assert_wrote(&m, "kind,variant,threads,loss\nsweep,flat,-3,18446744073709551615\n7\n");
}

/* NaN and infinities are a missing value; finite numbers keep their digits. */
static void test_missing_values(void **state) {
    (void)state;
    Mem m;
    mem_open(&m);
    csv_double(&m.w, NAN);
    csv_double(&m.w, INFINITY);
    csv_double(&m.w, -INFINITY);
    csv_float(&m.w, NAN);
    csv_float(&m.w, -INFINITY);
    csv_double(&m.w, 0.0);
    csv_double(&m.w, 1.5);
    csv_row_end(&m.w);
    assert_wrote(&m, "NaN,NaN,NaN,NaN,NaN,0,1.5\n");
}

/* Awkward doubles and floats, each in its shortest form. */
static void test_shortest_digits(void **state) {
    (void)state;
    Mem m;
    mem_open(&m);
    csv_double(&m.w, 0.1);
    csv_double(&m.w, 1.0 / 3.0);
    csv_double(&m.w, 1e23);
    csv_double(&m.w, 9007199254740993.0); /* 2^53 + 1 is not a double: 2^53 */
    csv_double(&m.w, 5e-324);             /* the smallest subnormal: 15 digits, as for every double */
    csv_double(&m.w, DBL_MAX);
    csv_float(&m.w, 0.1f);                /* a float's digits, not its double's 0.100000001490116 */
    csv_float(&m.w, 16777217.0f);
    csv_row_end(&m.w);
    assert_wrote(&m, "0.1,0.3333333333333333,1e+23,9007199254740992,4.94065645841247e-324,"
                     "1.7976931348623157e+308,0.1,16777216\n");
}

/* Random doubles of every magnitude read back bit for bit, and one digit
 * fewer would not (from 15 up: where fewer than 15 digits would do, 15 is
 * written with its trailing zeros cut). */
static void test_round_trip(void **state) {
    (void)state;
    Rng r;
    rng_seed(&r, 21);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = rng_next(&r);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v)) continue;
        Mem m;
        mem_open(&m);
        csv_double(&m.w, v);
        char *text = mem_text(&m);
        double back = strtod(text, NULL);
        if (memcmp(&back, &v, sizeof v) != 0 && !(v == 0 && back == 0))
            fail_msg("%a written as %s reads back as %a", v, text, back);
        int digits = 0;
        for (const char *p = text + strcspn(text, "123456789"); *p && *p != 'e'; p++) /* significant digits */
            digits += *p >= '0' && *p <= '9';
        char fewer[320];
        snprintf(fewer, sizeof fewer, "%.*g", digits - 1, v);
        if (digits > 15 && strtod(fewer, NULL) == v) fail_msg("%s is not the shortest: %s reads back too", text, fewer);
        free(text);
    }
}

/* Only a string that needs it is quoted. */
static void test_quoting(void **state) {
    (void)state;
    Mem m;
    mem_open(&m);
    csv_str(&m.w, "node-1.example");
    csv_str(&m.w, "rack 3, node 1");
    csv_str(&m.w, "say \"hi\"");
    csv_str(&m.w, "two\nlines");
    csv_str(&m.w, "");
    csv_row_end(&m.w);
    assert_wrote(&m, "node-1.example,\"rack 3, node 1\",\"say \"\"hi\"\"\",\"two\nlines\",\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_and_names), cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_shortest_digits), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_quoting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
