/* machine.c - reading the machine context; see machine.h. */
#include "machine.h"

#include <sched.h>

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef SB_BUILD_FLAGS
#define SB_BUILD_FLAGS "unknown"
#endif

/* First line of a command's output, trimmed; "" when it fails. */
static void command_line(char *out, size_t n, const char *cmd) {
    out[0] = 0;
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (fgets(out, (int)n, p)) out[strcspn(out, "\n")] = 0;
    if (pclose(p) != 0) out[0] = 0;
}

int machine_usable_cpus(int *ids) {
    int n = 0, online = (int)sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && n < MACHINE_MAX_CPUS; c++)
            if (CPU_ISSET(c, &set)) {
                if (ids) ids[n] = c;
                n++;
            }
    if (n == 0) /* no mask to read: every online CPU, numbered from 0 */
        for (; n < (online > 0 ? online : 1) && n < MACHINE_MAX_CPUS; n++)
            if (ids) ids[n] = n;
    return n;
}

void machine_info_read(MachineInfo *m) {
    memset(m, 0, sizeof *m);
    snprintf(m->cpu_model, sizeof m->cpu_model, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *v = strchr(line, ':');
                if (v) {
                    v++;
                    while (*v == ' ') v++;
                    v[strcspn(v, "\n")] = 0;
                    snprintf(m->cpu_model, sizeof m->cpu_model, "%s", v);
                }
                break;
            }
        fclose(f);
    }
    m->cpus_online = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (m->cpus_online < 1) m->cpus_online = 1;
    m->cores = machine_usable_cpus(m->cpu_ids);
    m->memory_gb = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0 * 1024.0);
    struct utsname u;
    if (uname(&u) == 0) snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    snprintf(m->compiler, sizeof m->compiler, "%s", __VERSION__);
    snprintf(m->cflags, sizeof m->cflags, "%s", SB_BUILD_FLAGS);
    command_line(m->git_revision, sizeof m->git_revision, "git rev-parse --short=12 HEAD 2>/dev/null");
    if (!m->git_revision[0]) snprintf(m->git_revision, sizeof m->git_revision, "unknown");
    char dirty[8];
    command_line(dirty, sizeof dirty, "git status --porcelain --untracked-files=no 2>/dev/null | head -1 | wc -l");
    m->git_dirty = dirty[0] == '1';
    gethostname(m->hostname, sizeof m->hostname - 1);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(m->date_compact, sizeof m->date_compact, "%Y%m%d-%H%M%S", &tm);
}
