/* progress.h - where a bench stands: run k of N and the whole bench's ETA.
 *
 * The bench fills a BenchPosition before each run; the harness's progress
 * line shows it. The ETA assumes every remaining token costs what the tokens
 * so far cost on average (runs at different thread counts differ, so it is an
 * estimate that settles as the bench goes). Pure functions, tested in
 * tests/test_progress.c. */
#ifndef SB_PROGRESS_H
#define SB_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int run, runs;          /* this run's 1-based index in the bench, and the bench's count */
    double start_s;         /* clock_wall_now() when the bench's first run began */
    uint64_t tokens_done;   /* tokens of the runs finished before this one */
    uint64_t tokens_total;  /* tokens of every run of the bench */
} BenchPosition;

/* Seconds the whole bench has left when tokens_now tokens of it (finished
 * runs and the current one's part) are done at now_s; negative when nothing
 * is done yet (no rate to go by). */
double progress_bench_eta(const BenchPosition *pos, uint64_t tokens_now, double now_s);

/* "45 s", "3 m 05 s", "2 h 07 m"; "?" for a negative or non-finite time. */
void progress_format_duration(char *buf, size_t n, double seconds);

#endif
