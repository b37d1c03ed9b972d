/* stats.h - what repetitions of one measurement can say, and no more.
 *
 * A configuration's repetitions are summarised by their median, mean,
 * standard deviation (n - 1), coefficient of variation, min and max; spread
 * is (max - min) / median. A ratio of two configurations' medians (A over B,
 * e.g. sphere's tokens/s over flat's) gets a 95% confidence interval by a
 * percentile bootstrap: each side's repetitions are resampled with
 * replacement, independently, STATS_BOOT_RESAMPLES times, from a fixed seed,
 * so the same samples always give the same interval. A verdict is read from
 * the interval only: "faster" when it lies wholly above 1, "slower" when
 * wholly below, otherwise no difference resolved. One repetition on either
 * side gives no spread, no interval (NaN; null in JSON, "n/a" in text) and
 * no verdict. docs/DESIGN.md, "Statistics", says why this method. */
#ifndef SB_STATS_H
#define SB_STATS_H

#include <stdint.h>

#define STATS_BOOT_RESAMPLES 2000
#define STATS_BOOT_SEED 0x5eedb007ull
#define STATS_MAX_SAMPLES 1024 /* repetitions of one configuration that stats_ratio_ci reads */

typedef struct {
    int n;
    double median, mean, sd, cv; /* sd and cv: NaN below 2 samples */
    double min, max, spread;     /* spread: (max - min) / median; NaN below 2 samples */
} SampleStats;

typedef struct {
    double ratio;  /* median(a) / median(b); NaN when either is empty or b's median is 0 */
    double lo, hi; /* the 95% interval; NaN below 2 samples on either side */
} RatioCI;

typedef enum { VERDICT_NONE = 0, VERDICT_FASTER, VERDICT_SLOWER, VERDICT_UNRESOLVED } Verdict;

#define STATS_UNRESOLVED_TEXT "no difference resolved at this number of repetitions"

/* Summarises v[0..n) (v is not changed; NaNs are skipped). */
void stats_describe(SampleStats *s, const double *v, int n);

/* The median of v[0..n) (sorts v); NaN for n = 0. */
double stats_median(double *v, int n);

/* median(a) / median(b) with its 95% bootstrap interval, from seed. At most
 * STATS_MAX_SAMPLES of each side are read. */
void stats_ratio_ci(RatioCI *ci, const double *a, int na, const double *b, int nb, uint64_t seed);

/* The interval scaled by k (an efficiency is a speedup over a core count). */
RatioCI stats_ci_scale(RatioCI ci, double k);

Verdict stats_verdict(const RatioCI *ci);
/* "faster", "slower", STATS_UNRESOLVED_TEXT; NULL for VERDICT_NONE. */
const char *stats_verdict_text(Verdict v);

#endif
