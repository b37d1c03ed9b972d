/* output_lock.h - one writer at a time for an output or a set of outputs that belong together.
 *
 * Two commands writing the same outputs at once would each rename its own
 * files into place and leave a mix (a token file from one text and a
 * vocabulary from another; a run folder with two benches' rows). So a
 * command takes, before any work, an exclusive flock(2) on a lock file
 * (`OUTPUT.lock` beside a file, `.lock` inside a run folder) and keeps it
 * until it ends: a second writer is refused at once, with the holder's pid
 * and command line, which the holder writes into the lock file. The lock file
 * is removed when the holder lets go or is stopped by SIGINT or SIGTERM
 * (safe_file.h's handler); one left by a process that died otherwise holds
 * no lock (the kernel drops a dead process's locks) and is simply taken.
 * Taking it checks that the file locked is still the one at the path, so a
 * holder removing it while another opens it never leaves two holders. */
#ifndef SB_OUTPUT_LOCK_H
#define SB_OUTPUT_LOCK_H

#include "error.h"
#include "path.h"

typedef struct {
    int fd;                  /* -1: not held */
    int slot;                /* safe_file_cleanup_add's: SIGINT/SIGTERM removes the lock file too */
    char path[SB_PATH_MAX];  /* the lock file */
} OutputLock;

#define OUTPUT_LOCK_NONE ((OutputLock){.fd = -1, .slot = -1})

/* Takes the lock file lock_path for the outputs named what ("--out
 * corpus.tok"); refuses at once, naming the holder, when another process
 * holds it. */
sb_status output_lock_take(OutputLock *l, const char *lock_path, const char *what, sb_error *err) SB_MUST_CHECK;

/* The lock of an output file: OUTPUT.lock beside it; option names it in
 * messages. NULL output: nothing to lock, l left not held, SB_OK. */
sb_status output_lock_beside(OutputLock *l, const char *option, const char *output, sb_error *err) SB_MUST_CHECK;

/* Lets go: removes the lock file and closes it. A no-op when not held. */
void output_lock_release(OutputLock *l);

/* The name of a run folder's lock file, which safe_dir_prepare allows in a folder it is given. */
#define OUTPUT_LOCK_DIR_NAME ".lock"

#endif
