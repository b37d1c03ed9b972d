/* matmul_blocking.c - reading the cache sizes and choosing the matmul's
 * blocks from them; see matmul_blocking.h.
 *
 * sysfs is read rather than sysconf first: on a VM sysconf can report the
 * host's caches, sysfs the ones the guest is told it has. */
#include "matmul_blocking.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The size in bytes of cpu0's cache of this level and type ("Data" or
 * "Unified"), 0 if sysfs does not say. */
static size_t sysfs_cache(int level, const char *type) {
    for (int i = 0; i < 8; i++) {
        char path[96], buf[32];
        int lv = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        int ok = fscanf(f, "%d", &lv) == 1;
        fclose(f);
        if (!ok || lv != level) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (!(f = fopen(path, "r"))) continue;
        ok = fscanf(f, "%31s", buf) == 1 && strcmp(buf, type) == 0;
        fclose(f);
        if (!ok) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!(f = fopen(path, "r"))) continue;
        double v = 0;
        char unit = 0;
        ok = fscanf(f, "%lf%c", &v, &unit) >= 1 && v > 0;
        fclose(f);
        if (ok) return (size_t)(v * (unit == 'K' ? 1024.0 : unit == 'M' ? 1024.0 * 1024 : 1.0));
    }
    return 0;
}

static size_t sysconf_size(int name) {
    long v = sysconf(name);
    return v > 0 ? (size_t)v : 0;
}

void matmul_cache_sizes(size_t *l1d, size_t *l2, size_t *l3) {
    *l1d = sysfs_cache(1, "Data");
    *l2 = sysfs_cache(2, "Unified");
    *l3 = sysfs_cache(3, "Unified");
    if (!*l1d) *l1d = sysconf_size(_SC_LEVEL1_DCACHE_SIZE);
    if (!*l2) *l2 = sysconf_size(_SC_LEVEL2_CACHE_SIZE);
    if (!*l3) *l3 = sysconf_size(_SC_LEVEL3_CACHE_SIZE);
}

/* x rounded down to a multiple of m, within [lo, hi] (lo and hi multiples of m). */
static int fit(size_t x, int m, int lo, int hi) {
    size_t r = x / (size_t)m * (size_t)m;
    return r < (size_t)lo ? lo : r > (size_t)hi ? hi : (int)r;
}

void matmul_blocking_choose(MatmulBlocking *b, size_t l1d, size_t l2, size_t l3, int mr, int nr) {
    memset(b, 0, sizeof *b);
    b->l1d = l1d;
    b->l2 = l2;
    b->l3 = l3;
    b->mr = mr;
    b->nr = nr;
    b->from_caches = l1d && l2 && l3;
    const size_t f = sizeof(float);
    b->kc = l1d ? fit(l1d / 4 * 3 / ((size_t)nr * f), 16, 16, MATMUL_KC_MAX) : 256;
    int mc_hi = MATMUL_MC_MAX / mr * mr, nc_hi = MATMUL_NC_MAX / nr * nr;
    b->mc = l2 ? fit(l2 / 3 / ((size_t)b->kc * f), mr, mr, mc_hi) : 120 / mr * mr;
    b->nc = l3 ? fit(l3 / 4 / ((size_t)b->kc * f), nr, nr, nc_hi) : 512 / nr * nr;
}
