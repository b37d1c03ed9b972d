/* stats.c - repetitions summarised, ratios with bootstrap intervals; see stats.h. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double stats_median(double *v, int n) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Copies the non-NaN values of v[0..n) into out (at most max); returns how many. */
static int finite_copy(double *out, const double *v, int n, int max) {
    int k = 0;
    for (int i = 0; i < n && k < max; i++)
        if (!isnan(v[i])) out[k++] = v[i];
    return k;
}

void stats_describe(SampleStats *s, const double *v, int n) {
    *s = (SampleStats){.n = 0, .median = NAN, .mean = NAN, .sd = NAN, .cv = NAN, .min = NAN, .max = NAN,
                       .spread = NAN};
    double *w = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!w) return;
    int k = finite_copy(w, v, n, n);
    s->n = k;
    if (k > 0) {
        double sum = 0.0;
        for (int i = 0; i < k; i++) sum += w[i];
        s->mean = sum / k;
        s->median = stats_median(w, k); /* sorts: min and max are the ends */
        s->min = w[0];
        s->max = w[k - 1];
    }
    if (k > 1) {
        double ss = 0.0;
        for (int i = 0; i < k; i++) ss += (w[i] - s->mean) * (w[i] - s->mean);
        s->sd = sqrt(ss / (k - 1));
        s->cv = s->mean != 0.0 ? s->sd / s->mean : NAN;
        s->spread = s->median != 0.0 ? (s->max - s->min) / s->median : NAN;
    }
    free(w);
}

/* The median of n values drawn with replacement from v[0..n); tmp holds n. */
static double resampled_median(Rng *r, const double *v, int n, double *tmp) {
    for (int i = 0; i < n; i++) tmp[i] = v[rng_next(r) % (uint64_t)n];
    return stats_median(tmp, n);
}

/* The p-quantile of sorted x[0..n), interpolated between order statistics. */
static double quantile(const double *x, int n, double p) {
    double h = p * (n - 1);
    int i = (int)floor(h);
    if (i >= n - 1) return x[n - 1];
    return x[i] + (h - i) * (x[i + 1] - x[i]);
}

void stats_ratio_ci(RatioCI *ci, const double *a, int na, const double *b, int nb, uint64_t seed) {
    *ci = (RatioCI){.ratio = NAN, .lo = NAN, .hi = NAN};
    double *buf = malloc(sizeof(double) * (4 * STATS_MAX_SAMPLES + STATS_BOOT_RESAMPLES));
    if (!buf) return;
    double *xa = buf, *xb = xa + STATS_MAX_SAMPLES, *tmp = xb + STATS_MAX_SAMPLES, *tmp2 = tmp + STATS_MAX_SAMPLES,
           *boot = tmp2 + STATS_MAX_SAMPLES;
    int ka = finite_copy(xa, a, na, STATS_MAX_SAMPLES), kb = finite_copy(xb, b, nb, STATS_MAX_SAMPLES);
    memcpy(tmp, xa, sizeof(double) * (size_t)ka);
    memcpy(tmp2, xb, sizeof(double) * (size_t)kb);
    double ma = stats_median(tmp, ka), mb = stats_median(tmp2, kb);
    if (ka > 0 && kb > 0 && mb != 0.0) ci->ratio = ma / mb;
    if (ka >= 2 && kb >= 2 && !isnan(ci->ratio)) {
        Rng r;
        rng_seed(&r, seed);
        int m = 0;
        for (int i = 0; i < STATS_BOOT_RESAMPLES; i++) {
            double da = resampled_median(&r, xa, ka, tmp), db = resampled_median(&r, xb, kb, tmp2);
            if (db != 0.0) boot[m++] = da / db;
        }
        if (m > 0) {
            qsort(boot, (size_t)m, sizeof *boot, cmp_double);
            ci->lo = quantile(boot, m, 0.025);
            ci->hi = quantile(boot, m, 0.975);
        }
    }
    free(buf);
}

RatioCI stats_ci_scale(RatioCI ci, double k) { return (RatioCI){.ratio = ci.ratio * k, .lo = ci.lo * k, .hi = ci.hi * k}; }

Verdict stats_verdict(const RatioCI *ci) {
    if (isnan(ci->lo) || isnan(ci->hi)) return VERDICT_NONE;
    if (ci->lo > 1.0) return VERDICT_FASTER;
    if (ci->hi < 1.0) return VERDICT_SLOWER;
    return VERDICT_UNRESOLVED;
}

const char *stats_verdict_text(Verdict v) {
    switch (v) {
    case VERDICT_FASTER: return "faster";
    case VERDICT_SLOWER: return "slower";
    case VERDICT_UNRESOLVED: return STATS_UNRESOLVED_TEXT;
    case VERDICT_NONE: break;
    }
    return NULL;
}
