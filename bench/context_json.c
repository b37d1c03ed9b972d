/* context_json.c - context.json: what a run folder's figures were measured on and with; see results.h.
 *
 *   {"schema", "run_id", "complete", "stopped_by", "runs_planned", "runs_finished",
 *    "finished": [{"kind", "variant", "route", "threads", "rep", "batch_tokens"}],
 *    the machine's fields and its noise figures (machine.h),
 *    "model": {"preset", ...}, "dataset": {...}, "options": {..., "full_runs": {...}},
 *    "trainers": [{"name", "summary", "min_threads", "routes": [...]}],
 *    "peak": {...} or null, "counters": [{"event", ..., "usable", "why"}]}
 * "trainers" lists the trainers the plan runs, serial included, in registry
 * order, from their Variant fields (routes: [] for a trainer that routes
 * nothing), so the report can describe them without naming them. */
#include "../core/model.h"
#include "results.h"
#include "run_output.h"

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
        json_kv_string(w, "route", run_route_name(&runs[i].spec));
        json_kv_int(w, "threads", runs[i].spec.threads);
        json_kv_int(w, "rep", runs[i].spec.rep);
        json_kv_int(w, "batch_tokens", runs[i].spec.B * runs[i].spec.T);
        json_object_end(w);
    }
    json_array_end(w);
}

/* The trainers the plan runs, in registry order, each described by its Variant. */
static void write_trainers(JsonWriter *w, const BenchOptions *o) {
    json_array_begin(w);
    for (int i = 0; i < o->n_trainers; i++) {
        const Variant *v = o->trainers[i];
        json_object_begin(w);
        json_kv_string(w, "name", v->name);
        json_kv_string(w, "summary", v->summary);
        json_kv_int(w, "min_threads", v->min_threads);
        json_key(w, "routes");
        json_array_begin(w);
        for (int k = 0; v->routes && v->routes[k]; k++) json_string(w, v->routes[k]);
        json_array_end(w);
        json_object_end(w);
    }
    json_array_end(w);
}

/* The run as a whole: its id, whether it finished and which runs did. */
static void write_status(JsonWriter *w, const BenchOptions *o, const RunRecord *runs, int n) {
    json_kv_string(w, "run_id", results_run_id(o));
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
}

static void write_machine(JsonWriter *w, const MachineInfo *m) {
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
}

sb_status context_json_write(const char *dir, const MachineInfo *m, const BenchOptions *o, const BenchSetup *b,
                             const DatasetInfo *d, const PeakResult *peak, const RunRecord *runs, int n,
                             sb_error *err) {
    char path[SB_PATH_MAX];
    JsonFile jf;
    sb_status st = results_open_json(&jf, path, dir, "context.json", "context JSON", err);
    if (st) return st;
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_kv_int(w, "schema", RESULTS_SCHEMA);
    write_status(w, o, runs, n);
    write_machine(w, m);
    json_key(w, "model");
    write_model(w, o, &b->model);
    json_key(w, "dataset");
    write_dataset(w, d, b->data);
    json_key(w, "options");
    write_options(w, o, b);
    json_key(w, "trainers");
    write_trainers(w, o);
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
