/* number_text.h - a number as the fewest decimal digits that read back as the same number.
 *
 * The one rule for every number the programs write into a file: the JSON
 * writer (core/json_write.h) and the CSV writer (bench/csv.h) both print a
 * double with the fewest significant digits, from 15 up to 17, that strtod
 * reads back as the same double, and a float (as_float) with the fewest, from
 * 6 up, that read back as the same float. For a normal double that is the
 * shortest such text (one that a shorter decimal reads back as rounds to it at
 * 15 digits too, and %g drops the trailing zeros), found in one to three tries;
 * a subnormal, which holds fewer digits, may get more than it needs.
 * Non-finite values are the caller's: each format has its own word for them. */
#ifndef SB_NUMBER_TEXT_H
#define SB_NUMBER_TEXT_H

#include <stddef.h>

#define NUMBER_TEXT_MAX 40 /* room for any double at 17 digits */

/* v (finite) into out[cap], cap >= NUMBER_TEXT_MAX; returns out. */
const char *number_text(char *out, size_t cap, double v, int as_float);

#endif
