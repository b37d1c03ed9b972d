/* run_output.c - the per-thread table and the run JSON; see run_output.h.
 * The JSON is written through safe_file.h (a temporary renamed into place). */
#include "run_output.h"

#include "../core/safe_file.h"

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

static void json_thread(FILE *f, const ThreadStats *t) {
    fprintf(f, "{\"id\": %d, \"role\": \"%s\", \"level\": %d, \"cpu_s\": %.6f, \"wall_s\": %.6f", t->id,
            role_name(t->role), t->level, t->cpu_s, t->wall_s);
    for (int p = 0; p < PHASE_COUNT; p++) fprintf(f, ", \"%s_s\": %.6f", phase_name((Phase)p), t->phase_wall[p]);
    for (int p = 0; p < PHASE_COUNT; p++) fprintf(f, ", \"%s_cpu_s\": %.6f", phase_name((Phase)p), t->phase_cpu[p]);
    fprintf(f, ", \"batches\": %llu}", (unsigned long long)t->batches);
}

sb_status run_json_write(const char *path, const char *variant, const RunResult *r, sb_error *err) {
    SafeFile sf;
    sb_status st = safe_file_open(&sf, path, "run JSON", err);
    if (st != SB_OK) return st;
    FILE *f = sf.f;
    fprintf(f, "{\"schema\": %d, \"variant\": \"%s\", \"threads\": %d, \"batches\": %llu, \"batches_per_step\": %d, "
               "\"steps\": %ld, \"tokens\": %llu, \"wall_s\": %.6f, \"tokens_per_s\": %.3f, \"loss\": %.6f, "
               "\"process_cpu_s\": %.6f, \"threads_cpu_s\": %.6f,\n",
            RUN_JSON_SCHEMA, variant, r->n_threads, (unsigned long long)r->batches, r->batches_per_step, r->steps,
            (unsigned long long)r->tokens, r->wall_s, r->wall_s > 0 ? (double)r->tokens / r->wall_s : 0.0,
            r->last_loss, r->process_cpu_s, run_threads_cpu(r));
    fprintf(f, " \"step_loss\": [");
    for (long s = 0; s < r->steps; s++) fprintf(f, "%s%.6f", s ? ", " : "", r->step_loss[s]);
    fprintf(f, "],\n \"group_batches\": [");
    for (int g = 0; g < r->n_groups; g++) fprintf(f, "%s%llu", g ? ", " : "", (unsigned long long)r->group_batches[g]);
    fprintf(f, "],\n \"per_thread\": [\n");
    for (int i = 0; i < r->n_threads; i++) {
        fprintf(f, "  ");
        json_thread(f, &r->threads[i]);
        fprintf(f, "%s\n", i + 1 < r->n_threads ? "," : "");
    }
    fprintf(f, " ]}\n");
    return safe_file_commit(&sf, 1, err); /* checks the stream's error flag */
}
