/* agree.h - ranks agree on whether to go on, so a failure on one never hangs the others.
 *
 * Before every collective stage (options, loading, a run's start) each rank
 * passes its own status; all learn the first failing rank's error, so every
 * rank stops together and rank 0 alone prints one message. */
#ifndef SB_MPI_AGREE_H
#define SB_MPI_AGREE_H

#include <mpi.h>

#include "../core/error.h"

/* Collective. SB_OK on every rank when every rank passed SB_OK; otherwise
 * every rank gets the lowest failing rank's code and message (prefixed
 * "rank R: " when more than one rank runs and the failure was not on all). */
sb_status mpi_agree(sb_status st, sb_error *err) SB_MUST_CHECK;

/* Rank 0 prints "sphere-bench-mpi: COMMAND: MSG" to stderr; returns the exit status (2 usage, 1 other). */
int mpi_report_error(const char *command, const sb_error *err, int rank);

/* MPI_Allreduce of one int on MPI_COMM_WORLD. Under SMPI's ompi selector an
 * allreduce of fewer elements than ranks falls back to an algorithm whose
 * simulation costs the host minutes at 1024 ranks, so there it is a reduce
 * then a broadcast: the same value. */
void mpi_allreduce_int(const int *in, int *out, MPI_Op op);

#endif
