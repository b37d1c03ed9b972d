/* json_read.h - reading a flat JSON object of numbers and strings, strictly.
 *
 * The program reads back only small files it wrote itself (the corpus's
 * statistics beside the text), so the reader takes exactly one shape: one
 * object whose values are numbers or strings (true, false and null are
 * accepted and kept as numbers 1, 0 and NaN). Anything else - a nested object
 * or array, a duplicate key, a trailing comma, NaN or Infinity, text after the
 * object, a bad escape, a key or string too long for the fixed buffers - is
 * refused with a message naming the file and the byte offset. A key is found
 * only as a key: the same text inside a string value is never taken for it. */
#ifndef SB_JSON_READ_H
#define SB_JSON_READ_H

#include "error.h"

#define JSON_FLAT_MAX_FIELDS 64
#define JSON_FLAT_MAX_KEY 64     /* bytes of a key, terminator included */
#define JSON_FLAT_MAX_STRING 256 /* bytes of a string value, terminator included */

typedef struct {
    char key[JSON_FLAT_MAX_KEY];
    int is_string;
    double number;                   /* when !is_string */
    char string[JSON_FLAT_MAX_STRING]; /* when is_string: UTF-8, escapes decoded */
} JsonField;

typedef struct {
    JsonField fields[JSON_FLAT_MAX_FIELDS]; /* [n], in file order */
    int n;
} JsonFlat;

/* Parses text (NUL-terminated) into *out; name is the file, for messages.
 * Fails with SB_EFORMAT. */
sb_status json_flat_parse(JsonFlat *out, const char *text, const char *name, sb_error *err) SB_MUST_CHECK;

/* The number under key: SB_OK, or SB_EFORMAT naming the key (and name) when
 * it is missing or is a string. */
sb_status json_flat_number(const JsonFlat *o, const char *key, double *out, const char *name, sb_error *err)
    SB_MUST_CHECK;

/* The string under key, or NULL when it is missing or not a string. */
const char *json_flat_string(const JsonFlat *o, const char *key);

#endif
