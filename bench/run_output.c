/* run_output.c - the per-thread table and the run JSON; see run_output.h.
 * The JSON is written through core/json_file.h (a temporary renamed into place). */
#include "run_output.h"

#include <math.h>

#include "../core/json_file.h"
#include "../core/model.h"

double run_threads_cpu(const RunResult *r) {
    double s = 0.0;
    for (int i = 0; i < r->n_threads; i++) s += r->threads[i].cpu_s;
    return s;
}

void run_print_table(FILE *f, const char *variant, const RunResult *r) {
    fprintf(f, "\n%s: %d threads, per thread (seconds; phases are wall time, cpu is the thread's CPU time)\n",
            variant, r->n_threads);
    fprintf(f, "%6s %-8s %5s %9s %9s %9s %9s %9s %9s %9s %8s\n", "thread", "role", "level", "cpu", "wall", "compute",
            "reduce", "optimizer", "dispatch", "wait", "batches");
    double wcpu = 0.0;
    int nw = 0;
    for (int i = 0; i < r->n_threads; i++) {
        const ThreadStats *t = &r->threads[i];
        fprintf(f, "%6d %-8s %5d %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %8llu\n", t->id, role_name(t->role),
                t->level, t->cpu_s, t->wall_s, t->phase_wall[PHASE_COMPUTE], t->phase_wall[PHASE_REDUCE],
                t->phase_wall[PHASE_OPTIMIZER], t->phase_wall[PHASE_DISPATCH], t->phase_wall[PHASE_WAIT],
                (unsigned long long)t->batches);
        if (t->role == ROLE_WORKER) {
            wcpu += t->cpu_s;
            nw++;
        }
    }
    double tcpu = run_threads_cpu(r);
    fprintf(f, "threads' CPU %.3f s, process CPU %.3f s (getrusage) over %.3f s wall\n", tcpu, r->process_cpu_s,
            r->wall_s);
    if (nw && r->threads[0].role == ROLE_CONTROL && wcpu > 0)
        fprintf(f, "control CPU : mean worker CPU = %.3f : %.3f = 1 : %.2f\n", r->threads[0].cpu_s, wcpu / nw,
                (wcpu / nw) / (r->threads[0].cpu_s > 0 ? r->threads[0].cpu_s : 1e-12));
    if (r->n_groups) {
        fprintf(f, "batches per group:");
        for (int g = 0; g < r->n_groups; g++) fprintf(f, " %llu", (unsigned long long)r->group_batches[g]);
        fprintf(f, "\n");
    }
}

void run_json_thread_fields(JsonWriter *w, const ThreadStats *t) {
    char key[32];
    json_kv_int(w, "id", t->id);
    json_kv_string(w, "role", role_name(t->role));
    json_kv_int(w, "level", t->level);
    json_kv_double(w, "cpu_s", t->cpu_s);
    json_kv_double(w, "wall_s", t->wall_s);
    for (int p = 0; p < PHASE_COUNT; p++) {
        snprintf(key, sizeof key, "%s_s", phase_name((Phase)p));
        json_kv_double(w, key, t->phase_wall[p]);
    }
    for (int p = 0; p < PHASE_COUNT; p++) {
        snprintf(key, sizeof key, "%s_cpu_s", phase_name((Phase)p));
        json_kv_double(w, key, t->phase_cpu[p]);
    }
    json_kv_uint(w, "batches", t->batches);
}

void run_csv_phase_names(CsvWriter *w) {
    char name[64];
    for (int p = 0; p < PHASE_COUNT; p++) {
        snprintf(name, sizeof name, "%s_s", phase_name((Phase)p));
        csv_str(w, name);
    }
    for (int p = 0; p < PHASE_COUNT; p++) {
        snprintf(name, sizeof name, "%s_cpu_s", phase_name((Phase)p));
        csv_str(w, name);
    }
}

void run_csv_phase_fields(CsvWriter *w, const ThreadStats *t) {
    for (int p = 0; p < PHASE_COUNT; p++) csv_double(w, t->phase_wall[p]);
    for (int p = 0; p < PHASE_COUNT; p++) csv_double(w, t->phase_cpu[p]);
}

static void json_thread(JsonWriter *w, const ThreadStats *t) {
    json_object_begin(w);
    run_json_thread_fields(w, t);
    json_object_end(w);
}

void run_json_model_fields(JsonWriter *w, const ModelConfig *c, int B) {
    json_kv_int(w, "V", c->V);
    json_kv_int(w, "T", c->T);
    json_kv_int(w, "D", c->D);
    json_kv_int(w, "L", c->L);
    json_kv_int(w, "H", c->H);
    json_kv_int(w, "B", B);
    json_kv_uint(w, "params", model_param_count(c));
    json_kv_double(w, "flops_per_token", model_flops_per_token(c, c->T));
}

sb_status run_json_write(const char *path, const char *variant, const ModelConfig *model, int B, const RunResult *r,
                         sb_error *err) {
    JsonFile jf;
    sb_status st = json_file_open(&jf, path, "run JSON", 2, err);
    if (st != SB_OK) return st;
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_kv_int(w, "schema", RUN_JSON_SCHEMA);
    json_kv_string(w, "variant", variant);
    json_key(w, "model");
    json_object_begin(w);
    run_json_model_fields(w, model, B);
    json_object_end(w);
    json_kv_int(w, "threads", r->n_threads);
    json_kv_uint(w, "batches", r->batches);
    json_kv_int(w, "batches_per_step", r->batches_per_step);
    json_kv_int(w, "steps", r->steps);
    json_kv_uint(w, "tokens", r->tokens);
    json_kv_double(w, "wall_s", r->wall_s);
    json_kv_double(w, "tokens_per_s", r->wall_s > 0 ? (double)r->tokens / r->wall_s : NAN);
    json_kv_float(w, "loss", r->last_loss);
    json_kv_double(w, "process_cpu_s", r->process_cpu_s);
    json_kv_double(w, "threads_cpu_s", run_threads_cpu(r));
    json_key(w, "step_loss");
    json_array_begin(w);
    for (long s = 0; s < r->steps; s++) json_float(w, r->step_loss[s]);
    json_array_end(w);
    json_key(w, "group_batches");
    json_array_begin(w);
    for (int g = 0; g < r->n_groups; g++) json_uint(w, r->group_batches[g]);
    json_array_end(w);
    json_key(w, "per_thread");
    json_array_begin(w);
    for (int i = 0; i < r->n_threads; i++) json_thread(w, &r->threads[i]);
    json_array_end(w);
    json_object_end(w);
    return json_file_commit(&jf, err);
}
