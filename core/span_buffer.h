/* span_buffer.h - one thread's timeline: a preallocated array of phase spans.
 *
 * A ThreadClock (thread_clock.h) given a SpanBuffer appends one span at every
 * phase boundary: when the phase began and ended (CLOCK_MONOTONIC seconds),
 * which phase, and the step and batch the trainer said it was on. The buffer
 * is allocated before the run and written only by its own thread, so
 * recording takes no lock, no allocation and no I/O. When it is full, later
 * spans are counted in `dropped` and not written: nothing is written out of
 * bounds, and whoever reads the spans can say how many are missing.
 * Phases are thread_clock.h's enum, so a phase added there (an MPI rank's
 * communication) is recorded with no change here. */
#ifndef SB_SPAN_BUFFER_H
#define SB_SPAN_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct {
    double start, end;  /* CLOCK_MONOTONIC seconds; end >= start */
    int64_t batch;      /* the batch this span works on; -1: none (a control's reduce, a barrier) */
    int32_t step;       /* 1-based step of the run; 0: before the first */
    int32_t phase;      /* a Phase (thread_clock.h) */
} PhaseSpan;

typedef struct {
    PhaseSpan *spans;   /* [cap] */
    size_t cap, n;      /* capacity; spans written */
    uint64_t dropped;   /* spans that found the buffer full */
} SpanBuffer;

/* Allocates and touches cap spans, so that no page is first faulted in while
 * training. cap 0 gives an empty buffer that drops everything. */
sb_status span_buffer_init(SpanBuffer *b, size_t cap, sb_error *err) SB_MUST_CHECK;
void span_buffer_free(SpanBuffer *b);
/* Forgets the spans of a previous run; the memory stays. */
void span_buffer_reset(SpanBuffer *b);

/* Appends s, or counts it as dropped when the buffer is full. */
static inline void span_buffer_push(SpanBuffer *b, PhaseSpan s) {
    if (b->n < b->cap)
        b->spans[b->n++] = s;
    else
        b->dropped++;
}

#endif
