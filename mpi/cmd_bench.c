/* cmd_bench.c - `bench`: the ping-pong, then every policy on the same batches, into a run folder.
 *
 * One mpirun is one rank count; `make bench-mpi` runs it for each NP into
 * OUT/np-R/. The configurations are flat, tree and allreduce, and flat and
 * tree again with computing controls (not with one rank, where there is no
 * control); each repetition runs every configuration once, in that order,
 * so slow drift hits all alike. Every run starts from the same fresh
 * parameters on the same batches. Rank 0 writes, all at once at the end
 * (safe_file_commit_all): context.json (model, options, the MPI library and
 * hosts) and the CSV files of bench_csv.h.
 *
 * The stages, in order, each collective and ending with the ranks agreeing
 * on errors (mpi/agree.h), so a failure on one rank stops them all:
 *   read_options  the command line, the data and fresh parameters (every rank)
 *   open_files    rank 0: the run folder and its files' temporaries, headers
 *   ping_pong     latency and bandwidth between rank 0 and every other rank
 *   run_configs   every repetition of every configuration (run_config each)
 *   write_files   rank 0: the ping-pong rows, context.json, every file committed */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/json_file.h"
#include "../core/model.h"
#include "../core/path.h"
#include "../core/safe_file.h"
#include "agree.h"
#include "bench_csv.h"
#include "commands.h"
#include "consensus.h"
#include "mpi_output.h"
#include "mpi_run.h"
#include "setup.h"
#include "sim.h"

static const CliOptSpec specs[] = {
    MPI_SETUP_OPTS,
    {"--out", 0, "DIR: the run folder to make (must not hold files)"},
    {"--reps", 0, "N: repetitions of every configuration (default 3)"},
    {"--help", 1, "print this"},
    {NULL, 0, NULL},
};

static const BenchConfig configs[] = {
    {POLICY_FLAT, 0}, {POLICY_TREE, 0}, {POLICY_ALLREDUCE, 0}, {POLICY_FLAT, 1}, {POLICY_TREE, 1},
};

typedef struct {
    MpiSetup s;
    const char *dir;
    long long reps;
    float *params;
    size_t n_params, grad_bytes;
    SafeFile sf[F_COUNT]; /* rank 0's files, opened[0 .. opened) */
    CsvWriter csv[F_COUNT];
    int opened;
    size_t sizes[4];      /* the ping-pong's message sizes: up to one gradient */
    int n_sizes;
    PingPongRow *pp;      /* rank 0: (ranks - 1) x n_sizes */
    Gathered last;        /* rank 0: the last run's rows (the hosts, for pingpong.csv and context.json) */
    OutputLock lock;      /* rank 0: the run folder's */
    char run_id[64];      /* rank 0: DATE-npR-PID, in every file of the folder */
} MpiBench;

/* The options, the data and fresh parameters, on every rank. */
static sb_status read_options(MpiBench *b, const CliArgs *a, sb_error *err) {
    sb_status st;
    if ((st = cli_require(a, "--out", &b->dir, err)) || (st = cli_get_long(a, "--reps", 1, 1000, &b->reps, err)) ||
        (st = setup_from_args(&b->s, a, err)) || (st = setup_params(&b->s, &b->params, err)))
        return st;
    if (!b->s.bps) b->s.bps = (long long)b->s.ranks * b->s.threads; /* one step size for every configuration */
    b->n_params = model_param_count(&b->s.model);
    b->grad_bytes = b->n_params * sizeof(float);
    return SB_OK;
}

/* Rank 0: the run folder, its files' temporaries and their header lines. */
static sb_status open_files(MpiBench *b, sb_error *err) {
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", gmtime(&now));
    snprintf(b->run_id, sizeof b->run_id, "%s-np%d-%ld", date, b->s.ranks, (long)getpid());
    sb_status st = safe_dir_prepare_locked(b->dir, &b->lock, err); /* held to the end: one writer */
    for (; !st && b->opened < F_COUNT; b->opened++) {
        char path[SB_PATH_MAX];
        if ((st = path_join(path, sizeof path, b->dir, mpi_bench_files[b->opened], err)) ||
            (st = safe_file_open(&b->sf[b->opened], path, mpi_bench_files[b->opened], err)))
            return st;
        csv_init(&b->csv[b->opened], b->sf[b->opened].f);
    }
    if (!st) mpi_csv_heads(b->csv);
    return st;
}

/* Latency and bandwidth at 8 B, 1 KB, 64 KB and one gradient (when larger). */
static sb_status ping_pong(MpiBench *b, sb_error *err) {
    size_t sizes[] = {8, 1024, 65536, b->grad_bytes};
    memcpy(b->sizes, sizes, sizeof sizes);
    b->n_sizes = b->grad_bytes > 65536 ? 4 : 3;
    if (b->s.rank == 0 && !(b->pp = calloc((size_t)(b->s.ranks > 1 ? b->s.ranks - 1 : 1) * 4, sizeof *b->pp)))
        MPI_Abort(MPI_COMM_WORLD, 1);
    sb_status st = mpi_agree(pingpong_run(b->sizes, b->n_sizes, b->s.rank, b->s.ranks, b->pp, err), err);
    if (!st && b->s.rank == 0) printf("bench-mpi: %d ranks x %d threads, ping-pong done\n", b->s.ranks, b->s.threads);
    return st;
}

/* Rank 0's account of one run: its rows and one line on stdout; the rows kept as the last. */
static void record_run(MpiBench *b, int rep, const BenchConfig *c, const RankPlan *plan, int bps,
                       const MpiRunOut *o, Gathered *g) {
    if (b->s.rank == 0) {
        mpi_csv_run(b->csv, rep, c, &b->s, plan, bps, o, g, b->run_id);
        printf("  rep %d %-9s%s  %.3f s, rank 0 in MPI %.3f s, loss %.4f\n", rep + 1, policy_name(c->policy),
               c->controls_compute ? " (controls compute)" : "", o->res.wall_s, g->ranks[0].comm_s,
               (double)o->last_loss);
        fflush(stdout);
    }
    gathered_free(&b->last);
    b->last = *g;
}

/* One configuration from fresh parameters: its plan, this rank's BatchSum, the run, its rows. */
static sb_status run_config(MpiBench *b, int rep, const BenchConfig *c, sb_error *err) {
    RankPlan plan;
    BatchSum *bs = NULL;
    MpiRunOut o;
    memset(&o, 0, sizeof o);
    sb_status st = rank_plan_build(&plan, c->policy, b->s.ranks, b->s.fanout, c->controls_compute, err);
    int bps = st ? 0 : setup_bps(&b->s, &plan);
    if (!st) st = setup_batch_sum(&b->s, &plan, bps, &bs, err);
    if (!b->s.timing) model_init(b->params, &b->s.model, (unsigned long long)b->s.seed); /* timing: meaningless */
    if (!(st = mpi_agree(st, err)))
        st = mpi_run(bs, &plan, b->s.rank, b->params, b->n_params, (uint64_t)b->s.first, (uint64_t)b->s.batches, bps,
                     &o, err);
    if (!st) {
        Gathered g;
        mpi_gather(&o, &plan, b->s.rank, b->params, b->n_params, &g);
        record_run(b, rep, c, &plan, bps, &o, &g);
    }
    mpi_run_out_free(&o);
    if (bs) batch_sum_destroy(bs);
    rank_plan_free(&plan);
    return st;
}

/* Every repetition of every configuration, in order; with one rank, no computing controls. */
static sb_status run_configs(MpiBench *b, sb_error *err) {
    int n_configs = b->s.ranks > 1 ? 5 : 3;
    sb_status st = SB_OK;
    for (int rep = 0; rep < b->reps && !st; rep++)
        for (int c = 0; c < n_configs && !st; c++) st = run_config(b, rep, &configs[c], err);
    return st;
}

static sb_status write_context(const MpiBench *b, sb_error *err) {
    char path[SB_PATH_MAX], date[32];
    JsonFile jf;
    sb_status st = path_join(path, sizeof path, b->dir, "context.json", err);
    if (st || (st = json_file_open(&jf, path, "context JSON", 2, err))) return st;
    JsonWriter *w = &jf.w;
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object_begin(w);
    json_kv_int(w, "schema", 1);
    json_kv_string(w, "program", "sphere-bench-mpi bench");
    json_kv_string(w, "run_id", b->run_id);
    json_kv_string(w, "date", date);
    json_kv_int(w, "ranks", b->last.n_ranks);
    json_kv_int(w, "threads_per_rank", b->s.threads);
    json_kv_int(w, "fanout", b->s.fanout);
    json_kv_int(w, "reps", (int)b->reps);
    json_kv_string(w, "clock", sim_clock_name()); /* sim.h */
    json_kv_bool(w, "timing_mode", b->s.timing);
    json_kv_int(w, "batches", b->s.batches);
    json_kv_int(w, "first_batch", b->s.first);
    mpi_json_model_begin(w, &b->s);
    json_kv_uint(w, "gradient_bytes", b->grad_bytes);
    json_object_end(w);
    mpi_json_context(w, &b->last);
    json_object_end(w);
    return json_file_commit(&jf, err);
}

/* Rank 0: the ping-pong's rows and context.json, then every file into place at once. */
static sb_status write_files(MpiBench *b, sb_error *err) {
    mpi_csv_pingpong(b->csv, b->pp, (b->s.ranks - 1) * b->n_sizes, &b->last, b->run_id);
    sb_status st = write_context(b, err);
    if (st) return st; /* the CSVs' temporaries are removed on the way out */
    st = safe_file_commit_all(b->sf, F_COUNT, 1, err);
    b->opened = 0; /* committed, or closed and removed by the commit */
    if (!st) printf("wrote %s\n", b->dir);
    return st;
}

/* The stages after the options, each agreed on; the first error. */
static sb_status bench_stages(MpiBench *b, const CliArgs *a, sb_error *err) {
    sb_status st = read_options(b, a, err);
    MpiFacts facts = {0};
    if (!st) {
        mpi_facts_setup(&facts, &b->s);
        mpi_fact(&facts, "--reps", "%lld", b->reps);
    }
    if ((st = mpi_consensus(st, &facts, err))) return st;
    if (b->s.rank == 0) st = open_files(b, err);
    if ((st = mpi_agree(st, err)) || (st = ping_pong(b, err))) return st;
    st = run_configs(b, err);
    if (!st && b->s.rank == 0) st = write_files(b, err);
    return mpi_agree(st, err);
}

int mpi_cmd_bench(int argc, char **argv, int rank, int ranks) {
    CliArgs a;
    sb_error err = {0};
    sb_status st = cli_parse(&a, "bench", specs, 0, argc, argv, &err);
    if (!st && cli_flag(&a, "--help")) {
        if (rank == 0) cli_print_usage("bench", "--data TOKENS --out DIR [--threads K] [--reps N] [options]", specs);
        return 0;
    }
    MpiBench *b = calloc(1, sizeof *b);
    if (!b) MPI_Abort(MPI_COMM_WORLD, 1);
    b->s = (MpiSetup){.rank = rank, .ranks = ranks};
    b->lock = OUTPUT_LOCK_NONE;
    b->reps = 3;
    if (!st) st = bench_stages(b, &a, &err);
    else st = mpi_agree(st, &err);
    int rc = st ? mpi_report_error("bench", &err, rank) : 0;
    for (int i = 0; i < b->opened && rank == 0; i++) safe_file_abort(&b->sf[i]);
    output_lock_release(&b->lock);
    free(b->pp);
    gathered_free(&b->last);
    setup_free(&b->s);
    setup_params_free(b->params);
    free(b);
    return rc;
}
