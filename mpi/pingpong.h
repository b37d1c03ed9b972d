/* pingpong.h - OSU-style latency and bandwidth between rank 0 and every other rank.
 *
 * For each peer in turn and each message size, rank 0 sends and the peer
 * sends back, `iterations` times after a few warm-up round trips; the
 * one-way time is half the mean round trip, the bandwidth bytes over it.
 * These are the alpha (latency) and beta (seconds per byte) of the report's
 * cost model for the three policies. Ranks not in the pair do nothing.
 * Under simulation (sim.h) a round trip is deterministic: 2 after 1 warm-up. */
#ifndef SB_MPI_PINGPONG_H
#define SB_MPI_PINGPONG_H

#include <stddef.h>

#include "../core/error.h"

typedef struct {
    int peer;
    size_t bytes;
    int iterations;
    double round_trip_s; /* mean */
} PingPongRow;

/* Collective. On rank 0, rows gets (ranks-1) * n_sizes entries, peer by
 * peer, size by size (rows must have room); elsewhere it is untouched. */
sb_status pingpong_run(const size_t *sizes, int n_sizes, int rank, int ranks, PingPongRow *rows, sb_error *err) SB_MUST_CHECK;

/* Round trips at a size: many for small messages, fewer for large ones. */
int pingpong_iterations(size_t bytes);

#endif
