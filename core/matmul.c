/* matmul.c - the matrix products, all through one packed, register-blocked
 * GEMM; see matmul.h.
 *
 * gemm_acc computes C += A . B where A and B are read through row and column
 * strides, so the three products of a layer map onto it with no transposed
 * copy:
 *   forward  out  = bias + inp . W^T   A = inp,     B = W^T  (B read column-wise)
 *   backward dinp = dout . W           A = dout,    B = W
 *   backward dW  += dout^T . inp       A = dout^T,  B = inp  (A read column-wise)
 * It is the GotoBLAS/BLIS structure: the K dimension is cut into blocks of
 * kc, N into blocks of nc, M into blocks of mc (matmul_blocking.c chooses
 * them from this machine's caches); each block of B is packed into
 * NR-column panels and each block of A into MR-row panels, contiguous in the
 * order the micro-kernel reads them (zero-padded at the edges), so the
 * micro-kernel streams both from cache. An A whose rows run along k (inp,
 * dout) is not packed off AVX-512: the kernel broadcasts from its MR rows in
 * place. The micro-kernel keeps an MR x NR tile of C in MR x NR / VW vector
 * registers of VW floats (the tile is chosen by the target's register file,
 * below), and per k loads NR / VW vectors of B, broadcasts MR values of A
 * and issues MR x NR / VW fused multiply-adds. The next tile's C is
 * prefetched while one is computed.
 *
 * Every output is its starting value plus the products added one k at a time
 * in increasing k: a stored and reloaded partial sum between K blocks is the
 * same float, so the result does not depend on the blocking, the tile or the
 * vector width - it is bitwise what a plain loop over k of fmaf(a, b, c)
 * gives (tests/test_matmul.c checks it). That keeps training bitwise
 * reproducible. GCC/Clang vector extensions of the target's own width keep
 * it portable. matmul_*_ref are the plain loops the tests hold it against. */
#include "matmul.h"

#include <pthread.h>
#include <string.h>

#include "vmath.h"

/* The register tile, by the vector registers the target has: with
 * AVX-512's 32 zmm, 12 x 32 (24 accumulators, today's shape as tuned on an
 * AVX-512 EPYC); with AVX/AVX2's 16 ymm, 6 x 16 (12 accumulators, 2 vectors
 * of B, 1 broadcast: 15 registers - the 12 x 32 tile's 48 ymm accumulators
 * spilled to the stack there and ran at about 6 % of the FMA peak); with
 * SSE's 16 xmm, 6 x 8. VW is the vector width in floats. */
#if defined(__AVX512F__)
#define VW 16
#define MR 12
#define NR 32
#define DIRECT_A 0 /* A always packed: the AVX-512 path is the code as measured there */
#define ROW_EDGE 0 /* a tile cut by M runs the whole kernel on a padded copy, as measured there */
#elif defined(__AVX__)
#define VW 8
#define MR 6
#define NR 16
#define DIRECT_A 1
#define ROW_EDGE 1
#else
#define VW 4
#define MR 6
#define NR 8
#define DIRECT_A 1
#define ROW_EDGE 1
#endif
#define NV (NR / VW) /* vectors per row of the tile */

typedef float vmm __attribute__((vector_size(VW * 4)));
typedef float vmmu __attribute__((vector_size(VW * 4), aligned(4))); /* unaligned access */
#define MLOAD(p) (*(const vmmu *)(p))
#define MSTORE(p, v) (*(vmmu *)(p) = (v))

_Static_assert(MATMUL_SCRATCH_FLOATS >= MATMUL_MC_MAX * MATMUL_KC_MAX + MATMUL_KC_MAX * MATMUL_NC_MAX,
               "matmul scratch too small");
_Static_assert(MATMUL_MC_MAX % MR == 0 && MATMUL_NC_MAX % NR == 0, "blocks must hold whole tiles");

/* x in every lane (one broadcast; a lane-by-lane loop compiles to inserts) */
SB_INLINE vmm msplat(float x) {
#if VW == 16
    return (vmm){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
#elif VW == 8
    return (vmm){x, x, x, x, x, x, x, x};
#else
    return (vmm){x, x, x, x};
#endif
}

/* C[MR][NR] (row stride ldc) += A . Bp over kc steps. A(i, k) = A[i a_rs +
 * k a_cs]: a packed panel (a_rs 1, a_cs MR) or A's own rows (a_rs = its row
 * stride, a_cs 1); Bp is kc rows of NR. Per k: NV loads of B, MR broadcasts
 * of A, MR x NV fused multiply-adds, each output's in increasing k. */
SB_INLINE void kernel_body(float *C, size_t ldc, const float *A, size_t a_rs, size_t a_cs, const float *Bp, int kc,
                           const int mr) {
    vmm c[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) c[i][v] = MLOAD(C + i * ldc + v * VW);
#pragma GCC unroll 4
    for (int k = 0; k < kc; k++) {
        vmm b[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) b[v] = MLOAD(Bp + v * VW);
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++) {
            vmm a = msplat(A[i * a_rs]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) c[i][v] += a * b[v];
        }
        A += a_cs;
        Bp += NR;
    }
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) MSTORE(C + i * ldc + v * VW, c[i][v]);
}

/* The kernel for the first `rows` rows of a tile, 1 <= rows <= MR: a tile cut
 * by M (ROW_EDGE) computes and stores only its real rows, with no copy and
 * no padding rows of arithmetic, and reads no row of A past the last. */
SB_INLINE void kernel_n(float *C, size_t ldc, const float *A, size_t a_rs, size_t a_cs, const float *Bp, int kc,
                        int rows) {
    switch (ROW_EDGE ? rows : MR) {
    case 1: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 1); break;
    case 2: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 2); break;
    case 3: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 3); break;
    case 4: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 4); break;
    case 5: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 5); break;
#if MR > 6
    case 6: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 6); break;
    case 7: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 7); break;
    case 8: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 8); break;
    case 9: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 9); break;
    case 10: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 10); break;
    case 11: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, 11); break;
#endif
    default: kernel_body(C, ldc, A, a_rs, a_cs, Bp, kc, MR); break;
    }
}

static void kernel_packed(float *C, size_t ldc, const float *Ap, const float *Bp, int kc, int rows) {
    kernel_n(C, ldc, Ap, 1, MR, Bp, kc, rows);
}

static void kernel_rows(float *C, size_t ldc, const float *A, size_t lda, const float *Bp, int kc, int rows) {
    kernel_n(C, ldc, A, lda, 1, Bp, kc, rows);
}

/* One tile: A packed (lda 0) or read in place (rows of stride lda; then
 * rows == MR unless ROW_EDGE). A tile cut by N - or, without ROW_EDGE, by
 * M - runs the kernel on a padded copy; padding rows and columns see only
 * the zeros of the packed panels. */
static void tile(float *C, size_t ldc, const float *A, size_t lda, const float *Bp, int kc, int rows, int cols) {
    if (cols == NR && (rows == MR || ROW_EDGE)) {
        if (lda)
            kernel_rows(C, ldc, A, lda, Bp, kc, rows);
        else
            kernel_packed(C, ldc, A, Bp, kc, rows);
        return;
    }
    float t[MR * NR] __attribute__((aligned(64)));
    memset(t, 0, sizeof t);
    for (int i = 0; i < rows; i++) memcpy(t + i * NR, C + i * ldc, sizeof(float) * (size_t)cols);
    if (lda)
        kernel_rows(t, NR, A, lda, Bp, kc, rows);
    else
        kernel_packed(t, NR, A, Bp, kc, rows);
    for (int i = 0; i < rows; i++) memcpy(C + i * ldc, t + i * NR, sizeof(float) * (size_t)cols);
}

/* Ap <- the mc x kc block of A at (i0, k0), as ceil(mc / MR) panels of kc x MR.
 * Whole panels take fixed-length copies (a profile showed the row-count
 * compares of the general loop); only the last, partial one is padded. */
/* kc contiguous source rows (row k at src + k * stride, n floats each) into
 * panels of W: element j of row k lands at dst[(j / W) * W * kc + k * W +
 * j % W], the last partial panel padded with zeros. Every row is read once,
 * in order. */
static inline void pack_rows(float *dst, const float *src, size_t stride, int kc, int n, int W) {
    for (int k = 0; k < kc; k++) {
        const float *s = src + (size_t)k * stride;
        float *d = dst + (size_t)k * (size_t)W;
        int j = 0;
        for (; j + W <= n; j += W) memcpy(d + (size_t)j * kc, s + j, sizeof(float) * (size_t)W);
        if (j < n) {
            memset(d + (size_t)j * kc, 0, sizeof(float) * (size_t)W);
            memcpy(d + (size_t)j * kc, s + j, sizeof(float) * (size_t)(n - j));
        }
    }
}

static void pack_a(float *Ap, const float *A, size_t a_rs, size_t a_cs, int mc, int kc) {
    if (a_rs == 1) { /* A read column-wise (dout^T): row k of dout holds A(., k) */
        pack_rows(Ap, A, a_cs, kc, mc, MR);
        return;
    }
    for (int p = 0; p < mc; p += MR) {
        int rows = mc - p < MR ? mc - p : MR;
        if (rows == MR && a_cs == 1) { /* A row-major (dout): each row read along k, written down the panel */
            for (int i = 0; i < MR; i++) {
                const float *a = A + (size_t)(p + i) * a_rs;
                for (int k = 0; k < kc; k++) Ap[(size_t)k * MR + i] = a[k];
            }
            Ap += (size_t)kc * MR;
            continue;
        }
        if (rows == MR) {
            for (int k = 0; k < kc; k++) {
                const float *a = A + (size_t)p * a_rs + (size_t)k * a_cs;
                for (int i = 0; i < MR; i++) Ap[i] = a[(size_t)i * a_rs];
                Ap += MR;
            }
            continue;
        }
        for (int k = 0; k < kc; k++) {
            const float *a = A + (size_t)p * a_rs + (size_t)k * a_cs;
            int i = 0;
            for (; i < rows; i++) Ap[i] = a[(size_t)i * a_rs];
            for (; i < MR; i++) Ap[i] = 0.0f;
            Ap += MR;
        }
    }
}

/* Bp <- the kc x nc block of B, as ceil(nc / NR) panels of kc x NR. */
static void pack_b(float *Bp, const float *B, size_t b_rs, size_t b_cs, int kc, int nc) {
    if (b_cs == 1) { /* B row-major (W, inp): each row of the block into every panel */
        pack_rows(Bp, B, b_rs, kc, nc, NR);
        return;
    }
    for (int q = 0; q < nc; q += NR) {
        int cols = nc - q < NR ? nc - q : NR;
        if (b_rs == 1) { /* B^T row-major: walk each column of B down k */
            memset(Bp, 0, sizeof(float) * (size_t)kc * NR);
            for (int j = 0; j < cols; j++) {
                const float *b = B + (size_t)(q + j) * b_cs;
                for (int k = 0; k < kc; k++) Bp[(size_t)k * NR + j] = b[k];
            }
        } else {
            for (int k = 0; k < kc; k++) {
                const float *b = B + (size_t)k * b_rs + (size_t)q * b_cs;
                int j = 0;
                for (; j < cols; j++) Bp[(size_t)k * NR + j] = b[(size_t)j * b_cs];
                for (; j < NR; j++) Bp[(size_t)k * NR + j] = 0.0f;
            }
        }
        Bp += (size_t)kc * NR;
    }
}

static MatmulBlocking the_blocking;
static pthread_once_t blocking_once = PTHREAD_ONCE_INIT;

static void blocking_init(void) {
    size_t l1d, l2, l3;
    matmul_cache_sizes(&l1d, &l2, &l3);
    matmul_blocking_choose(&the_blocking, l1d, l2, l3, MR, NR);
#if defined(__AVX512F__) /* the blocks as tuned on an AVX-512 EPYC, kept: this path could not be re-measured */
    the_blocking.kc = 256;
    the_blocking.mc = 120;
    the_blocking.nc = 512;
    the_blocking.from_caches = 0;
#endif
}

const MatmulBlocking *matmul_blocking(void) {
    pthread_once(&blocking_once, blocking_init);
    return &the_blocking;
}

/* Floats of one packed kc x nc block of B: whole NR-column panels. */
static size_t packed_block_floats(int kc, int nc) { return (size_t)kc * (size_t)((nc + NR - 1) / NR) * NR; }

/* Floats of all of B (K x N) packed block by block, in gemm_acc's order. */
static size_t packed_b_floats(const MatmulBlocking *bl, int K, int N) {
    size_t n = 0;
    for (int jc = 0; jc < N; jc += bl->nc)
        n += packed_block_floats(K, N - jc < bl->nc ? N - jc : bl->nc); /* its K blocks hold K rows in all */
    return n;
}

/* dst <- every block of B as gemm_acc packs them, one after another in the
 * order it visits them (jc, then pc). */
static void pack_b_all(const MatmulBlocking *bl, float *dst, const float *B, size_t b_rs, size_t b_cs, int K, int N) {
    for (int jc = 0; jc < N; jc += bl->nc) {
        int nc = N - jc < bl->nc ? N - jc : bl->nc;
        for (int pc = 0; pc < K; pc += bl->kc) {
            int kc = K - pc < bl->kc ? K - pc : bl->kc;
            pack_b(dst, B + (size_t)pc * b_rs + (size_t)jc * b_cs, b_rs, b_cs, kc, nc);
            dst += packed_block_floats(kc, nc);
        }
    }
}

/* C[M][N] (row stride ldc) += A . B, A(i,k) = A[i a_rs + k a_cs], B(k,j) = B[k b_rs + j b_cs].
 * Bpre: B already packed by pack_b_all (B, b_rs and b_cs unused), or NULL.
 * A with unit column stride (inp, dout) is read in place where DIRECT_A: its
 * rows are already contiguous along k, so the kernel broadcasts from MR row
 * streams; without ROW_EDGE a last partial panel of each block is packed
 * (with its zero padding). */
static void gemm_acc(float *C, size_t ldc, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t b_rs,
                     size_t b_cs, const float *Bpre, int M, int N, int K, float *scratch) {
    const MatmulBlocking *bl = matmul_blocking();
    const int KC = bl->kc, NC = bl->nc, direct = DIRECT_A && a_cs == 1;
    /* M in equal blocks of at most mc rows (whole tiles): a short last block
     * (4 rows of M = 256 after one of 252) would stream all of B's block again
     * for a sliver of work */
    const int m_blocks = (M + bl->mc - 1) / bl->mc, MC = ((M + m_blocks - 1) / m_blocks + MR - 1) / MR * MR;
    float *Ap = scratch, *Bpack = scratch + MATMUL_MC_MAX * MATMUL_KC_MAX;
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            const float *Bp = Bpack;
            if (Bpre) {
                Bp = Bpre;
                Bpre += packed_block_floats(kc, nc);
            } else {
                pack_b(Bpack, B + (size_t)pc * b_rs + (size_t)jc * b_cs, b_rs, b_cs, kc, nc);
            }
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC, whole = !direct ? 0 : ROW_EDGE ? mc : mc / MR * MR;
                const float *Ablk = A + (size_t)ic * a_rs + (size_t)pc * a_cs;
                /* direct: only the partial panel, at its place among the panels */
                pack_a(Ap + (size_t)whole * kc, Ablk + (size_t)whole * a_rs, a_rs, a_cs, mc - whole, kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = nc - jr < NR ? nc - jr : NR;
                    const float *bp = Bp + (size_t)jr * kc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = mc - ir < MR ? mc - ir : MR;
                        float *c = C + (size_t)(ic + ir) * ldc + jc + jr;
                        /* the next tile's C, which the kernel reads first: a C larger than
                         * the caches otherwise stalls each tile's start on memory */
                        const float *next = ir + MR < mc ? c + MR * ldc : C + (size_t)ic * ldc + jc + jr + NR;
                        for (int i = 0; i < MR; i++) {
                            __builtin_prefetch(next + i * ldc, 1);
                            __builtin_prefetch(next + i * ldc + NR - 1, 1);
                        }
                        if (ir < whole)
                            tile(c, ldc, Ablk + (size_t)ir * a_rs, a_rs, bp, kc, rows, cols);
                        else
                            tile(c, ldc, Ap + (size_t)ir * kc, 0, bp, kc, rows, cols);
                    }
                }
            }
        }
    }
}

void matmul_gemm(float *C, float *scratch, const float *A, int trans_a, const float *B, int trans_b, int M, int N,
                 int K) {
    size_t a_rs = trans_a ? 1 : (size_t)K, a_cs = trans_a ? (size_t)M : 1;
    size_t b_rs = trans_b ? 1 : (size_t)N, b_cs = trans_b ? (size_t)K : 1;
    gemm_acc(C, (size_t)N, A, a_rs, a_cs, B, b_rs, b_cs, NULL, M, N, K, scratch);
}

/* out = bias + inp . W^T, W given as the weight or (packed != NULL) packed. */
static void forward(float *out, float *scratch, const float *inp, const float *weight, const float *packed,
                    const float *bias, int N, int C, int OC) {
    for (int n = 0; n < N; n++) {
        float *row = out + (size_t)n * OC;
        if (bias)
            memcpy(row, bias, sizeof(float) * (size_t)OC);
        else
            memset(row, 0, sizeof(float) * (size_t)OC);
    }
    /* B(k, j) = W[j][k]: rows of W are columns of B */
    gemm_acc(out, (size_t)OC, inp, (size_t)C, 1, weight, 1, (size_t)C, packed, N, OC, C, scratch);
}

void matmul_forward(float *out, float *scratch, const float *inp, const float *weight, const float *bias, int N,
                    int C, int OC) {
    forward(out, scratch, inp, weight, NULL, bias, N, C, OC);
}

/* matmul_backward with W given as the weight or (packed != NULL) packed for dinp. */
static void backward(float *dinp, float *dweight, float *dbias, float *scratch, const float *dout, const float *inp,
                     const float *weight, const float *packed, int N, int C, int OC) {
    if (dinp) {
        memset(dinp, 0, sizeof(float) * (size_t)N * C);
        gemm_acc(dinp, (size_t)C, dout, (size_t)OC, 1, weight, (size_t)C, 1, packed, N, C, OC, scratch);
    }
    /* A(o, n) = dout[n][o]: dout read column-wise */
    gemm_acc(dweight, (size_t)C, dout, 1, (size_t)OC, inp, (size_t)C, 1, NULL, OC, C, N, scratch);
    if (dbias)
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * OC;
            for (int o = 0; o < OC; o++) dbias[o] += d[o];
        }
}

void matmul_backward(float *dinp, float *dweight, float *dbias, float *scratch, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC) {
    backward(dinp, dweight, dbias, scratch, dout, inp, weight, NULL, N, C, OC);
}

/* The forward layout (B = W^T: K = C, N = OC), then the dinp layout (B = W:
 * K = OC, N = C). */
size_t matmul_packed_floats(int C, int OC) {
    const MatmulBlocking *bl = matmul_blocking();
    return packed_b_floats(bl, C, OC) + packed_b_floats(bl, OC, C);
}

void matmul_pack_weight(float *packed, const float *weight, int C, int OC) {
    const MatmulBlocking *bl = matmul_blocking();
    pack_b_all(bl, packed, weight, 1, (size_t)C, C, OC);
    pack_b_all(bl, packed + packed_b_floats(bl, C, OC), weight, (size_t)C, 1, OC, C);
}

void matmul_forward_packed(float *out, float *scratch, const float *inp, const float *packed, const float *bias, int N,
                           int C, int OC) {
    forward(out, scratch, inp, NULL, packed, bias, N, C, OC);
}

void matmul_backward_packed(float *dinp, float *dweight, float *dbias, float *scratch, const float *dout,
                            const float *inp, const float *packed, int N, int C, int OC) {
    backward(dinp, dweight, dbias, scratch, dout, inp, NULL, packed + packed_b_floats(matmul_blocking(), C, OC), N, C,
             OC);
}

void matmul_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                        int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int c = 0; c < C; c++) s += (double)inp[(size_t)n * C + c] * weight[(size_t)o * C + c];
            out[(size_t)n * OC + o] = (float)s;
        }
}

void matmul_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int N, int C, int OC) {
    if (dinp)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) {
                double s = 0.0;
                for (int o = 0; o < OC; o++) s += (double)dout[(size_t)n * OC + o] * weight[(size_t)o * C + c];
                dinp[(size_t)n * C + c] = (float)s;
            }
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int n = 0; n < N; n++) s += (double)dout[(size_t)n * OC + o] * inp[(size_t)n * C + c];
            dweight[(size_t)o * C + c] += (float)s;
        }
    if (dbias)
        for (int o = 0; o < OC; o++) {
            double s = 0.0;
            for (int n = 0; n < N; n++) s += dout[(size_t)n * OC + o];
            dbias[o] += (float)s;
        }
}
