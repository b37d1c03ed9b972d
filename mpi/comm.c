/* comm.c - timed, counted MPI calls; see comm.h.
 *
 * Messages larger than INT_MAX elements are sent in pieces, since MPI counts
 * are ints; the model sizes here never come near it but nothing assumes so. */
#include "comm.h"

#include <limits.h>
#include <stdlib.h>

#define COMM_MAX_PEERS 64 /* requests per batch of nonblocking calls; more go in rounds */
#define COMM_CHUNK ((size_t)INT_MAX / 4)

static Phase enter(CommBook *b) {
    Phase was = b->clk->phase;
    thread_clock_phase(b->clk, PHASE_COMM);
    b->calls++;
    b->entered = MPI_Wtime();
    return was;
}

static void leave(CommBook *b, Phase was) {
    b->wtime_s += MPI_Wtime() - b->entered;
    thread_clock_phase(b->clk, was);
}

void comm_send(CommBook *b, const float *buf, size_t n, int dest, int tag) {
    Phase was = enter(b);
    for (size_t at = 0; at < n || at == 0; at += COMM_CHUNK) {
        size_t k = n - at < COMM_CHUNK ? n - at : COMM_CHUNK;
        MPI_Send(buf + at, (int)k, MPI_FLOAT, dest, tag, MPI_COMM_WORLD);
        if (n == 0) break;
    }
    b->sent += n * sizeof(float);
    leave(b, was);
}

void comm_recv(CommBook *b, float *buf, size_t n, int src, int tag) {
    Phase was = enter(b);
    for (size_t at = 0; at < n || at == 0; at += COMM_CHUNK) {
        size_t k = n - at < COMM_CHUNK ? n - at : COMM_CHUNK;
        MPI_Recv(buf + at, (int)k, MPI_FLOAT, src, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (n == 0) break;
    }
    b->received += n * sizeof(float);
    leave(b, was);
}

/* Nonblocking sends or receives to up to COMM_MAX_PEERS peers, then wait. */
static void exchange(float *const *recv_bufs, const float *send_buf, size_t n, const int *peers, int k, int tag) {
    MPI_Request req[COMM_MAX_PEERS];
    for (int first = 0; first < k; first += COMM_MAX_PEERS) {
        int m = k - first < COMM_MAX_PEERS ? k - first : COMM_MAX_PEERS;
        for (size_t at = 0; at < n || at == 0; at += COMM_CHUNK) {
            size_t c = n - at < COMM_CHUNK ? n - at : COMM_CHUNK;
            for (int i = 0; i < m; i++) {
                if (recv_bufs)
                    MPI_Irecv(recv_bufs[first + i] + at, (int)c, MPI_FLOAT, peers[first + i], tag, MPI_COMM_WORLD,
                              &req[i]);
                else
                    MPI_Isend(send_buf + at, (int)c, MPI_FLOAT, peers[first + i], tag, MPI_COMM_WORLD, &req[i]);
            }
            MPI_Waitall(m, req, MPI_STATUSES_IGNORE);
            if (n == 0) break;
        }
    }
}

void comm_recv_all(CommBook *b, float *const *bufs, size_t n, const int *srcs, int k, int tag) {
    if (k <= 0) return;
    Phase was = enter(b);
    exchange(bufs, NULL, n, srcs, k, tag);
    b->received += (uint64_t)k * n * sizeof(float);
    leave(b, was);
}

void comm_send_all(CommBook *b, const float *buf, size_t n, const int *dests, int k, int tag) {
    if (k <= 0) return;
    Phase was = enter(b);
    exchange(NULL, buf, n, dests, k, tag);
    b->sent += (uint64_t)k * n * sizeof(float);
    leave(b, was);
}

void comm_allreduce_sum(CommBook *b, float *buf, size_t n) {
    Phase was = enter(b);
    for (size_t at = 0; at < n; at += COMM_CHUNK) {
        size_t k = n - at < COMM_CHUNK ? n - at : COMM_CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, buf + at, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    int ranks = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    /* what a ring allreduce moves per rank: 2 (R-1)/R of the buffer each way */
    uint64_t moved = (uint64_t)(2.0 * (ranks - 1) / ranks * (double)(n * sizeof(float)));
    b->sent += moved;
    b->received += moved;
    leave(b, was);
}
