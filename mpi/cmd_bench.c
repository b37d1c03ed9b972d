/* cmd_bench.c - `bench`: the ping-pong, then every policy on the same batches, into a run folder.
 *
 * One mpirun is one rank count; `make bench-mpi` runs it for each NP into
 * OUT/np-R/. The configurations are flat, tree and allreduce, and flat and
 * tree again with computing controls (not with one rank, where there is no
 * control); each repetition runs every configuration once, in that order,
 * so slow drift hits all alike. Every run starts from the same fresh
 * parameters on the same batches. Rank 0 writes, all at once at the end
 * (safe_file_commit_all): context.json (model, options, the MPI library and
 * hosts), pingpong.csv, runs.csv (one row per run), ranks.csv (one per rank
 * per run) and threads.csv (one per thread per run, with host and rank). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/json_file.h"
#include "../core/model.h"
#include "../core/path.h"
#include "../core/safe_file.h"
#include "agree.h"
#include "commands.h"
#include "gather.h"
#include "mpi_output.h"
#include "mpi_run.h"
#include "pingpong.h"
#include "setup.h"
#include "sim.h"

enum { F_PINGPONG, F_RUNS, F_RANKS, F_THREADS, F_COUNT };
static const char *const file_names[F_COUNT] = {"pingpong.csv", "runs.csv", "ranks.csv", "threads.csv"};

typedef struct {
    Policy policy;
    int cc;
} BenchConfig;

static void csv_heads(FILE **f) {
    fprintf(f[F_PINGPONG], "peer,peer_host,bytes,iterations,round_trip_s,one_way_s,bandwidth_Bps\n");
    fprintf(f[F_RUNS], "rep,policy,controls_compute,ranks,threads,computing,batches,batches_per_step,steps,wall_s,"
                       "tokens_per_s,loss,comm_s_root,comm_s_max,comm_s_mean,bytes_total,params_agree\n");
    fprintf(f[F_RANKS], "rep,policy,controls_compute,host,rank,role,level,computes,threads,batches,wall_s,"
                        "process_cpu_s,threads_cpu_s,comm_s,bytes_sent,bytes_received,mpi_calls\n");
    fprintf(f[F_THREADS], "rep,policy,controls_compute,host,rank,thread,role,level,wall_s,cpu_s");
    for (int p = 0; p < PHASE_COUNT; p++) fprintf(f[F_THREADS], ",%s_s", phase_name((Phase)p));
    for (int p = 0; p < PHASE_COUNT; p++) fprintf(f[F_THREADS], ",%s_cpu_s", phase_name((Phase)p));
    fprintf(f[F_THREADS], ",batches\n");
}

static void csv_run(FILE **f, int rep, const BenchConfig *c, const MpiSetup *s, const RankPlan *plan, int bps,
                    const MpiRunOut *o, const Gathered *g) {
    const char *pol = policy_name(c->policy);
    double cmax = 0, csum = 0;
    uint64_t bytes = 0, batches = 0;
    for (int i = 0; i < g->n_ranks; i++) {
        const RankSummary *r = &g->ranks[i];
        if (r->comm_s > cmax) cmax = r->comm_s;
        csum += r->comm_s;
        bytes += r->sent;
        batches += r->batches;
        fprintf(f[F_RANKS], "%d,%s,%d,%s,%d,%s,%d,%d,%d,%llu,%.9g,%.9g,%.9g,%.9g,%llu,%llu,%llu\n", rep, pol, c->cc,
                r->host, r->rank, role_name(r->role), r->level, r->computes, r->n_threads,
                (unsigned long long)r->batches, r->wall_s, r->process_cpu_s, r->threads_cpu_s, r->comm_s,
                (unsigned long long)r->sent, (unsigned long long)r->received, (unsigned long long)r->calls);
    }
    double tokens = (double)batches * s->B * s->T;
    fprintf(f[F_RUNS], "%d,%s,%d,%d,%d,%d,%llu,%d,%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%llu,%d\n", rep, pol, c->cc,
            g->n_ranks, s->threads, plan->computing, (unsigned long long)batches, bps, o->res.steps, o->res.wall_s,
            o->res.wall_s > 0 ? tokens / o->res.wall_s : 0.0, (double)o->last_loss, g->ranks[0].comm_s, cmax,
            csum / g->n_ranks, (unsigned long long)bytes, g->params_agree);
    for (int i = 0; i < g->n_threads; i++) {
        const ThreadStats *t = &g->threads[i];
        const RankSummary *r = &g->ranks[g->thread_rank[i]];
        fprintf(f[F_THREADS], "%d,%s,%d,%s,%d,%d,%s,%d,%.9g,%.9g", rep, pol, c->cc, r->host, r->rank, t->id,
                role_name(t->role), t->level, t->wall_s, t->cpu_s);
        for (int p = 0; p < PHASE_COUNT; p++) fprintf(f[F_THREADS], ",%.9g", t->phase_wall[p]);
        for (int p = 0; p < PHASE_COUNT; p++) fprintf(f[F_THREADS], ",%.9g", t->phase_cpu[p]);
        fprintf(f[F_THREADS], ",%llu\n", (unsigned long long)t->batches);
    }
}

static sb_status write_context(const char *dir, const MpiSetup *s, int reps, const Gathered *g, size_t grad_bytes,
                               sb_error *err) {
    char path[SB_PATH_MAX];
    sb_status st = path_join(path, sizeof path, dir, "context.json", err);
    JsonFile jf;
    if (st || (st = json_file_open(&jf, path, "context JSON", 2, err))) return st;
    JsonWriter *w = &jf.w;
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_begin(w);
    json_kv_int(w, "schema", 1);
    json_kv_string(w, "program", "sphere-bench-mpi bench");
    json_kv_string(w, "date", date);
    json_kv_int(w, "ranks", g->n_ranks);
    json_kv_int(w, "threads_per_rank", s->threads);
    json_kv_int(w, "fanout", s->fanout);
    json_kv_int(w, "reps", reps);
    json_kv_string(w, "clock", sim_clock_name()); /* sim.h */
    json_kv_bool(w, "timing_mode", s->timing);
    json_kv_int(w, "batches", s->batches);
    json_kv_int(w, "first_batch", s->first);
    mpi_json_model_begin(w, s);
    json_kv_uint(w, "gradient_bytes", grad_bytes);
    json_object_end(w);
    mpi_json_context(w, g);
    json_object_end(w);
    return json_file_commit(&jf, err);
}

int mpi_cmd_bench(int argc, char **argv, int rank, int ranks) {
    static const CliOptSpec specs[] = {
        MPI_SETUP_OPTS,
        {"--out", 0, "DIR: the run folder to make (must not hold files)"},
        {"--reps", 0, "N: repetitions of every configuration (default 3)"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    sb_error err = {0};
    MpiSetup s = {.rank = rank, .ranks = ranks};
    const char *dir = NULL;
    long long reps = 3;
    SafeFile sf[F_COUNT];
    int opened = 0, rc = 1;
    float *params = NULL;
    sb_status st = cli_parse(&a, "bench", specs, 0, argc, argv, &err);
    if (!st && cli_flag(&a, "--help")) {
        if (rank == 0) cli_print_usage("bench", "--data TOKENS --out DIR [--threads K] [--reps N] [options]", specs);
        return 0;
    }
    if (!st) st = cli_require(&a, "--out", &dir, &err);
    if (!st) st = cli_get_long(&a, "--reps", 1, 1000, &reps, &err);
    if (!st) st = setup_from_args(&s, &a, &err);
    if (!st) st = setup_params(&s, &params, &err);
    if (!s.bps) s.bps = (long long)ranks * s.threads; /* one step size for every configuration */
    if (!st && rank == 0 && !(st = safe_dir_prepare(dir, &err))) {
        for (; opened < F_COUNT && !st; opened++) {
            char path[SB_PATH_MAX];
            if ((st = path_join(path, sizeof path, dir, file_names[opened], &err)) ||
                (st = safe_file_open(&sf[opened], path, file_names[opened], &err)))
                break;
        }
    }
    if ((st = mpi_agree(st, &err))) {
        rc = mpi_report_error("bench", &err, rank);
        goto out;
    }
    FILE *f[F_COUNT] = {0};
    if (rank == 0) {
        for (int i = 0; i < F_COUNT; i++) f[i] = sf[i].f;
        csv_heads(f);
    }
    size_t n = model_param_count(&s.model), grad_bytes = n * sizeof(float);
    /* the ping-pong: up to one gradient */
    size_t sizes[] = {8, 1024, 65536, grad_bytes};
    int n_sizes = grad_bytes > 65536 ? 4 : 3;
    PingPongRow *pp = rank == 0 ? calloc((size_t)(ranks > 1 ? ranks - 1 : 1) * 4, sizeof *pp) : NULL;
    if (rank == 0 && !pp) MPI_Abort(MPI_COMM_WORLD, 1);
    if ((st = mpi_agree(pingpong_run(sizes, n_sizes, rank, ranks, pp, &err), &err))) {
        free(pp);
        rc = mpi_report_error("bench", &err, rank);
        goto out;
    }
    if (rank == 0) printf("bench-mpi: %d ranks x %d threads, ping-pong done\n", ranks, s.threads);
    BenchConfig configs[] = {{POLICY_FLAT, 0}, {POLICY_TREE, 0}, {POLICY_ALLREDUCE, 0}, {POLICY_FLAT, 1}, {POLICY_TREE, 1}};
    int n_configs = ranks > 1 ? 5 : 3;
    Gathered last = {0};
    for (int rep = 0; rep < reps && !st; rep++)
        for (int c = 0; c < n_configs && !st; c++) {
            RankPlan plan;
            BatchSum *bs = NULL;
            MpiRunOut o;
            memset(&o, 0, sizeof o);
            st = rank_plan_build(&plan, configs[c].policy, ranks, s.fanout, configs[c].cc, &err);
            int bps = st ? 0 : setup_bps(&s, &plan);
            if (!st) st = setup_batch_sum(&s, &plan, bps, &bs, &err);
            if (!s.timing) model_init(params, &s.model, (unsigned long long)s.seed); /* timing: meaningless */
            if (!(st = mpi_agree(st, &err)))
                st = mpi_run(bs, &plan, rank, params, n, (uint64_t)s.first, (uint64_t)s.batches, bps, &o, &err);
            if (!st) {
                Gathered g;
                mpi_gather(&o, &plan, rank, params, n, &g, &err);
                if (rank == 0) {
                    csv_run(f, rep, &configs[c], &s, &plan, bps, &o, &g);
                    printf("  rep %d %-9s%s  %.3f s, rank 0 in MPI %.3f s, loss %.4f\n", rep + 1,
                           policy_name(configs[c].policy), configs[c].cc ? " (controls compute)" : "", o.res.wall_s,
                           g.ranks[0].comm_s, (double)o.last_loss);
                    fflush(stdout);
                }
                gathered_free(&last);
                last = g;
            }
            mpi_run_out_free(&o);
            if (bs) batch_sum_destroy(bs);
            rank_plan_free(&plan);
        }
    if (!st && rank == 0) {
        for (int i = 0; i < (ranks - 1) * n_sizes; i++) {
            const PingPongRow *r = &pp[i];
            double one = r->round_trip_s / 2;
            fprintf(f[F_PINGPONG], "%d,%s,%zu,%d,%.9g,%.9g,%.9g\n", r->peer, last.ranks[r->peer].host, r->bytes,
                    r->iterations, r->round_trip_s, one, one > 0 ? (double)r->bytes / one : 0.0);
        }
        if (!(st = write_context(dir, &s, (int)reps, &last, grad_bytes, &err)))
            st = safe_file_commit_all(sf, F_COUNT, 1, &err);
        opened = 0;
        if (!st) printf("wrote %s\n", dir);
    }
    free(pp);
    gathered_free(&last);
    st = mpi_agree(st, &err);
    rc = st ? mpi_report_error("bench", &err, rank) : 0;
out:
    for (int i = 0; i < opened && rank == 0; i++) safe_file_abort(&sf[i]);
    setup_free(&s);
    setup_params_free(params);
    return rc;
}
