/* csv.h - the one CSV writer: every CSV file the bench and the MPI program write.
 *
 * A row is a run of fields the writer separates with commas, ended by
 * csv_row_end (a '\n'). One rule for every value, whichever file:
 *   - a double or a float is printed with the fewest digits that read back as
 *     the same number (core/number_text.h, the JSON writer's rule);
 *   - NaN and +/-infinity, a missing or undefined figure, are written NaN,
 *     which gnuplot skips and Python's float() reads back as nan;
 *   - a string holding a comma, a double quote, CR or LF is quoted and its
 *     quotes doubled (RFC 4180), so a host name with a comma stays one field;
 *     any other string is written as it is.
 * A stream error is not reported here: the file's commit
 * (core/safe_file.h) checks the stream. */
#ifndef SB_CSV_H
#define SB_CSV_H

#include <stdio.h>

typedef struct {
    FILE *f;
    int fields; /* fields written in the current row */
} CsvWriter;

void csv_init(CsvWriter *w, FILE *f);

/* Header names, "kind,variant,route": fields written as given (names hold no
 * comma; each comma of the list separates two). */
void csv_names(CsvWriter *w, const char *names);

void csv_str(CsvWriter *w, const char *s);
void csv_int(CsvWriter *w, long long v);
void csv_uint(CsvWriter *w, unsigned long long v);
void csv_double(CsvWriter *w, double v);
void csv_float(CsvWriter *w, float v);
void csv_row_end(CsvWriter *w);

#endif
