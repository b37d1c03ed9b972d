/* gbench_json.h - the run folder's results in Google Benchmark's JSON format.
 *
 * gbench.json holds a "context" block (date, host, CPUs, MHz, caches, load
 * average, as Google Benchmark writes it) and one "benchmarks" entry per run
 * (run_type "iteration": one repetition, one iteration, real_time the run's
 * wall time and cpu_time the process's CPU time in ms, items_per_second its
 * tokens/s), followed, for a configuration of more than one repetition, by
 * its mean, median, stddev and cv aggregates. A configuration is one
 * benchmark name, "KIND/TRAINER[:ROUTE]/threads:N/tokens:BT", so Google
 * Benchmark's tools/compare.py can compare two run folders (its U test
 * across repetitions included). */
#ifndef SB_GBENCH_JSON_H
#define SB_GBENCH_JSON_H

#include "harness.h"
#include "machine.h"
#include "summary.h"

sb_status gbench_json_write(const char *dir, const MachineInfo *m, const char *run_id, const RunRecord *runs, int n,
                            const SummaryRow *rows, int n_rows, sb_error *err) SB_MUST_CHECK;

#endif
