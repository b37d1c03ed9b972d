/* noise.c - the noise guards; see noise.h. */
#include "noise.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "../core/json_file.h"
#include "../core/path.h"

typedef struct {
    NoiseWarning *w;
    int n, max;
} List;

static void add(List *l, const char *figure, double value, double limit, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(List *l, const char *figure, double value, double limit, const char *fmt, ...) {
    if (l->n >= l->max) return;
    NoiseWarning *w = &l->w[l->n++];
    snprintf(w->figure, sizeof w->figure, "%s", figure);
    w->value = value;
    w->limit = limit;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->text, sizeof w->text, fmt, ap);
    va_end(ap);
}

static void check_peak(List *l, const PeakResult *p, int cores) {
    const struct {
        const char *name;
        double spread;
    } figs[] = {{"fma_gflops_1t", p->fma_spread_1t},     {"fma_gflops_all", p->fma_spread_all},
                {"fma8_gflops_1t", p->fma8_spread_1t},   {"fma8_gflops_all", p->fma8_spread_all},
                {"read_gbs_1t", p->read_spread_1t},      {"write_gbs_1t", p->write_spread_1t},
                {"add_gbs_1t", p->add_spread_1t},        {"read_gbs_all", p->read_spread_all},
                {"write_gbs_all", p->write_spread_all},  {"add_gbs_all", p->add_spread_all}};
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
        if (figs[i].spread > NOISE_PEAK_SPREAD) {
            char fig[96];
            snprintf(fig, sizeof fig, "peak %s", figs[i].name);
            add(l, fig, figs[i].spread, NOISE_PEAK_SPREAD,
                "peak %s varied by %.1f%% over its %d repetitions (more than %.0f%%): the machine's ceiling is "
                "uncertain", figs[i].name, 100.0 * figs[i].spread, p->reps, 100.0 * NOISE_PEAK_SPREAD);
        }
    double gain = p->fma_gflops_all / p->fma_gflops_1t;
    if (cores > 1 && p->threads_all > 1 && gain < NOISE_ALL_CORE_GAIN)
        add(l, "peak fma_gflops_all", gain, NOISE_ALL_CORE_GAIN,
            "peak fma_gflops_all is %.2fx fma_gflops_1t on %d cores (less than %.1fx): the cores were not all "
            "free, or are hyperthreads of one another", gain, p->threads_all, NOISE_ALL_CORE_GAIN);
}

/* One warning for a run whose usable counters were not counted on all its threads. */
static void check_coverage(List *l, const RunRecord *r, const CounterSet *cs) {
    int n = r->res.n_threads;
    char list[160] = "";
    size_t used = 0;
    int partial = 0, worst = n;
    for (int e = 0; r->counters && e < cs->n; e++) {
        if (!cs->ev[e].usable) continue;
        int k = counters_counted(cs, r->counters, n, e);
        if (k == n) continue;
        if (k < worst) worst = k;
        int w = snprintf(list + used, sizeof list - used, "%s%s %d of %d", partial ? ", " : "", cs->ev[e].name, k, n);
        if (w > 0 && (size_t)w < sizeof list - used) used += (size_t)w;
        partial++;
    }
    if (!partial) return;
    char fig[96];
    const char *route = run_route_name(&r->spec);
    int routed = strcmp(route, "none") != 0;
    snprintf(fig, sizeof fig, "counters of %s %s%s%s %d threads rep %d", run_kind_name(r->spec.kind),
             r->spec.variant->name, routed ? " " : "", routed ? route : "", r->spec.threads, r->spec.rep);
    add(l, fig, worst, n,
        "%s: counted on only some of the %d threads (%s; threads.csv says why, e.g. failed:EMFILE): no "
        "per-thread figure of them is given", fig, n, list);
}

int noise_check(NoiseWarning *w, int max, const NoiseInputs *in) {
    List l = {.w = w, .n = 0, .max = max};
    if (in->cores > 0 && in->load_before > NOISE_LOAD_PER_CORE * in->cores)
        add(&l, "load average before the run", in->load_before, NOISE_LOAD_PER_CORE * in->cores,
            "the load average before the run was %.2f on %d cores (more than half of them busy): every figure "
            "may be slowed by other work", in->load_before, in->cores);
    if (in->peak) check_peak(&l, in->peak, in->cores);
    for (int i = 0; in->core && i < in->core->n_kernels; i++) {
        const KernelTiming *k = &in->core->kernels[i];
        if (!k->memory_bound && k->fraction > NOISE_KERNEL_PEAK) {
            char fig[96];
            snprintf(fig, sizeof fig, "core kernel %s", k->name);
            add(&l, fig, k->fraction, NOISE_KERNEL_PEAK,
                "core kernel %s ran at %.0f%% of the FMA peak (more than 100%%): the peak was measured low, so "
                "every fraction of peak is overstated", k->name, 100.0 * k->fraction);
        }
    }
    for (int i = 0; i < in->n_rows; i++) {
        const SummaryRow *s = &in->rows[i];
        if (!(s->spread > NOISE_CONFIG_SPREAD)) continue;
        char fig[96];
        snprintf(fig, sizeof fig, "%s %s%s%s %d threads %d tokens", run_kind_name(s->kind), s->variant,
                 strcmp(s->route, "none") ? " " : "", strcmp(s->route, "none") ? s->route : "", s->threads,
                 s->batch_tokens);
        add(&l, fig, s->spread, NOISE_CONFIG_SPREAD,
            "%s: tokens/s spread %.1f%% over %d repetitions (more than %.0f%%)", fig, 100.0 * s->spread, s->n,
            100.0 * NOISE_CONFIG_SPREAD);
    }
    for (int i = 0; in->counters && in->runs && i < in->n_runs; i++) check_coverage(&l, &in->runs[i], in->counters);
    return l.n;
}

void noise_print(FILE *f, const NoiseWarning *w, int n) {
    for (int i = 0; i < n; i++) fprintf(f, "warning: %s\n", w[i].text);
}

sb_status noise_write(const char *dir, const NoiseWarning *w, int n, const char *run_id, sb_error *err) {
    char path[SB_PATH_MAX];
    JsonFile jf;
    sb_status st = path_join(path, sizeof path, dir, "warnings.json", err);
    if (st || (st = json_file_open(&jf, path, "warnings JSON", 2, err))) return st;
    json_object_begin(&jf.w);
    json_kv_int(&jf.w, "schema", 1);
    if (run_id) json_kv_string(&jf.w, "run_id", run_id);
    json_key(&jf.w, "warnings");
    json_array_begin(&jf.w);
    for (int i = 0; i < n; i++) {
        json_object_begin(&jf.w);
        json_kv_string(&jf.w, "figure", w[i].figure);
        json_kv_double(&jf.w, "value", w[i].value);
        json_kv_double(&jf.w, "limit", w[i].limit);
        json_kv_string(&jf.w, "text", w[i].text);
        json_object_end(&jf.w);
    }
    json_array_end(&jf.w);
    json_object_end(&jf.w);
    return json_file_commit(&jf, err);
}
