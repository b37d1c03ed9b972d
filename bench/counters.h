/* counters.h - per-thread performance counters through libpfm4 and perf_event_open.
 *
 * The bench names events as users know them ("cycles", "task-clock", or any
 * libpfm4 event string); counters_setup encodes each once with
 * pfm_get_os_event_encoding. Every training thread then opens its own
 * counters on itself (pid 0, cpu -1) in the variant's thread_begin hook and
 * reads and closes them in thread_end, with PERF_FORMAT_TOTAL_TIME_ENABLED
 * and _RUNNING so that a multiplexed count is scaled and the scaling is
 * recorded. An event this machine cannot count (no hardware PMU in a VM, a
 * paranoid setting, an unknown name) is marked unsupported with the errno and
 * the reason, and the run goes on with the others: a number is never made up.
 *
 * The open call is a function pointer so tests can make any event fail
 * deterministically; like the syscall it returns a file descriptor, or -1
 * with errno set. */
#ifndef SB_COUNTERS_H
#define SB_COUNTERS_H

#include <stdint.h>
#include <sys/types.h>

#include "../core/error.h"

#define COUNTERS_MAX_EVENTS 16
#define COUNTERS_DEFAULT_EVENTS \
    "cycles,instructions,cache-misses,branch-misses,task-clock,context-switches,cpu-migrations,page-faults"

struct perf_event_attr;
typedef int (*perf_open_fn)(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags);

typedef struct {
    char name[64];        /* as the user gave it */
    char encoded[256];    /* the fully qualified libpfm4 name it resolved to, or "" */
    int is_software;      /* a kernel software event (task-clock, ...) rather than a PMU one */
    int usable;           /* encoded, and a probe open on the calling thread succeeded */
    int err;              /* errno of the failure when not usable (0 if usable) */
    char why[160];        /* "unsupported: perf_event_open: No such file or directory", ... */
    unsigned char attr[256]; /* struct perf_event_attr, opaque here */
    int user_only;        /* the kernel refused user+kernel counting (perf_event_paranoid),
                             so this counts user mode only; `encoded` then ends in :k=0 */
} CounterEvent;

typedef struct {
    int n;
    CounterEvent ev[COUNTERS_MAX_EVENTS];
    perf_open_fn open_fn; /* NULL: the real perf_event_open syscall */
    int pfm_ready;        /* pfm_initialize succeeded */
} CounterSet;

/* What one thread counted. */
typedef struct {
    int fd[COUNTERS_MAX_EVENTS];
    int ok[COUNTERS_MAX_EVENTS];        /* counted on this thread */
    int err[COUNTERS_MAX_EVENTS];       /* errno when not */
    double value[COUNTERS_MAX_EVENTS];  /* scaled by enabled/running */
    double running_ratio[COUNTERS_MAX_EVENTS]; /* running/enabled: 1 = never multiplexed */
} ThreadCounters;

/* Resolves a comma-separated event list (NULL: COUNTERS_DEFAULT_EVENTS),
 * raises the descriptor limit (counters_raise_fd_limit) and probes each event
 * on the calling thread. Fails only for a malformed list
 * (empty name, more than COUNTERS_MAX_EVENTS); unknown or unsupported events
 * are recorded as not usable. open_fn NULL means the real syscall. */
sb_status counters_setup(CounterSet *cs, const char *events, perf_open_fn open_fn, sb_error *err) SB_MUST_CHECK;
void counters_teardown(CounterSet *cs);

/* Raises the process's soft RLIMIT_NOFILE to its hard limit: every training
 * thread holds one descriptor per event while it runs (64 threads x 8 events
 * is 512 beside the bench's own files), so a soft limit of 1024 or less makes
 * some threads fail with EMFILE. counters_setup calls it before anything is
 * opened. Returns the soft limit now in force (-1: unknown). */
long counters_raise_fd_limit(void);

/* How many of n threads counted event e (opened, ran and read it). A figure
 * per thread, or a sum over threads, holds only when this is n; the bench
 * warns when it is not (noise.h) and the report leaves such a figure out. */
int counters_counted(const CounterSet *cs, const ThreadCounters *tc, int n, int e);

/* On the thread being measured: opens every usable event (pid 0, cpu -1)
 * and enables it. */
void counters_thread_begin(const CounterSet *cs, ThreadCounters *tc);
/* On the same thread: reads, scales and closes. */
void counters_thread_end(const CounterSet *cs, ThreadCounters *tc);

/* A thread's event i for CSV status columns: "ok", "multiplexed",
 * "unsupported" (the machine cannot count it: context.json says why), or
 * "failed:ENAME" (countable here, but this thread's open or read failed with
 * that errno), or "not-counted" (never opened on this thread). The string is
 * valid until the calling thread's next call. */
const char *counters_status(const CounterSet *cs, const ThreadCounters *tc, int i);

/* A multiplexed count extrapolated to the whole enabled time:
 * value * enabled / running, 0 when the event never ran (running == 0). */
double counters_scale(uint64_t value, uint64_t enabled, uint64_t running);

#endif
