/* machine.h - what a result must say about where it was measured.
 *
 * CPU model, cores, memory, kernel, compiler and flags, and the git revision
 * with a dirty flag: a figure without these cannot be compared with another
 * or reproduced. Everything is read at run time from the system (/proc,
 * uname, sysconf) except what the build fixed: the compiler, the flags and
 * the revision the program was built from (scripts/build_info.sh), so a
 * program run from inside another checkout records its own. The noise guards (noise.h) read the rest: the CPU frequency where the
 * machine exposes it (cpufreq's current frequency, else /proc/cpuinfo's
 * "cpu MHz"), its frequency governor, the cache sizes, the load average
 * before and after the bench, and the program's argument list. */
#ifndef SB_MACHINE_H
#define SB_MACHINE_H

#include "../core/json_write.h"

#define MACHINE_MAX_CPUS 1024
#define MACHINE_MAX_CACHES 8

typedef struct {
    int level;        /* 1, 2, 3 */
    char type[16];    /* "Data", "Instruction", "Unified" */
    long size_kb;
} MachineCache;

typedef struct {
    char cpu_model[128];
    int cores;              /* CPUs this process may run on (its affinity mask: a cpuset or taskset counts) */
    int cpus_online;        /* CPUs the kernel has online, whether or not this process may use them */
    int cpu_ids[MACHINE_MAX_CPUS]; /* the usable CPUs' ids, ascending: --pin's targets */
    double memory_gb;
    char kernel[200];
    char compiler[128];
    char cflags[256];
    char git_revision[48];  /* of the sources it was built from; "unknown" if they were no git checkout */
    int git_dirty;          /* those sources' tracked files differed from that revision */
    char hostname[64];
    char date[32];          /* UTC, ISO 8601 */
    char date_compact[32];  /* UTC, YYYYMMDD-HHMMSS, for folder names */
    double cpu_mhz;         /* CPU 0's current frequency; NaN where the machine does not say */
    char cpu_mhz_source[32]; /* "cpufreq", "/proc/cpuinfo" or "" */
    char governor[32];      /* cpufreq's scaling governor; "" where there is none */
    MachineCache caches[MACHINE_MAX_CACHES]; /* CPU 0's caches, n_caches of them */
    int n_caches;
    double load_before[3], load_after[3]; /* 1, 5, 15 min load averages; NaN until read */
    int argc;               /* the program's argument list (not owned); 0: none recorded */
    char **argv;
} MachineInfo;

void machine_info_read(MachineInfo *m);

/* The CPUs this process may run on (its affinity mask: a taskset or cpuset
 * counts), their ids ascending into ids (MACHINE_MAX_CPUS; may be NULL);
 * returns how many. The bench and peak both count cores with it. */
int machine_usable_cpus(int *ids);

/* The 1, 5 and 15 minute load averages into load[3]; NaN where unreadable. */
void machine_read_load(double load[3]);

/* The fields above that context.json records for the noise guards, as
 * key-value pairs inside an open JSON object. */
void machine_json_noise(JsonWriter *w, const MachineInfo *m);

#endif
