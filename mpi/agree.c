/* agree.c - one decision and one message for all ranks; see agree.h. */
#include "agree.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

void mpi_allreduce_int(const int *in, int *out, MPI_Op op) {
    if (!sim_active()) {
        MPI_Allreduce(in, out, 1, MPI_INT, op, MPI_COMM_WORLD);
        return;
    }
    MPI_Reduce(in, out, 1, MPI_INT, op, 0, MPI_COMM_WORLD);
    MPI_Bcast(out, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

sb_status mpi_agree(sb_status st, sb_error *err) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int mine = st ? rank : size, first = size, failing = 0, one = st ? 1 : 0;
    mpi_allreduce_int(&mine, &first, MPI_MIN);
    mpi_allreduce_int(&one, &failing, MPI_SUM);
    if (first == size) return SB_OK;
    int code = st;
    char msg[sizeof err->msg];
    if (rank == first) {
        int at = size > 1 && failing < size ? snprintf(msg, sizeof msg, "rank %d: ", rank) : 0;
        size_t room = sizeof msg - (size_t)at;
        memcpy(msg + at, err->msg, room - 1); /* the message cut to fit */
        msg[sizeof msg - 1] = '\0';
    }
    MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, MPI_COMM_WORLD);
    err->code = (sb_status)code;
    memcpy(err->msg, msg, sizeof msg);
    return err->code;
}

int mpi_report_error(const char *command, const sb_error *err, int rank) {
    if (rank == 0) {
        fprintf(stderr, "sphere-bench-mpi: %s: %s\n", command, err->msg);
        fflush(stderr);
    }
    return err->code == SB_EARG ? 2 : 1;
}
