/* safe_file.c - temporary-then-rename writes, checked inputs; see safe_file.h.
 *
 * Every message starts with the path and says what failed (create, write,
 * rename) and why (strerror), then what to check.
 *
 * The signal-cleanup registry is a fixed array of temporary names, each slot
 * guarded by one lock-free atomic: 0 free, 2 being filled, 1 live. The
 * handler only reads live slots and calls unlink, sigaction and raise, all
 * async-signal-safe, then lets the signal take its default action. */
#include "safe_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the registry of live temporaries and the signal handler ------------- */

#define SAFE_SLOTS 32

static char slot_path[SAFE_SLOTS][SB_PATH_MAX];
static atomic_int slot_state[SAFE_SLOTS];
static atomic_int handlers_installed;

static void remove_temporaries(int sig) {
    for (int i = 0; i < SAFE_SLOTS; i++)
        if (atomic_load(&slot_state[i]) == 1) unlink(slot_path[i]);
    struct sigaction sa = {.sa_handler = SIG_DFL};
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig); /* blocked until the handler returns, then the default action */
}

static void install_handlers(void) {
    if (atomic_exchange(&handlers_installed, 1)) return;
    const int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue; /* ignored or handled */
        struct sigaction sa = {.sa_handler = remove_temporaries};
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

void safe_file_signals_install(void) { install_handlers(); }

static int slot_claim(const char *tmp) {
    install_handlers();
    for (int i = 0; i < SAFE_SLOTS; i++) {
        int free_state = 0;
        if (!atomic_compare_exchange_strong(&slot_state[i], &free_state, 2)) continue;
        memcpy(slot_path[i], tmp, strlen(tmp) + 1);
        atomic_store(&slot_state[i], 1);
        return i;
    }
    return -1; /* all busy: this temporary is only cleared later as a stale one */
}

static void slot_release(int *slot) {
    if (*slot >= 0) atomic_store(&slot_state[*slot], 0);
    *slot = -1;
}

int safe_file_cleanup_add(const char *path) { return strlen(path) < SB_PATH_MAX ? slot_claim(path) : -1; }

void safe_file_cleanup_drop(int *slot) { slot_release(slot); }

/* ---- paths ------------------------------------------------------------------ */

/* out = the folder part of path ("." when none). */
static void dir_of(char *out, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(out, ".");
    else if (slash == path)
        strcpy(out, "/");
    else {
        memcpy(out, path, (size_t)(slash - path));
        out[slash - path] = '\0';
    }
}

static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* out = path with every symbolic link of its last component followed (the
 * final target may not exist yet). */
static sb_status follow_links(char *out, const char *path, sb_error *err) {
    if (strlen(path) >= SB_PATH_MAX) return sb_fail(err, SB_EARG, "%s: path too long", path);
    strcpy(out, path);
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode)) return SB_OK;
        if (hops == 40) return sb_fail(err, SB_EARG, "%s: too many levels of symbolic links", path);
        char link[SB_PATH_MAX], dir[SB_PATH_MAX];
        ssize_t n = readlink(out, link, sizeof link - 1);
        if (n < 0) return sb_fail(err, SB_EIO, "%s: cannot read the symbolic link %s: %s", path, out, strerror(errno));
        link[n] = '\0';
        if (link[0] == '/') {
            strcpy(out, link);
            continue;
        }
        dir_of(dir, out);
        if (path_join(out, SB_PATH_MAX, strcmp(dir, ".") == 0 ? "" : dir, link, err)) return SB_EARG;
    }
}

static const char *kind_of(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* The target (links followed) of an output, refusing a special file there. */
static sb_status output_target(char *target, const char *option, const char *path, sb_error *err) {
    if (!path[0]) return sb_fail(err, SB_EARG, "%s: the output path is empty; name a file", option);
    if (follow_links(target, path, err)) return SB_EARG;
    struct stat st;
    if (stat(target, &st) == 0 && !S_ISREG(st.st_mode))
        return sb_fail(err, SB_EIO, "%s %s: is %s, not a regular file; refusing to replace it (name a file)", option,
                       path, kind_of(st.st_mode));
    return SB_OK;
}

/* Whether name is NAME.tmp.PID (with NAME of base_len bytes) of a process
 * that no longer exists: a temporary nobody will commit or remove. */
static int dead_temporary(const char *name, size_t base_len) {
    if (strncmp(name + base_len, ".tmp.", 5) != 0) return 0;
    const char *digits = name + base_len + 5;
    char *end;
    long pid = strtol(digits, &end, 10);
    if (!*digits || *end || pid <= 0 || pid > INT_MAX || pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH; /* alive, or not ours to judge: kept */
}

/* The same for any file name: the last ".tmp." in it ends NAME. */
static int dead_temporary_any(const char *name) {
    const char *t = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp.")) t = p;
    return t && t > name && dead_temporary(name, (size_t)(t - name));
}

/* Removes target.tmp.PID files whose process no longer exists. */
static void clear_stale(const char *target) {
    char dir[SB_PATH_MAX];
    dir_of(dir, target);
    const char *base = base_of(target);
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || !dead_temporary(n, blen)) continue;
        char stale[SB_PATH_MAX];
        if (path_join(stale, sizeof stale, strcmp(dir, ".") == 0 ? "" : dir, n, NULL) == SB_OK) unlink(stale);
    }
    closedir(d);
}

/* ---- writing ------------------------------------------------------------------ */

sb_status safe_file_open(SafeFile *sf, const char *path, const char *what, sb_error *err) {
    sf->f = NULL;
    sf->path = path;
    sf->what = what;
    sf->tmp[0] = '\0';
    sf->slot = -1;
    sb_status st = output_target(sf->target, what, path, err);
    if (st) return st;
    char pid[32];
    snprintf(pid, sizeof pid, ".tmp.%ld", (long)getpid());
    if (path_suffix(sf->tmp, sizeof sf->tmp, sf->target, pid, err)) return SB_EARG;
    clear_stale(sf->target);
    sf->slot = slot_claim(sf->tmp);
    int fd = open(sf->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    sf->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!sf->f) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(sf->tmp);
        }
        slot_release(&sf->slot);
        st = sb_fail(err, SB_EIO,
                     "%s: cannot create the temporary %s for the %s: %s; check the directory exists and is writable",
                     path, sf->tmp, what, strerror(e));
        sf->tmp[0] = '\0'; /* nothing was created, so nothing to remove */
        return st;
    }
    return SB_OK;
}

static void drop_tmp(SafeFile *sf) {
    if (sf->tmp[0]) unlink(sf->tmp);
    sf->tmp[0] = '\0';
    slot_release(&sf->slot);
}

/* Closes sf's stream; 0 with *e set when the writes or the close failed. */
static int close_checked(SafeFile *sf, int write_ok, int *e) {
    *e = write_ok ? 0 : errno; /* 0: a short write that set no errno */
    if (write_ok && ferror(sf->f)) {
        write_ok = 0;
        *e = errno;
    }
    if (fclose(sf->f) != 0 && write_ok) {
        write_ok = 0;
        *e = errno;
    }
    sf->f = NULL;
    return write_ok;
}

/* ---- a command's commit group ------------------------------------------------ */

#define GROUP_MAX 32 /* the signal registry's size: no more temporaries can be live at once */

static SafeFile group[GROUP_MAX];
static char group_name[GROUP_MAX][SB_PATH_MAX]; /* the callers' names, which may not outlive their calls */
static int group_open, group_n;

void safe_file_group_begin(void) {
    safe_file_group_abort();
    group_open = 1;
}

void safe_file_group_abort(void) {
    for (int i = 0; i < group_n; i++) drop_tmp(&group[i]);
    group_n = 0;
    group_open = 0;
}

/* Moves n closed, fully written temporaries into the group; the callers' copies become no-ops. */
static sb_status group_hold(SafeFile *sf, int n, sb_error *err) {
    if (group_n + n > GROUP_MAX) {
        for (int i = 0; i < n; i++) drop_tmp(&sf[i]);
        return sb_fail(err, SB_EIO, "%s: more than %d files committed together", sf[0].path, GROUP_MAX);
    }
    for (int i = 0; i < n; i++) {
        SafeFile *g = &group[group_n];
        *g = sf[i];
        snprintf(group_name[group_n], SB_PATH_MAX, "%s", sf[i].path);
        g->path = group_name[group_n++];
        sf[i].tmp[0] = '\0';
        sf[i].slot = -1;
    }
    return SB_OK;
}

static sb_status rename_all(SafeFile *sf, int n, sb_error *err);

sb_status safe_file_group_commit(sb_error *err) {
    group_open = 0;
    sb_status st = rename_all(group, group_n, err);
    group_n = 0;
    return st;
}

sb_status safe_file_commit(SafeFile *sf, int write_ok, sb_error *err) { return safe_file_commit_all(sf, 1, write_ok, err); }

sb_status safe_file_commit_all(SafeFile *sf, int n, int write_ok, sb_error *err) {
    int e = 0, bad = -1;
    for (int i = 0; i < n; i++) {
        int ei;
        if (!close_checked(&sf[i], write_ok, &ei) && bad < 0) {
            bad = i;
            e = ei;
        }
    }
    if (bad >= 0) {
        for (int i = 0; i < n; i++) drop_tmp(&sf[i]);
        return sb_fail(err, SB_EIO, "%s: cannot write the %s: %s; check free disk space and permissions",
                       sf[bad].path, sf[bad].what, e ? strerror(e) : "short write");
    }
    return group_open ? group_hold(sf, n, err) : rename_all(sf, n, err);
}

/* Every closed temporary of sf renamed onto its target, or none (the old targets put back). */
static sb_status rename_all(SafeFile *sf, int n, sb_error *err) {
    /* Hold off SIGINT and SIGTERM so the renames are not cut in half. */
    sigset_t hold, old;
    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &hold, &old);
    static char keep[GROUP_MAX][SB_PATH_MAX]; /* a hard link to each old target while the group is renamed */
    int had_old[GROUP_MAX] = {0}, done = 0;
    sb_status st = SB_OK;
    if (n > GROUP_MAX) st = sb_fail(err, SB_EARG, "%s: more than %d files committed together", sf[0].path, GROUP_MAX);
    for (int i = 0; i < n && !st && n > 1; i++) {
        char pid[32];
        snprintf(pid, sizeof pid, ".old.%ld", (long)getpid());
        if (path_suffix(keep[i], SB_PATH_MAX, sf[i].target, pid, err)) {
            st = SB_EARG;
            break;
        }
        unlink(keep[i]);
        if (link(sf[i].target, keep[i]) == 0)
            had_old[i] = 1;
        else if (errno != ENOENT)
            st = sb_fail(err, SB_EIO, "%s: cannot keep the old %s while replacing it: %s", sf[i].path, sf[i].what,
                         strerror(errno));
    }
    for (; done < n && !st; done++)
        if (rename(sf[done].tmp, sf[done].target) != 0)
            st = sb_fail(err, SB_EIO, "%s: cannot rename the temporary %s into place for the %s: %s", sf[done].path,
                         sf[done].tmp, sf[done].what, strerror(errno));
        else
            sf[done].tmp[0] = '\0';
    if (st) /* put back what the renames already replaced */
        for (int i = 0; i < done; i++) {
            if (had_old[i])
                rename(keep[i], sf[i].target), had_old[i] = 0;
            else
                unlink(sf[i].target);
        }
    for (int i = 0; i < n; i++) {
        if (had_old[i]) unlink(keep[i]);
        drop_tmp(&sf[i]);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return st;
}

void safe_file_abort(SafeFile *sf) {
    if (sf->f) fclose(sf->f);
    sf->f = NULL;
    drop_tmp(sf);
}

/* ---- checks before the work ------------------------------------------------- */

sb_status safe_output_check(const char *option, const char *path, sb_error *err) {
    if (!path) return SB_OK;
    char target[SB_PATH_MAX], dir[SB_PATH_MAX];
    sb_status s = output_target(target, option, path, err);
    if (s) return s;
    if (target[strlen(target) - 1] == '/')
        return sb_fail(err, SB_EARG, "%s %s: names a folder, not a file", option, path);
    dir_of(dir, target);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sb_fail(err, SB_EIO, "%s %s: folder '%s' does not exist", option, path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return sb_fail(err, SB_EIO, "%s %s: folder '%s' is not writable: %s", option, path, dir, strerror(errno));
    return SB_OK;
}

/* The identity of a file: device and inode when it exists, else its
 * resolved path (links followed, folder made absolute). */
typedef struct {
    int exists;
    dev_t dev;
    ino_t ino;
    char name[SB_PATH_MAX];
} FileId;

static void file_id(FileId *id, const char *path) {
    struct stat st;
    memset(id, 0, sizeof *id);
    if (stat(path, &st) == 0) {
        id->exists = 1;
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        return;
    }
    char target[SB_PATH_MAX], dir[SB_PATH_MAX], real[PATH_MAX];
    if (follow_links(target, path, NULL)) target[0] = '\0';
    dir_of(dir, target);
    /* a resolved name too long to hold: the path as given (else two such paths would both be "") */
    if (!target[0] || !realpath(dir, real) || path_join(id->name, sizeof id->name, real, base_of(target), NULL))
        snprintf(id->name, sizeof id->name, "%s", path);
}

sb_status safe_files_distinct(const SafeRole *roles, int n, sb_error *err) {
    for (int i = 0; i < n; i++) {
        if (!roles[i].path) continue;
        FileId a;
        file_id(&a, roles[i].path);
        for (int j = i + 1; j < n; j++) {
            if (!roles[j].path || (!roles[i].output && !roles[j].output)) continue;
            FileId b;
            file_id(&b, roles[j].path);
            int same = a.exists && b.exists ? a.dev == b.dev && a.ino == b.ino
                                            : !a.exists && !b.exists && strcmp(a.name, b.name) == 0;
            if (same)
                return sb_fail(err, SB_EARG, "%s %s and %s %s are the same file; an output must not overwrite %s",
                               roles[i].option, roles[i].path, roles[j].option, roles[j].path,
                               roles[i].output ? "another output" : "an input");
        }
    }
    return SB_OK;
}

sb_status safe_input_open(FILE **f, const char *path, const char *what, const char *hint, sb_error *err) {
    *f = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO must not block us */
    if (fd < 0)
        return sb_fail(err, SB_EIO, "cannot open %s %s: %s%s%s", what, path, strerror(errno), hint ? "; " : "",
                       hint ? hint : "");
    struct stat st = {0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sb_status s = sb_fail(err, SB_EIO, "%s %s is %s, not a regular file; give the file itself", what, path,
                              kind_of(st.st_mode));
        close(fd);
        return s;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *f = fdopen(fd, "rb");
    if (!*f) {
        close(fd);
        return sb_fail(err, SB_ENOMEM, "cannot open %s %s: %s", what, path, strerror(errno));
    }
    return SB_OK;
}

sb_status safe_dir_prepare(const char *dir, sb_error *err) { return safe_dir_prepare_locked(dir, NULL, err); }

sb_status safe_dir_prepare_locked(const char *dir, OutputLock *lock, sb_error *err) {
    char p[SB_PATH_MAX];
    if (lock) *lock = OUTPUT_LOCK_NONE;
    if (!dir[0]) return sb_fail(err, SB_EARG, "the output folder is empty; name a folder");
    if (strlen(dir) >= sizeof p) return sb_fail(err, SB_EARG, "%s: path too long", dir);
    strcpy(p, dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return sb_fail(err, SB_EIO, "%s: cannot create folder %s: %s", dir, p, strerror(errno));
        *s = c;
        if (!c) break;
    }
    struct stat st = {0};
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sb_fail(err, SB_EIO, "%s: is %s, not a folder", dir, kind_of(st.st_mode));
    sb_status s = SB_OK;
    if (lock) { /* first the lock: a second writer hears of the first, not of its files */
        char what[SB_PATH_MAX + 16];
        snprintf(what, sizeof what, "the run folder %s", dir);
        if ((s = path_join(p, sizeof p, dir, OUTPUT_LOCK_DIR_NAME, err)) ||
            (s = output_lock_take(lock, p, what, err)))
            return s;
    }
    DIR *d = opendir(dir);
    if (!d) s = sb_fail(err, SB_EIO, "%s: cannot read the folder: %s", dir, strerror(errno));
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (lock && !strcmp(e->d_name, OUTPUT_LOCK_DIR_NAME)))
            continue;
        char stale[SB_PATH_MAX];
        if (dead_temporary_any(e->d_name) && path_join(stale, sizeof stale, dir, e->d_name, NULL) == SB_OK &&
            unlink(stale) == 0)
            continue; /* a temporary of a process that died: nobody's output, cleared as elsewhere */
        s = sb_fail(err, SB_EIO, "%s already holds %s (another run's files); give a new or empty folder", dir,
                    e->d_name);
        break;
    }
    if (d) closedir(d);
    if (!s && access(dir, W_OK | X_OK) != 0)
        s = sb_fail(err, SB_EIO, "%s: folder is not writable: %s", dir, strerror(errno));
    if (s && lock) output_lock_release(lock);
    return s;
}
