/* error.h - how the core reports failure.
 *
 * Every function that can fail returns an sb_status and, on failure, fills an
 * sb_error with one line that says what went wrong, where (file, offset,
 * option), and what to do about it. The CLI prints that line and exits
 * non-zero; tests assert on the status and on words in the message. There is
 * no global error state: the caller owns the sb_error. */
#ifndef SB_ERROR_H
#define SB_ERROR_H

typedef enum {
    SB_OK = 0,
    SB_EIO,       /* a file could not be opened, read or written */
    SB_EFORMAT,   /* a file exists but is not what it claims: magic, version, size */
    SB_ECONFIG,   /* a configuration that cannot work: sizes, thread counts, presets */
    SB_ERANGE,    /* a value outside what the data allows: offsets, token ids */
    SB_ENOMEM,    /* an allocation failed */
    SB_EARG       /* a bad command-line argument */
} sb_status;

typedef struct {
    sb_status code;
    char msg[512];
} sb_error;

/* On a declaration of a function that returns an sb_status: a caller that
 * drops the result is a compile error (warnings are errors), since a failure
 * nobody reads is a failure nobody reports. A cast to void does not silence
 * it: handle the status, or make the function one that cannot fail. */
#define SB_MUST_CHECK __attribute__((warn_unused_result))

/* Formats the message into err (which may be NULL) and returns code, so a
 * failing function can say `return sb_fail(err, SB_EIO, "...", ...)`; the one
 * way an error is set. Its result may be dropped: it is a setter. */
sb_status sb_fail(sb_error *err, sb_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short name of a status, for messages and tests ("io", "format", ...). */
const char *sb_status_name(sb_status code);

#endif
