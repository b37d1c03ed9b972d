/* summary.c - the statistics over a bench's runs; see summary.h.
 *
 * Three passes over the rows: the configurations found in run order, each
 * row's own figures (its repetitions' tokens/s and medians of the per-run
 * figures), then the ratios between rows, which need every row's median.
 * Every figure starts as NaN, so one that is not computed stays missing. */
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"

int summary_row_holds(const SummaryRow *s, const RunRecord *r) {
    return r->spec.kind == s->kind && strcmp(r->spec.variant->name, s->variant) == 0 &&
           strcmp(run_route_name(&r->spec), s->route) == 0 && r->spec.threads == s->threads &&
           r->spec.B * r->spec.T == s->batch_tokens;
}

/* r's configuration, every figure NaN. */
static SummaryRow row_of(const RunRecord *r) {
    const RatioCI none = {.ratio = NAN, .lo = NAN, .hi = NAN};
    const RunSpec *sp = &r->spec;
    return (SummaryRow){
        .kind = sp->kind, .variant = sp->variant->name, .route = run_route_name(sp),
        .default_route = sp->variant->routes ? sp->variant->routes[0] : NULL,
        .threads = sp->threads, .batch_tokens = sp->B * sp->T, .B = sp->B, .T = sp->T,
        .median_tps = NAN, .min_tps = NAN, .max_tps = NAN, .spread = NAN, .mean_tps = NAN, .sd_tps = NAN,
        .cv_tps = NAN, .speedup_vs_serial = NAN, .efficiency = NAN, .ratio_vs_flat = NAN,
        .ratio_vs_symmetry = NAN, .speedup_ci = none, .efficiency_ci = none, .flat_ci = none, .symmetry_ci = none,
        .control_cpu_s = NAN, .mean_worker_cpu_s = NAN, .control_to_worker = NAN, .imbalance = NAN,
        .utilisation = NAN, .loss = NAN, .process_cpu_s = NAN, .time_to_target_s = NAN, .gflops = NAN,
        .fraction_of_peak = NAN,
    };
}

/* The configurations in the order their first runs ran, with their repetition counts. */
static int find_rows(SummaryRow *rows, const RunRecord *runs, int n) {
    int nr = 0;
    for (int i = 0; i < n; i++) {
        int j = 0;
        while (j < nr && !summary_row_holds(&rows[j], &runs[i])) j++;
        if (j == nr) rows[nr++] = row_of(&runs[i]);
        rows[j].n++;
    }
    return nr;
}

/* One per-run figure, NaN where it is undefined (a serial run has no control thread). */
typedef double (*field_fn)(const RunRecord *r);
static double f_tps(const RunRecord *r) { return r->tokens_per_s; }
static double f_ctl(const RunRecord *r) { return r->control_cpu_s; }
static double f_wrk(const RunRecord *r) { return r->mean_worker_cpu_s; }
static double f_imb(const RunRecord *r) { return r->imbalance; }
static double f_util(const RunRecord *r) { return r->utilisation; }
static double f_loss(const RunRecord *r) { return r->res.last_loss; }
static double f_pcpu(const RunRecord *r) { return r->res.process_cpu_s; }
static double f_ttt(const RunRecord *r) { return r->time_to_target_s; }

/* The figure f of every repetition of s into v (room for n); returns how many. */
static int samples(double *v, const RunRecord *runs, int n, const SummaryRow *s, field_fn f) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (summary_row_holds(s, &runs[i])) v[k++] = f(&runs[i]);
    return k;
}

/* The median of f over s's repetitions where it is defined. */
static double median_of(double *v, const RunRecord *runs, int n, const SummaryRow *s, field_fn f) {
    int k = 0, m = samples(v, runs, n, s, f);
    for (int i = 0; i < m; i++)
        if (!isnan(v[i])) v[k++] = v[i];
    return stats_median(v, k);
}

/* A row's own figures; v holds n doubles. */
static void describe_row(SummaryRow *s, double *v, const RunRecord *runs, int n, int cores,
                         const ModelConfig *model, const PeakResult *peak) {
    SampleStats st;
    stats_describe(&st, v, samples(v, runs, n, s, f_tps));
    s->median_tps = st.median;
    s->min_tps = st.min;
    s->max_tps = st.max;
    s->spread = st.spread;
    s->mean_tps = st.mean;
    s->sd_tps = st.sd;
    s->cv_tps = st.cv;
    s->control_cpu_s = median_of(v, runs, n, s, f_ctl);
    s->mean_worker_cpu_s = median_of(v, runs, n, s, f_wrk);
    s->control_to_worker = s->control_cpu_s > 0 ? s->mean_worker_cpu_s / s->control_cpu_s : NAN;
    s->imbalance = median_of(v, runs, n, s, f_imb);
    s->utilisation = median_of(v, runs, n, s, f_util);
    s->loss = median_of(v, runs, n, s, f_loss);
    s->process_cpu_s = median_of(v, runs, n, s, f_pcpu);
    s->time_to_target_s = median_of(v, runs, n, s, f_ttt);
    s->oversubscribed = s->threads > cores;
    int used = s->threads < cores ? s->threads : cores;
    s->gflops = s->median_tps * model_flops_per_batch(model, s->B, s->T) / s->batch_tokens / 1e9;
    s->fraction_of_peak = peak && peak->fma_gflops_1t > 0 ? s->gflops / (used * peak->fma_gflops_1t) : NAN;
}

/* a / b's median tokens/s with its interval; none when b is NULL. va and vb hold n doubles each. */
static RatioCI ratio_ci(const RunRecord *runs, int n, const SummaryRow *a, const SummaryRow *b, double *va,
                        double *vb) {
    RatioCI ci = {.ratio = NAN, .lo = NAN, .hi = NAN};
    if (b)
        stats_ratio_ci(&ci, va, samples(va, runs, n, a, f_tps), vb, samples(vb, runs, n, b, f_tps),
                       STATS_BOOT_SEED);
    return ci;
}

/* serial's row at s's batch size; NULL for serial itself (a ratio over itself says nothing). */
static const SummaryRow *serial_row(const SummaryRow *rows, int nr, const SummaryRow *s) {
    for (int k = 0; k < nr; k++)
        if (strcmp(rows[k].variant, "serial") == 0 && rows[k].batch_tokens == s->batch_tokens)
            return &rows[k] == s ? NULL : &rows[k];
    return NULL;
}

/* flat's row at s's threads and batch size (a route run's is flat's sweep run); NULL for flat. */
static const SummaryRow *flat_row(const SummaryRow *rows, int nr, const SummaryRow *s) {
    RunKind kind = s->kind == RUN_ROUTE ? RUN_SWEEP : s->kind;
    for (int k = 0; k < nr && strcmp(s->variant, "flat") != 0; k++)
        if (rows[k].kind == kind && strcmp(rows[k].variant, "flat") == 0 && rows[k].threads == s->threads &&
            rows[k].batch_tokens == s->batch_tokens)
            return &rows[k];
    return NULL;
}

/* A route run's row under its trainer's default policy; NULL elsewhere and for that row itself. */
static const SummaryRow *default_route_row(const SummaryRow *rows, int nr, const SummaryRow *s) {
    if (s->kind != RUN_ROUTE || !s->default_route || strcmp(s->route, s->default_route) == 0) return NULL;
    const SummaryRow *found = NULL;
    for (int k = 0; k < nr; k++)
        if (rows[k].kind == RUN_ROUTE && strcmp(rows[k].route, s->default_route) == 0 &&
            strcmp(rows[k].variant, s->variant) == 0 && rows[k].threads == s->threads &&
            rows[k].batch_tokens == s->batch_tokens)
            found = &rows[k];
    return found;
}

/* A row's ratios to the other rows; va and vb hold n doubles each. */
static void relate_row(SummaryRow *s, const SummaryRow *rows, int nr, const RunRecord *runs, int n, int cores,
                       double *va, double *vb) {
    const SummaryRow *serial = serial_row(rows, nr, s), *flat = flat_row(rows, nr, s),
                     *base = default_route_row(rows, nr, s);
    int used = s->threads < cores ? s->threads : cores;
    s->speedup_ci = ratio_ci(runs, n, s, serial, va, vb);
    s->speedup_vs_serial = serial ? s->median_tps / serial->median_tps : NAN;
    s->efficiency = s->speedup_vs_serial / used;
    s->efficiency_ci = stats_ci_scale(s->speedup_ci, 1.0 / used);
    s->flat_ci = ratio_ci(runs, n, s, flat, va, vb);
    s->ratio_vs_flat = flat ? s->median_tps / flat->median_tps : NAN;
    s->symmetry_ci = ratio_ci(runs, n, s, base, va, vb);
    s->ratio_vs_symmetry = base ? s->median_tps / base->median_tps : NAN;
}

int summary_build(SummaryRow *rows, double *scratch, const RunRecord *runs, int n, int cores,
                  const ModelConfig *model, const PeakResult *peak) {
    int nr = find_rows(rows, runs, n);
    for (int j = 0; j < nr && scratch; j++) describe_row(&rows[j], scratch, runs, n, cores, model, peak);
    for (int j = 0; j < nr && scratch; j++) relate_row(&rows[j], rows, nr, runs, n, cores, scratch, scratch + n);
    return nr;
}

int summarize(SummaryRow *rows, const RunRecord *runs, int n, int cores, const ModelConfig *model,
              const PeakResult *peak) {
    double *scratch = malloc(sizeof(double) * SUMMARY_SCRATCH(n > 0 ? n : 1));
    int nr = summary_build(rows, scratch, runs, n, cores, model, peak);
    free(scratch);
    return nr;
}
