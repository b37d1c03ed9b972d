/* json_file.h - a JSON file written whole or not at all.
 *
 * The JSON writer (json_write.h) over a safe_file.h temporary: the file
 * appears under its name only when the writer reports no misuse and every
 * byte reached the disk; otherwise the temporary is removed and a file
 * already at the path is left as it was. Every JSON file the program writes
 * goes through here. */
#ifndef SB_JSON_FILE_H
#define SB_JSON_FILE_H

#include "error.h"
#include "json_write.h"
#include "safe_file.h"

typedef struct {
    SafeFile sf;
    JsonWriter w; /* write the value through &w */
} JsonFile;

/* Opens path's temporary; what names the file in messages ("context JSON");
 * wrap as json_init's. */
sb_status json_file_open(JsonFile *jf, const char *path, const char *what, int wrap, sb_error *err) SB_MUST_CHECK;

/* Finishes the writer and renames the file into place, or removes the
 * temporary and reports the writer's or the stream's error. */
sb_status json_file_commit(JsonFile *jf, sb_error *err) SB_MUST_CHECK;

#endif
