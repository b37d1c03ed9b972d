/* noise.h - the guards that say when a figure may not mean what it says.
 *
 * A figure measured on a busy or throttled machine is still reported, but
 * marked: noise_check lists a warning, naming the figure, for each of
 *   - the load average before the run above half the cores;
 *   - a peak figure whose spread over its repetitions exceeds 10 %;
 *   - the all-core FMA figure below 1.5x the single-core one on a machine
 *     with more than one core (the cores were not all free, or are SMT twins);
 *   - a compute-bound kernel above 100 % of the FMA peak (the peak was
 *     measured low);
 *   - a configuration whose spread of tokens/s exceeds 5 %;
 *   - a run where a counter the machine counts was counted on only k of its
 *     n threads (the others' open failed, e.g. EMFILE): one warning per run,
 *     naming each such counter with its k of n; no per-thread figure of it
 *     is then meaningful.
 * The bench prints them after its summary and writes them into the run
 * folder's warnings.json, which the report reads. A pure function of its
 * inputs, so every rule is tested on a synthetic context. */
#ifndef SB_NOISE_H
#define SB_NOISE_H

#include <stdio.h>

#include "core_bench.h"
#include "peak.h"
#include "summary.h"

#define NOISE_LOAD_PER_CORE 0.5   /* load average before the run, per core */
#define NOISE_PEAK_SPREAD 0.10    /* a peak figure's spread */
#define NOISE_ALL_CORE_GAIN 1.5   /* all-core FMA over single-core, at least */
#define NOISE_KERNEL_PEAK 1.0     /* a compute-bound kernel's fraction of the FMA peak, at most */
#define NOISE_CONFIG_SPREAD 0.05  /* a configuration's spread of tokens/s */
#define NOISE_MAX_WARNINGS 256

typedef struct {
    char figure[96];  /* what is warned of, e.g. "peak fma_gflops_1t" or "sweep flat 64 threads" */
    double value, limit;
    char text[256];   /* one sentence for the console and the report */
} NoiseWarning;

typedef struct {
    double load_before; /* 1-minute load average before the run; NaN: not known */
    int cores;
    const PeakResult *peak; /* may be NULL */
    const CoreBench *core;  /* may be NULL */
    const SummaryRow *rows;
    int n_rows;
    const RunRecord *runs;     /* may be NULL: no counter coverage checked */
    int n_runs;
    const CounterSet *counters; /* may be NULL: no counters */
} NoiseInputs;

/* Fills w (at most max) with every warning in; returns how many. */
int noise_check(NoiseWarning *w, int max, const NoiseInputs *in);

void noise_print(FILE *f, const NoiseWarning *w, int n);

/* dir/warnings.json: {"schema": 1, "warnings": [{"figure", "value", "limit", "text"}]}. */
sb_status noise_write(const char *dir, const NoiseWarning *w, int n, const char *run_id, sb_error *err) SB_MUST_CHECK;

#endif
