/* commands.h - the MPI program's commands; each returns the process's exit status. */
#ifndef SB_MPI_COMMANDS_H
#define SB_MPI_COMMANDS_H

int mpi_cmd_train(int argc, char **argv, int rank, int ranks);
int mpi_cmd_bench(int argc, char **argv, int rank, int ranks);

#endif
