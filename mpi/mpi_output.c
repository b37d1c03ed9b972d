/* mpi_output.c - the table, the context and the JSON of a run across ranks; see mpi_output.h. */
#include "mpi_output.h"

#include <mpi.h>
#include <string.h>

#include "../core/json_file.h"
#include "../bench/run_output.h"
#include "../core/model.h"

void mpi_library(char *lib, size_t cap, char *standard, size_t cap2) {
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0, major = 0, minor = 0;
    MPI_Get_library_version(v, &len);
    v[len < (int)sizeof v ? len : (int)sizeof v - 1] = '\0';
    v[strcspn(v, "\n")] = '\0';
    snprintf(lib, cap, "%s", v);
    MPI_Get_version(&major, &minor);
    snprintf(standard, cap2, "%d.%d", major, minor);
}

void mpi_print_table(FILE *f, const Gathered *g) {
    fprintf(f, "%4s  %-16s %-7s %3s %8s %8s %9s %9s %9s %12s %12s\n", "rank", "host", "role", "thr", "batches",
            "wall_s", "proc_cpu", "thr_cpu", "comm_s", "sent_B", "recv_B");
    for (int i = 0; i < g->n_ranks; i++) {
        const RankSummary *r = &g->ranks[i];
        fprintf(f, "%4d  %-16.16s %-7s %3d %8llu %8.3f %9.3f %9.3f %9.4f %12llu %12llu\n", r->rank, r->host,
                role_name(r->role), r->n_threads, (unsigned long long)r->batches, r->wall_s, r->process_cpu_s,
                r->threads_cpu_s, r->comm_s, (unsigned long long)r->sent, (unsigned long long)r->received);
    }
}

void mpi_json_context(JsonWriter *w, const Gathered *g) {
    char lib[256], std[16];
    mpi_library(lib, sizeof lib, std, sizeof std);
    json_key(w, "mpi");
    json_object_begin(w);
    json_kv_string(w, "library", lib);
    json_kv_string(w, "standard", std);
    json_key(w, "hosts");
    json_array_begin(w);
    for (int i = 0; i < g->n_ranks; i++) json_string(w, g->ranks[i].host);
    json_array_end(w);
    json_object_end(w);
}

void mpi_json_model_begin(JsonWriter *w, const MpiSetup *s) {
    json_key(w, "model");
    json_object_begin(w);
    run_json_model_fields(w, &s->model, s->B);
}

void mpi_json_thread_row(JsonWriter *w, const Gathered *g, int i) {
    const ThreadStats *t = &g->threads[i];
    json_object_begin(w);
    json_kv_string(w, "host", g->ranks[g->thread_rank[i]].host);
    json_kv_int(w, "rank", g->thread_rank[i]);
    run_json_thread_fields(w, t);
    json_object_end(w);
}

sb_status mpi_train_json_write(const char *path, const MpiSetup *s, const MpiRunSummary *r, const Gathered *g,
                               sb_error *err) {
    JsonFile jf;
    sb_status st = json_file_open(&jf, path, "run JSON", 2, err);
    if (st) return st;
    JsonWriter *w = &jf.w;
    uint64_t batches = 0;
    for (int i = 0; i < g->n_ranks; i++) batches += g->ranks[i].batches;
    uint64_t tokens = batches * (uint64_t)s->B * (uint64_t)s->T;
    json_object_begin(w);
    json_kv_int(w, "schema", 1);
    json_kv_string(w, "program", "sphere-bench-mpi");
    json_kv_string(w, "policy", policy_name(r->policy));
    json_kv_int(w, "ranks", g->n_ranks);
    json_kv_int(w, "threads_per_rank", s->threads);
    json_kv_bool(w, "controls_compute", r->controls_compute);
    json_kv_int(w, "fanout", s->fanout);
    mpi_json_model_begin(w, s);
    json_object_end(w);
    json_kv_uint(w, "batches", batches);
    json_kv_int(w, "batches_per_step", r->bps);
    json_kv_int(w, "steps", r->steps);
    json_kv_uint(w, "tokens", tokens);
    json_kv_double(w, "wall_s", r->wall_s);
    json_kv_double(w, "tokens_per_s", r->wall_s > 0 ? (double)tokens / r->wall_s : 0.0);
    json_kv_float(w, "loss", r->loss);
    json_kv_bool(w, "params_agree", g->params_agree);
    json_key(w, "step_loss");
    json_array_begin(w);
    for (long i = 0; i < r->steps; i++) json_float(w, r->step_loss[i]);
    json_array_end(w);
    mpi_json_context(w, g);
    json_key(w, "per_rank");
    json_array_begin(w);
    for (int i = 0; i < g->n_ranks; i++) {
        const RankSummary *k = &g->ranks[i];
        json_object_begin(w);
        json_kv_int(w, "rank", k->rank);
        json_kv_string(w, "host", k->host);
        json_kv_string(w, "role", role_name(k->role));
        json_kv_int(w, "level", k->level);
        json_kv_bool(w, "computes", k->computes);
        json_kv_int(w, "threads", k->n_threads);
        json_kv_uint(w, "batches", k->batches);
        json_kv_double(w, "wall_s", k->wall_s);
        json_kv_double(w, "process_cpu_s", k->process_cpu_s);
        json_kv_double(w, "threads_cpu_s", k->threads_cpu_s);
        json_kv_double(w, "comm_s", k->comm_s);
        json_kv_uint(w, "bytes_sent", k->sent);
        json_kv_uint(w, "bytes_received", k->received);
        json_kv_uint(w, "mpi_calls", k->calls);
        json_object_end(w);
    }
    json_array_end(w);
    json_key(w, "per_thread");
    json_array_begin(w);
    for (int i = 0; i < g->n_threads; i++) mpi_json_thread_row(w, g, i);
    json_array_end(w);
    json_object_end(w);
    return json_file_commit(&jf, err);
}
