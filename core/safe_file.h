/* safe_file.h - files in and out, so that a failure never damages what was there.
 *
 * Every output of the suite (checkpoints, gradients, token and vocabulary
 * files, the corpus, run JSON) is written under a temporary name beside its
 * target and renamed into place only once every byte is written and the file
 * is closed; on any failure the temporary is removed and an existing file of
 * the same name is left untouched. The rules every output follows:
 *   - an output that exists and is not a regular file (directory, device,
 *     FIFO, socket) is refused: it is never replaced by a regular file;
 *   - a symbolic link is written through: its final target is replaced, by a
 *     temporary in the target's folder renamed onto it, and the link stays;
 *   - outputs that belong together (a token file and its vocabulary) are
 *     committed together or not at all (safe_file_commit_all);
 *   - SIGINT or SIGTERM while a temporary exists removes it (a handler
 *     installed on the first safe_file_open, only where the signal still has
 *     its default action), and a temporary `TARGET.tmp.PID` left by a process
 *     that no longer exists is removed when TARGET is next written.
 * Commands check their outputs (safe_output_check) and that no output is
 * the same file as an input or another output (safe_files_distinct) before
 * any work, and open inputs with safe_input_open, which refuses anything
 * but a regular file without blocking on a FIFO. A run folder is made with
 * safe_dir_prepare, which refuses one holding files already. */
#ifndef SB_SAFE_FILE_H
#define SB_SAFE_FILE_H

#include <stdio.h>

#include "error.h"
#include "output_lock.h"
#include "path.h"

typedef struct {
    FILE *f;
    const char *path;          /* as the caller named it, for messages */
    const char *what;          /* "checkpoint", "token file", ... for messages */
    char target[SB_PATH_MAX];  /* path with symbolic links followed: what the rename replaces */
    char tmp[SB_PATH_MAX];     /* target.tmp.PID; "" once removed or renamed */
    int slot;                  /* signal-cleanup registry slot, -1: none */
} SafeFile;

/* Creates target.tmp.PID for writing; sf->f is the stream to write to. On
 * failure nothing exists on disk and the message names path and the reason
 * (a special file, a missing folder, ...). */
sb_status safe_file_open(SafeFile *sf, const char *path, const char *what, sb_error *err) SB_MUST_CHECK;

/* Closes and renames into place. write_ok says whether the caller's writes
 * all succeeded (errno still describing a failure); stream errors and the
 * close are checked here too. On failure the temporary is removed, the file
 * at path is untouched, and the message names path and what went wrong. */
sb_status safe_file_commit(SafeFile *sf, int write_ok, sb_error *err) SB_MUST_CHECK;

/* Commits n open files as one: every file is closed and checked first, then
 * all are renamed into place with SIGINT and SIGTERM held off; when a rename
 * fails, the targets already replaced get their old contents back (or are
 * removed when they did not exist). Either every target holds its new file
 * or every target is as it was. */
sb_status safe_file_commit_all(SafeFile *sf, int n, int write_ok, sb_error *err) SB_MUST_CHECK;

/* A command's outputs committed as one (after each bench run: the run
 * folder's files, its trace, checkpoints and samples; train's --save, --json
 * and --trace). Between begin and group_commit, every commit (one file or
 * commit_all) closes and checks its files and holds them as written
 * temporaries instead of renaming them; group_commit renames them all as
 * safe_file_commit_all does (every target new, or every target as it was),
 * group_abort removes them. One group at a time, from the thread that
 * writes; at most 32 files. */
void safe_file_group_begin(void);
sb_status safe_file_group_commit(sb_error *err) SB_MUST_CHECK;
void safe_file_group_abort(void);

/* Installs now the SIGINT/SIGTERM handler that removes live temporaries (the
 * first safe_file_open otherwise does), so that a caller can put its own
 * handler in front of it and pass a signal on to it (bench/stop.c). A no-op
 * after the first call, and where a signal is already ignored or handled. */
void safe_file_signals_install(void);

/* Another path SIGINT or SIGTERM removes (a lock file, output_lock.h): its
 * slot in the handler's registry, -1 when the registry is full; drop gives
 * the slot back (and sets it to -1) without removing anything. */
int safe_file_cleanup_add(const char *path);
void safe_file_cleanup_drop(int *slot);

/* Gives up: closes and removes the temporary. A no-op once open failed or
 * commit ran, so it is safe on every cleanup path. */
void safe_file_abort(SafeFile *sf);

/* Checks, before any work, that path can be written as an output: not
 * empty, not an existing directory, device, FIFO or socket (after following
 * symbolic links), in a folder that exists and is writable. NULL path: OK
 * (an output not asked for). option names it in the message ("--save"). */
sb_status safe_output_check(const char *option, const char *path, sb_error *err) SB_MUST_CHECK;

/* One file a command reads or writes, for safe_files_distinct. */
typedef struct {
    const char *option; /* "--data", "--save", "TEXT", ... */
    const char *path;   /* NULL: not given, skipped */
    int output;         /* 1 when the command writes it */
} SafeRole;

/* Refuses when an output is the same file as an input or another output:
 * same device and inode when both exist, else the same path once symbolic
 * links and the folder are resolved. */
sb_status safe_files_distinct(const SafeRole *roles, int n, sb_error *err) SB_MUST_CHECK;

/* Opens path for reading, refusing anything but a regular file before any
 * read and without blocking (a FIFO is opened non-blocking, then checked).
 * what names the file ("token file"); hint, if not NULL, ends a message
 * about a file that cannot be opened. */
sb_status safe_input_open(FILE **f, const char *path, const char *what, const char *hint, sb_error *err) SB_MUST_CHECK;

/* Makes folder dir for a run's files, missing parents included, and
 * refuses one that exists and holds any entry: a run never writes into a
 * folder holding another run's files. */
sb_status safe_dir_prepare(const char *dir, sb_error *err) SB_MUST_CHECK;

/* The same, holding the folder's lock (DIR/.lock, output_lock.h) from
 * before the check to the caller's output_lock_release: a second writer is
 * refused at once, naming the first; the lock file is the one entry allowed.
 * On failure *lock is not held. */
sb_status safe_dir_prepare_locked(const char *dir, OutputLock *lock, sb_error *err) SB_MUST_CHECK;

#endif
