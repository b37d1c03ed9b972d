/* path.h - joining a folder and a file name into a fixed buffer, checked.
 *
 * Output paths are built from user-given folders (`--out`, the dataset
 * folder) and fixed names. A silently truncated path would write somewhere
 * else than the user asked, so every join goes through path_join, which
 * fails with a message naming the path when it does not fit. */
#ifndef SB_PATH_H
#define SB_PATH_H

#include <stddef.h>

#include "error.h"

/* The longest path the program builds, terminator included. */
#define SB_PATH_MAX 4096

/* out = dir "/" name (just name when dir is empty; no doubled slash when dir
 * ends in one). Fails with SB_EARG, out set to "", when it needs more than cap
 * bytes. */
sb_status path_join(char *out, size_t cap, const char *dir, const char *name, sb_error *err) SB_MUST_CHECK;

/* out = path suffix (e.g. "corpus.tok" ".vocab"); the same failure. */
sb_status path_suffix(char *out, size_t cap, const char *path, const char *suffix, sb_error *err) SB_MUST_CHECK;

#endif
