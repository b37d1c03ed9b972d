/* run_folder.h - a bench's run folder as a whole: what it is written from, and its writes.
 *
 * After every run the runner (runner.h) rewrites the folder's files from the
 * runs so far (results.h's files and warnings.json, each whole through a
 * temporary, context.json last; the caller commits them together), and after a run that
 * kept its trained parameters, samples.txt and model-TRAINER.ckpt; once the
 * core's kernels are timed, core.json. At the end the summary and the noise
 * warnings go to the console and the folder's name into results/LATEST, which
 * `make bench` reports. */
#ifndef SB_RUN_FOLDER_H
#define SB_RUN_FOLDER_H

#include <stdio.h>

#include "core_bench.h"
#include "results.h"

/* Everything a run folder is written from but its runs. */
typedef struct {
    const char *dir;
    BenchOptions options;       /* complete and stopped_by are set by each write */
    const MachineInfo *m;
    const BenchSetup *setup;    /* the model, the data, the counters, the full runs' schedule */
    const DatasetInfo *dataset;
    const PeakResult *peak;
    const CoreBench *core;      /* NULL: the kernels were not timed */
} RunFolder;

/* Every file from the n runs that finished; stopped_by: why an incomplete
 * folder stopped, NULL while the bench runs or when it finished. */
sb_status run_folder_write(const RunFolder *f, const RunRecord *runs, int n, const char *stopped_by, sb_error *err) SB_MUST_CHECK;

/* model-TRAINER.ckpt and samples.txt (a few lines sampled from each) for
 * every run of the n that kept its trained parameters. */
sb_status run_folder_samples(const RunFolder *f, const RunRecord *runs, int n, sb_error *err) SB_MUST_CHECK;

/* core.json, when f->core is set. */
sb_status run_folder_core(const RunFolder *f, sb_error *err) SB_MUST_CHECK;

/* The summary table and the noise warnings of the n runs, on out. */
void run_folder_print_summary(FILE *out, const RunFolder *f, const RunRecord *runs, int n);

/* results/LATEST <- the folder's name. */
sb_status run_folder_mark_latest(const RunFolder *f, sb_error *err) SB_MUST_CHECK;

#endif
