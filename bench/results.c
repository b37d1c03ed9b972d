/* results.c - summary statistics and the run folder's files; see results.h. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/json_file.h"
#include "../core/model.h"
#include "../core/path.h"
#include "../core/safe_file.h"
#include "../variants/sphere.h"
#include "gbench_json.h"
#include "run_output.h"
#include "noise.h"

double results_median(double *v, int n) { return stats_median(v, n); }

static const char *route_of(const RunRecord *r) { return r->spec.route ? r->spec.route : "none"; }

static const char *run_id_of(const BenchOptions *o) { return o->run_id ? o->run_id : ""; }

static int same_config(const RunRecord *a, const SummaryRow *s) {
    return a->spec.kind == s->kind && strcmp(a->spec.variant->name, s->variant) == 0 &&
           strcmp(route_of(a), s->route) == 0 && a->spec.threads == s->threads &&
           a->spec.B * a->spec.T == s->batch_tokens;
}

/* Median of one derived field over the runs of a configuration, NaN where
 * the field is undefined in every run (a serial run has no control thread). */
typedef double (*field_fn)(const RunRecord *r);
static double f_ctl(const RunRecord *r) { return r->control_cpu_s; }
static double f_wrk(const RunRecord *r) { return r->mean_worker_cpu_s; }
static double f_imb(const RunRecord *r) { return r->imbalance; }
static double f_util(const RunRecord *r) { return r->utilisation; }
static double f_loss(const RunRecord *r) { return r->res.last_loss; }
static double f_pcpu(const RunRecord *r) { return r->res.process_cpu_s; }
static double f_ttt(const RunRecord *r) { return r->time_to_target_s; }

static double median_of(const RunRecord *runs, int n, const SummaryRow *s, field_fn f) {
    double *v = malloc(sizeof(double) * (size_t)n);
    int k = 0;
    for (int i = 0; v && i < n; i++)
        if (same_config(&runs[i], s) && !isnan(f(&runs[i]))) v[k++] = f(&runs[i]); /* NaN: undefined there */
    double m = stats_median(v, k);
    free(v);
    return m;
}

/* The tokens/s of every repetition of a configuration into v (n entries); returns how many. */
static int tps_samples(double *v, const RunRecord *runs, int n, const SummaryRow *s) {
    int k = 0;
    for (int i = 0; i < n; i++)
        if (same_config(&runs[i], s)) v[k++] = runs[i].tokens_per_s;
    return k;
}

/* a / b's median tokens/s with its interval; none when b is NULL. */
static RatioCI ratio_ci(const RunRecord *runs, int n, const SummaryRow *a, const SummaryRow *b, double *va,
                        double *vb) {
    RatioCI ci = {.ratio = NAN, .lo = NAN, .hi = NAN};
    if (b) stats_ratio_ci(&ci, va, tps_samples(va, runs, n, a), vb, tps_samples(vb, runs, n, b), STATS_BOOT_SEED);
    return ci;
}

static const SummaryRow *find_row(const SummaryRow *rows, int n, RunKind kind, const char *variant, int threads,
                                  int batch_tokens) {
    for (int i = 0; i < n; i++)
        if (rows[i].kind == kind && strcmp(rows[i].variant, variant) == 0 && rows[i].threads == threads &&
            rows[i].batch_tokens == batch_tokens)
            return &rows[i];
    return NULL;
}

int summarize(SummaryRow *rows, const RunRecord *runs, int n, int cores, const ModelConfig *model,
              const PeakResult *peak) {
    int nr = 0;
    for (int i = 0; i < n; i++) {
        int found = 0;
        for (int j = 0; j < nr && !found; j++) found = same_config(&runs[i], &rows[j]);
        if (found) continue;
        SummaryRow *s = &rows[nr++];
        memset(s, 0, sizeof *s);
        s->kind = runs[i].spec.kind;
        s->variant = runs[i].spec.variant->name;
        s->route = route_of(&runs[i]);
        s->threads = runs[i].spec.threads;
        s->batch_tokens = runs[i].spec.B * runs[i].spec.T;
        s->B = runs[i].spec.B;
        s->T = runs[i].spec.T;
    }
    for (int j = 0; j < nr; j++) {
        SummaryRow *s = &rows[j];
        for (int i = 0; i < n; i++) s->n += same_config(&runs[i], s);
        SampleStats st;
        double *v = malloc(sizeof(double) * (size_t)n);
        stats_describe(&st, v, v ? tps_samples(v, runs, n, s) : 0);
        free(v);
        s->median_tps = st.median;
        s->min_tps = st.min;
        s->max_tps = st.max;
        s->spread = st.spread;
        s->mean_tps = st.mean;
        s->sd_tps = st.sd;
        s->cv_tps = st.cv;
        s->control_cpu_s = median_of(runs, n, s, f_ctl);
        s->mean_worker_cpu_s = median_of(runs, n, s, f_wrk);
        s->control_to_worker = s->control_cpu_s > 0 ? s->mean_worker_cpu_s / s->control_cpu_s : NAN;
        s->imbalance = median_of(runs, n, s, f_imb);
        s->utilisation = median_of(runs, n, s, f_util);
        s->loss = median_of(runs, n, s, f_loss);
        s->process_cpu_s = median_of(runs, n, s, f_pcpu);
        s->time_to_target_s = median_of(runs, n, s, f_ttt);
        s->oversubscribed = s->threads > cores;
        int used = s->threads < cores ? s->threads : cores;
        s->gflops = s->median_tps * model_flops_per_batch(model, s->B, s->T) / s->batch_tokens / 1e9;
        s->fraction_of_peak = peak && peak->fma_gflops_1t > 0 ? s->gflops / (used * peak->fma_gflops_1t) : NAN;
    }
    /* ratios need every row's median first */
    double *va = malloc(sizeof(double) * (size_t)n), *vb = malloc(sizeof(double) * (size_t)n);
    for (int j = 0; j < nr && va && vb; j++) {
        SummaryRow *s = &rows[j];
        const SummaryRow *serial = NULL;
        for (int k = 0; k < nr && !serial; k++)
            if (strcmp(rows[k].variant, "serial") == 0 && rows[k].batch_tokens == s->batch_tokens) serial = &rows[k];
        if (serial == s) serial = NULL; /* serial over itself says nothing */
        s->speedup_ci = ratio_ci(runs, n, s, serial, va, vb);
        s->speedup_vs_serial = serial ? s->median_tps / serial->median_tps : NAN;
        int used = s->threads < cores ? s->threads : cores;
        s->efficiency = s->speedup_vs_serial / used;
        s->efficiency_ci = stats_ci_scale(s->speedup_ci, 1.0 / used);
        const SummaryRow *flat = strcmp(s->variant, "flat") == 0
                                     ? NULL
                                     : find_row(rows, nr, s->kind == RUN_ROUTE ? RUN_SWEEP : s->kind, "flat",
                                                s->threads, s->batch_tokens);
        s->flat_ci = ratio_ci(runs, n, s, flat, va, vb);
        s->ratio_vs_flat = flat ? s->median_tps / flat->median_tps : NAN;
        const SummaryRow *sym = NULL;
        for (int k = 0; k < nr && s->kind == RUN_ROUTE && strcmp(s->route, sphere_routes[0]) != 0; k++)
            if (rows[k].kind == RUN_ROUTE && strcmp(rows[k].route, sphere_routes[0]) == 0 &&
                strcmp(rows[k].variant, s->variant) == 0 && rows[k].threads == s->threads &&
                rows[k].batch_tokens == s->batch_tokens)
                sym = &rows[k];
        s->symmetry_ci = ratio_ci(runs, n, s, sym, va, vb);
        s->ratio_vs_symmetry = sym ? s->median_tps / sym->median_tps : NAN;
    }
    free(va);
    free(vb);
    return nr;
}

/* Opens dir/name as a JSON file; the path lands in path[SB_PATH_MAX]. */
static sb_status json_open_in(JsonFile *jf, char *path, const char *dir, const char *name, const char *what,
                              sb_error *err) {
    sb_status st = path_join(path, SB_PATH_MAX, dir, name, err);
    return st ? st : json_file_open(jf, path, what, 2, err);
}

/* Opens dir/name for writing through a temporary; the path lands in path[SB_PATH_MAX]. */
static sb_status open_in(SafeFile *sf, char *path, const char *dir, const char *name, const char *what,
                         sb_error *err) {
    sb_status st = path_join(path, SB_PATH_MAX, dir, name, err);
    return st ? st : safe_file_open(sf, path, what, err);
}

static void write_model(JsonWriter *w, const BenchOptions *o, const ModelConfig *c) {
    json_object_begin(w);
    json_kv_string(w, "preset", o->preset);
    run_json_model_fields(w, c, o->B);
    json_object_end(w);
}

static void write_dataset(JsonWriter *w, const DatasetInfo *d, const TokenFile *data) {
    json_object_begin(w);
    json_kv_string(w, "text", d->text_path);
    json_kv_string(w, "tokens_file", d->tokens_path);
    json_kv_uint(w, "bytes", d->corpus.bytes);
    json_kv_uint(w, "tokens", data->n_tokens);
    json_kv_uint(w, "types", d->corpus.types);
    json_kv_uint(w, "seed", d->corpus.seed);
    json_kv_double(w, "entropy_nats_per_token", d->corpus.entropy_nats);
    json_kv_uint(w, "vocab", data->vocab_size);
    json_kv_bool(w, "regenerated", d->regenerated);
    json_object_end(w);
}

static void write_options(JsonWriter *w, const BenchOptions *o, const BenchSetup *b) {
    json_object_begin(w);
    json_kv_int(w, "batches_per_step", o->batches_per_step);
    json_kv_int(w, "reps", o->reps);
    json_kv_int(w, "full_reps", o->full_reps);
    json_kv_bool(w, "pin", o->pin);
    json_kv_bool(w, "quick", o->quick);
    json_kv_string(w, "wait", o->wait == WAIT_SPIN ? "spin" : "block");
    json_kv_float(w, "lr", b->adamw.lr);
    json_kv_uint(w, "init_seed", b->init_seed);
    const TrainSchedule *fs = o->full_schedule;
    json_key(w, "full_runs"); /* the full runs' schedule: they train to a target loss or the epoch's end */
    json_object_begin(w);
    json_kv_string(w, "schedule", lr_schedule_name(fs ? fs->kind : LR_CONSTANT));
    json_kv_float(w, "lr", fs ? o->full_lr : b->adamw.lr);
    json_kv_int(w, "batches_per_step", b->full_batches_per_step ? b->full_batches_per_step : o->batches_per_step);
    json_kv_int(w, "warmup_steps", fs ? (int)fs->warmup : 0);
    json_kv_float(w, "lr_floor", fs ? fs->floor : 1.0f);
    json_kv_float(w, "clip_norm", fs ? fs->clip_norm : 0.0f);
    json_key(w, "target_loss");
    if (fs && fs->target_loss > 0.0f)
        json_double(w, fs->target_loss);
    else
        json_null(w);
    json_object_end(w);
    json_object_end(w);
}

static void write_counters(JsonWriter *w, const CounterSet *cs) {
    json_array_begin(w);
    for (int i = 0; cs && i < cs->n; i++) {
        json_object_begin(w);
        json_kv_string(w, "event", cs->ev[i].name);
        json_kv_string(w, "encoded", cs->ev[i].encoded);
        json_kv_bool(w, "software", cs->ev[i].is_software);
        json_kv_bool(w, "usable", cs->ev[i].usable);
        json_kv_bool(w, "user_only", cs->ev[i].user_only);
        json_kv_int(w, "errno", cs->ev[i].err);
        json_kv_string(w, "why", cs->ev[i].why);
        json_object_end(w);
    }
    json_array_end(w);
}

/* Which runs finished, one object each, for an incomplete folder's reader. */
static void write_finished(JsonWriter *w, const RunRecord *runs, int n) {
    json_array_begin(w);
    for (int i = 0; i < n; i++) {
        json_object_begin(w);
        json_kv_string(w, "kind", run_kind_name(runs[i].spec.kind));
        json_kv_string(w, "variant", runs[i].spec.variant->name);
        json_kv_string(w, "route", route_of(&runs[i]));
        json_kv_int(w, "threads", runs[i].spec.threads);
        json_kv_int(w, "rep", runs[i].spec.rep);
        json_kv_int(w, "batch_tokens", runs[i].spec.B * runs[i].spec.T);
        json_object_end(w);
    }
    json_array_end(w);
}

static sb_status write_context(const char *dir, const MachineInfo *m, const BenchOptions *o, const BenchSetup *b,
                               const DatasetInfo *d, const PeakResult *peak, const RunRecord *runs, int n,
                               sb_error *err) {
    char path[SB_PATH_MAX];
    JsonFile jf;
    sb_status st = json_open_in(&jf, path, dir, "context.json", "context JSON", err);
    if (st) return st;
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_kv_int(w, "schema", RESULTS_SCHEMA);
    json_kv_string(w, "run_id", run_id_of(o));
    json_kv_bool(w, "complete", o->complete);
    json_key(w, "stopped_by");
    if (o->stopped_by)
        json_string(w, o->stopped_by);
    else
        json_null(w);
    json_kv_int(w, "runs_planned", o->runs_planned);
    json_kv_int(w, "runs_finished", n);
    json_key(w, "finished");
    write_finished(w, runs, n);
    json_kv_string(w, "date", m->date);
    json_kv_string(w, "hostname", m->hostname);
    json_kv_string(w, "cpu_model", m->cpu_model);
    json_kv_int(w, "cores", m->cores);
    json_kv_int(w, "cpus_online", m->cpus_online);
    json_kv_double(w, "memory_gb", m->memory_gb);
    json_kv_string(w, "kernel", m->kernel);
    json_kv_string(w, "compiler", m->compiler);
    json_kv_string(w, "cflags", m->cflags);
    json_kv_string(w, "git_revision", m->git_revision);
    json_kv_bool(w, "git_dirty", m->git_dirty);
    machine_json_noise(w, m);
    json_key(w, "model");
    write_model(w, o, &b->model);
    json_key(w, "dataset");
    write_dataset(w, d, b->data);
    json_key(w, "options");
    write_options(w, o, b);
    json_key(w, "peak");
    if (peak)
        peak_json(w, peak);
    else
        json_null(w);
    json_key(w, "counters");
    write_counters(w, b->counters);
    json_object_end(w);
    return json_file_commit(&jf, err);
}

static void csv_double(FILE *f, double v) {
    if (isnan(v) || isinf(v))
        fprintf(f, ",NaN");
    else
        fprintf(f, ",%.6g", v);
}

static sb_status write_runs(const char *dir, const RunRecord *runs, int n, const BenchOptions *o, int cores,
                            sb_error *err) {
    const char *id = run_id_of(o);
    char path[SB_PATH_MAX];
    SafeFile sf;
    sb_status st = open_in(&sf, path, dir, "runs.csv", "runs CSV", err);
    if (st) return st;
    FILE *f = sf.f;
    fprintf(f, "kind,variant,route,threads,rep,B,T,batch_tokens,batches,batches_per_step,steps,tokens,wall_s,"
               "tokens_per_s,loss,process_cpu_s,threads_cpu_s,control_cpu_s,controls_cpu_s,mean_worker_cpu_s,"
               "max_worker_cpu_s,imbalance,utilisation,workers,cores,oversubscribed,pinned,target_loss,time_to_target_s,"
               "run_id\n");
    for (int i = 0; i < n; i++) {
        const RunRecord *r = &runs[i];
        double tcpu = 0.0;
        for (int t = 0; t < r->res.n_threads; t++) tcpu += r->threads[t].cpu_s;
        fprintf(f, "%s,%s,%s,%d,%d,%d,%d,%d,%llu,%d,%ld,%llu", run_kind_name(r->spec.kind), r->spec.variant->name,
                route_of(r), r->spec.threads, r->spec.rep, r->spec.B, r->spec.T, r->spec.B * r->spec.T,
                (unsigned long long)r->res.batches, r->res.batches_per_step, r->res.steps,
                (unsigned long long)r->res.tokens);
        csv_double(f, r->res.wall_s);
        csv_double(f, r->tokens_per_s);
        csv_double(f, r->res.last_loss);
        csv_double(f, r->res.process_cpu_s);
        csv_double(f, tcpu);
        csv_double(f, r->control_cpu_s);
        csv_double(f, r->controls_cpu_s);
        csv_double(f, r->mean_worker_cpu_s);
        csv_double(f, r->max_worker_cpu_s);
        csv_double(f, r->imbalance);
        csv_double(f, r->utilisation);
        fprintf(f, ",%d,%d,%d,%d", r->n_workers, cores, r->spec.threads > cores, o->pin);
        csv_double(f, r->target_loss > 0.0f ? r->target_loss : NAN);
        csv_double(f, r->time_to_target_s);
        fprintf(f, ",%s\n", id);
    }
    return safe_file_commit(&sf, 1, err);
}

static sb_status write_threads(const char *dir, const RunRecord *runs, int n, const CounterSet *cs, const char *id,
                               sb_error *err) {
    char path[SB_PATH_MAX];
    SafeFile sf;
    sb_status st = open_in(&sf, path, dir, "threads.csv", "threads CSV", err);
    if (st) return st;
    FILE *f = sf.f;
    fprintf(f, "kind,variant,route,threads,rep,batch_tokens,thread,role,level,cpu_s,wall_s");
    for (int p = 0; p < PHASE_COUNT; p++) fprintf(f, ",%s_s", phase_name((Phase)p));
    for (int p = 0; p < PHASE_COUNT; p++) fprintf(f, ",%s_cpu_s", phase_name((Phase)p));
    fprintf(f, ",batches");
    for (int e = 0; cs && e < cs->n; e++) fprintf(f, ",%s,%s_status,%s_running", cs->ev[e].name, cs->ev[e].name, cs->ev[e].name);
    fprintf(f, ",run_id\n");
    for (int i = 0; i < n; i++) {
        const RunRecord *r = &runs[i];
        for (int t = 0; t < r->res.n_threads; t++) {
            const ThreadStats *s = &r->threads[t];
            fprintf(f, "%s,%s,%s,%d,%d,%d,%d,%s,%d", run_kind_name(r->spec.kind), r->spec.variant->name, route_of(r),
                    r->spec.threads, r->spec.rep, r->spec.B * r->spec.T, s->id, role_name(s->role), s->level);
            csv_double(f, s->cpu_s);
            csv_double(f, s->wall_s);
            for (int p = 0; p < PHASE_COUNT; p++) csv_double(f, s->phase_wall[p]);
            for (int p = 0; p < PHASE_COUNT; p++) csv_double(f, s->phase_cpu[p]);
            fprintf(f, ",%llu", (unsigned long long)s->batches);
            for (int e = 0; cs && e < cs->n; e++) {
                const ThreadCounters *tc = r->counters ? &r->counters[t] : NULL;
                int ok = tc && cs->ev[e].usable && tc->ok[e];
                csv_double(f, ok ? tc->value[e] : NAN);
                fprintf(f, ",%s", tc ? counters_status(cs, tc, e) : "unsupported");
                csv_double(f, ok ? tc->running_ratio[e] : NAN);
            }
            fprintf(f, ",%s\n", id);
        }
    }
    return safe_file_commit(&sf, 1, err);
}

static sb_status write_groups_and_loss(const char *dir, const RunRecord *runs, int n, const char *id, sb_error *err) {
    char path[SB_PATH_MAX];
    SafeFile sf;
    sb_status st = open_in(&sf, path, dir, "groups.csv", "groups CSV", err);
    if (st) return st;
    /* batch_tokens tells the tokens-per-batch sweep's runs apart (same kind, threads and rep) */
    fprintf(sf.f, "kind,variant,route,threads,rep,batch_tokens,group,batches,run_id\n");
    for (int i = 0; i < n; i++)
        for (int g = 0; g < runs[i].res.n_groups; g++)
            fprintf(sf.f, "%s,%s,%s,%d,%d,%d,%d,%llu,%s\n", run_kind_name(runs[i].spec.kind), runs[i].spec.variant->name,
                    route_of(&runs[i]), runs[i].spec.threads, runs[i].spec.rep, runs[i].spec.B * runs[i].spec.T, g,
                    (unsigned long long)runs[i].group_batches[g], id);
    if ((st = safe_file_commit(&sf, 1, err))) return st;
    if ((st = open_in(&sf, path, dir, "loss.csv", "loss CSV", err))) return st;
    fprintf(sf.f, "kind,variant,route,threads,rep,batch_tokens,step,tokens,loss,run_id\n");
    for (int i = 0; i < n; i++) {
        const RunRecord *r = &runs[i];
        uint64_t per_step = (uint64_t)r->res.batches_per_step * (uint64_t)(r->spec.B * r->spec.T);
        for (long s = 0; s < r->res.steps; s++) {
            uint64_t tokens = (uint64_t)(s + 1) * per_step;
            if (tokens > r->res.tokens) tokens = r->res.tokens;
            fprintf(sf.f, "%s,%s,%s,%d,%d,%d,%ld,%llu,%.6f,%s\n", run_kind_name(r->spec.kind), r->spec.variant->name,
                    route_of(r), r->spec.threads, r->spec.rep, r->spec.B * r->spec.T, s + 1, (unsigned long long)tokens,
                    r->step_loss[s], id);
        }
    }
    return safe_file_commit(&sf, 1, err);
}

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

static sb_status write_summary(const char *dir, const SummaryRow *rows, int n, const MachineInfo *m, const char *id,
                               sb_error *err) {
    char path[SB_PATH_MAX];
    JsonFile jf;
    sb_status st = json_open_in(&jf, path, dir, "summary.json", "summary JSON", err);
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
    for (int i = 0; i < n; i++) {
        const SummaryRow *s = &rows[i];
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
    json_array_end(w);
    json_object_end(w);
    return json_file_commit(&jf, err);
}

sb_status results_write(const char *dir, const MachineInfo *m, const BenchOptions *o, const BenchSetup *b,
                        const DatasetInfo *d, const PeakResult *peak, const RunRecord *runs, int n,
                        const SummaryRow *rows, int n_rows, sb_error *err) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sb_fail(err, SB_EIO, "%s: cannot create the results folder: %s", dir, strerror(errno));
    sb_status st;
    /* the CSVs and the summaries first, context.json (what finished) last */
    const char *id = run_id_of(o);
    if ((st = write_runs(dir, runs, n, o, m->cores, err)) || (st = write_threads(dir, runs, n, b->counters, id, err)) ||
        (st = write_groups_and_loss(dir, runs, n, id, err)) || (st = write_summary(dir, rows, n_rows, m, id, err)) ||
        (st = gbench_json_write(dir, m, runs, n, rows, n_rows, err)) ||
        (st = write_context(dir, m, o, b, d, peak, runs, n, err)))
        return st;
    return SB_OK;
}

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
