/* matmul.c - the matrix products, all through one register-blocked kernel; see matmul.h.
 *
 * gemm_acc computes C += A . B where B is row-major and A may be read
 * row- or column-wise (strides), so the three products of a layer map onto it
 * without copying anything but W in the forward pass:
 *   forward  out  = bias + inp . W^T   A = inp,      B = W^T (transposed into scratch)
 *   backward dinp = dout . W           A = dout,     B = W
 *   backward dW  += dout^T . inp       A = dout^T,   B = inp (A read column-wise)
 * The kernel keeps a 4 x 32 tile of C in sixteen 8-float vector registers and
 * walks k in increasing order, so each output is its starting value plus the
 * products added one k at a time: the same float sequence whatever the
 * tiling, the vector width or the k-blocking (a stored and reloaded partial
 * sum is the same float). That is what makes results bitwise reproducible.
 * GCC/Clang vector extensions keep it portable: on a target without 8-wide
 * vectors the compiler splits them. */
#include "matmul.h"

#include <string.h>

typedef float vf8 __attribute__((vector_size(32)));
typedef float vf8u __attribute__((vector_size(32), aligned(4))); /* for unaligned loads and stores */

#define TILE_M 4
#define TILE_N 32
#define BLOCK_K 256 /* a 256 x 32 panel of B is 32 KB: it stays in L1 while A streams */

/* Macros, not functions: a function taking or returning a vector type has an
 * ABI that depends on -march, which GCC rightly warns about. */
#define load8(p) (*(const vf8u *)(p))
#define store8(p, v) (*(vf8u *)(p) = (v))

/* C[i][j] += sum over k of A(i,k) B[k][j] for one TILE_M x TILE_N tile. */
static void tile_4x32(float *C, size_t ldc, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t ldb,
                      int K) {
    vf8 c[TILE_M][4];
    for (int i = 0; i < TILE_M; i++)
        for (int v = 0; v < 4; v++) c[i][v] = load8(C + i * ldc + 8 * v);
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb;
        vf8 b0 = load8(b), b1 = load8(b + 8), b2 = load8(b + 16), b3 = load8(b + 24);
        for (int i = 0; i < TILE_M; i++) {
            float a = A[i * a_rs + (size_t)k * a_cs];
            c[i][0] += a * b0;
            c[i][1] += a * b1;
            c[i][2] += a * b2;
            c[i][3] += a * b3;
        }
    }
    for (int i = 0; i < TILE_M; i++)
        for (int v = 0; v < 4; v++) store8(C + i * ldc + 8 * v, c[i][v]);
}

/* One row of a tile, for the rows left over below a multiple of TILE_M. */
static void tile_1x32(float *C, const float *A, size_t a_cs, const float *B, size_t ldb, int K) {
    vf8 c0 = load8(C), c1 = load8(C + 8), c2 = load8(C + 16), c3 = load8(C + 24);
    for (int k = 0; k < K; k++) {
        const float *b = B + (size_t)k * ldb;
        float a = A[(size_t)k * a_cs];
        c0 += a * load8(b);
        c1 += a * load8(b + 8);
        c2 += a * load8(b + 16);
        c3 += a * load8(b + 24);
    }
    store8(C, c0);
    store8(C + 8, c1);
    store8(C + 16, c2);
    store8(C + 24, c3);
}

static void gemm_acc(float *C, size_t ldc, const float *A, size_t a_rs, size_t a_cs, const float *B, size_t ldb,
                     int M, int N, int K) {
    int Nt = N - N % TILE_N, Mt = M - M % TILE_M;
    for (int k0 = 0; k0 < K; k0 += BLOCK_K) {
        int kb = K - k0 < BLOCK_K ? K - k0 : BLOCK_K;
        const float *Ak = A + (size_t)k0 * a_cs, *Bk = B + (size_t)k0 * ldb;
        for (int j = 0; j < Nt; j += TILE_N) {
            for (int i = 0; i < Mt; i += TILE_M)
                tile_4x32(C + (size_t)i * ldc + j, ldc, Ak + (size_t)i * a_rs, a_rs, a_cs, Bk + j, ldb, kb);
            for (int i = Mt; i < M; i++) tile_1x32(C + (size_t)i * ldc + j, Ak + (size_t)i * a_rs, a_cs, Bk + j, ldb, kb);
        }
        /* columns past the last whole tile: same order of summation, scalar */
        for (int i = 0; i < M; i++)
            for (int j = Nt; j < N; j++) {
                float s = C[(size_t)i * ldc + j];
                for (int k = 0; k < kb; k++) s += Ak[(size_t)i * a_rs + (size_t)k * a_cs] * Bk[(size_t)k * ldb + j];
                C[(size_t)i * ldc + j] = s;
            }
    }
}

void matmul_forward(float *out, float *scratch, const float *inp, const float *weight, const float *bias, int N,
                    int C, int OC) {
    /* scratch = W^T, [C][OC]: O(OC C) work against the product's O(N OC C) */
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++) scratch[(size_t)c * OC + o] = weight[(size_t)o * C + c];
    for (int n = 0; n < N; n++) {
        float *row = out + (size_t)n * OC;
        if (bias)
            memcpy(row, bias, sizeof(float) * (size_t)OC);
        else
            memset(row, 0, sizeof(float) * (size_t)OC);
    }
    gemm_acc(out, (size_t)OC, inp, (size_t)C, 1, scratch, (size_t)OC, N, OC, C);
}

void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC) {
    if (dinp) {
        memset(dinp, 0, sizeof(float) * (size_t)N * C);
        gemm_acc(dinp, (size_t)C, dout, (size_t)OC, 1, weight, (size_t)C, N, C, OC);
    }
    gemm_acc(dweight, (size_t)C, dout, 1, (size_t)OC, inp, (size_t)C, OC, C, N);
    if (dbias)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) dbias[o] += dout[(size_t)n * OC + o];
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
