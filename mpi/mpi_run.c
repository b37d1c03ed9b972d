/* mpi_run.c - one training run across ranks; see mpi_run.h.
 *
 * Only thread 0 of each rank calls MPI, between batch_sum_step calls, while
 * the rank's other threads wait at their barrier. Tags keep the two streams
 * apart: sums go up with TAG_SUM, parameters come down with TAG_PARAMS.
 *
 * Fault injection for the tests: SPHERE_BENCH_MPI_FAULT=RANK:STEP makes rank
 * RANK kill itself (SIGKILL) at the start of step STEP, as a crashed host
 * would; nothing else reads it. */
#include "mpi_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/reduce.h"
#include "../variants/team.h"
#include "agree.h"
#include "sim.h"
#include "sim_timing.h"

enum { TAG_SUM = 1, TAG_PARAMS = 2 };

static long fault_step(int rank) {
    const char *f = getenv("SPHERE_BENCH_MPI_FAULT");
    int r;
    long s;
    if (f && sscanf(f, "%d:%ld", &r, &s) == 2 && r == rank) return s;
    return 0;
}

/* A control's step: children's sums in, own then theirs added in child
 * order into *acc, one sum to the parent. Returns the sum (NULL if the
 * subtree has no batch in this step). */
static float *combine_up(const RankPlan *plan, int rank, int in_step, float *mine, float *own_buf, float **child,
                         int *peers, size_t n, CommBook *cb) {
    const RankNode *nd = &plan->node[rank];
    int k = 0;
    for (int c = 0; c < nd->n_children; c++) {
        int r = nd->first_child + c;
        if (rank_plan_subtree_batches(plan, r, in_step) > 0) peers[k++] = r;
    }
    comm_recv_all(cb, child, n, peers, k, TAG_SUM);
    float *acc = mine;
    if (k > 0) {
        thread_clock_phase(cb->clk, PHASE_REDUCE);
        const float *run[REDUCE_RUN_MAX];
        int i = 0;
        if (!acc) { /* no batch of its own: the first child's sum starts it */
            acc = own_buf;
            memcpy(acc, child[i++], n * sizeof(float));
        }
        while (i < k) {
            int nb = 0;
            run[nb++] = acc;
            for (; i < k && nb < REDUCE_RUN_MAX; i++) run[nb++] = child[i];
            reduce_sum(acc, run, nb, n);
        }
    }
    if (nd->parent >= 0 && acc) comm_send(cb, acc, n, nd->parent, TAG_SUM);
    return acc;
}

/* Parameters down the same edges. */
static void params_down(const RankPlan *plan, int rank, float *params, size_t n, int *peers, CommBook *cb) {
    const RankNode *nd = &plan->node[rank];
    if (nd->parent >= 0) comm_recv(cb, params, n, nd->parent, TAG_PARAMS);
    for (int c = 0; c < nd->n_children; c++) peers[c] = nd->first_child + c;
    comm_send_all(cb, params, n, peers, nd->n_children, TAG_PARAMS);
}

sb_status mpi_run(BatchSum *bs, const RankPlan *plan, int rank, float *params, size_t n_params, uint64_t first,
                  uint64_t batches, int bps, MpiRunOut *out, sb_error *err) {
    if (sim_timing()) return sim_timing_run(bs, plan, rank, params, n_params, first, batches, bps, out, err);
    memset(out, 0, sizeof *out);
    const RankNode *nd = &plan->node[rank];
    int fanin = plan->policy == POLICY_ALLREDUCE ? 0 : nd->n_children;
    long steps = train_step_count(batches, bps);
    /* written inside the measured loop: every page touched now (team_alloc) */
    float *own = team_alloc(sizeof(float) * n_params);
    float **child = calloc((size_t)fanin + 1, sizeof *child);
    int *peers = calloc((size_t)plan->ranks + 1, sizeof *peers);
    double *loss = calloc((size_t)steps, sizeof *loss);
    if (!own || !child || !peers || !loss) {
        free(own), free(child), free(peers), free(loss);
        return sb_fail(err, SB_ENOMEM, "out of memory for rank %d's buffers", rank);
    }
    sb_status st = SB_OK;
    for (int c = 0; c < fanin && !st; c++)
        if (!(child[c] = team_alloc(sizeof(float) * n_params)))
            st = sb_fail(err, SB_ENOMEM, "out of memory for rank %d's %d children's sums", rank, fanin);
    int began = 0;
    if (!st) {
        st = batch_sum_begin(bs, params, first, batches, nd->n_children ? ROLE_CONTROL : ROLE_WORKER, &out->res, err);
        began = st == SB_OK;
    }
    if ((st = mpi_agree(st, err))) {
        if (began) batch_sum_end(bs, st, &out->res);
        goto done;
    }
    out->comm.clk = batch_sum_clock(bs);
    StepBook *book = batch_sum_book(bs);
    long die_at = fault_step(rank);
    uint64_t k = 0;
    double wall0 = MPI_Wtime();
    for (long step = 1; step <= steps && !st; step++) {
        if (step == die_at) raise(SIGKILL);
        int in_step = train_step_batches(batches, k, bps);
        int lo, hi;
        rank_plan_share(plan, rank, in_step, &lo, &hi);
        float *mine = NULL;
        double lsum = 0.0;
        if (hi > lo && (st = batch_sum_step(bs, first + k + (uint64_t)lo, hi - lo, &mine, &lsum, err))) {
            /* the others are waiting on this rank's sum: only aborting the job ends them */
            fprintf(stderr, "sphere-bench-mpi: rank %d: %s\n", rank, err->msg);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        loss[step - 1] = lsum;
        if (plan->policy == POLICY_ALLREDUCE) {
            if (!mine) {
                mine = own;
                memset(own, 0, sizeof(float) * n_params);
            }
            comm_allreduce_sum(&out->comm, mine, n_params);
            thread_clock_phase(out->comm.clk, PHASE_OPTIMIZER);
            step_book_apply_all(book, params, mine, in_step);
        } else {
            float *sum = combine_up(plan, rank, in_step, mine, own, child, peers, n_params, &out->comm);
            if (nd->parent < 0) {
                thread_clock_phase(out->comm.clk, PHASE_OPTIMIZER);
                step_book_apply_all(book, params, sum, in_step);
            }
            params_down(plan, rank, params, n_params, peers, &out->comm);
        }
        thread_clock_phase(out->comm.clk, PHASE_OPTIMIZER);
        step_book_close(book, in_step, lsum);
        k += (uint64_t)in_step;
    }
    double wall = MPI_Wtime() - wall0;
    batch_sum_end(bs, st, &out->res);
    if (st) goto done;
    /* the trainer's own row, writable memory: only thread 0 calls MPI */
    sim_fix_times(&out->res, (ThreadStats *)&out->res.threads[0], wall, out->comm.wtime_s);
    /* the whole step's loss: every rank's sum, added in rank order */
    double *all = rank == 0 ? calloc((size_t)steps * (size_t)plan->ranks, sizeof *all) : NULL;
    if (rank == 0 && !all) { /* the others are in MPI_Gather: the job cannot go on */
        fprintf(stderr, "sphere-bench-mpi: rank 0: out of memory for the ranks' losses\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Gather(loss, (int)steps, MPI_DOUBLE, all, (int)steps, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        out->step_loss = malloc(sizeof(float) * (size_t)steps);
        uint64_t kk = 0;
        for (long s = 0; out->step_loss && s < steps; s++) {
            int in_step = train_step_batches(batches, kk, bps);
            double l = 0.0;
            for (int r = 0; r < plan->ranks; r++) l += all[(size_t)r * (size_t)steps + (size_t)s];
            out->step_loss[s] = (float)(l / (double)in_step);
            kk += (uint64_t)in_step;
        }
        if (!out->step_loss) st = sb_fail(err, SB_ENOMEM, "out of memory for the loss curve");
        else out->last_loss = out->step_loss[steps - 1];
        free(all);
    }
done:
    for (int c = 0; c < fanin; c++) free(child[c]);
    free(own), free(child), free(peers), free(loss);
    return st;
}

void mpi_run_out_free(MpiRunOut *o) {
    free(o->step_loss);
    o->step_loss = NULL;
}

uint64_t params_hash(const float *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n * sizeof(float); i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}
