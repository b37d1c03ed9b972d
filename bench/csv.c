/* csv.c - the CSV writer; see csv.h. */
#include "csv.h"

#include <math.h>
#include <string.h>

#include "../core/number_text.h"

void csv_init(CsvWriter *w, FILE *f) { *w = (CsvWriter){.f = f, .fields = 0}; }

/* The comma before every field but a row's first. */
static void next_field(CsvWriter *w) {
    if (w->fields++) fputc(',', w->f);
}

void csv_names(CsvWriter *w, const char *names) {
    next_field(w);
    fputs(names, w->f);
    for (const char *p = names; *p; p++) w->fields += *p == ',';
}

void csv_str(CsvWriter *w, const char *s) {
    next_field(w);
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, w->f);
        return;
    }
    fputc('"', w->f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', w->f);
        fputc(*s, w->f);
    }
    fputc('"', w->f);
}

void csv_int(CsvWriter *w, long long v) {
    next_field(w);
    fprintf(w->f, "%lld", v);
}

void csv_uint(CsvWriter *w, unsigned long long v) {
    next_field(w);
    fprintf(w->f, "%llu", v);
}

static void number(CsvWriter *w, double v, int as_float) {
    char buf[NUMBER_TEXT_MAX];
    next_field(w);
    fputs(isfinite(v) ? number_text(buf, sizeof buf, v, as_float) : "NaN", w->f);
}

void csv_double(CsvWriter *w, double v) { number(w, v, 0); }
void csv_float(CsvWriter *w, float v) { number(w, v, 1); }

void csv_row_end(CsvWriter *w) {
    fputc('\n', w->f);
    w->fields = 0;
}
