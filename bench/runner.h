/* runner.h - running a bench's plan: warm-up, then every run in order, the folder rewritten after each.
 *
 * runner_run takes the runs of the plan one by one through the harness
 * (harness.h), shows run k of N and the bench's ETA (progress.h: on the
 * progress line, or one plain line per run in a log), and after each run
 * rewrites the run folder (run_folder.h) from the runs so far, so the folder
 * is whole and reportable after every run. A run and everything it writes
 * (its trace, the folder's files, checkpoints, samples) are one commit group
 * (safe_file.h): renamed into place together once all are written. It stops
 * at the first failure, of a run or of any of its writes (the folder then
 * holds the runs before it), or between runs when SIGINT or SIGTERM asked
 * (stop.h). */
#ifndef SB_RUNNER_H
#define SB_RUNNER_H

#include "plan.h"
#include "run_folder.h"

typedef struct {
    RunRecord *runs; /* the plan's n; runs[0 .. done) finished; owned */
    int done;
    int failed;      /* runs[done] failed */
    int stop_sig;    /* the signal that stopped the bench between runs; 0: none */
    double start_s;  /* clock_wall_now() when the first run began */
} BenchRuns;

/* One short unrecorded run per trainer (the plan's warm-up runs), silent. */
sb_status runner_warm_up(const Plan *plan, const BenchSetup *setup, sb_error *err) SB_MUST_CHECK;

/* Every run of the plan, as above. A failed run or a failed write returns
 * its error; a stop by signal returns SB_OK with out->stop_sig set. */
sb_status runner_run(BenchRuns *out, const Plan *plan, const BenchSetup *setup, const RunFolder *folder,
                     sb_error *err) SB_MUST_CHECK;

void bench_runs_free(BenchRuns *r);

#endif
