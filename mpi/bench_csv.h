/* bench_csv.h - the MPI bench's CSV files, rows by rank 0 through the one CSV writer (bench/csv.h).
 *
 *   pingpong.csv  peer,peer_host,bytes,iterations,round_trip_s,one_way_s,bandwidth_Bps,run_id
 *   runs.csv      rep,policy,controls_compute,ranks,threads,computing,batches,batches_per_step,steps,
 *                 wall_s,tokens_per_s,loss,comm_s_root,comm_s_max,comm_s_mean,bytes_total,params_agree,run_id
 *   ranks.csv     rep,policy,controls_compute,host,rank,role,level,computes,threads,batches,wall_s,
 *                 process_cpu_s,threads_cpu_s,comm_s,bytes_sent,bytes_received,mpi_calls,run_id
 *   threads.csv   rep,policy,controls_compute,host,rank,thread,role,level,wall_s,cpu_s,
 *                 <phase>_s...,<phase>_cpu_s...,batches,run_id
 * one row per peer and size, per run, per rank per run, per thread per run; run_id is the
 * folder's (context.json's), so rows of two benches cannot pass for one.
 * A rate over no time (wall_s 0) is written 0. */
#ifndef SB_MPI_BENCH_CSV_H
#define SB_MPI_BENCH_CSV_H

#include "../bench/csv.h"
#include "gather.h"
#include "pingpong.h"
#include "setup.h"

enum { F_PINGPONG, F_RUNS, F_RANKS, F_THREADS, F_COUNT };

extern const char *const mpi_bench_files[F_COUNT]; /* "pingpong.csv", ... in that order */

/* One configuration of the bench: a policy, with or without computing controls. */
typedef struct {
    Policy policy;
    int controls_compute;
} BenchConfig;

/* Every file's header line. */
void mpi_csv_heads(CsvWriter *w);

/* One run's rows: its line of runs.csv, its ranks' and its threads'. */
void mpi_csv_run(CsvWriter *w, int rep, const BenchConfig *c, const MpiSetup *s, const RankPlan *plan, int bps,
                 const MpiRunOut *o, const Gathered *g, const char *run_id);

/* The ping-pong's n rows; g names the peers' hosts. */
void mpi_csv_pingpong(CsvWriter *w, const PingPongRow *rows, int n, const Gathered *g, const char *run_id);

#endif
