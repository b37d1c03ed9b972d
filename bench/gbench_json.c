/* gbench_json.c - Google Benchmark's JSON format; see gbench_json.h. */
#include "gbench_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json_file.h"
#include "../core/path.h"
#include "stats.h"

static void config_name(char *out, size_t n, const SummaryRow *s) {
    int routed = strcmp(s->route, "none") != 0;
    snprintf(out, n, "%s/%s%s%s/threads:%d/tokens:%d", run_kind_name(s->kind), s->variant, routed ? ":" : "",
             routed ? s->route : "", s->threads, s->batch_tokens);
}

static void write_context(JsonWriter *w, const MachineInfo *m, const char *run_id) {
    json_object_begin(w);
    if (run_id) json_kv_string(w, "run_id", run_id);
    json_kv_string(w, "date", m->date);
    json_kv_string(w, "host_name", m->hostname);
    json_kv_string(w, "executable", "sphere-bench");
    json_kv_int(w, "num_cpus", m->cores);
    json_kv_double(w, "mhz_per_cpu", isnan(m->cpu_mhz) ? 0.0 : round(m->cpu_mhz));
    json_kv_bool(w, "cpu_scaling_enabled", m->governor[0] && strcmp(m->governor, "performance") != 0);
    json_key(w, "caches");
    json_array_begin(w);
    for (int i = 0; i < m->n_caches; i++) {
        json_object_begin(w);
        json_kv_string(w, "type", m->caches[i].type);
        json_kv_int(w, "level", m->caches[i].level);
        json_kv_int(w, "size", m->caches[i].size_kb * 1024);
        json_kv_int(w, "num_sharing", 0);
        json_object_end(w);
    }
    json_array_end(w);
    json_key(w, "load_avg");
    json_array_begin(w);
    for (int i = 0; i < 3; i++) json_double(w, m->load_before[i]);
    json_array_end(w);
    json_kv_string(w, "library_build_type", "release");
    json_object_end(w);
}

/* The fields every entry of a configuration shares. */
static void entry_head(JsonWriter *w, const char *name, const char *run_name, int family, const SummaryRow *s,
                       const char *run_type) {
    json_object_begin(w);
    json_kv_string(w, "name", name);
    json_kv_int(w, "family_index", family);
    json_kv_int(w, "per_family_instance_index", 0);
    json_kv_string(w, "run_name", run_name);
    json_kv_string(w, "run_type", run_type);
    json_kv_int(w, "repetitions", s->n);
    json_kv_int(w, "threads", s->threads);
}

static void write_config(JsonWriter *w, const SummaryRow *s, int family, const RunRecord *runs, int n, double *wall,
                         double *cpu, double *tps) {
    char name[160], agg[192];
    config_name(name, sizeof name, s);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!summary_row_holds(s, &runs[i])) continue;
        wall[k] = 1e3 * runs[i].res.wall_s;
        cpu[k] = 1e3 * runs[i].res.process_cpu_s;
        tps[k] = runs[i].tokens_per_s;
        entry_head(w, name, name, family, s, "iteration");
        json_kv_int(w, "repetition_index", k);
        json_kv_int(w, "iterations", 1);
        json_kv_double(w, "real_time", wall[k]);
        json_kv_double(w, "cpu_time", cpu[k]);
        json_kv_string(w, "time_unit", "ms");
        json_kv_double(w, "items_per_second", tps[k]);
        json_object_end(w);
        k++;
    }
    if (k < 2) return;
    SampleStats sw, sc, st;
    stats_describe(&sw, wall, k);
    stats_describe(&sc, cpu, k);
    stats_describe(&st, tps, k);
    const struct {
        const char *agg;
        double wall, cpu, tps;
    } a[] = {{"mean", sw.mean, sc.mean, st.mean},
             {"median", sw.median, sc.median, st.median},
             {"stddev", sw.sd, sc.sd, st.sd},
             {"cv", sw.cv, sc.cv, st.cv}};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        snprintf(agg, sizeof agg, "%s_%s", name, a[i].agg);
        entry_head(w, agg, name, family, s, "aggregate");
        json_kv_string(w, "aggregate_name", a[i].agg);
        json_kv_string(w, "aggregate_unit", strcmp(a[i].agg, "cv") == 0 ? "percentage" : "time");
        json_kv_int(w, "iterations", k);
        json_kv_double(w, "real_time", a[i].wall);
        json_kv_double(w, "cpu_time", a[i].cpu);
        json_kv_string(w, "time_unit", "ms");
        json_kv_double(w, "items_per_second", a[i].tps);
        json_object_end(w);
    }
}

sb_status gbench_json_write(const char *dir, const MachineInfo *m, const char *run_id, const RunRecord *runs, int n,
                            const SummaryRow *rows, int n_rows, sb_error *err) {
    char path[SB_PATH_MAX];
    JsonFile jf;
    double *buf = malloc(sizeof(double) * 3 * (size_t)(n > 0 ? n : 1));
    if (!buf) return sb_fail(err, SB_ENOMEM, "out of memory for %d runs' Google Benchmark JSON", n);
    sb_status st = path_join(path, sizeof path, dir, "gbench.json", err);
    if (st || (st = json_file_open(&jf, path, "Google Benchmark JSON", 2, err))) {
        free(buf);
        return st;
    }
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_key(w, "context");
    write_context(w, m, run_id);
    json_key(w, "benchmarks");
    json_array_begin(w);
    for (int j = 0; j < n_rows; j++) write_config(w, &rows[j], j, runs, n, buf, buf + n, buf + 2 * n);
    json_array_end(w);
    json_object_end(w);
    free(buf);
    return json_file_commit(&jf, err);
}
