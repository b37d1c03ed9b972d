/* number_text.c - the fewest digits that read back the same; see number_text.h. */
#include "number_text.h"

#include <stdio.h>
#include <stdlib.h>

const char *number_text(char *out, size_t cap, double v, int as_float) {
    for (int digits = as_float ? 6 : 15; digits <= 17; digits++) {
        snprintf(out, cap, "%.*g", digits, v);
        double back = strtod(out, NULL);
        if (as_float ? (float)back == (float)v : back == v) break;
    }
    return out;
}
