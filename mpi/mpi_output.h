/* mpi_output.h - what a run across ranks looks like to people and programs.
 *
 * The table rank 0 prints (one line per rank), the MPI context (library,
 * its version string, standard version, hosts by rank), and the JSON of a
 * `train --json` run:
 *   {"schema", "program": "sphere-bench-mpi", "policy", "ranks", "threads_per_rank",
 *    "controls_compute", "fanout", "model": {...}, "batches", "batches_per_step",
 *    "steps", "tokens", "wall_s", "tokens_per_s", "loss", "params_agree",
 *    "step_loss": [...], "mpi": {"library", "standard", "hosts": [...]},
 *    "per_rank": [{"rank", "host", "role", "level", "computes", "threads", "batches",
 *                  "wall_s", "process_cpu_s", "threads_cpu_s", "comm_s",
 *                  "bytes_sent", "bytes_received", "mpi_calls"}],
 *    "per_thread": [{"host", "rank", "id", "role", "level", "cpu_s", "wall_s",
 *                    "<phase>_s"..., "<phase>_cpu_s"..., "batches"}]}
 * with the phases of core/thread_clock.h, comm among them. */
#ifndef SB_MPI_OUTPUT_H
#define SB_MPI_OUTPUT_H

#include <stdio.h>

#include "../core/json_write.h"
#include "gather.h"
#include "setup.h"

typedef struct {
    Policy policy;
    int controls_compute, bps;
    long steps;
    double wall_s;          /* rank 0's measured region */
    float loss;
    const float *step_loss; /* steps */
} MpiRunSummary;

/* "Open MPI v4.1.4, ..." (first line of MPI_Get_library_version) and "3.1". */
void mpi_library(char *lib, size_t cap, char *standard, size_t cap2);

void mpi_print_table(FILE *f, const Gathered *g);
/* "mpi": {...}: the library and the hosts of every rank. */
void mpi_json_context(JsonWriter *w, const Gathered *g);
void mpi_json_thread_row(JsonWriter *w, const Gathered *g, int i);
/* "model": { V, T, D, L, H, B, params, ... left open for the caller's own fields. */
void mpi_json_model_begin(JsonWriter *w, const MpiSetup *s);

sb_status mpi_train_json_write(const char *path, const MpiSetup *s, const MpiRunSummary *r, const Gathered *g,
                               sb_error *err) SB_MUST_CHECK;

#endif
