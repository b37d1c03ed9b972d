/* error.c - formatting of sb_error messages; see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

sb_status sb_fail(sb_error *err, sb_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *sb_status_name(sb_status code) {
    switch (code) {
    case SB_OK: return "ok";
    case SB_EIO: return "io";
    case SB_EFORMAT: return "format";
    case SB_ECONFIG: return "config";
    case SB_ERANGE: return "range";
    case SB_ENOMEM: return "nomem";
    case SB_EARG: return "argument";
    }
    return "unknown";
}
