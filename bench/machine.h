/* machine.h - what a result must say about where it was measured.
 *
 * CPU model, cores, memory, kernel, compiler and flags, and the git revision
 * with a dirty flag: a figure without these cannot be compared with another
 * or reproduced. Everything is read at run time from the system (/proc,
 * uname, sysconf, git) except the compiler and flags, which the build passes
 * in. */
#ifndef SB_MACHINE_H
#define SB_MACHINE_H

#define MACHINE_MAX_CPUS 1024

typedef struct {
    char cpu_model[128];
    int cores;              /* CPUs this process may run on (its affinity mask: a cpuset or taskset counts) */
    int cpus_online;        /* CPUs the kernel has online, whether or not this process may use them */
    int cpu_ids[MACHINE_MAX_CPUS]; /* the usable CPUs' ids, ascending: --pin's targets */
    double memory_gb;
    char kernel[200];
    char compiler[128];
    char cflags[256];
    char git_revision[48];  /* "unknown" outside a git checkout */
    int git_dirty;          /* uncommitted changes to tracked files */
    char hostname[64];
    char date[32];          /* UTC, ISO 8601 */
    char date_compact[32];  /* UTC, YYYYMMDD-HHMMSS, for folder names */
} MachineInfo;

void machine_info_read(MachineInfo *m);

/* The CPUs this process may run on (its affinity mask: a taskset or cpuset
 * counts), their ids ascending into ids (MACHINE_MAX_CPUS; may be NULL);
 * returns how many. The bench and peak both count cores with it. */
int machine_usable_cpus(int *ids);

#endif
