/* safe_file.c - temporary-then-rename writes; see safe_file.h.
 *
 * Every message starts with the target path and says what failed (create,
 * write, rename) and why (strerror), then what to check. */
#include "safe_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

sb_status safe_file_open(SafeFile *sf, const char *path, const char *what, sb_error *err) {
    sf->f = NULL;
    sf->path = path;
    sf->what = what;
    if (snprintf(sf->tmp, sizeof sf->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof sf->tmp) {
        sf->tmp[0] = '\0'; /* a truncated name must never be removed by safe_file_abort */
        return sb_fail(err, SB_EARG, "%s: path too long to write the %s under a temporary name", path, what);
    }
    sf->f = fopen(sf->tmp, "wb");
    if (!sf->f) {
        sb_status st = sb_fail(err, SB_EIO,
                               "%s: cannot create the temporary %s for the %s: %s; check the directory exists and is "
                               "writable",
                               path, sf->tmp, what, strerror(errno));
        sf->tmp[0] = '\0'; /* nothing was created, so nothing to remove */
        return st;
    }
    return SB_OK;
}

sb_status safe_file_commit(SafeFile *sf, int write_ok, sb_error *err) {
    int e = write_ok ? 0 : errno; /* 0: a short write that set no errno */
    if (write_ok && ferror(sf->f)) {
        write_ok = 0;
        e = errno;
    }
    if (fclose(sf->f) != 0 && write_ok) {
        write_ok = 0;
        e = errno;
    }
    sf->f = NULL;
    if (!write_ok) {
        remove(sf->tmp);
        sf->tmp[0] = '\0';
        return sb_fail(err, SB_EIO, "%s: cannot write the %s: %s; check free disk space and permissions", sf->path,
                       sf->what, e ? strerror(e) : "short write");
    }
    if (rename(sf->tmp, sf->path) != 0) {
        e = errno;
        remove(sf->tmp);
        sb_status st = sb_fail(err, SB_EIO, "%s: cannot rename the temporary %s into place for the %s: %s", sf->path,
                               sf->tmp, sf->what, strerror(e));
        sf->tmp[0] = '\0';
        return st;
    }
    sf->tmp[0] = '\0';
    return SB_OK;
}

void safe_file_abort(SafeFile *sf) {
    if (sf->f) fclose(sf->f);
    sf->f = NULL;
    if (sf->tmp[0]) remove(sf->tmp);
    sf->tmp[0] = '\0';
}
