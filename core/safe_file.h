/* safe_file.h - writing a file so that a failure never damages what was there.
 *
 * Every output of the suite (checkpoints, gradients, token and vocabulary
 * files, the corpus, run JSON) is written under a temporary name beside the
 * target and renamed into place only once every byte is written and the file
 * is closed; on any failure the temporary is removed and an existing file of
 * the same name is left untouched. */
#ifndef SB_SAFE_FILE_H
#define SB_SAFE_FILE_H

#include <stdio.h>

#include "error.h"

typedef struct {
    FILE *f;
    const char *path;
    const char *what; /* "checkpoint", "token file", ... for messages */
    char tmp[4096];
} SafeFile;

/* Creates path.tmp.PID for writing; sf->f is the stream to write to. On
 * failure nothing exists on disk and the message names path, the temporary
 * and the reason. */
sb_status safe_file_open(SafeFile *sf, const char *path, const char *what, sb_error *err);

/* Closes and renames into place. write_ok says whether the caller's writes
 * all succeeded (errno still describing a failure); stream errors and the
 * close are checked here too. On failure the temporary is removed, the file
 * at path is untouched, and the message names path and what went wrong. */
sb_status safe_file_commit(SafeFile *sf, int write_ok, sb_error *err);

/* Gives up: closes and removes the temporary. A no-op once open failed or
 * commit ran, so it is safe on every cleanup path. */
void safe_file_abort(SafeFile *sf);

#endif
