/* output_lock.c - an exclusive flock on OUTPUT.lock, naming its holder; see output_lock.h. */
#include "output_lock.h"

#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* "pid N: ARGV..." of this process, from /proc/self/cmdline when it can be read. */
static void holder_text(char *s, size_t cap) {
    int at = snprintf(s, cap, "pid %ld", (long)getpid());
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (!f) return;
    char args[200];
    size_t n = fread(args, 1, sizeof args - 1, f);
    fclose(f);
    for (size_t i = 0; i + 1 < n; i++)
        if (args[i] == '\0') args[i] = ' ';
    args[n] = '\0';
    if (n) snprintf(s + at, cap - (size_t)at, ": %s", args);
}

/* What the holder wrote into the lock file, one line. */
static void holder_read(int fd, char *s, size_t cap) {
    ssize_t n = pread(fd, s, cap - 1, 0);
    s[n > 0 ? n : 0] = '\0';
    s[strcspn(s, "\n")] = '\0';
    if (!s[0]) snprintf(s, cap, "a process that has not yet said its pid");
}

sb_status output_lock_take(OutputLock *l, const char *lock_path, const char *what, sb_error *err) {
    *l = OUTPUT_LOCK_NONE;
    if (strlen(lock_path) >= sizeof l->path) return sb_fail(err, SB_EARG, "%s: path too long", lock_path);
    for (int tries = 0; tries < 16; tries++) {
        int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
            return sb_fail(err, SB_EIO, "%s: cannot create the lock file %s: %s", what, lock_path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char holder[256];
            holder_read(fd, holder, sizeof holder);
            close(fd);
            if (e == EWOULDBLOCK)
                return sb_fail(err, SB_EIO,
                               "%s is being written by another process (%s; its lock is %s): wait for it to end or "
                               "choose another output",
                               what, holder, lock_path);
            return sb_fail(err, SB_EIO, "%s: cannot lock %s: %s", what, lock_path, strerror(e));
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(lock_path, &now) == 0 && held.st_dev == now.st_dev &&
            held.st_ino == now.st_ino) {
            char text[320];
            holder_text(text, sizeof text);
            size_t len = strlen(text);
            text[len++] = '\n';
            /* the holder's name is a courtesy to the next writer; the lock holds without it (a full disk) */
            if (ftruncate(fd, 0) != 0 || pwrite(fd, text, len, 0) != (ssize_t)len) errno = 0;
            l->fd = fd;
            strcpy(l->path, lock_path);
            l->slot = safe_file_cleanup_add(l->path);
            return SB_OK;
        }
        close(fd); /* its holder removed it between our open and our lock: take the new one */
    }
    return sb_fail(err, SB_EIO, "%s: cannot lock %s: it keeps being replaced", what, lock_path);
}

sb_status output_lock_beside(OutputLock *l, const char *option, const char *output, sb_error *err) {
    *l = OUTPUT_LOCK_NONE;
    if (!output) return SB_OK;
    char path[SB_PATH_MAX], what[SB_PATH_MAX + 64];
    sb_status st = path_suffix(path, sizeof path, output, ".lock", err);
    if (st) return st;
    snprintf(what, sizeof what, "%s %s", option, output);
    return output_lock_take(l, path, what, err);
}

void output_lock_release(OutputLock *l) {
    if (l->fd < 0) return;
    safe_file_cleanup_drop(&l->slot);
    unlink(l->path); /* while held: a process that opened it now finds another file there and starts again */
    close(l->fd);
    l->fd = -1;
}
