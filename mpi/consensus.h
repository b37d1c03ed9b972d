/* consensus.h - before any work, every rank checks that it runs the same job as rank 0.
 *
 * mpirun may start ranks with different command lines (MPMD: `-np 1 PROG
 * train A : -np 1 PROG train B`) or on hosts whose token files differ. A
 * rank whose command, options, model or data differ from rank 0's would
 * deadlock in a collective it alone calls, corrupt memory with buffers of
 * another size, or quietly train something else. So each rank lists the
 * facts that shape the job as named strings (MpiFacts), rank 0's list is
 * broadcast, every rank compares its own with it, and the ranks agree
 * (agree.h): the lowest rank that differs names the first fact that differs,
 * its value there and on rank 0, and every rank stops with that message.
 * The list has a fixed size, so the broadcast matches on every rank. */
#ifndef SB_MPI_CONSENSUS_H
#define SB_MPI_CONSENSUS_H

#include "../core/error.h"
#include "setup.h"

#define MPI_FACTS_MAX 32
#define MPI_FACT_NAME 40
#define MPI_FACT_VALUE 120

typedef struct {
    int n;
    char name[MPI_FACTS_MAX][MPI_FACT_NAME];
    char value[MPI_FACTS_MAX][MPI_FACT_VALUE];
} MpiFacts;

/* Appends one fact (name, printf value); past MPI_FACTS_MAX it is dropped
 * (a programming error the tests would show: the list is fixed per command). */
void mpi_fact(MpiFacts *f, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The command word and whether --help is given: what decides which collectives a rank calls. */
void mpi_facts_command(MpiFacts *f, int argc, char **argv);

/* The facts every command's set-up fixes: the options that shape the run,
 * the model's shape and parameter count, the token file's header, size and
 * checksum (FNV-1a over its ids). */
void mpi_facts_setup(MpiFacts *f, const MpiSetup *s);

/* Collective. First agrees on st (a rank that failed stops every rank);
 * then compares every rank's facts with rank 0's. SB_OK when all match;
 * otherwise SB_EARG on every rank with one message naming the rank and what
 * differs. */
sb_status mpi_consensus(sb_status st, const MpiFacts *f, sb_error *err) SB_MUST_CHECK;

#endif
