/* pingpong.c - the ping-pong between rank pairs; see pingpong.h. */
#include "pingpong.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "sim.h"

#define PINGPONG_WARMUP (sim_active() ? 1 : 5) /* a simulated round trip is the same every time */
#define PINGPONG_TAG 7

int pingpong_iterations(size_t bytes) {
    if (sim_active()) return 2;
    if (bytes <= 4096) return 500;
    if (bytes <= (1u << 20)) return 100;
    return 20;
}

sb_status pingpong_run(const size_t *sizes, int n_sizes, int rank, int ranks, PingPongRow *rows, sb_error *err) {
    size_t most = 1;
    for (int i = 0; i < n_sizes; i++)
        if (sizes[i] > most) most = sizes[i];
    char *buf = sim_buffer_alloc(most); /* shared across ranks in timing mode */
    int ok = buf != NULL, all = 0;
    mpi_allreduce_int(&ok, &all, MPI_MIN);
    if (!all) {
        sim_buffer_free(buf);
        return sb_fail(err, SB_ENOMEM, "out of memory for a %zu-byte ping-pong buffer", most);
    }
    memset(buf, 1, most);
    for (int peer = 1; peer < ranks; peer++) {
        if (rank != 0 && rank != peer) continue;
        for (int s = 0; s < n_sizes; s++) {
            int n = (int)sizes[s], iters = pingpong_iterations(sizes[s]);
            double t0 = 0.0;
            for (int i = 0; i < PINGPONG_WARMUP + iters; i++) {
                if (i == PINGPONG_WARMUP) t0 = MPI_Wtime();
                if (rank == 0) {
                    MPI_Send(buf, n, MPI_BYTE, peer, PINGPONG_TAG, MPI_COMM_WORLD);
                    MPI_Recv(buf, n, MPI_BYTE, peer, PINGPONG_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                } else {
                    MPI_Recv(buf, n, MPI_BYTE, 0, PINGPONG_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                    MPI_Send(buf, n, MPI_BYTE, 0, PINGPONG_TAG, MPI_COMM_WORLD);
                }
            }
            if (rank == 0)
                rows[(size_t)(peer - 1) * (size_t)n_sizes + (size_t)s] =
                    (PingPongRow){.peer = peer, .bytes = sizes[s], .iterations = iters,
                                  .round_trip_s = (MPI_Wtime() - t0) / iters};
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    sim_buffer_free(buf);
    return SB_OK;
}
