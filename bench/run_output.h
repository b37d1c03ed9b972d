/* run_output.h - what a finished training run looks like to people and programs.
 *
 * The per-thread table `train` prints, and the run's JSON:
 *   {"schema", "variant",
 *    "model": {"V", "T", "D", "L", "H", "B", "params", "flops_per_token"},
 *    "threads", "batches", "batches_per_step", "steps", "tokens",
 *    "wall_s", "tokens_per_s", "loss", "process_cpu_s", "threads_cpu_s",
 *    "step_loss": [...], "group_batches": [...],
 *    "per_thread": [{"id", "role", "level", "cpu_s", "wall_s", "compute_s", "reduce_s",
 *                    "optimizer_s", "dispatch_s", "wait_s", "compute_cpu_s", ..., "batches"}]}
 * Phase fields without a suffix are wall seconds (they add up to wall_s);
 * the *_cpu_s ones are CPU seconds (they add up to cpu_s). The names are the
 * ones the bench's CSV columns use. flops_per_token is core/model.h's count
 * (forward and backward, per token of a T-token sequence); a value that is
 * not a number (a loss that diverged) is written as null. */
#ifndef SB_RUN_OUTPUT_H
#define SB_RUN_OUTPUT_H

#include <stdio.h>

#include "../core/error.h"
#include "../core/json_write.h"
#include "../variants/variant.h"
#include "csv.h"

#define RUN_JSON_SCHEMA 1

/* Sum of every thread's CPU time. */
double run_threads_cpu(const RunResult *r);

void run_print_table(FILE *f, const char *variant, const RunResult *r);

/* Written through a temporary file and a rename; model and B are the run's shape. */
sb_status run_json_write(const char *path, const char *variant, const ModelConfig *model, int B, const RunResult *r,
                         sb_error *err) SB_MUST_CHECK;

/* One thread's fields of the run JSON (id, role, level, CPU and wall time,
 * each phase's wall and CPU seconds, batches), inside an object the caller
 * opened: train --json's rows, and the MPI program's with host and rank. */
void run_json_thread_fields(JsonWriter *w, const ThreadStats *t);

/* A thread's phase columns in a CSV row: each phase's wall seconds, then
 * its CPU seconds ("compute_s", ..., "compute_cpu_s", ...): the names, and
 * one thread's values (the bench's and the MPI program's threads.csv). */
void run_csv_phase_names(CsvWriter *w);
void run_csv_phase_fields(CsvWriter *w, const ThreadStats *t);

/* A model's fields (V, T, D, L, H, the batch B, params, flops_per_token from
 * core/model.h), inside an object the caller opened: train --json, the
 * bench's context.json (which adds its preset) and the MPI program's. */
void run_json_model_fields(JsonWriter *w, const ModelConfig *c, int B);

#endif
