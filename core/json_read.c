/* json_read.c - the strict reader of a flat JSON object; see json_read.h.
 *
 * A recursive-descent parser of the one shape json_read.h names: RFC 8259's
 * grammar for strings and numbers, whitespace between tokens, nothing else. */
#include "json_read.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t i;          /* the byte being read */
    const char *name;  /* the file, for messages */
    sb_error *err;
} Parser;

static sb_status refuse(Parser *p, const char *what) {
    return sb_fail(p->err, SB_EFORMAT, "%s: not a flat JSON object of numbers and strings: %s at byte %zu", p->name,
                   what, p->i);
}

static void skip_space(Parser *p) {
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r') p->i++;
}

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                                                         : -1;
        if (d < 0) return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Appends code point cp as UTF-8; -1 when it does not fit. */
static int put_utf8(char *out, size_t cap, size_t *n, unsigned cp) {
    unsigned char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*n + k >= cap) return -1;
    memcpy(out + *n, b, k);
    *n += k;
    return 0;
}

/* A string at p->i (its opening quote) into out[cap], escapes decoded. */
static sb_status parse_string(Parser *p, char *out, size_t cap) {
    if (p->s[p->i] != '"') return refuse(p, "a string expected");
    p->i++;
    size_t n = 0;
    for (;;) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == 0) return refuse(p, "an unterminated string");
        if (c == '"') break;
        if (c < 0x20) return refuse(p, "a raw control character in a string");
        unsigned cp = c;
        if (c == '\\') {
            char e = p->s[p->i + 1];
            static const char escapes[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
            const char *simple = e ? strchr(escapes, e) : NULL;
            if (simple) {
                cp = (unsigned char)decoded[simple - escapes];
                p->i += 2;
            } else if (e == 'u') {
                if (hex4(p->s + p->i + 2, &cp)) return refuse(p, "a \\u escape without four hex digits");
                p->i += 6;
                if (cp == 0) return refuse(p, "a \\u0000 escape (a NUL inside a string)");
                if (cp >= 0xDC00 && cp <= 0xDFFF) return refuse(p, "a lone low surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (p->s[p->i] != '\\' || p->s[p->i + 1] != 'u' || hex4(p->s + p->i + 2, &lo) || lo < 0xDC00 ||
                        lo > 0xDFFF)
                        return refuse(p, "a high surrogate without its low half");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p->i += 6;
                }
            } else {
                return refuse(p, "an unknown escape");
            }
            if (put_utf8(out, cap, &n, cp)) return refuse(p, "a string too long for the reader");
            continue;
        }
        if (n + 1 >= cap) return refuse(p, "a string too long for the reader");
        out[n++] = (char)c;
        p->i++;
    }
    out[n] = '\0';
    p->i++;
    return SB_OK;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static sb_status parse_number(Parser *p, double *out) {
    size_t start = p->i;
    const char *s = p->s;
    if (s[p->i] == '-') p->i++;
    if (s[p->i] == '0')
        p->i++;
    else if (is_digit(s[p->i]))
        while (is_digit(s[p->i])) p->i++;
    else
        return refuse(p, "a malformed number");
    if (s[p->i] == '.') {
        p->i++;
        if (!is_digit(s[p->i])) return refuse(p, "a malformed number (no digit after the point)");
        while (is_digit(s[p->i])) p->i++;
    }
    if (s[p->i] == 'e' || s[p->i] == 'E') {
        p->i++;
        if (s[p->i] == '+' || s[p->i] == '-') p->i++;
        if (!is_digit(s[p->i])) return refuse(p, "a malformed number (no digit in the exponent)");
        while (is_digit(s[p->i])) p->i++;
    }
    char *end;
    *out = strtod(s + start, &end);
    if (end != s + p->i) return refuse(p, "a malformed number");
    return SB_OK;
}

static int literal(Parser *p, const char *word) {
    size_t n = strlen(word);
    if (strncmp(p->s + p->i, word, n) != 0) return 0;
    p->i += n;
    return 1;
}

static sb_status parse_value(Parser *p, JsonField *f) {
    char c = p->s[p->i];
    if (c == '"') {
        f->is_string = 1;
        return parse_string(p, f->string, sizeof f->string);
    }
    if (c == '-' || is_digit(c)) return parse_number(p, &f->number);
    if (literal(p, "true")) f->number = 1;
    else if (literal(p, "false")) f->number = 0;
    else if (literal(p, "null")) f->number = NAN;
    else if (c == '{' || c == '[') return refuse(p, "a nested object or array");
    else return refuse(p, "a value expected (a number, a string, true, false or null)");
    return SB_OK;
}

sb_status json_flat_parse(JsonFlat *out, const char *text, const char *name, sb_error *err) {
    memset(out, 0, sizeof *out);
    Parser p = {.s = text, .i = 0, .name = name, .err = err};
    sb_status st;
    skip_space(&p);
    if (text[p.i] != '{') return refuse(&p, "'{' expected");
    p.i++;
    skip_space(&p);
    if (text[p.i] == '}') {
        p.i++;
    } else {
        for (;;) {
            skip_space(&p);
            if (out->n == JSON_FLAT_MAX_FIELDS) return refuse(&p, "more members than the reader holds");
            JsonField *f = &out->fields[out->n];
            size_t key_at = p.i;
            if (text[p.i] != '"') return refuse(&p, "a key expected");
            if ((st = parse_string(&p, f->key, sizeof f->key))) return st;
            for (int k = 0; k < out->n; k++)
                if (strcmp(out->fields[k].key, f->key) == 0) {
                    p.i = key_at;
                    return refuse(&p, "a duplicate key");
                }
            skip_space(&p);
            if (text[p.i] != ':') return refuse(&p, "':' expected after a key");
            p.i++;
            skip_space(&p);
            if ((st = parse_value(&p, f))) return st;
            out->n++;
            skip_space(&p);
            if (text[p.i] == ',') {
                p.i++;
                continue;
            }
            if (text[p.i] == '}') {
                p.i++;
                break;
            }
            return refuse(&p, "',' or '}' expected");
        }
    }
    skip_space(&p);
    if (text[p.i] != '\0') return refuse(&p, "text after the object");
    return SB_OK;
}

static const JsonField *find(const JsonFlat *o, const char *key) {
    for (int k = 0; k < o->n; k++)
        if (strcmp(o->fields[k].key, key) == 0) return &o->fields[k];
    return NULL;
}

sb_status json_flat_number(const JsonFlat *o, const char *key, double *out, const char *name, sb_error *err) {
    const JsonField *f = find(o, key);
    if (!f) return sb_fail(err, SB_EFORMAT, "%s: no \"%s\" member", name, key);
    if (f->is_string) return sb_fail(err, SB_EFORMAT, "%s: \"%s\" is a string, not a number", name, key);
    *out = f->number;
    return SB_OK;
}

const char *json_flat_string(const JsonFlat *o, const char *key) {
    const JsonField *f = find(o, key);
    return f && f->is_string ? f->string : NULL;
}
