/* sim.c - what changes under SMPI; see sim.h.
 *
 * SimGrid's mpi.h defines SMPI_H, which tells the two builds apart at
 * compile time; nothing here calls SimGrid in an mpicc build. */
#include "sim.h"

#include <math.h>
#include <mpi.h>
#include <stdlib.h>

#include "../variants/team.h"

#ifdef SMPI_H
#define SB_SIM 1
#else
#define SB_SIM 0
#endif

/* Under SMPI a global is one per rank (SimGrid privatizes the program's data). */
static int timing_on, costs_given;
static SimCosts given;

int sim_active(void) { return SB_SIM; }

const char *sim_clock_name(void) { return SB_SIM ? "simulated (MPI_Wtime)" : "host (CLOCK_MONOTONIC)"; }

void sim_set_timing(int on) { timing_on = on; }
int sim_timing(void) { return timing_on; }

void sim_set_costs(const SimCosts *c) {
    given = *c;
    costs_given = 1;
}
const SimCosts *sim_costs(void) { return costs_given ? &given : NULL; }

void *sim_buffer_alloc(size_t bytes) {
#if SB_SIM
    if (timing_on) return SMPI_SHARED_MALLOC(bytes ? bytes : 64);
#endif
    return team_alloc(bytes);
}

void sim_buffer_free(void *p) {
    if (!p) return;
#if SB_SIM
    if (timing_on) {
        SMPI_SHARED_FREE(p);
        return;
    }
#endif
    free(p);
}

void sim_charge(double seconds) {
#if SB_SIM
    if (seconds > 0) smpi_execute_benched(seconds);
#else
    (void)seconds;
#endif
}

void sim_fix_times(RunResult *res, ThreadStats *th, double wall_s, double comm_s) {
    if (!SB_SIM) return;
    res->wall_s = wall_s;
    res->process_cpu_s = NAN;
    if (th) {
        th->wall_s = wall_s;
        th->phase_wall[PHASE_COMM] = comm_s;
    }
}
