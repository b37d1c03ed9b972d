/* machine.c - reading the machine context; see machine.h. */
#include "machine.h"

#include <sched.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h" /* $(BUILD)/build_info.h: SB_GIT_REVISION, SB_GIT_DIRTY, SB_BUILD_FLAGS */

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

/* The first line of a small file, trimmed, into out; 0 when unreadable. */
static int read_line(char *out, size_t n, const char *path) {
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    out[strcspn(out, "\n")] = 0;
    return ok && out[0];
}

void machine_read_load(double load[3]) {
    if (getloadavg(load, 3) != 3) load[0] = load[1] = load[2] = NAN;
}

static void read_frequency(MachineInfo *m) {
    char line[512];
    m->cpu_mhz = NAN;
    if (read_line(line, sizeof line, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")) {
        m->cpu_mhz = strtod(line, NULL) / 1000.0; /* kHz */
        snprintf(m->cpu_mhz_source, sizeof m->cpu_mhz_source, "cpufreq");
    } else {
        FILE *f = fopen("/proc/cpuinfo", "r");
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "cpu MHz", 7) == 0 && strchr(line, ':')) {
                m->cpu_mhz = strtod(strchr(line, ':') + 1, NULL);
                snprintf(m->cpu_mhz_source, sizeof m->cpu_mhz_source, "/proc/cpuinfo");
                break;
            }
        if (f) fclose(f);
    }
    read_line(m->governor, sizeof m->governor, "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
}

static void read_caches(MachineInfo *m) {
    for (int i = 0; i < 16 && m->n_caches < MACHINE_MAX_CACHES; i++) {
        char path[128], level[16], size[32];
        MachineCache *c = &m->caches[m->n_caches];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (!read_line(level, sizeof level, path)) break;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!read_line(size, sizeof size, path)) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        read_line(c->type, sizeof c->type, path);
        char *unit;
        c->level = atoi(level);
        c->size_kb = strtol(size, &unit, 10);
        if (*unit == 'M') c->size_kb *= 1024;
        m->n_caches++;
    }
}

void machine_json_noise(JsonWriter *w, const MachineInfo *m) {
    json_kv_double(w, "cpu_mhz", m->cpu_mhz);
    json_kv_string(w, "cpu_mhz_source", m->cpu_mhz_source);
    json_kv_string(w, "governor", m->governor);
    json_key(w, "caches");
    json_array_begin(w);
    for (int i = 0; i < m->n_caches; i++) {
        json_object_begin(w);
        json_kv_int(w, "level", m->caches[i].level);
        json_kv_string(w, "type", m->caches[i].type);
        json_kv_int(w, "size_kb", m->caches[i].size_kb);
        json_object_end(w);
    }
    json_array_end(w);
    const char *names[] = {"load_before", "load_after"};
    const double *loads[] = {m->load_before, m->load_after};
    for (int k = 0; k < 2; k++) {
        json_key(w, names[k]);
        json_array_begin(w);
        for (int i = 0; i < 3; i++) json_double(w, loads[k][i]);
        json_array_end(w);
    }
    json_key(w, "argv");
    json_array_begin(w);
    for (int i = 0; i < m->argc; i++) json_string(w, m->argv[i]);
    json_array_end(w);
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
    snprintf(m->git_revision, sizeof m->git_revision, "%s", SB_GIT_REVISION);
    m->git_dirty = SB_GIT_DIRTY;
    gethostname(m->hostname, sizeof m->hostname - 1);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(m->date_compact, sizeof m->date_compact, "%Y%m%d-%H%M%S", &tm);
    read_frequency(m);
    read_caches(m);
    machine_read_load(m->load_before);
    m->load_after[0] = m->load_after[1] = m->load_after[2] = NAN;
}
