/* gather.c - rank summaries and thread rows to rank 0; see gather.h. */
#include "gather.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void mpi_host_name(char out[MPI_MAX_PROCESSOR_NAME]) {
    int len = 0;
    memset(out, 0, MPI_MAX_PROCESSOR_NAME);
    MPI_Get_processor_name(out, &len);
}

void mpi_gather(const MpiRunOut *o, const RankPlan *plan, int rank, const float *params, size_t n_params,
                Gathered *g) {
    memset(g, 0, sizeof *g);
    const RunResult *r = &o->res;
    RankSummary me = {.rank = rank,
                      .n_threads = r->n_threads,
                      .computes = plan->node[rank].computes,
                      .level = plan->node[rank].level,
                      .role = plan->node[rank].n_children ? ROLE_CONTROL : ROLE_WORKER,
                      .wall_s = r->wall_s,
                      .process_cpu_s = r->process_cpu_s,
                      .comm_s = r->n_threads ? r->threads[0].phase_wall[PHASE_COMM] : 0.0,
                      .batches = r->batches,
                      .sent = o->comm.sent,
                      .received = o->comm.received,
                      .calls = o->comm.calls,
                      /* timing mode: one buffer shared by all, meaningless; not hashed R times */
                      .params_hash = sim_timing() ? 0 : params_hash(params, n_params)};
    mpi_host_name(me.host);
    for (int t = 0; t < r->n_threads; t++) me.threads_cpu_s += r->threads[t].cpu_s;
    int R = plan->ranks;
    if (rank == 0) {
        g->ranks = calloc((size_t)R, sizeof *g->ranks);
        if (!g->ranks) { /* the others are already sending */
            fprintf(stderr, "sphere-bench-mpi: rank 0: out of memory for %d ranks' summaries\n", R);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    MPI_Gather(&me, (int)sizeof me, MPI_BYTE, g->ranks, (int)sizeof me, MPI_BYTE, 0, MPI_COMM_WORLD);
    int *counts = NULL, *displs = NULL;
    if (rank == 0) {
        counts = calloc((size_t)R, sizeof *counts);
        displs = calloc((size_t)R, sizeof *displs);
        for (int i = 0; i < R; i++) g->n_threads += g->ranks[i].n_threads;
        g->threads = calloc((size_t)g->n_threads + 1, sizeof *g->threads);
        g->thread_rank = calloc((size_t)g->n_threads + 1, sizeof *g->thread_rank);
        if (!counts || !displs || !g->threads || !g->thread_rank) {
            fprintf(stderr, "sphere-bench-mpi: rank 0: out of memory for %d thread rows\n", g->n_threads);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        int at = 0;
        for (int i = 0; i < R; i++) {
            counts[i] = g->ranks[i].n_threads * (int)sizeof(ThreadStats);
            displs[i] = at * (int)sizeof(ThreadStats);
            for (int t = 0; t < g->ranks[i].n_threads; t++) g->thread_rank[at + t] = i;
            at += g->ranks[i].n_threads;
        }
    }
    MPI_Gatherv(r->threads, r->n_threads * (int)sizeof(ThreadStats), MPI_BYTE, g->threads, counts, displs, MPI_BYTE, 0,
                MPI_COMM_WORLD);
    if (rank == 0) {
        g->n_ranks = R;
        g->params_agree = 1;
        for (int i = 1; i < R; i++) g->params_agree &= g->ranks[i].params_hash == g->ranks[0].params_hash;
    }
    free(counts);
    free(displs);
}

void gathered_free(Gathered *g) {
    free(g->ranks);
    free(g->threads);
    free(g->thread_rank);
    memset(g, 0, sizeof *g);
}
