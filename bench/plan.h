/* plan.h - the bench's plan: its options in, the list of runs out.
 *
 * A pure function (no I/O, no globals, nothing measured): the same options
 * give the same runs in the same order, so the plan is tested on its own
 * (tests/test_plan.c) and `bench --list` prints it without running anything.
 *
 * The runs, in order:
 *   full   every trainer at --full-threads over the full-epoch batches,
 *          --full-reps times (rep 1 keeps its trained model);
 *   sweep  for each repetition, for each thread count: serial at 1 thread
 *          (the baseline), then every trainer that runs at that count;
 *   route  for each sweep repetition, every compared trainer that routes
 *          (Variant.routes) under each of its routing policies;
 *   batch  the tokens-per-batch sweep at --full-threads, each tokens-per-batch
 *          value over the same tokens as one sweep run (serial at 1 thread
 *          in every repetition, the baseline of its speedups);
 *   trace-off, trace-on
 *          what tracing costs: one trainer (the first compared one that
 *          routes, else the first) at the traced sweep count over a sweep run's batches,
 *          PLAN_TRACE_PAIRS pairs without and with tracing, alternated
 *          off on, on off, off on (the order flips each pair, so steady
 *          drift cancels).
 * The defaults repeat every compared configuration 9 times (Google
 * Benchmark's guidance for its U test) so each ratio gets an interval
 * (stats.h); the full runs, two minutes each, run once: they are the
 * convergence and per-thread record, not a comparison.
 * Within a repetition the trainers run one after another at the same
 * configuration (A B A B ...), so slow drift of the machine hits all alike.
 * The trainers are the registry's (variants/variant.h): every registered
 * trainer but serial unless --variants names some.
 *
 * Traced runs (RunSpec.trace, bench/trace.h): the first repetition of every
 * full run, and of one sweep configuration per trainer (serial's 1 thread;
 * the others at plan->trace_threads, the largest sweep count up to
 * PLAN_TRACE_THREADS at which every compared trainer runs, so their
 * timelines compare at the same count) write their timeline into the run
 * folder. */
#ifndef SB_PLAN_H
#define SB_PLAN_H

#include <stdint.h>

#include "../core/error.h"
#include "harness.h"

#define PLAN_MAX_RUNS 4096   /* runs one bench holds; a longer plan is refused, never cut short */
#define PLAN_MAX_LIST 32     /* entries of --variants, --threads, --batch-tokens */
#define PLAN_WARMUP_BATCHES 2
#define PLAN_TRACE_THREADS 8 /* the traced sweep count is at most this: a timeline of a few rows */
#define PLAN_TRACE_PAIRS 3   /* trace-off / trace-on pairs measuring tracing's cost */

typedef struct {
    /* lists as the user gave them; NULL: the default */
    const char *variants;      /* "flat,sphere": trainers compared; default every registered one but serial */
    const char *threads;       /* "1,2,64": the sweep's thread counts */
    const char *batch_tokens;  /* "4096,64": tokens per batch (B x T) of the batch sweep; "0": none */
    /* numbers (plan_defaults fills them; plan_build checks them) */
    long long full_threads;    /* threads of the full and route runs and the batch sweep */
    long long full_batches;    /* batches of a full run; 0: --quick's 2 steps, else all the dataset holds */
    long long sweep_batches;   /* batches of a sweep or route run */
    long long reps, full_reps, batch_reps; /* repetitions of the sweep, the full runs, the batch sweep */
    long long batches_per_step;
    int quick;                 /* everything small: a check that the bench works */
    /* the machine and the data */
    int cores;                 /* CPUs this process may use: the default sweep includes it */
    int preset_B, preset_T;    /* the model preset's batch shape */
    uint64_t data_batches;     /* batches of plan B x T the dataset holds; 0: not known yet (nothing is
                                  checked against the data; full runs without --batches show 0 = all) */
} PlanOptions;

typedef struct {
    RunSpec *runs;             /* n, in the order they run; owned */
    int n;
    RunSpec warmup[PLAN_MAX_LIST + 1]; /* one short unrecorded run per trainer, serial first */
    int n_warmup;
    const Variant *variants[PLAN_MAX_LIST]; /* the trainers compared */
    int n_variants;
    int B, T;                  /* batch shape of the full, sweep and route runs */
    uint64_t full_batches;     /* resolved */
    uint64_t tokens;           /* every run's tokens together (the whole bench's work, for its ETA) */
    int trace_threads;         /* the traced sweep configuration's threads; 0: no sweep count fits */
    const Variant *overhead;   /* the trainer of the trace-off/trace-on runs; NULL when none */
    const Variant *trainers[PLAN_MAX_LIST + 1]; /* every trainer some run uses, serial included, in registry order */
    int n_trainers;
} Plan;

/* The defaults, with or without --quick. */
void plan_defaults(PlanOptions *o, int quick, int cores, int preset_B, int preset_T);

/* Builds the plan, or refuses options it cannot honour with a message naming
 * the option (then *p owns nothing). */
sb_status plan_build(Plan *p, const PlanOptions *o, sb_error *err) SB_MUST_CHECK;
void plan_free(Plan *p);

/* Tokens a run trains on. */
uint64_t run_spec_tokens(const RunSpec *s);

/* Fewest threads the plan runs a parallel trainer with: 2 (one thread is the
 * serial baseline's point), or the trainer's own min_threads if more; a
 * configuration below it is skipped. */
int plan_min_threads(const Variant *v);

#endif
