/* matmul.h - the matrix products of forward and backward.
 *
 * Every weight W[OC][C] acts as out = inp . W^T + b. These kernels do most of
 * a step's arithmetic, so they are packed and register-blocked (matmul.c)
 * without reassociating float sums: every output is summed in one fixed
 * order, and the result is a function of the inputs alone (bitwise
 * deterministic). matmul_*_ref are the plain triple loops the
 * tests hold the fast ones against. */
#ifndef SB_MATMUL_H
#define SB_MATMUL_H

#include <stddef.h>

#include "matmul_blocking.h"

/* Floats of scratch the products need for their packed panels, whatever the
 * sizes (one per thread: each workspace has its own): a block of A and one
 * of B at their largest. */
#define MATMUL_SCRATCH_FLOATS (MATMUL_MC_MAX * MATMUL_KC_MAX + MATMUL_KC_MAX * MATMUL_NC_MAX)

/* The blocking and register tile this process uses (chosen once, from the
 * caches, on the first call; thread-safe). */
const MatmulBlocking *matmul_blocking(void);

/* C[M][N] += op(A)[M][K] . op(B)[K][N], every matrix row-major and dense:
 * op(A) is A[M][K], or with trans_a A[K][M] read transposed; op(B) is
 * B[K][N], or with trans_b B[N][K]. The one GEMM under the products below
 * (forward: trans_b; dinp: neither; dweight: trans_a), with their bitwise
 * contract; bench-core times it beside a BLAS's sgemm on the same operands.
 * scratch: MATMUL_SCRATCH_FLOATS floats, overwritten. */
void matmul_gemm(float *C, float *scratch, const float *A, int trans_a, const float *B, int trans_b, int M, int N,
                 int K);

/* out[N][OC] = inp[N][C] . weight[OC][C]^T + bias[OC] (bias may be NULL).
 * scratch: MATMUL_SCRATCH_FLOATS floats, overwritten. */
void matmul_forward(float *out, float *scratch, const float *inp, const float *weight, const float *bias, int N,
                    int C, int OC);

/* dinp[N][C] = dout . weight (overwritten; may be NULL to skip),
 * dweight[OC][C] += dout^T . inp, dbias[OC] += column sums of dout (may be NULL). */
void matmul_backward(float *dinp, float *dweight, float *dbias, float *scratch, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC);

/* A weight used by many products in a row (the classifier's, block after
 * block) can be packed once: matmul_packed_floats(C, OC) floats, written by
 * matmul_pack_weight, then read by the _packed products instead of packing
 * W again in each call. Same results, bit for bit, as the unpacked calls
 * (the arithmetic is unchanged; only where the panels come from). */
size_t matmul_packed_floats(int C, int OC);
void matmul_pack_weight(float *packed, const float *weight, int C, int OC);
void matmul_forward_packed(float *out, float *scratch, const float *inp, const float *packed, const float *bias, int N,
                           int C, int OC);
void matmul_backward_packed(float *dinp, float *dweight, float *dbias, float *scratch, const float *dout,
                            const float *inp, const float *packed, int N, int C, int OC);

void matmul_forward_ref(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                        int OC);
void matmul_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                         const float *weight, int N, int C, int OC);

#endif
