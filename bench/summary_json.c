/* summary_json.c - summary.json: the summary's rows with their intervals and verdicts; see results.h.
 *
 *   {"schema", "run_id", "cpu_model", "cores", "git_revision",
 *    "configurations": [{"kind", "variant", "route", "threads", "batch_tokens", "reps",
 *                        "tokens_per_s_median", ..., "NAME_ci": [lo, hi] or null,
 *                        "NAME_verdict": "faster" | "slower" | STATS_UNRESOLVED_TEXT | null, ...}]}
 * A figure the summary could not compute (NaN) is null. */
#include <math.h>

#include "noise.h"
#include "results.h"

/* "NAME_ci": [lo, hi], or null without an interval. */
static void write_ci(JsonWriter *w, const char *name, const RatioCI *ci) {
    char key[96];
    snprintf(key, sizeof key, "%s_ci", name);
    json_key(w, key);
    if (isnan(ci->lo) || isnan(ci->hi)) {
        json_null(w);
        return;
    }
    json_array_begin(w);
    json_double(w, ci->lo);
    json_double(w, ci->hi);
    json_array_end(w);
}

/* "NAME_verdict": "faster", "slower", the unresolved text, or null (stats.h). */
static void write_verdict(JsonWriter *w, const char *name, const RatioCI *ci) {
    char key[96];
    snprintf(key, sizeof key, "%s_verdict", name);
    const char *v = stats_verdict_text(stats_verdict(ci));
    if (v)
        json_kv_string(w, key, v);
    else {
        json_key(w, key);
        json_null(w);
    }
}

/* One configuration's object. */
static void write_row(JsonWriter *w, const SummaryRow *s) {
    json_object_begin(w);
    json_kv_string(w, "kind", run_kind_name(s->kind));
    json_kv_string(w, "variant", s->variant);
    json_kv_string(w, "route", s->route);
    json_kv_int(w, "threads", s->threads);
    json_kv_int(w, "batch_tokens", s->batch_tokens);
    json_kv_int(w, "reps", s->n);
    json_kv_bool(w, "oversubscribed", s->oversubscribed);
    json_kv_double(w, "tokens_per_s_median", s->median_tps);
    json_kv_double(w, "tokens_per_s_min", s->min_tps);
    json_kv_double(w, "tokens_per_s_max", s->max_tps);
    json_kv_double(w, "tokens_per_s_mean", s->mean_tps);
    json_kv_double(w, "tokens_per_s_sd", s->sd_tps);
    json_kv_double(w, "tokens_per_s_cv", s->cv_tps);
    json_kv_double(w, "spread", s->spread);
    json_kv_bool(w, "noisy", s->spread > NOISE_CONFIG_SPREAD);
    json_kv_double(w, "speedup_vs_serial", s->speedup_vs_serial);
    write_ci(w, "speedup_vs_serial", &s->speedup_ci);
    json_kv_double(w, "parallel_efficiency", s->efficiency);
    write_ci(w, "parallel_efficiency", &s->efficiency_ci);
    json_kv_double(w, "ratio_vs_flat", s->ratio_vs_flat);
    write_ci(w, "ratio_vs_flat", &s->flat_ci);
    write_verdict(w, "ratio_vs_flat", &s->flat_ci);
    json_kv_double(w, "ratio_vs_symmetry", s->ratio_vs_symmetry);
    write_ci(w, "ratio_vs_symmetry", &s->symmetry_ci);
    write_verdict(w, "ratio_vs_symmetry", &s->symmetry_ci);
    json_kv_double(w, "control_cpu_s", s->control_cpu_s);
    json_kv_double(w, "mean_worker_cpu_s", s->mean_worker_cpu_s);
    json_kv_double(w, "worker_to_control_cpu", s->control_to_worker);
    json_kv_double(w, "imbalance", s->imbalance);
    json_kv_double(w, "utilisation", s->utilisation);
    json_kv_double(w, "process_cpu_s", s->process_cpu_s);
    json_kv_double(w, "gflops", s->gflops);
    json_kv_double(w, "fraction_of_peak", s->fraction_of_peak);
    json_kv_double(w, "loss", s->loss);
    json_kv_double(w, "time_to_target_s", s->time_to_target_s);
    json_object_end(w);
}

sb_status summary_json_write(const char *dir, const SummaryRow *rows, int n, const MachineInfo *m, const char *id,
                             sb_error *err) {
    char path[SB_PATH_MAX];
    JsonFile jf;
    sb_status st = results_open_json(&jf, path, dir, "summary.json", "summary JSON", err);
    if (st) return st;
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_kv_int(w, "schema", RESULTS_SCHEMA);
    json_kv_string(w, "run_id", id);
    json_kv_string(w, "cpu_model", m->cpu_model);
    json_kv_int(w, "cores", m->cores);
    json_kv_string(w, "git_revision", m->git_revision);
    json_key(w, "configurations");
    json_array_begin(w);
    for (int i = 0; i < n; i++) write_row(w, &rows[i]);
    json_array_end(w);
    json_object_end(w);
    return json_file_commit(&jf, err);
}

