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
 * KC, N into blocks of NC, M into blocks of MC; each block of B is packed into
 * NR-column panels and each block of A into MR-row panels, contiguous in the
 * order the micro-kernel reads them (zero-padded at the edges), so the
 * micro-kernel streams both from cache. The micro-kernel keeps an MR x NR tile
 * of C in 2 * MR 16-float vector registers (24 of AVX-512's 32), and per k
 * loads two vectors of B, broadcasts MR values of A and issues 2 * MR fused
 * multiply-adds.
 *
 * Every output is its starting value plus the products added one k at a time
 * in increasing k: a stored and reloaded partial sum between K blocks is the
 * same float, so the result does not depend on the blocking, the tile or the
 * vector width - it is bitwise what a plain loop over k of fmaf(a, b, c)
 * gives (tests/test_matmul.c checks it). That keeps training bitwise reproducible. GCC/Clang vector
 * extensions keep it portable: without 512-bit vectors the compiler splits
 * them. matmul_*_ref are the plain loops the tests hold it against. */
#include "matmul.h"

#include <string.h>

#include "vmath.h"

#define MR 12
#define NR 32
#define KC 256 /* a KC x NR panel of B is 32 KB: it stays in L1 while A's panels stream */
#define MC 120 /* an MC x KC block of A (120 KB) and a KC x NC block of B (512 KB) stay in L2 */
#define NC 512

_Static_assert(MATMUL_SCRATCH_FLOATS >= MC * KC + KC * NC, "matmul scratch too small");

/* C[MR][NR] (row stride ldc) += Ap . Bp over kc steps; Ap is kc groups of MR
 * values, Bp kc rows of NR. */
static void kernel_12x32(float *C, size_t ldc, const float *Ap, const float *Bp, int kc) {
    vf16 c0[MR], c1[MR];
    for (int i = 0; i < MR; i++) {
        c0[i] = VLOAD(C + i * ldc);
        c1[i] = VLOAD(C + i * ldc + 16);
    }
    for (int k = 0; k < kc; k++) {
        vf16 b0 = VLOAD(Bp), b1 = VLOAD(Bp + 16);
        for (int i = 0; i < MR; i++) {
            vf16 a = vsplat(Ap[i]);
            c0[i] += a * b0;
            c1[i] += a * b1;
        }
        Ap += MR;
        Bp += NR;
    }
    for (int i = 0; i < MR; i++) {
        VSTORE(C + i * ldc, c0[i]);
        VSTORE(C + i * ldc + 16, c1[i]);
    }
}

/* A tile cut by the edge of C: run the kernel on a padded copy. Padding rows
 * and columns see only the zeros of the packed panels. */
static void kernel_edge(float *C, size_t ldc, const float *Ap, const float *Bp, int kc, int rows, int cols) {
    float tile[MR * NR] __attribute__((aligned(64)));
    memset(tile, 0, sizeof tile);
    for (int i = 0; i < rows; i++) memcpy(tile + i * NR, C + i * ldc, sizeof(float) * (size_t)cols);
    kernel_12x32(tile, NR, Ap, Bp, kc);
    for (int i = 0; i < rows; i++) memcpy(C + i * ldc, tile + i * NR, sizeof(float) * (size_t)cols);
}

/* Ap <- the mc x kc block of A at (i0, k0), as ceil(mc / MR) panels of kc x MR.
 * Whole panels take fixed-length copies (a profile showed the row-count
 * compares of the general loop); only the last, partial one is padded. */
static void pack_a(float *Ap, const float *A, size_t a_rs, size_t a_cs, int mc, int kc) {
    for (int p = 0; p < mc; p += MR) {
        int rows = mc - p < MR ? mc - p : MR;
        if (rows == MR && a_rs == 1) { /* A read column-wise (dout^T): MR floats in a row per k */
            for (int k = 0; k < kc; k++) memcpy(Ap + (size_t)k * MR, A + (size_t)p + (size_t)k * a_cs, sizeof(float) * MR);
            Ap += (size_t)kc * MR;
            continue;
        }
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
    for (int q = 0; q < nc; q += NR) {
        int cols = nc - q < NR ? nc - q : NR;
        if (b_cs == 1 && cols == NR) {
            for (int k = 0; k < kc; k++) memcpy(Bp + (size_t)k * NR, B + (size_t)k * b_rs + q, sizeof(float) * NR);
        } else if (b_rs == 1) { /* B^T row-major: walk each column of B down k */
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

/* Floats of one packed kc x nc block of B: whole NR-column panels. */
static size_t packed_block_floats(int kc, int nc) { return (size_t)kc * (size_t)((nc + NR - 1) / NR) * NR; }

/* Floats of all of B (K x N) packed block by block, in gemm_acc's order. */
static size_t packed_b_floats(int K, int N) {
    size_t n = 0;
    for (int jc = 0; jc < N; jc += NC)
        n += packed_block_floats(K, N - jc < NC ? N - jc : NC); /* its K blocks hold K rows in all */
    return n;
}

/* dst <- every block of B as gemm_acc packs them, one after another in the
 * order it visits them (jc, then pc). */
static void pack_b_all(float *dst, const float *B, size_t b_rs, size_t b_cs, int K, int N) {
    for (int jc = 0; jc < N; jc += NC) {
        int nc = N - jc < NC ? N - jc : NC;
        for (int pc = 0; pc < K; pc += KC) {
            int kc = K - pc < KC ? K - pc : KC;
            pack_b(dst, B + (size_t)pc * b_rs + (size_t)jc * b_cs, b_rs, b_cs, kc, nc);
            dst += packed_block_floats(kc, nc);
        }
    }
}

/* C[M][N] (row stride ldc) += A . B, A(i,k) = A[i a_rs + k a_cs], B(k,j) = B[k b_rs + j b_cs].
 * Bpre: B already packed by pack_b_all (B, b_rs and b_cs unused), or NULL. */
static void gemm_acc(float *C, size_t ldc, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t b_rs,
                     size_t b_cs, const float *Bpre, int M, int N, int K, float *scratch) {
    float *Ap = scratch, *Bpack = scratch + MC * KC;
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
                int mc = M - ic < MC ? M - ic : MC;
                pack_a(Ap, A + (size_t)ic * a_rs + (size_t)pc * a_cs, a_rs, a_cs, mc, kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = nc - jr < NR ? nc - jr : NR;
                    const float *bp = Bp + (size_t)jr * kc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = mc - ir < MR ? mc - ir : MR;
                        float *c = C + (size_t)(ic + ir) * ldc + jc + jr;
                        const float *ap = Ap + (size_t)ir * kc;
                        if (rows == MR && cols == NR)
                            kernel_12x32(c, ldc, ap, bp, kc);
                        else
                            kernel_edge(c, ldc, ap, bp, kc, rows, cols);
                    }
                }
            }
        }
    }
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
size_t matmul_packed_floats(int C, int OC) { return packed_b_floats(C, OC) + packed_b_floats(OC, C); }

void matmul_pack_weight(float *packed, const float *weight, int C, int OC) {
    pack_b_all(packed, weight, 1, (size_t)C, C, OC);
    pack_b_all(packed + packed_b_floats(C, OC), weight, (size_t)C, 1, OC, C);
}

void matmul_forward_packed(float *out, float *scratch, const float *inp, const float *packed, const float *bias, int N,
                           int C, int OC) {
    forward(out, scratch, inp, NULL, packed, bias, N, C, OC);
}

void matmul_backward_packed(float *dinp, float *dweight, float *dbias, float *scratch, const float *dout,
                            const float *inp, const float *packed, int N, int C, int OC) {
    backward(dinp, dweight, dbias, scratch, dout, inp, NULL, packed + packed_b_floats(C, OC), N, C, OC);
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
