/* summary_print.c - the summary's rows as the console table the bench prints at its end; see summary.h.
 *
 * An undefined figure (NaN) is "n/a", never "nan"; a ratio shows its 95%
 * interval in brackets, "[n/a]" without one. */
#include <math.h>

#include "noise.h"
#include "summary.h"

/* "1.234 [1.100, 1.300]", or the ratio and "[n/a]" without an interval, or "n/a". */
static const char *ratio_text(char *buf, size_t n, double ratio, const RatioCI *ci) {
    if (isnan(ratio))
        snprintf(buf, n, "n/a");
    else if (isnan(ci->lo) || isnan(ci->hi))
        snprintf(buf, n, "%.3f [n/a]", ratio);
    else
        snprintf(buf, n, "%.3f [%.3f,%.3f]", ratio, ci->lo, ci->hi);
    return buf;
}

/* v with fmt (one double conversion), or "n/a" where v is undefined (NaN):
 * serial's efficiency over itself, wrk:ctl without a control thread. */
static const char *num_text(char *buf, size_t n, const char *fmt, double v) {
    if (isnan(v))
        snprintf(buf, n, "n/a");
    else
        snprintf(buf, n, fmt, v);
    return buf;
}

void summary_print(FILE *f, const SummaryRow *rows, int n_rows, const MachineInfo *m) {
    fprintf(f, "\nsummary (%s, %d cores; medians over repetitions, [95%% interval]; spread = (max-min)/median)\n",
            m->cpu_model, m->cores);
    fprintf(f, "%-9s %-7s %-11s %7s %6s %4s %10s %7s %-21s %-21s %7s %6s %6s %9s %7s\n", "kind", "variant", "route",
            "threads", "tokens", "reps", "tokens/s", "spread", "vs flat", "vs serial", "effic.", "util", "imbal",
            "wrk:ctl", "loss");
    for (int i = 0; i < n_rows; i++) {
        const SummaryRow *s = &rows[i];
        char spread[16], vf[48], vs[48], tps[32], eff[16], util[16], imb[16], wc[16], loss[16];
        if (isnan(s->spread))
            snprintf(spread, sizeof spread, "n/a");
        else
            snprintf(spread, sizeof spread, "%.1f%%%s", 100.0 * s->spread, s->spread > NOISE_CONFIG_SPREAD ? "!" : "");
        fprintf(f, "%-9s %-7s %-11s %6d%s %6d %4d %10s %7s %-21s %-21s %7s %6s %6s %9s %7s\n", run_kind_name(s->kind),
                s->variant, s->route, s->threads, s->oversubscribed ? "*" : " ", s->batch_tokens, s->n,
                num_text(tps, sizeof tps, "%.0f", s->median_tps), spread,
                ratio_text(vf, sizeof vf, s->ratio_vs_flat, &s->flat_ci),
                ratio_text(vs, sizeof vs, s->speedup_vs_serial, &s->speedup_ci),
                num_text(eff, sizeof eff, "%.1f%%", 100.0 * s->efficiency),
                num_text(util, sizeof util, "%.1f%%", 100.0 * s->utilisation),
                num_text(imb, sizeof imb, "%.2f", s->imbalance), num_text(wc, sizeof wc, "%.1f", s->control_to_worker),
                num_text(loss, sizeof loss, "%.4f", s->loss));
    }
    fprintf(f, "* oversubscribed: more threads than the %d cores. vs flat: tokens/s over flat's at the same threads, "
               "same bench. wrk:ctl: mean worker CPU over the control's (thread 0). !: spread above %.0f%%. "
               "A ratio is faster or slower only where its interval excludes 1; one repetition has none. n/a: no "
               "such figure (an interval or spread of one repetition, a ratio without its baseline, serial's "
               "efficiency over itself, wrk:ctl without a control thread).\n",
            m->cores, 100.0 * NOISE_CONFIG_SPREAD);
}
