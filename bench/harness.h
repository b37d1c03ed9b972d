/* harness.h - running one trainer configuration and keeping everything it measured.
 *
 * The harness knows trainers only through variants/variant.h. For each run
 * it creates the trainer (not timed: allocating workspaces is set-up), fills
 * the thread hooks with counter reads (and CPU pinning when asked), trains
 * fresh parameters over the run's batches, and copies out the trainer's
 * per-thread statistics, loss curve and routing counts together with the
 * figures derived from them. A full run trains with the setup's schedule
 * until its loss reaches the target or its batches run out (the epoch cap);
 * the other runs keep a constant rate over a fixed number of batches, so
 * their work, and so their tokens/s, is the same in every trainer. A traced
 * run (RunSpec.trace) keeps every thread's spans and, for TRACE_WRITE,
 * writes them into BenchSetup.trace_dir before the trainer is destroyed
 * (bench/trace.h). */
#ifndef SB_HARNESS_H
#define SB_HARNESS_H

#include <stdio.h>

#include "../variants/variant.h"
#include "counters.h"
#include "progress.h"

/* trace-off and trace-on: the same configuration without and with tracing,
 * alternated, so the bench measures what recording the timeline costs. */
typedef enum { RUN_FULL = 0, RUN_SWEEP, RUN_ROUTE, RUN_BATCH, RUN_TRACE_OFF, RUN_TRACE_ON, RUN_KIND_COUNT } RunKind;

/* What a run does with its timeline (bench/trace.h). */
typedef enum {
    TRACE_NONE = 0, /* nothing kept */
    TRACE_KEEP,     /* every thread's spans recorded, then discarded (the overhead runs) */
    TRACE_WRITE     /* recorded and written into the run folder as trace-KIND-TRAINER-THREADS.json */
} TraceMode;

const char *run_kind_name(RunKind k);

typedef struct {
    RunKind kind;
    const Variant *variant;
    const char *route;       /* a routing policy of the trainer's (Variant.routes); NULL: its default, or none */
    int threads;
    int rep;                 /* 1-based */
    int B, T;                /* batch shape of this run */
    uint64_t first_batch, batches;
    int keep_params;         /* hand the trained parameters back in RunRecord.params */
    TraceMode trace;
} RunSpec;

typedef struct {
    const TokenFile *data;
    ModelConfig model;
    int batches_per_step;
    AdamWConfig adamw;
    unsigned long long init_seed;
    WaitMode wait;
    const CounterSet *counters; /* may be NULL: no counters */
    int pin;                    /* pin thread i to cpu_ids[i % cores] */
    int cores;
    const int *cpu_ids;         /* the usable CPUs (machine.h), for --pin */
    int progress;               /* 0: silent; 1: a live line on a terminal; 2: a line every 30 s (logs) */
    const BenchPosition *position; /* run k of N and the bench's ETA on the progress line; may be NULL */
    const char *trace_dir;      /* where TRACE_WRITE runs write their timeline; NULL: nowhere */
    const char *run_id;         /* the run folder's id, in every trace; NULL: none */
    TrainSchedule full_schedule;   /* the full runs' schedule and target loss (zero: a constant rate, every batch) */
    float full_lr;                 /* the full runs' peak rate (0: adamw.lr) */
    int full_batches_per_step;     /* the full runs' batches per step (0: batches_per_step) */
} BenchSetup;

typedef struct {
    RunSpec spec;
    RunResult res;              /* scalars; the pointers below replace its arrays */
    int pin_failures;           /* threads --pin could not pin (the run is then not pinned as asked) */
    ThreadStats *threads;       /* res.n_threads, owned */
    ThreadCounters *counters;   /* res.n_threads, owned; NULL without counters */
    float *step_loss;           /* res.steps, owned */
    uint64_t *group_batches;    /* res.n_groups, owned */
    float *params;              /* trained parameters when spec.keep_params, owned */
    uint64_t trace_spans, trace_dropped; /* spans a traced run recorded, and dropped (its buffers full) */
    /* derived */
    double tokens_per_s;
    double control_cpu_s;       /* thread 0: the flat control or the sphere root; serial: its one thread */
    double controls_cpu_s;      /* every control thread together */
    double mean_worker_cpu_s, max_worker_cpu_s;
    double imbalance;           /* max / mean worker CPU */
    double utilisation;         /* workers' CPU / (wall x min(workers, cores)) */
    int n_workers;
    float target_loss;          /* the run's target (full runs); 0: none */
    double time_to_target_s;    /* wall time of a run that stopped at its target; NaN: no target, or not reached */
} RunRecord;

/* The run's routing policy as the run folder's files name it: "none" without one. */
const char *run_route_name(const RunSpec *s);

/* Runs spec; on success *rec owns its arrays (free with run_record_free). */
sb_status harness_run(RunRecord *rec, const BenchSetup *b, const RunSpec *spec, sb_error *err) SB_MUST_CHECK;
void run_record_free(RunRecord *rec);

#endif
