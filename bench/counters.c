/* counters.c - per-thread performance counters through libpfm4 and perf_event_open.
 *
 * counters_setup turns each user-facing event name into a perf_event_attr
 * with libpfm4 once, then probes it by opening and closing it on the calling
 * thread, so that an event this machine cannot count (no PMU in a VM, a
 * paranoid kernel, an unknown name) is known before any thread runs and is
 * reported with its errno and reason instead of a number. The per-thread
 * functions are called from the variant's hooks on the thread being measured:
 * they only open, ioctl, read and close (no allocation, no libpfm), so they
 * cost a few system calls per thread and nothing on the training hot path.
 *
 * Privilege levels: every event counts user and kernel mode (PFM_PLM0 |
 * PFM_PLM3), as `perf stat` does, because the time a training thread spends in
 * the kernel (page faults, futex waits) is part of what the bench attributes.
 * When the kernel refuses that (EACCES/EPERM: perf_event_paranoid >= 2 for an
 * unprivileged user) the event is re-encoded user-only (PFM_PLM3) and marked
 * user_only, again as `perf stat` does, except for context switches and CPU
 * migrations: the kernel records those in kernel context, so a user-only
 * count is always 0, which would be a made-up number. */
#include "counters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>

_Static_assert(sizeof(struct perf_event_attr) <= sizeof(((CounterEvent *)0)->attr),
               "CounterEvent.attr is too small for this kernel's struct perf_event_attr");

/* perf-tool names mapped to libpfm4's generic "perf" PMU, so that a name
 * resolves to the same kernel generic event on every machine rather than to
 * whatever event of whichever PMU libpfm4 happens to search first. */
static const struct {
    const char *user, *pfm;
} name_table[] = {
    {"cycles", "perf::PERF_COUNT_HW_CPU_CYCLES"},
    {"cpu-cycles", "perf::PERF_COUNT_HW_CPU_CYCLES"},
    {"instructions", "perf::PERF_COUNT_HW_INSTRUCTIONS"},
    {"cache-references", "perf::PERF_COUNT_HW_CACHE_REFERENCES"},
    {"cache-misses", "perf::PERF_COUNT_HW_CACHE_MISSES"},
    {"branches", "perf::PERF_COUNT_HW_BRANCH_INSTRUCTIONS"},
    {"branch-instructions", "perf::PERF_COUNT_HW_BRANCH_INSTRUCTIONS"},
    {"branch-misses", "perf::PERF_COUNT_HW_BRANCH_MISSES"},
    {"task-clock", "perf::PERF_COUNT_SW_TASK_CLOCK"},
    {"cpu-clock", "perf::PERF_COUNT_SW_CPU_CLOCK"},
    {"context-switches", "perf::PERF_COUNT_SW_CONTEXT_SWITCHES"},
    {"cs", "perf::PERF_COUNT_SW_CONTEXT_SWITCHES"},
    {"cpu-migrations", "perf::PERF_COUNT_SW_CPU_MIGRATIONS"},
    {"migrations", "perf::PERF_COUNT_SW_CPU_MIGRATIONS"},
    {"page-faults", "perf::PERF_COUNT_SW_PAGE_FAULTS"},
    {"faults", "perf::PERF_COUNT_SW_PAGE_FAULTS"},
    {"minor-faults", "perf::PERF_COUNT_SW_PAGE_FAULTS_MIN"},
    {"major-faults", "perf::PERF_COUNT_SW_PAGE_FAULTS_MAJ"},
};

static const char *pfm_name_of(const char *user) {
    for (size_t i = 0; i < sizeof name_table / sizeof name_table[0]; i++)
        if (strcmp(name_table[i].user, user) == 0) return name_table[i].pfm;
    return user; /* any other name is a libpfm4 event string */
}

static int open_event(perf_open_fn open_fn, struct perf_event_attr *attr) {
    /* CLOEXEC: a child the bench spawns must not inherit live counters. */
    if (open_fn) return open_fn(attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return (int)syscall(__NR_perf_event_open, attr, (pid_t)0, -1, -1, (unsigned long)PERF_FLAG_FD_CLOEXEC);
}

/* Encodes ev->name at privilege levels plm into ev->attr and ev->encoded.
 * Returns 0, or an errno-like code with ev->why filled. */
static int encode_event(CounterEvent *ev, int plm) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    char *fstr = NULL;
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof arg);
    arg.attr = &attr;
    arg.fstr = &fstr;
    arg.size = sizeof arg;
    const char *pfm = pfm_name_of(ev->name);
    int r = pfm_get_os_event_encoding(pfm, plm, PFM_OS_PERF_EVENT_EXT, &arg);
    if (r != PFM_SUCCESS) {
        free(fstr);
        snprintf(ev->why, sizeof ev->why, "unsupported: libpfm4 cannot encode \"%s\": %s", pfm, pfm_strerror(r));
        return r == PFM_ERR_NOTFOUND ? ENOENT : EINVAL;
    }
    snprintf(ev->encoded, sizeof ev->encoded, "%s", fstr ? fstr : pfm);
    free(fstr);
    /* The fields libpfm4 does not own: opened disabled so that begin can reset
     * and enable all events together; the time fields make multiplexing
     * visible and correctable; no inheritance, since each thread counts only
     * itself and the bench sums threads. */
    attr.size = sizeof attr;
    attr.disabled = 1;
    attr.inherit = 0;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    ev->is_software = attr.type == PERF_TYPE_SOFTWARE;
    memset(ev->attr, 0, sizeof ev->attr);
    memcpy(ev->attr, &attr, sizeof attr);
    return 0;
}

/* Opens the encoded event on the calling thread and closes it at once.
 * Returns 0 or the errno of the failed open. */
static int probe_event(perf_open_fn open_fn, const CounterEvent *ev) {
    struct perf_event_attr attr;
    memcpy(&attr, ev->attr, sizeof attr);
    int fd = open_event(open_fn, &attr);
    if (fd < 0) return errno ? errno : EINVAL;
    close(fd);
    return 0;
}

/* Events the kernel only ever records in kernel context: user-only they read 0. */
static int kernel_context_only(const CounterEvent *ev) {
    struct perf_event_attr attr;
    memcpy(&attr, ev->attr, sizeof attr);
    return attr.type == PERF_TYPE_SOFTWARE &&
           (attr.config == PERF_COUNT_SW_CONTEXT_SWITCHES || attr.config == PERF_COUNT_SW_CPU_MIGRATIONS);
}

static void probe_failed(CounterEvent *ev, int e) {
    ev->usable = 0;
    ev->err = e;
    const char *hint = (e == EACCES || e == EPERM) ? " (kernel.perf_event_paranoid forbids it)" : "";
    snprintf(ev->why, sizeof ev->why, "unsupported: perf_event_open: %s%s", strerror(e), hint);
}

static void resolve_event(CounterSet *cs, CounterEvent *ev) {
    int e = encode_event(ev, PFM_PLM0 | PFM_PLM3);
    if (e) {
        ev->err = e;
        return;
    }
    e = probe_event(cs->open_fn, ev);
    if ((e == EACCES || e == EPERM) && !kernel_context_only(ev)) {
        CounterEvent user = *ev;
        if (encode_event(&user, PFM_PLM3) == 0) {
            int eu = probe_event(cs->open_fn, &user);
            if (eu == 0) {
                *ev = user;
                ev->user_only = 1;
            }
            /* When user mode fails too, its reason is the one that matters:
             * without a PMU a hardware event is refused for privilege first
             * (EACCES) but would not open anyway (ENOENT). */
            e = eu;
        }
    }
    if (e) {
        probe_failed(ev, e);
        return;
    }
    ev->usable = 1;
    ev->err = 0;
    ev->why[0] = '\0';
}

sb_status counters_setup(CounterSet *cs, const char *events, perf_open_fn open_fn, sb_error *err) {
    memset(cs, 0, sizeof *cs);
    cs->open_fn = open_fn;
    if (!events) events = COUNTERS_DEFAULT_EVENTS;

    /* Split and check the whole list first, so a malformed list is refused
     * before anything is probed. Spaces around a name are ignored. */
    const char *p = events;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (a == b) {
            int item = cs->n + 1;
            memset(cs, 0, sizeof *cs);
            return sb_fail(err, SB_EARG,
                           "counter events \"%s\": item %d is empty; give a comma-separated list of names "
                           "such as \"%s\"",
                           events, item, COUNTERS_DEFAULT_EVENTS);
        }
        if (cs->n == COUNTERS_MAX_EVENTS) {
            memset(cs, 0, sizeof *cs);
            return sb_fail(err, SB_EARG, "counter events \"%s\": more than %d events; give at most %d", events,
                           COUNTERS_MAX_EVENTS, COUNTERS_MAX_EVENTS);
        }
        size_t len = (size_t)(b - a);
        if (len >= sizeof cs->ev[0].name) {
            int item = cs->n + 1;
            memset(cs, 0, sizeof *cs);
            return sb_fail(err, SB_EARG, "counter events: item %d (\"%.*s\") is longer than %zu characters", item,
                           (int)len, a, sizeof cs->ev[0].name - 1);
        }
        memcpy(cs->ev[cs->n].name, a, len);
        cs->ev[cs->n].name[len] = '\0';
        cs->n++;
        if (*end == '\0') break;
        p = end + 1;
    }
    for (int i = 1; i < cs->n; i++)
        for (int k = 0; k < i; k++)
            if (strcmp(cs->ev[k].name, cs->ev[i].name) == 0) {
                char name[sizeof cs->ev[0].name];
                snprintf(name, sizeof name, "%s", cs->ev[i].name);
                memset(cs, 0, sizeof *cs);
                return sb_fail(err, SB_EARG, "counter events \"%s\": item %d (\"%s\") is given twice", events,
                               i + 1, name);
            }

    counters_raise_fd_limit();
    /* pfm_initialize is idempotent and there is no matching pfm_terminate in
     * teardown: libpfm4's state is process-wide, and terminating it under one
     * CounterSet would break another. */
    int r = pfm_initialize();
    cs->pfm_ready = r == PFM_SUCCESS;
    for (int i = 0; i < cs->n; i++) {
        CounterEvent *ev = &cs->ev[i];
        if (!cs->pfm_ready) {
            ev->err = ENODEV;
            snprintf(ev->why, sizeof ev->why, "unsupported: libpfm4 pfm_initialize: %s", pfm_strerror(r));
            continue;
        }
        resolve_event(cs, ev);
        /* a name libpfm4 does not know is a typo, not a counter this machine lacks */
        if (ev->err == ENOENT && !ev->encoded[0]) {
            char name[sizeof ev->name];
            snprintf(name, sizeof name, "%s", ev->name);
            memset(cs, 0, sizeof *cs);
            return sb_fail(err, SB_EARG, "counter events: no event called \"%s\" (libpfm4 knows none by that name; "
                           "the default list is \"%s\")", name, COUNTERS_DEFAULT_EVENTS);
        }
    }
    return SB_OK;
}

long counters_raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl.rlim_cur = rl.rlim_max;
    }
    return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

int counters_counted(const CounterSet *cs, const ThreadCounters *tc, int n, int e) {
    if (!cs || !tc || e < 0 || e >= cs->n || !cs->ev[e].usable) return 0;
    int k = 0;
    for (int t = 0; t < n; t++) k += tc[t].ok[e] != 0;
    return k;
}

void counters_teardown(CounterSet *cs) {
    /* Nothing is held between threads: every descriptor is closed in
     * counters_thread_end. Clearing makes a stale set visibly empty. */
    memset(cs, 0, sizeof *cs);
}

void counters_thread_begin(const CounterSet *cs, ThreadCounters *tc) {
    for (int i = 0; i < COUNTERS_MAX_EVENTS; i++) {
        tc->fd[i] = -1;
        tc->ok[i] = 0;
        tc->err[i] = 0;
        tc->value[i] = 0.0;
        tc->running_ratio[i] = 0.0;
    }
    /* Open everything first, then reset and enable in a tight loop, so the
     * cost of the opens is not counted and the events start close together. */
    for (int i = 0; i < cs->n; i++) {
        if (!cs->ev[i].usable) {
            tc->err[i] = cs->ev[i].err;
            continue;
        }
        struct perf_event_attr attr; /* a copy: the kernel may write to it, cs is shared */
        memcpy(&attr, cs->ev[i].attr, sizeof attr);
        int fd = open_event(cs->open_fn, &attr);
        if (fd < 0) {
            tc->err[i] = errno ? errno : EINVAL;
            continue;
        }
        tc->fd[i] = fd;
    }
    for (int i = 0; i < cs->n; i++) {
        if (tc->fd[i] < 0) continue;
        if (ioctl(tc->fd[i], PERF_EVENT_IOC_RESET, 0) != 0 || ioctl(tc->fd[i], PERF_EVENT_IOC_ENABLE, 0) != 0) {
            tc->err[i] = errno;
            close(tc->fd[i]);
            tc->fd[i] = -1;
            continue;
        }
        tc->ok[i] = 1;
    }
}

void counters_thread_end(const CounterSet *cs, ThreadCounters *tc) {
    /* Stop all first so that reading one does not count in the others. */
    for (int i = 0; i < cs->n; i++)
        if (tc->fd[i] >= 0) ioctl(tc->fd[i], PERF_EVENT_IOC_DISABLE, 0);
    for (int i = 0; i < cs->n; i++) {
        if (tc->fd[i] < 0) continue;
        uint64_t buf[3]; /* value, time enabled, time running: the order of read_format */
        ssize_t got = read(tc->fd[i], buf, sizeof buf);
        if (got != (ssize_t)sizeof buf) {
            tc->ok[i] = 0;
            tc->err[i] = got < 0 ? errno : EIO;
            tc->value[i] = 0.0;
            tc->running_ratio[i] = 0.0;
        } else {
            uint64_t value = buf[0], enabled = buf[1], running = buf[2];
            tc->value[i] = counters_scale(value, enabled, running);
            tc->running_ratio[i] = enabled > 0 ? (double)running / (double)enabled : 0.0;
            /* Opened but never given a counter: nothing was measured, and a 0
             * would look like a count. err stays 0: no call failed. */
            if (running == 0) tc->ok[i] = 0;
        }
        close(tc->fd[i]);
        tc->fd[i] = -1;
    }
}

const char *counters_status(const CounterSet *cs, const ThreadCounters *tc, int i) {
    if (i < 0 || i >= cs->n || !cs->ev[i].usable) return "unsupported";
    if (!tc->ok[i]) {
        /* usable on this machine, but this thread's open or read failed: say
         * which error (a name, so the CSV field has no spaces or commas) */
        static _Thread_local char buf[48];
        if (!tc->err[i]) return "not-counted"; /* never opened on this thread */
        const char *name = strerrorname_np(tc->err[i]);
        if (name)
            snprintf(buf, sizeof buf, "failed:%s", name);
        else
            snprintf(buf, sizeof buf, "failed:errno%d", tc->err[i]);
        return buf;
    }
    /* 0.999 rather than 1: enabled and running are read at slightly
     * different instants even for an event that never left its counter. */
    if (tc->running_ratio[i] < 0.999) return "multiplexed";
    return "ok";
}

double counters_scale(uint64_t value, uint64_t enabled, uint64_t running) {
    if (running == 0) return 0.0;
    /* In double: value * enabled can overflow 64 bits for long runs. */
    return (double)value * ((double)enabled / (double)running);
}
