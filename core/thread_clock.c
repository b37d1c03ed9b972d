/* thread_clock.c - clock reads and phase bookkeeping; see thread_clock.h. */
#include "thread_clock.h"

#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *const phase_names[PHASE_COUNT] = {"compute", "reduce", "optimizer", "dispatch", "wait", "comm"};

const char *phase_name(Phase p) { return p >= 0 && p < PHASE_COUNT ? phase_names[p] : "none"; }

const char *role_name(ThreadRole r) { return r == ROLE_CONTROL ? "control" : "worker"; }

static double ts_seconds(struct timespec ts) { return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec; }

double clock_wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_seconds(ts);
}

double clock_thread_cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts_seconds(ts);
}

double clock_process_cpu_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

void thread_clock_start(ThreadClock *c, int id, ThreadRole role, int level, Phase first) {
    memset(c, 0, sizeof *c);
    c->id = id;
    c->role = role;
    c->level = level;
    c->phase = first;
    c->batch = -1;
    c->start_wall = c->mark_wall = clock_wall_now();
    c->start_cpu = c->mark_cpu = clock_thread_cpu_now();
}

void thread_clock_trace(ThreadClock *c, SpanBuffer *b) {
    c->spans = b;
    if (!b) return;
    span_buffer_reset(b);
    c->span_start = c->mark_wall;
    c->span_step = c->step;
    c->span_batch = c->batch;
}

/* At a boundary at time w into `next`: closes the open span into the buffer
 * unless next continues it, and opens the next one with the current tags. */
static void trace_boundary(ThreadClock *c, double w, Phase next) {
    if (next == c->phase && c->step == c->span_step && c->batch == c->span_batch) return;
    if (c->phase >= 0)
        span_buffer_push(c->spans, (PhaseSpan){.start = c->span_start,
                                               .end = w,
                                               .batch = c->span_batch,
                                               .step = c->span_step,
                                               .phase = c->phase});
    c->span_start = w;
    c->span_step = c->step;
    c->span_batch = c->batch;
}

void thread_clock_phase(ThreadClock *c, Phase next) {
    double w = clock_wall_now(), u = clock_thread_cpu_now();
    if (c->phase >= 0) {
        c->phase_wall[c->phase] += w - c->mark_wall;
        c->phase_cpu[c->phase] += u - c->mark_cpu;
    }
    if (c->spans) trace_boundary(c, w, next);
    c->mark_wall = w;
    c->mark_cpu = u;
    c->phase = next;
}

void thread_clock_stop(ThreadClock *c) {
    thread_clock_phase(c, PHASE_NONE);
    c->wall_s = c->mark_wall - c->start_wall;
    c->cpu_s = c->mark_cpu - c->start_cpu;
}
