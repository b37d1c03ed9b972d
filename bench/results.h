/* results.h - a bench run folder: the CSV and JSON that the report reads.
 *
 *   context.json  machine, build, model, dataset, counters and why not, options
 *   runs.csv      one row per run (configuration x repetition)
 *   threads.csv   one row per thread per run, with every counter and its status
 *   groups.csv    batches per level-1 sphere, per run (routing balance)
 *   loss.csv      loss per step, per run (convergence)
 *   summary.json  per configuration: median, mean, sd, cv, min, max and spread
 *                 of tokens/s; speedups, efficiency and ratios with their 95%
 *                 intervals and verdicts (stats.h); utilisation, imbalance,
 *                 control:worker CPU, time to the target loss
 * Every file carries the run's id (a last `run_id` column, a "run_id" key),
 * and context.json says whether the run is complete and which runs finished.
 * Every CSV has a header line; missing values are written as NaN, which
 * gnuplot skips, so the files plot without pre-processing. The JSON files go
 * through core/json_file.h: strict JSON, a missing value as null. */
#ifndef SB_RESULTS_H
#define SB_RESULTS_H

#include <stdio.h>

#include "../dataset/cache.h"
#include "harness.h"
#include "machine.h"
#include "peak.h"
#include "stats.h"

#define RESULTS_SCHEMA 1

typedef struct {
    RunKind kind;
    const char *variant, *route;
    int threads, batch_tokens, n;
    int B, T;                  /* batch shape (attention's cost depends on T, not only B x T) */
    double median_tps, min_tps, max_tps, spread;  /* spread: (max - min) / median; NaN for one repetition */
    double mean_tps, sd_tps, cv_tps; /* sd and cv: NaN for one repetition */
    double speedup_vs_serial;  /* NaN when no serial run of the same batch size */
    double efficiency;         /* speedup / min(threads, cores) */
    double ratio_vs_flat;      /* median tokens/s over flat's in the same bench; NaN for flat itself */
    double ratio_vs_symmetry;  /* route runs: over sphere's under the symmetry policy; NaN elsewhere */
    RatioCI speedup_ci, efficiency_ci, flat_ci, symmetry_ci; /* 95% intervals; NaN ends: none */
    double control_cpu_s, mean_worker_cpu_s, control_to_worker; /* medians; ratio mean worker / control */
    double imbalance, utilisation, loss, process_cpu_s;
    double time_to_target_s;   /* median over the repetitions that reached the target; NaN: none did, or no target */
    double gflops;             /* model FLOPs (core/model.h's count) per second at the median */
    double fraction_of_peak;   /* gflops over the FMA peak of min(threads, cores) cores; NaN without peak */
    int oversubscribed;
} SummaryRow;

typedef struct {
    const char *preset;
    int B, T, batches_per_step, reps, full_reps;
    int pin, quick;
    const char *events;
    WaitMode wait;
    /* the run as a whole: every file of the folder carries run_id, so the
     * report can refuse files of different runs mixed in one folder */
    const char *run_id;        /* NULL: "" */
    int runs_planned;          /* runs of the plan; the runs given to results_write are those that finished */
    int complete;              /* every planned run finished */
    const char *stopped_by;    /* why an incomplete folder stopped ("SIGINT", "a failed run"); NULL: running */
    const TrainSchedule *full_schedule; /* the full runs' schedule and target; NULL: constant rate */
    float full_lr;             /* the full runs' peak rate */
} BenchOptions;

/* Groups the runs by configuration. rows holds at least n entries; returns
 * the count. peak may be NULL (fractions of peak are then NaN). */
int summarize(SummaryRow *rows, const RunRecord *runs, int n, int cores, const ModelConfig *model,
              const PeakResult *peak);

/* Writes every file of the run folder dir from the n runs that finished
 * (a temporary renamed into place each, so each file is whole at any moment):
 * called after every run, so a bench that stops leaves a folder to report. */
sb_status results_write(const char *dir, const MachineInfo *m, const BenchOptions *o, const BenchSetup *b,
                        const DatasetInfo *d, const PeakResult *peak, const RunRecord *runs, int n,
                        const SummaryRow *rows, int n_rows, sb_error *err);

void summary_print(FILE *f, const SummaryRow *rows, int n_rows, const MachineInfo *m);

/* The median of v[0..n) (sorts v); NaN for n = 0. */
double results_median(double *v, int n);

#endif
