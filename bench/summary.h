/* summary.h - the statistics over a bench's runs: one row per configuration.
 *
 * A configuration is a kind, a trainer, a routing policy, a thread count and
 * a batch size; its row holds the repetitions' tokens/s described (median,
 * mean, sd, cv, min, max, spread: stats.h), the medians of the per-run
 * figures (control and worker CPU, imbalance, utilisation, loss, process CPU,
 * time to target), FLOP rates, and the ratios of medians with their 95%
 * bootstrap intervals: over serial at the same batch size (speedup,
 * efficiency), over flat at the same threads and batch size, and a route
 * run's over its trainer's default policy (Variant.routes[0]). A figure that
 * cannot be computed (no baseline, one repetition, scratch memory that could
 * not be had) is NaN, which every writer prints as a missing value (null,
 * NaN, "n/a"), never 0. summary_json.c and summary_print.c write the rows. */
#ifndef SB_SUMMARY_H
#define SB_SUMMARY_H

#include <stdio.h>

#include "harness.h"
#include "machine.h"
#include "peak.h"
#include "stats.h"

typedef struct {
    RunKind kind;
    const char *variant, *route;
    const char *default_route; /* the trainer's default routing policy (Variant.routes[0]); NULL: none */
    int threads, batch_tokens, n;
    int B, T;                  /* batch shape (attention's cost depends on T, not only B x T) */
    double median_tps, min_tps, max_tps, spread;  /* spread: (max - min) / median; NaN for one repetition */
    double mean_tps, sd_tps, cv_tps; /* sd and cv: NaN for one repetition */
    double speedup_vs_serial;  /* NaN when no serial run of the same batch size */
    double efficiency;         /* speedup / min(threads, cores) */
    double ratio_vs_flat;      /* median tokens/s over flat's in the same bench; NaN for flat itself */
    double ratio_vs_symmetry;  /* route runs: over the trainer's under its default policy; NaN elsewhere */
    RatioCI speedup_ci, efficiency_ci, flat_ci, symmetry_ci; /* 95% intervals; NaN ends: none */
    double control_cpu_s, mean_worker_cpu_s, control_to_worker; /* medians; ratio mean worker / control */
    double imbalance, utilisation, loss, process_cpu_s;
    double time_to_target_s;   /* median over the repetitions that reached the target; NaN: none did, or no target */
    double gflops;             /* model FLOPs (core/model.h's count) per second at the median */
    double fraction_of_peak;   /* gflops over the FMA peak of min(threads, cores) cores; NaN without peak */
    int oversubscribed;
} SummaryRow;

/* Doubles of scratch summary_build reads and writes for n runs. */
#define SUMMARY_SCRATCH(n) (2 * (size_t)(n))

/* Groups the n runs by configuration into rows (room for n); returns the
 * count. scratch holds SUMMARY_SCRATCH(n) doubles, or is NULL where none
 * could be had: every row then has its configuration and repetition count
 * and NaN for every figure. peak may be NULL (fractions of peak are NaN). */
int summary_build(SummaryRow *rows, double *scratch, const RunRecord *runs, int n, int cores,
                  const ModelConfig *model, const PeakResult *peak);

/* summary_build with scratch of its own (NULL when the allocation fails). */
int summarize(SummaryRow *rows, const RunRecord *runs, int n, int cores, const ModelConfig *model,
              const PeakResult *peak);

/* Whether run r is one of row s's repetitions. */
int summary_row_holds(const SummaryRow *s, const RunRecord *r);

/* The rows as the console table the bench prints at its end (summary_print.c). */
void summary_print(FILE *f, const SummaryRow *rows, int n_rows, const MachineInfo *m);

#endif
