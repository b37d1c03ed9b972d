/* run_csv.c - the run folder's CSV files: runs, threads, groups, loss; see results.h.
 *
 * One function per file, each a header line then one row per run (per
 * thread, group or step), through the one CSV writer (csv.h). The first
 * columns name the run's configuration the same way in every file. */
#include <math.h>

#include "csv.h"
#include "results.h"
#include "run_output.h"

/* kind, variant, route, threads, rep: the first columns of every file. */
#define RUN_COLUMNS "kind,variant,route,threads,rep"

static void run_fields(CsvWriter *w, const RunSpec *s) {
    csv_str(w, run_kind_name(s->kind));
    csv_str(w, s->variant->name);
    csv_str(w, run_route_name(s));
    csv_int(w, s->threads);
    csv_int(w, s->rep);
}

/* Every thread's CPU time together (r->threads: res's own arrays are the trainer's, gone by now). */
static double threads_cpu(const RunRecord *r) {
    double s = 0.0;
    for (int t = 0; t < r->res.n_threads; t++) s += r->threads[t].cpu_s;
    return s;
}

static void runs_row(CsvWriter *w, const RunRecord *r, const BenchOptions *o, int cores, const char *id) {
    const RunSpec *s = &r->spec;
    run_fields(w, s);
    csv_int(w, s->B);
    csv_int(w, s->T);
    csv_int(w, s->B * s->T);
    csv_uint(w, r->res.batches);
    csv_int(w, r->res.batches_per_step);
    csv_int(w, r->res.steps);
    csv_uint(w, r->res.tokens);
    csv_double(w, r->res.wall_s);
    csv_double(w, r->tokens_per_s);
    csv_float(w, r->res.last_loss);
    csv_double(w, r->res.process_cpu_s);
    csv_double(w, threads_cpu(r));
    csv_double(w, r->control_cpu_s);
    csv_double(w, r->controls_cpu_s);
    csv_double(w, r->mean_worker_cpu_s);
    csv_double(w, r->max_worker_cpu_s);
    csv_double(w, r->imbalance);
    csv_double(w, r->utilisation);
    csv_int(w, r->n_workers);
    csv_int(w, cores);
    csv_int(w, s->threads > cores);
    csv_int(w, o->pin);
    csv_float(w, r->target_loss > 0.0f ? r->target_loss : NAN);
    csv_double(w, r->time_to_target_s);
    csv_str(w, id);
    csv_row_end(w);
}

sb_status runs_csv_write(const char *dir, const RunRecord *runs, int n, const BenchOptions *o, int cores,
                         sb_error *err) {
    CsvFile cf;
    sb_status st = results_open_csv(&cf, dir, "runs.csv", "runs CSV", err);
    if (st) return st;
    CsvWriter *w = &cf.w;
    csv_names(w, RUN_COLUMNS ",B,T,batch_tokens,batches,batches_per_step,steps,tokens,wall_s,tokens_per_s,loss,"
                  "process_cpu_s,threads_cpu_s,control_cpu_s,controls_cpu_s,mean_worker_cpu_s,max_worker_cpu_s,"
                  "imbalance,utilisation,workers,cores,oversubscribed,pinned,target_loss,time_to_target_s,run_id");
    csv_row_end(w);
    for (int i = 0; i < n; i++) runs_row(w, &runs[i], o, cores, results_run_id(o));
    return safe_file_commit(&cf.sf, 1, err);
}

static void threads_header(CsvWriter *w, const CounterSet *cs) {
    char name[160];
    csv_names(w, RUN_COLUMNS ",batch_tokens,thread,role,level,cpu_s,wall_s");
    run_csv_phase_names(w);
    csv_names(w, "batches");
    for (int e = 0; cs && e < cs->n; e++) {
        csv_str(w, cs->ev[e].name);
        snprintf(name, sizeof name, "%s_status", cs->ev[e].name);
        csv_str(w, name);
        snprintf(name, sizeof name, "%s_running", cs->ev[e].name);
        csv_str(w, name);
    }
    csv_names(w, "run_id");
    csv_row_end(w);
}

/* Thread t's counters: value, status and running ratio per event (NaN where not counted). */
static void counter_fields(CsvWriter *w, const RunRecord *r, int t, const CounterSet *cs) {
    const ThreadCounters *tc = r->counters ? &r->counters[t] : NULL;
    for (int e = 0; cs && e < cs->n; e++) {
        int ok = tc && cs->ev[e].usable && tc->ok[e];
        csv_double(w, ok ? tc->value[e] : NAN);
        csv_str(w, tc ? counters_status(cs, tc, e) : "unsupported");
        csv_double(w, ok ? tc->running_ratio[e] : NAN);
    }
}

static void threads_row(CsvWriter *w, const RunRecord *r, int t, const CounterSet *cs, const char *id) {
    const ThreadStats *s = &r->threads[t];
    run_fields(w, &r->spec);
    csv_int(w, r->spec.B * r->spec.T);
    csv_int(w, s->id);
    csv_str(w, role_name(s->role));
    csv_int(w, s->level);
    csv_double(w, s->cpu_s);
    csv_double(w, s->wall_s);
    run_csv_phase_fields(w, s);
    csv_uint(w, s->batches);
    counter_fields(w, r, t, cs);
    csv_str(w, id);
    csv_row_end(w);
}

sb_status threads_csv_write(const char *dir, const RunRecord *runs, int n, const CounterSet *cs, const char *id,
                            sb_error *err) {
    CsvFile cf;
    sb_status st = results_open_csv(&cf, dir, "threads.csv", "threads CSV", err);
    if (st) return st;
    CsvWriter *w = &cf.w;
    threads_header(w, cs);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < runs[i].res.n_threads; t++) threads_row(w, &runs[i], t, cs, id);
    return safe_file_commit(&cf.sf, 1, err);
}

sb_status groups_csv_write(const char *dir, const RunRecord *runs, int n, const char *id, sb_error *err) {
    CsvFile cf;
    sb_status st = results_open_csv(&cf, dir, "groups.csv", "groups CSV", err);
    if (st) return st;
    CsvWriter *w = &cf.w;
    /* batch_tokens tells the tokens-per-batch sweep's runs apart (same kind, threads and rep) */
    csv_names(w, RUN_COLUMNS ",batch_tokens,group,batches,run_id");
    csv_row_end(w);
    for (int i = 0; i < n; i++)
        for (int g = 0; g < runs[i].res.n_groups; g++) {
            run_fields(w, &runs[i].spec);
            csv_int(w, runs[i].spec.B * runs[i].spec.T);
            csv_int(w, g);
            csv_uint(w, runs[i].group_batches[g]);
            csv_str(w, id);
            csv_row_end(w);
        }
    return safe_file_commit(&cf.sf, 1, err);
}

/* Run r's loss curve: one row per step, with the tokens trained so far. */
static void loss_rows(CsvWriter *w, const RunRecord *r, const char *id) {
    uint64_t per_step = (uint64_t)r->res.batches_per_step * (uint64_t)(r->spec.B * r->spec.T);
    for (long s = 0; s < r->res.steps; s++) {
        uint64_t tokens = (uint64_t)(s + 1) * per_step;
        run_fields(w, &r->spec);
        csv_int(w, r->spec.B * r->spec.T);
        csv_int(w, s + 1);
        csv_uint(w, tokens > r->res.tokens ? r->res.tokens : tokens);
        csv_float(w, r->step_loss[s]);
        csv_str(w, id);
        csv_row_end(w);
    }
}

sb_status loss_csv_write(const char *dir, const RunRecord *runs, int n, const char *id, sb_error *err) {
    CsvFile cf;
    sb_status st = results_open_csv(&cf, dir, "loss.csv", "loss CSV", err);
    if (st) return st;
    CsvWriter *w = &cf.w;
    csv_names(w, RUN_COLUMNS ",batch_tokens,step,tokens,loss,run_id");
    csv_row_end(w);
    for (int i = 0; i < n; i++) loss_rows(w, &runs[i], id);
    return safe_file_commit(&cf.sf, 1, err);
}
