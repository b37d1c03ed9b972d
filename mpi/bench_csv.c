/* bench_csv.c - the MPI bench's CSV files; see bench_csv.h. */
#include "bench_csv.h"

#include "../bench/run_output.h"

const char *const mpi_bench_files[F_COUNT] = {"pingpong.csv", "runs.csv", "ranks.csv", "threads.csv"};

void mpi_csv_heads(CsvWriter *w) {
    csv_names(&w[F_PINGPONG], "peer,peer_host,bytes,iterations,round_trip_s,one_way_s,bandwidth_Bps,run_id");
    csv_names(&w[F_RUNS], "rep,policy,controls_compute,ranks,threads,computing,batches,batches_per_step,steps,wall_s,"
                          "tokens_per_s,loss,comm_s_root,comm_s_max,comm_s_mean,bytes_total,params_agree,run_id");
    csv_names(&w[F_RANKS], "rep,policy,controls_compute,host,rank,role,level,computes,threads,batches,wall_s,"
                           "process_cpu_s,threads_cpu_s,comm_s,bytes_sent,bytes_received,mpi_calls,run_id");
    csv_names(&w[F_THREADS], "rep,policy,controls_compute,host,rank,thread,role,level,wall_s,cpu_s");
    run_csv_phase_names(&w[F_THREADS]);
    csv_names(&w[F_THREADS], "batches,run_id");
    for (int i = 0; i < F_COUNT; i++) csv_row_end(&w[i]);
}

/* rep, policy, controls_compute, and the rank's host and number: every ranks and threads row begins so. */
static void config_fields(CsvWriter *w, int rep, const BenchConfig *c) {
    csv_int(w, rep);
    csv_str(w, policy_name(c->policy));
    csv_int(w, c->controls_compute);
}

static void rank_row(CsvWriter *w, int rep, const BenchConfig *c, const RankSummary *r, const char *run_id) {
    config_fields(w, rep, c);
    csv_str(w, r->host);
    csv_int(w, r->rank);
    csv_str(w, role_name(r->role));
    csv_int(w, r->level);
    csv_int(w, r->computes);
    csv_int(w, r->n_threads);
    csv_uint(w, r->batches);
    csv_double(w, r->wall_s);
    csv_double(w, r->process_cpu_s);
    csv_double(w, r->threads_cpu_s);
    csv_double(w, r->comm_s);
    csv_uint(w, r->sent);
    csv_uint(w, r->received);
    csv_uint(w, r->calls);
    csv_str(w, run_id);
    csv_row_end(w);
}

static void thread_row(CsvWriter *w, int rep, const BenchConfig *c, const Gathered *g, int i, const char *run_id) {
    const ThreadStats *t = &g->threads[i];
    const RankSummary *r = &g->ranks[g->thread_rank[i]];
    config_fields(w, rep, c);
    csv_str(w, r->host);
    csv_int(w, r->rank);
    csv_int(w, t->id);
    csv_str(w, role_name(t->role));
    csv_int(w, t->level);
    csv_double(w, t->wall_s);
    csv_double(w, t->cpu_s);
    run_csv_phase_fields(w, t);
    csv_uint(w, t->batches);
    csv_str(w, run_id);
    csv_row_end(w);
}

/* The run's line: its totals over the ranks. */
static void run_row(CsvWriter *w, int rep, const BenchConfig *c, const MpiSetup *s, const RankPlan *plan, int bps,
                    const MpiRunOut *o, const Gathered *g, const char *run_id) {
    double cmax = 0, csum = 0;
    uint64_t bytes = 0, batches = 0;
    for (int i = 0; i < g->n_ranks; i++) {
        const RankSummary *r = &g->ranks[i];
        if (r->comm_s > cmax) cmax = r->comm_s;
        csum += r->comm_s;
        bytes += r->sent;
        batches += r->batches;
    }
    double tokens = (double)batches * s->B * s->T;
    config_fields(w, rep, c);
    csv_int(w, g->n_ranks);
    csv_int(w, s->threads);
    csv_int(w, plan->computing);
    csv_uint(w, batches);
    csv_int(w, bps);
    csv_int(w, o->res.steps);
    csv_double(w, o->res.wall_s);
    csv_double(w, o->res.wall_s > 0 ? tokens / o->res.wall_s : 0.0);
    csv_float(w, o->last_loss);
    csv_double(w, g->ranks[0].comm_s);
    csv_double(w, cmax);
    csv_double(w, csum / g->n_ranks);
    csv_uint(w, bytes);
    csv_int(w, g->params_agree);
    csv_str(w, run_id);
    csv_row_end(w);
}

void mpi_csv_run(CsvWriter *w, int rep, const BenchConfig *c, const MpiSetup *s, const RankPlan *plan, int bps,
                 const MpiRunOut *o, const Gathered *g, const char *run_id) {
    for (int i = 0; i < g->n_ranks; i++) rank_row(&w[F_RANKS], rep, c, &g->ranks[i], run_id);
    run_row(&w[F_RUNS], rep, c, s, plan, bps, o, g, run_id);
    for (int i = 0; i < g->n_threads; i++) thread_row(&w[F_THREADS], rep, c, g, i, run_id);
}

void mpi_csv_pingpong(CsvWriter *w, const PingPongRow *rows, int n, const Gathered *g, const char *run_id) {
    for (int i = 0; i < n; i++) {
        const PingPongRow *r = &rows[i];
        double one = r->round_trip_s / 2;
        csv_int(&w[F_PINGPONG], r->peer);
        csv_str(&w[F_PINGPONG], g->ranks[r->peer].host);
        csv_uint(&w[F_PINGPONG], r->bytes);
        csv_int(&w[F_PINGPONG], r->iterations);
        csv_double(&w[F_PINGPONG], r->round_trip_s);
        csv_double(&w[F_PINGPONG], one);
        csv_double(&w[F_PINGPONG], one > 0 ? (double)r->bytes / one : 0.0);
        csv_str(&w[F_PINGPONG], run_id);
        csv_row_end(&w[F_PINGPONG]);
    }
}
