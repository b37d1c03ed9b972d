/* main.c - sphere-bench-mpi: the trainers across MPI ranks.
 *
 *   mpirun -np R sphere-bench-mpi train --data TOKENS --policy flat|tree|allreduce [--threads K] ...
 *   mpirun -np R sphere-bench-mpi bench --data TOKENS --out DIR [--threads K] ...
 * Every rank runs this same program; only thread 0 of each rank calls MPI
 * (MPI_THREAD_FUNNELED; under simulation SMPI answers MPI_THREAD_SINGLE,
 * accepted since a rank there has one thread, sim.h). Rank 0 alone prints
 * and writes files. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "../cli/cli.h"
#include "agree.h"
#include "commands.h"
#include "consensus.h"
#include "sim.h"

/* Usage lines, messages and hints from cli/ name this program (cli.h). */
const char *const cli_program = "sphere-bench-mpi";

static void usage(FILE *f) {
    fprintf(f, "usage: mpirun -np R sphere-bench-mpi COMMAND [options]   (COMMAND --help for its options)\n"
               "  train   train one model across the ranks under one policy (flat, tree, allreduce)\n"
               "  bench   ping-pong between ranks, then every policy on the same batches, into a run folder\n");
}

int main(int argc, char **argv) {
    int provided = 0, rank = 0, ranks = 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    int rc;
    MpiFacts facts = {0};
    sb_error err = {0};
    mpi_facts_command(&facts, argc, argv);
    if (mpi_consensus(SB_OK, &facts, &err)) { /* ranks running different commands would wait on each other */
        rc = mpi_report_error(argc < 2 ? "(none)" : argv[1], &err, rank);
    } else if (provided < MPI_THREAD_FUNNELED && !sim_active()) {
        if (rank == 0) fprintf(stderr, "sphere-bench-mpi: the MPI library gives no MPI_THREAD_FUNNELED support\n");
        rc = 1;
    } else if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        if (rank == 0) usage(argc < 2 ? stderr : stdout);
        rc = argc < 2 ? 2 : 0;
    } else if (strcmp(argv[1], "train") == 0) {
        rc = mpi_cmd_train(argc - 2, argv + 2, rank, ranks);
    } else if (strcmp(argv[1], "bench") == 0) {
        rc = mpi_cmd_bench(argc - 2, argv + 2, rank, ranks);
    } else {
        if (rank == 0) {
            fprintf(stderr, "sphere-bench-mpi: unknown command '%s'\n", argv[1]);
            usage(stderr);
        }
        rc = 2;
    }
    MPI_Finalize();
    return cli_exit_status(rc, cli_program);
}
