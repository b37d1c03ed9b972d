/* json_write.h - the one JSON writer: every JSON file and line the program writes.
 *
 * A streaming writer over a FILE: objects, arrays, keys, strings, integers,
 * doubles, booleans and null. The writer keeps the nesting and comma state,
 * so a caller only says what comes next. What it writes is strict JSON
 * (RFC 8259) whatever it is given:
 *   - strings have quotes, backslashes and every control character escaped,
 *     and bytes that are not UTF-8 replaced by U+FFFD;
 *   - doubles are printed with the fewest digits (15, 16 or 17) that read
 *     back as the same double (floats: 6 to 9 digits, the same float); NaN
 *     and +/-infinity, which JSON cannot express, are written as null.
 * Containers up to `wrap` levels deep put each member on its own indented
 * line; deeper ones are written on one line ("a": 1, "b": 2).
 *
 * The first misuse (a value where a key is due, an unbalanced end, too deep a
 * nesting) is kept and later calls write nothing; json_finish reports it, or
 * the stream's own error, through sb_error. */
#ifndef SB_JSON_WRITE_H
#define SB_JSON_WRITE_H

#include <stdio.h>

#include "error.h"

#define JSON_MAX_DEPTH 16

typedef struct {
    FILE *f;
    const char *name;                  /* the file or stream, for messages */
    int wrap;                          /* containers this deep or shallower: one member per line */
    int depth;                         /* open containers */
    char kind[JSON_MAX_DEPTH];         /* [depth]: '{' or '[' */
    int items[JSON_MAX_DEPTH];         /* [depth]: members written so far */
    int key_due;                       /* in an object: the next call must be json_key */
    int done;                          /* the top-level value is complete */
    sb_error err;                      /* the first misuse, code SB_OK while there is none */
} JsonWriter;

/* Starts a writer on f; name says what f is in messages ("results/x/context.json", "standard output"). */
void json_init(JsonWriter *w, FILE *f, const char *name, int wrap);

void json_object_begin(JsonWriter *w);
void json_object_end(JsonWriter *w);
void json_array_begin(JsonWriter *w);
void json_array_end(JsonWriter *w);
void json_key(JsonWriter *w, const char *key);

void json_string(JsonWriter *w, const char *s);
void json_int(JsonWriter *w, long long v);
void json_uint(JsonWriter *w, unsigned long long v);
void json_double(JsonWriter *w, double v); /* null for NaN and +/-infinity */
void json_float(JsonWriter *w, float v);   /* the fewest digits that read back as the same float */
void json_bool(JsonWriter *w, int v);
void json_null(JsonWriter *w);

/* A key and its value: the common case of an object member. */
void json_kv_string(JsonWriter *w, const char *key, const char *s);
void json_kv_int(JsonWriter *w, const char *key, long long v);
void json_kv_uint(JsonWriter *w, const char *key, unsigned long long v);
void json_kv_double(JsonWriter *w, const char *key, double v);
void json_kv_float(JsonWriter *w, const char *key, float v);
void json_kv_bool(JsonWriter *w, const char *key, int v);

/* Ends the output with a newline. Fails (SB_EFORMAT) on a misuse or an
 * unfinished value, (SB_EIO) when the stream reports a write error; the
 * message names w->name. */
sb_status json_finish(JsonWriter *w, sb_error *err) SB_MUST_CHECK;

#endif
