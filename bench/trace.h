/* trace.h - a run's timeline as a Chrome Trace Event Format file.
 *
 * What `train --trace FILE` and the bench's traced runs write, for Perfetto
 * (ui.perfetto.dev) and chrome://tracing to open:
 *   {"displayTimeUnit": "ms",
 *    "otherData": {"schema", "title", "variant", "threads", "steps", "batches",
 *                  "spans", "dropped_spans", "dropped_by_thread": [...]},
 *    "traceEvents": [one event per line]}
 * Events, every one with ph, ts, pid and tid (ts and dur in microseconds
 * since the run's first thread began, to the nanosecond):
 *   M  process_name (the title), and per thread thread_name ("control 0,
 *      level 0", "worker 13, level 2") and thread_sort_index (its id: the
 *      trainers number threads in tree order, breadth first), so each thread
 *      is one track, in tree order;
 *   X  one complete event per phase span, named by the phase
 *      (core/thread_clock.h's names, whatever phases it has), category
 *      "phase", args {"step", "batch"} (batch left out where the span works
 *      on none);
 *   C  the counter track "loss": each step's mean loss at the end of thread
 *      0's last span of that step (thread 0 ends every step);
 *   i  on a thread whose buffer filled: "spans dropped" with the count, at
 *      its last recorded span's end.
 * One process (pid 1) per run; an MPI run would give one per rank. */
#ifndef SB_TRACE_H
#define SB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../variants/variant.h"

#define TRACE_SCHEMA 1

/* Spans per thread enough for any trainer's busiest thread over a run of
 * `batches` in `steps` steps (a control sees every batch: a few spans each,
 * and a few per step). */
size_t trace_capacity(uint64_t batches, long steps);

/* Writes r's timeline (r->spans must be set) to path through a temporary
 * renamed into place; title names the process ("train: sphere, 64 threads"). */
sb_status trace_write(const char *path, const char *title, const char *variant, const char *run_id, const RunResult *r,
                      sb_error *err) SB_MUST_CHECK;

#endif
