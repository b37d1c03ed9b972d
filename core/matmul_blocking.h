/* matmul_blocking.h - the matmul's cache blocking, chosen from the caches
 * this machine reports.
 *
 * The GEMM in matmul.c cuts K into blocks of kc, M into blocks of mc and N
 * into blocks of nc (GotoBLAS/BLIS). The blocking changes only where the
 * partial sums wait between blocks, never the order each output's products
 * are added in, so it changes speed and never bits: it may differ from
 * machine to machine. */
#ifndef SB_MATMUL_BLOCKING_H
#define SB_MATMUL_BLOCKING_H

#include <stddef.h>

/* The largest blocks any machine gets (they size the scratch, matmul.h). */
#define MATMUL_KC_MAX 384
#define MATMUL_MC_MAX 384
#define MATMUL_NC_MAX 1024

typedef struct {
    int kc, mc, nc;
    size_t l1d, l2, l3; /* bytes of cpu0's caches as read, 0 where unknown */
    int mr, nr;         /* the register tile the blocks hold whole */
    int from_caches;    /* 1: chosen from the caches; 0: fixed (AVX-512 path, or caches unknown) */
} MatmulBlocking;

/* Bytes of cpu0's level-1 data, level-2 and level-3 caches (Linux sysfs,
 * else sysconf), 0 where neither says. */
void matmul_cache_sizes(size_t *l1d, size_t *l2, size_t *l3);

/* The blocks for an mr x nr register tile and these cache sizes: a kc x nr
 * panel of B takes three quarters of L1d (it stays there while A's panels
 * stream past it), an mc x kc block of A a third of L2, a kc x nc block of B
 * a quarter of L3; each within the limits above, kc a multiple of 16, mc of
 * mr and nc of nr. On this project's Zen 3 VM (32 KB L1d, 512 KB L2) with the
 * 6 x 16 tile that is kc 384 (OpenBLAS's own K block there; 256 measured a
 * few per cent slower on the K > 256 shapes) and mc 108. A zero size leaves
 * that block at a conservative default (kc 256, mc 120, nc 512). A pure
 * function. */
void matmul_blocking_choose(MatmulBlocking *b, size_t l1d, size_t l2, size_t l3, int mr, int nr);

#endif
