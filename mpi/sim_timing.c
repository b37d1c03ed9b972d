/* sim_timing.c - a run in timing mode; see sim_timing.h. */
#include "sim_timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/reduce.h"
#include "../variants/team.h"
#include "agree.h"
#include "sim.h"

enum { TAG_SUM = 1, TAG_PARAMS = 2 };

/* Rank 0: the three durations, measured with the real core on real buffers. */
static sb_status calibrate(BatchSum *bs, float *params, size_t n, uint64_t first, SimCosts *c, sb_error *err) {
    RunResult res;
    sb_status st = batch_sum_begin(bs, params, first, SIM_CAL_BATCHES, ROLE_WORKER, &res, err);
    if (st) return st;
    StepBook *book = batch_sum_book(bs);
    double compute = 0, adamw = 0;
    for (int i = 0; i < SIM_CAL_BATCHES && !st; i++) {
        float *sum = NULL;
        double loss = 0;
        double t0 = clock_thread_cpu_now();
        st = batch_sum_step(bs, first + (uint64_t)i, 1, &sum, &loss, err);
        double t1 = clock_thread_cpu_now();
        if (st) break;
        step_book_apply_all(book, params, sum, 1);
        double t2 = clock_thread_cpu_now();
        step_book_close(book, 1, loss);
        if (i > 0) compute += t1 - t0, adamw += t2 - t1; /* the first warms the caches */
    }
    batch_sum_end(bs, st, &res);
    if (st) return st;
    c->batch_s = compute / (SIM_CAL_BATCHES - 1);
    c->adamw_s = adamw / (SIM_CAL_BATCHES - 1);
    float *a = team_alloc(n * sizeof(float)), *b = team_alloc(n * sizeof(float));
    if (!a || !b) {
        free(a), free(b);
        return sb_fail(err, SB_ENOMEM, "out of memory for the calibration's two gradients");
    }
    const float *run[2] = {a, b};
    double t0 = clock_thread_cpu_now();
    for (int i = 0; i < 4; i++) reduce_sum(a, run, 2, n);
    c->add_s = (clock_thread_cpu_now() - t0) / 4;
    free(a), free(b);
    return SB_OK;
}

/* One step's messages and charges for a rank of a flat or tree plan. */
static void tree_step(const RankPlan *plan, int rank, int in_step, int mine, float *buf, float **child, int *peers,
                      size_t n, const SimCosts *c, MpiRunOut *out, double *charged) {
    const RankNode *nd = &plan->node[rank];
    int k = 0;
    for (int i = 0; i < nd->n_children; i++)
        if (rank_plan_subtree_batches(plan, nd->first_child + i, in_step) > 0) peers[k++] = nd->first_child + i;
    comm_recv_all(&out->comm, child, n, peers, k, TAG_SUM);
    int adds = mine ? k : (k > 0 ? k - 1 : 0); /* without batches of its own the first child's sum starts it */
    sim_charge(c->add_s * adds), *charged += c->add_s * adds;
    if (nd->parent >= 0 && (mine || k > 0)) comm_send(&out->comm, buf, n, nd->parent, TAG_SUM);
    if (nd->parent < 0) sim_charge(c->adamw_s), *charged += c->adamw_s;
    if (nd->parent >= 0) comm_recv(&out->comm, buf, n, nd->parent, TAG_PARAMS);
    for (int i = 0; i < nd->n_children; i++) peers[i] = nd->first_child + i;
    comm_send_all(&out->comm, buf, n, peers, nd->n_children, TAG_PARAMS);
}

sb_status sim_timing_run(BatchSum *bs, const RankPlan *plan, int rank, float *params, size_t n_params, uint64_t first,
                         uint64_t batches, int bps, MpiRunOut *out, sb_error *err) {
    memset(out, 0, sizeof *out);
    static SimCosts c;      /* per rank (privatized); measured once per program run */
    static int calibrated;
    if (sim_costs()) c = *sim_costs(), calibrated = 1; /* --sim-costs */
    sb_status st = rank == 0 && !calibrated ? calibrate(bs, params, n_params, first, &c, err) : SB_OK;
    if (rank == 0 && !calibrated && !st)
        printf("sim: timing mode, measured on this core (--sim-costs %.6g,%.6g,%.6g): batch %.6g s, AdamW update %.6g s, gradient addition %.6g s\n",
               c.batch_s, c.adamw_s, c.add_s, c.batch_s, c.adamw_s, c.add_s);
    calibrated = 1;
    if ((st = mpi_agree(st, err))) return st;
    MPI_Bcast(&c, 3, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    out->costs = c;
    const RankNode *nd = &plan->node[rank];
    int fanin = plan->policy == POLICY_ALLREDUCE ? 0 : nd->n_children;
    float *buf = sim_buffer_alloc(n_params * sizeof(float));
    float **child = calloc((size_t)fanin + 1, sizeof *child);
    int *peers = calloc((size_t)plan->ranks + 1, sizeof *peers);
    long steps = train_step_count(batches, bps);
    if (rank == 0) out->step_loss = malloc(sizeof(float) * (size_t)steps);
    st = !buf || !child || !peers || (rank == 0 && !out->step_loss)
             ? sb_fail(err, SB_ENOMEM, "out of memory for rank %d's buffers", rank)
             : SB_OK;
    if ((st = mpi_agree(st, err))) goto done;
    for (int i = 0; i < fanin; i++) child[i] = buf; /* one shared buffer: the values mean nothing */
    ThreadClock clk;
    ThreadRole role = nd->n_children ? ROLE_CONTROL : ROLE_WORKER;
    thread_clock_start(&clk, 0, role, nd->level, PHASE_COMPUTE);
    out->comm.clk = &clk;
    double charged = 0, t0 = MPI_Wtime();
    uint64_t k = 0, mine_total = 0;
    for (long step = 1; step <= steps; step++) {
        int in_step = (int)(batches - k < (uint64_t)bps ? batches - k : (uint64_t)bps);
        int lo, hi;
        rank_plan_share(plan, rank, in_step, &lo, &hi);
        sim_charge(c.batch_s * (hi - lo)), charged += c.batch_s * (hi - lo);
        mine_total += (uint64_t)(hi - lo);
        if (plan->policy == POLICY_ALLREDUCE) {
            comm_allreduce_sum(&out->comm, buf, n_params);
            sim_charge(c.adamw_s), charged += c.adamw_s;
        } else {
            tree_step(plan, rank, in_step, hi > lo, buf, child, peers, n_params, &c, out, &charged);
        }
        k += (uint64_t)in_step;
    }
    double wall = MPI_Wtime() - t0;
    thread_clock_stop(&clk);
    ThreadStats *th = &out->sim_thread;
    *th = (ThreadStats){.id = 0, .role = role, .level = nd->level, .cpu_s = NAN, .wall_s = wall, .batches = mine_total};
    th->phase_wall[PHASE_COMPUTE] = charged;
    th->phase_wall[PHASE_COMM] = out->comm.wtime_s;
    for (int p = 0; p < PHASE_COUNT; p++) th->phase_cpu[p] = NAN;
    out->comm.clk = NULL;
    out->res = (RunResult){.batches = mine_total, .steps = steps, .batches_per_step = bps, .last_loss = NAN,
                           .wall_s = wall, .process_cpu_s = NAN, .n_threads = 1, .threads = th};
    out->last_loss = NAN;
    for (long s = 0; rank == 0 && s < steps; s++) out->step_loss[s] = NAN;
done:
    sim_buffer_free(buf);
    free(child), free(peers);
    return st;
}
