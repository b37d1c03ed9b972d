/* cmd_train.c - `train`: one policy across the ranks, one model, one run's accounting.
 *
 * Every rank parses the same options and loads the data itself; the ranks
 * agree (agree.h) before any collective step, so a bad option or a missing
 * file stops every rank with one message. Rank 0 prints the table, writes
 * --json and --save after the whole run, both written to temporaries, then
 * renamed into place together (one commit group): a job that dies mid-run, or a
 * write that fails, leaves the existing files as they were. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/checkpoint.h"
#include "../core/model.h"
#include "../core/safe_file.h"
#include "agree.h"
#include "commands.h"
#include "consensus.h"
#include "gather.h"
#include "mpi_output.h"
#include "mpi_run.h"
#include "setup.h"

int mpi_cmd_train(int argc, char **argv, int rank, int ranks) {
    static const CliOptSpec specs[] = {
        MPI_SETUP_OPTS,
        {"--policy", 0, "flat|tree|allreduce: how ranks combine their sums (default flat)"},
        {"--controls-compute", 1, "control ranks compute batches too (default: they never do)"},
        {"--save", 0, "CKPT: write the trained model here (rank 0)"},
        {"--json", 0, "FILE: write the run, per rank and per thread, as JSON (rank 0)"},
        {"--quiet", 1, "no per-rank table"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    const char *synopsis = "--data TOKENS --policy flat|tree|allreduce [--threads K] [--model PRESET] "
                           "[--batches N] [--save CKPT] [--json FILE] [options]";
    CliArgs a;
    sb_error err = {0};
    MpiSetup s = {.rank = rank, .ranks = ranks};
    RankPlan plan = {0};
    BatchSum *bs = NULL;
    float *params = NULL;
    Policy policy = POLICY_FLAT;
    const char *save = NULL, *json = NULL;
    sb_status st = cli_parse(&a, "train", specs, 0, argc, argv, &err);
    if (!st && cli_flag(&a, "--help")) {
        if (rank == 0) cli_print_usage("train", synopsis, specs);
        return 0;
    }
    if (!st && cli_get(&a, "--policy")) st = policy_parse(cli_get(&a, "--policy"), &policy, &err);
    if (!st) {
        save = cli_get(&a, "--save");
        json = cli_get(&a, "--json");
        if (rank == 0 && (st = safe_output_check("--save", save, &err)) == SB_OK)
            st = safe_output_check("--json", json, &err);
    }
    if (!st) st = setup_from_args(&s, &a, &err);
    if (!st) st = rank_plan_build(&plan, policy, ranks, s.fanout, cli_flag(&a, "--controls-compute"), &err);
    int bps = st ? 0 : setup_bps(&s, &plan);
    if (!st) st = setup_batch_sum(&s, &plan, bps, &bs, &err);
    if (!st) st = setup_params(&s, &params, &err);
    int rc = 1;
    MpiFacts facts = {0};
    if (!st) {
        mpi_facts_setup(&facts, &s);
        mpi_fact(&facts, "--policy", "%s", policy_name(policy));
        mpi_fact(&facts, "--controls-compute", "%d", cli_flag(&a, "--controls-compute"));
    }
    if ((st = mpi_consensus(st, &facts, &err))) {
        rc = mpi_report_error("train", &err, rank);
        goto out;
    }
    size_t n = model_param_count(&s.model);
    if (rank == 0) {
        printf("train: policy %s, %d ranks x %d threads, %d computing, V=%d T=%d D=%d L=%d H=%d (%zu parameters), "
               "B=%d, %lld batches from %lld, %d per step\n",
               policy_name(policy), ranks, s.threads, plan.computing, s.model.V, s.model.T, s.model.D, s.model.L,
               s.model.H, n, s.B, s.batches, s.first, bps);
        fflush(stdout);
    }
    MpiRunOut out;
    st = mpi_run(bs, &plan, rank, params, n, (uint64_t)s.first, (uint64_t)s.batches, bps, &out, &err);
    if (st) { /* mpi_run agreed on it */
        rc = mpi_report_error("train", &err, rank);
        goto out;
    }
    Gathered g;
    mpi_gather(&out, &plan, rank, params, n, &g);
    if (rank == 0) {
        MpiRunSummary sum = {.policy = policy,
                             .controls_compute = plan.controls_compute,
                             .bps = bps,
                             .steps = out.res.steps,
                             .wall_s = out.res.wall_s,
                             .loss = out.last_loss,
                             .step_loss = out.step_loss};
        if (!s.timing && !isfinite(out.last_loss)) /* first: diverged parameters may differ in their NaNs' bits */
            st = sb_fail(&err, SB_ECONFIG, "training diverged: the loss is %g; nothing written or saved",
                         (double)out.last_loss);
        else if (!g.params_agree)
            st = sb_fail(&err, SB_ECONFIG, "the ranks ended with different parameters (a bug: please report it)");
        if (!st && !cli_flag(&a, "--quiet")) mpi_print_table(stdout, &g);
        uint64_t tokens = 0;
        for (int i = 0; i < g.n_ranks; i++) tokens += g.ranks[i].batches;
        tokens *= (uint64_t)s.B * (uint64_t)s.T;
        if (!st)
            printf("done: %lld batches (%d per step, %ld steps), %llu tokens in %.2f s: %.0f tokens/s, final loss %.4f\n",
                   s.batches, bps, out.res.steps, (unsigned long long)tokens, out.res.wall_s,
                   (double)tokens / out.res.wall_s, out.last_loss);
        safe_file_group_begin(); /* --json and --save replaced together or not at all */
        if (!st && json) st = mpi_train_json_write(json, &s, &sum, &g, &err);
        if (!st && save) st = checkpoint_save(save, &s.model, params, &err);
        if (st || (st = safe_file_group_commit(&err))) safe_file_group_abort();
        if (!st && json) printf("wrote %s\n", json);
        if (!st && save) printf("saved %s\n", save);
        fflush(stdout);
    }
    gathered_free(&g);
    mpi_run_out_free(&out);
    st = mpi_agree(st, &err);
    rc = st ? mpi_report_error("train", &err, rank) : 0;
out:
    if (bs) batch_sum_destroy(bs);
    rank_plan_free(&plan);
    setup_free(&s);
    setup_params_free(params);
    return rc;
}
