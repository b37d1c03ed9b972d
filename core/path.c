/* path.c - checked path joins; see path.h. */
#include "path.h"

#include <stdio.h>
#include <string.h>

static sb_status path_format(char *out, size_t cap, const char *a, const char *sep, const char *b, sb_error *err) {
    int n = snprintf(out, cap, "%s%s%s", a, sep, b);
    if (n >= 0 && (size_t)n < cap) return SB_OK;
    if (cap) out[0] = '\0';
    return sb_fail(err, SB_EARG, "path too long (%d bytes, at most %zu): %.200s%s%.200s", n, cap ? cap - 1 : 0, a,
                   sep, b);
}

sb_status path_join(char *out, size_t cap, const char *dir, const char *name, sb_error *err) {
    size_t n = strlen(dir);
    const char *sep = (n == 0 || dir[n - 1] == '/') ? "" : "/";
    return path_format(out, cap, dir, sep, name, err);
}

sb_status path_suffix(char *out, size_t cap, const char *path, const char *suffix, sb_error *err) {
    return path_format(out, cap, path, "", suffix, err);
}
