/* results.h - a bench run folder: the CSV and JSON files the report reads.
 *
 *   context.json  machine, build, model, dataset, counters and why not, options,
 *                 the trainers the plan runs (context_json.c)
 *   runs.csv      one row per run (configuration x repetition)   (run_csv.c)
 *   threads.csv   one row per thread per run, with every counter and its status
 *   groups.csv    batches per level-1 sphere, per run (routing balance)
 *   loss.csv      loss per step, per run (convergence)
 *   summary.json  per configuration: the summary's rows (summary.h), with
 *                 intervals and verdicts                         (summary_json.c)
 *   gbench.json   the runs in Google Benchmark's format          (gbench_json.c)
 * Every file carries the run's id (a last `run_id` column, a "run_id" key),
 * and context.json says whether the run is complete and which runs finished.
 * Every CSV has a header line and goes through bench/csv.h (a missing value
 * is NaN, which gnuplot skips, so the files plot without pre-processing);
 * the JSON files go through core/json_file.h (strict JSON, a missing value
 * as null). Each file is written whole through a temporary renamed into place. */
#ifndef SB_RESULTS_H
#define SB_RESULTS_H

#include "../core/json_file.h"
#include "../core/safe_file.h"
#include "../dataset/cache.h"
#include "csv.h"
#include "harness.h"
#include "machine.h"
#include "peak.h"
#include "summary.h"

#define RESULTS_SCHEMA 1

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
    const Variant *const *trainers; /* the trainers the plan runs, in registry order (Plan.trainers) */
    int n_trainers;
} BenchOptions;

/* Writes every file of the run folder dir from the n runs that finished,
 * context.json (what finished) last: called after every run, so a bench that
 * stops leaves a folder to report. */
sb_status results_write(const char *dir, const MachineInfo *m, const BenchOptions *o, const BenchSetup *b,
                        const DatasetInfo *d, const PeakResult *peak, const RunRecord *runs, int n,
                        const SummaryRow *rows, int n_rows, sb_error *err) SB_MUST_CHECK;

/* The writers results_write calls, one per file. */
sb_status runs_csv_write(const char *dir, const RunRecord *runs, int n, const BenchOptions *o, int cores,
                         sb_error *err) SB_MUST_CHECK;
sb_status threads_csv_write(const char *dir, const RunRecord *runs, int n, const CounterSet *cs, const char *id,
                            sb_error *err) SB_MUST_CHECK;
sb_status groups_csv_write(const char *dir, const RunRecord *runs, int n, const char *id, sb_error *err) SB_MUST_CHECK;
sb_status loss_csv_write(const char *dir, const RunRecord *runs, int n, const char *id, sb_error *err) SB_MUST_CHECK;
sb_status summary_json_write(const char *dir, const SummaryRow *rows, int n, const MachineInfo *m, const char *id,
                             sb_error *err) SB_MUST_CHECK;
sb_status context_json_write(const char *dir, const MachineInfo *m, const BenchOptions *o, const BenchSetup *b,
                             const DatasetInfo *d, const PeakResult *peak, const RunRecord *runs, int n,
                             sb_error *err) SB_MUST_CHECK;

/* A CSV file of the folder being written: a temporary, its writer, and its
 * path (which sf names while the file is open, so the struct stays put). */
typedef struct {
    SafeFile sf;
    CsvWriter w;
    char path[SB_PATH_MAX];
} CsvFile;

/* dir/name opened through a temporary, its writer on it; commit with safe_file_commit(&cf->sf, ...). */
sb_status results_open_csv(CsvFile *cf, const char *dir, const char *name, const char *what, sb_error *err) SB_MUST_CHECK;
sb_status results_open_json(JsonFile *jf, char *path, const char *dir, const char *name, const char *what,
                            sb_error *err) SB_MUST_CHECK;

/* The run id every file carries: "" when o has none. */
const char *results_run_id(const BenchOptions *o);

/* The median of v[0..n) (sorts v); NaN for n = 0. stats_median under the
 * name bench/core_bench.c calls. */
double results_median(double *v, int n);

#endif
