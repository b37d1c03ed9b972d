/* thread_clock.h - per-thread accounting that every trainer shares.
 *
 * Each training thread owns one ThreadClock, padded to its own cache lines
 * so that no two threads ever write the same line. The thread marks phase
 * boundaries with thread_clock_phase(): two clock reads (CLOCK_MONOTONIC for
 * wall time, CLOCK_THREAD_CPUTIME_ID for the thread's own CPU time) and a few
 * additions; no locks, no allocation, no I/O. Phases are what a training
 * thread can be doing: computing a batch, reducing gradients, stepping the
 * optimizer, loading and handing out batches, waiting, or (in the MPI
 * program, mpi/) inside an MPI call. Wall times of the
 * phases add up to the thread's wall time, CPU times to its CPU time; a
 * blocked thread accrues wall time in PHASE_WAIT but almost no CPU time, a
 * spinning one both.
 *
 * A clock may also keep the spans themselves (thread_clock_trace): at each
 * boundary the span just closed goes into the thread's own preallocated
 * SpanBuffer (span_buffer.h), tagged with the step and batch the trainer last
 * stored in `step` and `batch` (one plain store each, made whether or not the
 * clock traces). A boundary into the phase already running, on the same step
 * and batch, continues the open span (a control woken without work does not
 * split its wait), so spans never overlap and their durations per phase add
 * up to phase_wall. The phase list is open: a phase added to the enum (MPI's
 * communication) is counted, traced and written with no other change. */
#ifndef SB_THREAD_CLOCK_H
#define SB_THREAD_CLOCK_H

#include <stdint.h>

#include "span_buffer.h"

typedef enum { ROLE_CONTROL = 0, ROLE_WORKER = 1 } ThreadRole;

typedef enum {
    PHASE_COMPUTE = 0, /* forward and backward of a batch */
    PHASE_REDUCE,      /* summing gradients */
    PHASE_OPTIMIZER,   /* the AdamW update */
    PHASE_DISPATCH,    /* loading batches and handing them out */
    PHASE_WAIT,        /* blocked or spinning on another thread */
    PHASE_COMM,        /* inside a message-passing call (the MPI program; 0 elsewhere) */
    PHASE_COUNT,
    PHASE_NONE = -1
} Phase;

typedef struct {
    _Alignas(64) int id;
    int level;          /* depth in the trainer's thread tree; flat: control 0, workers 1 */
    ThreadRole role;
    Phase phase;        /* the phase now running */
    double mark_wall, mark_cpu;   /* clocks at the last boundary */
    double start_wall, start_cpu; /* clocks at thread_clock_start */
    double wall_s, cpu_s;         /* totals, set by thread_clock_stop */
    double phase_wall[PHASE_COUNT], phase_cpu[PHASE_COUNT];
    uint64_t batches;   /* batches this thread computed */
    /* the trainer's position, stored before the boundary that opens a span */
    int32_t step;       /* 1-based step; 0 before the first */
    int64_t batch;      /* batch index in the data; -1: none */
    /* tracing (thread_clock_trace); spans NULL: not traced */
    SpanBuffer *spans;
    double span_start;            /* the open span's start */
    int32_t span_step;
    int64_t span_batch;
    char pad[64];       /* keeps the next clock's hot fields off this one's last line */
} ThreadClock;

const char *phase_name(Phase p);
const char *role_name(ThreadRole r);

double clock_wall_now(void);
/* CPU time of the calling thread. */
double clock_thread_cpu_now(void);
/* CPU time of the whole process: all threads, live and finished (getrusage). */
double clock_process_cpu_now(void);

/* Starts the clock on the thread that owns it, in phase `first`. */
void thread_clock_start(ThreadClock *c, int id, ThreadRole role, int level, Phase first);
/* Records the clock's spans into b from now on (b reset); NULL: none. Call
 * after thread_clock_start, on the owning thread. */
void thread_clock_trace(ThreadClock *c, SpanBuffer *b);
/* Closes the running phase and opens `next`. */
void thread_clock_phase(ThreadClock *c, Phase next);
/* Closes the running phase and sets the totals. */
void thread_clock_stop(ThreadClock *c);

#endif
