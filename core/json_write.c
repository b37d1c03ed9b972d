/* json_write.c - the streaming JSON writer; see json_write.h. */
#include "json_write.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "number_text.h"

void json_init(JsonWriter *w, FILE *f, const char *name, int wrap) {
    memset(w, 0, sizeof *w);
    w->f = f;
    w->name = name;
    w->wrap = wrap;
}

static int misuse(JsonWriter *w, const char *what) {
    if (w->err.code == SB_OK) sb_fail(&w->err, SB_EFORMAT, "%s: JSON writer misuse: %s", w->name, what);
    return 0;
}

/* The comma and line break before a member of the innermost container. */
static void separate(JsonWriter *w) {
    if (w->items[w->depth]) fputc(',', w->f);
    if (w->depth <= w->wrap)
        fprintf(w->f, "\n%*s", 2 * w->depth, "");
    else if (w->items[w->depth])
        fputc(' ', w->f);
    w->items[w->depth]++;
}

/* Whether a value may come now; writes an array's separator. */
static int value_begins(JsonWriter *w) {
    if (w->err.code) return 0;
    if (w->done) return misuse(w, "a second top-level value");
    if (w->depth > 0 && w->kind[w->depth] == '{' && w->key_due) return misuse(w, "a value in an object without a key");
    if (w->depth > 0 && w->kind[w->depth] == '[') separate(w);
    return 1;
}

static void value_ends(JsonWriter *w) {
    if (w->depth == 0)
        w->done = 1;
    else if (w->kind[w->depth] == '{')
        w->key_due = 1;
}

static void container_begin(JsonWriter *w, char kind) {
    if (!value_begins(w)) return;
    if (w->depth + 1 >= JSON_MAX_DEPTH) {
        misuse(w, "nesting deeper than JSON_MAX_DEPTH");
        return;
    }
    fputc(kind, w->f);
    w->depth++;
    w->kind[w->depth] = kind;
    w->items[w->depth] = 0;
    w->key_due = kind == '{';
}

static void container_end(JsonWriter *w, char kind) {
    if (w->err.code) return;
    if (w->depth == 0 || w->kind[w->depth] != kind) {
        misuse(w, kind == '{' ? "an object end outside an object" : "an array end outside an array");
        return;
    }
    if (kind == '{' && !w->key_due) {
        misuse(w, "an object ended after a key without its value");
        return;
    }
    if (w->items[w->depth] && w->depth <= w->wrap) fprintf(w->f, "\n%*s", 2 * (w->depth - 1), "");
    fputc(kind == '{' ? '}' : ']', w->f);
    w->depth--;
    value_ends(w);
}

void json_object_begin(JsonWriter *w) { container_begin(w, '{'); }
void json_object_end(JsonWriter *w) { container_end(w, '{'); }
void json_array_begin(JsonWriter *w) { container_begin(w, '['); }
void json_array_end(JsonWriter *w) { container_end(w, '['); }

/* Length of the valid UTF-8 sequence at p (2..4), 0 if it is not one:
 * overlong forms, surrogates and code points above U+10FFFF are refused, as
 * a strict decoder refuses them. Stops at the first bad byte, so it never
 * reads past a terminating NUL. */
static int utf8_length(const unsigned char *p) {
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    int n;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

static void write_quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
        } else if (c < 0x20) {
            const char *short_form = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == '\b' ? "\\b"
                                     : c == '\f' ? "\\f" : NULL;
            if (short_form)
                fputs(short_form, f);
            else
                fprintf(f, "\\u%04x", c);
        } else if (c < 0x80) {
            fputc(c, f);
        } else {
            int n = utf8_length(p);
            if (n == 0) {
                fputs("\\ufffd", f); /* not UTF-8: the replacement character, one per bad byte */
                n = 1;
            } else {
                fwrite(p, 1, (size_t)n, f);
            }
            p += n;
            continue;
        }
        p++;
    }
    fputc('"', f);
}

void json_key(JsonWriter *w, const char *key) {
    if (w->err.code) return;
    if (w->depth == 0 || w->kind[w->depth] != '{') {
        misuse(w, "a key outside an object");
        return;
    }
    if (!w->key_due) {
        misuse(w, "a key where a value is due");
        return;
    }
    separate(w);
    write_quoted(w->f, key);
    fputs(": ", w->f);
    w->key_due = 0;
}

void json_string(JsonWriter *w, const char *s) {
    if (!value_begins(w)) return;
    write_quoted(w->f, s ? s : "");
    value_ends(w);
}

void json_int(JsonWriter *w, long long v) {
    if (!value_begins(w)) return;
    fprintf(w->f, "%lld", v);
    value_ends(w);
}

void json_uint(JsonWriter *w, unsigned long long v) {
    if (!value_begins(w)) return;
    fprintf(w->f, "%llu", v);
    value_ends(w);
}

/* v with the fewest significant digits that read back as v (core/number_text.h);
 * as_float: as the float v came from. NaN and infinities as null. */
static void write_number(JsonWriter *w, double v, int as_float) {
    if (!value_begins(w)) return;
    if (!isfinite(v)) {
        fputs("null", w->f);
    } else {
        char buf[NUMBER_TEXT_MAX];
        fputs(number_text(buf, sizeof buf, v, as_float), w->f);
    }
    value_ends(w);
}

void json_double(JsonWriter *w, double v) { write_number(w, v, 0); }
void json_float(JsonWriter *w, float v) { write_number(w, v, 1); }

void json_bool(JsonWriter *w, int v) {
    if (!value_begins(w)) return;
    fputs(v ? "true" : "false", w->f);
    value_ends(w);
}

void json_null(JsonWriter *w) {
    if (!value_begins(w)) return;
    fputs("null", w->f);
    value_ends(w);
}

void json_kv_string(JsonWriter *w, const char *key, const char *s) {
    json_key(w, key);
    json_string(w, s);
}

void json_kv_int(JsonWriter *w, const char *key, long long v) {
    json_key(w, key);
    json_int(w, v);
}

void json_kv_uint(JsonWriter *w, const char *key, unsigned long long v) {
    json_key(w, key);
    json_uint(w, v);
}

void json_kv_double(JsonWriter *w, const char *key, double v) {
    json_key(w, key);
    json_double(w, v);
}

void json_kv_float(JsonWriter *w, const char *key, float v) {
    json_key(w, key);
    json_float(w, v);
}

void json_kv_bool(JsonWriter *w, const char *key, int v) {
    json_key(w, key);
    json_bool(w, v);
}

sb_status json_finish(JsonWriter *w, sb_error *err) {
    if (w->err.code == SB_OK && !w->done) misuse(w, "the output ended inside a value (an unclosed object or array)");
    if (w->err.code) return sb_fail(err, w->err.code, "%s", w->err.msg);
    fputc('\n', w->f);
    if (fflush(w->f) != 0 || ferror(w->f))
        return sb_fail(err, SB_EIO, "%s: cannot write the JSON: %s; check free disk space and permissions", w->name,
                       errno ? strerror(errno) : "stream error");
    return SB_OK;
}
