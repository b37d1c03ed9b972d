/* matmul.c - register-blocked matrix products; see matmul.h.
 *
 * Forward computes dot products of rows of inp with rows of W in 4x4 blocks:
 * each of the 16 outputs keeps MM_LANES partial sums in a small array the
 * compiler keeps in vector registers, and the partial sums are added in lane
 * order at the end. That is one fixed summation order per output, so the
 * result does not depend on the compiler's choices (no -ffast-math needed).
 * Backward is written as row updates (y[:] += a * x[:]), which vectorise
 * without any reassociation at all. */
#include "matmul.h"

#include <string.h>

#define MM_LANES 8 /* partial sums per output: one AVX register of floats */
#define MM_BLOCK 4 /* rows of inp and of W per block */

static inline float lanes_sum(const float *acc) {
    float s = 0.0f;
    for (int k = 0; k < MM_LANES; k++) s += acc[k];
    return s;
}

/* One MM_BLOCK x MM_BLOCK block of dot products over the first Cv columns. */
static void dot_block(float out[MM_BLOCK][MM_BLOCK], const float *const in[MM_BLOCK],
                      const float *const w[MM_BLOCK], int Cv) {
    float acc[MM_BLOCK][MM_BLOCK][MM_LANES];
    memset(acc, 0, sizeof acc);
    for (int c = 0; c < Cv; c += MM_LANES)
        for (int i = 0; i < MM_BLOCK; i++)
            for (int j = 0; j < MM_BLOCK; j++)
                for (int k = 0; k < MM_LANES; k++) acc[i][j][k] += in[i][c + k] * w[j][c + k];
    for (int i = 0; i < MM_BLOCK; i++)
        for (int j = 0; j < MM_BLOCK; j++) out[i][j] = lanes_sum(acc[i][j]);
}

static float dot_one(const float *a, const float *b, int Cv, int C) {
    float acc[MM_LANES] = {0};
    for (int c = 0; c < Cv; c += MM_LANES)
        for (int k = 0; k < MM_LANES; k++) acc[k] += a[c + k] * b[c + k];
    float s = lanes_sum(acc);
    for (int c = Cv; c < C; c++) s += a[c] * b[c];
    return s;
}

void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, int N, int C,
                    int OC) {
    int Cv = C - C % MM_LANES;
    int Nb = N - N % MM_BLOCK, OCb = OC - OC % MM_BLOCK;
    for (int n = 0; n < Nb; n += MM_BLOCK) {
        const float *in[MM_BLOCK];
        for (int i = 0; i < MM_BLOCK; i++) in[i] = inp + (size_t)(n + i) * C;
        for (int o = 0; o < OCb; o += MM_BLOCK) {
            const float *w[MM_BLOCK];
            for (int j = 0; j < MM_BLOCK; j++) w[j] = weight + (size_t)(o + j) * C;
            float blk[MM_BLOCK][MM_BLOCK];
            dot_block(blk, in, w, Cv);
            for (int i = 0; i < MM_BLOCK; i++)
                for (int j = 0; j < MM_BLOCK; j++) {
                    float s = blk[i][j];
                    for (int c = Cv; c < C; c++) s += in[i][c] * w[j][c];
                    out[(size_t)(n + i) * OC + o + j] = s + (bias ? bias[o + j] : 0.0f);
                }
        }
        for (int o = OCb; o < OC; o++)
            for (int i = 0; i < MM_BLOCK; i++)
                out[(size_t)(n + i) * OC + o] =
                    dot_one(in[i], weight + (size_t)o * C, Cv, C) + (bias ? bias[o] : 0.0f);
    }
    for (int n = Nb; n < N; n++)
        for (int o = 0; o < OC; o++)
            out[(size_t)n * OC + o] =
                dot_one(inp + (size_t)n * C, weight + (size_t)o * C, Cv, C) + (bias ? bias[o] : 0.0f);
}

void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, int N, int C, int OC) {
    /* dinp[n][:] = sum over o of dout[n][o] * W[o][:], in increasing o. */
    if (dinp) {
        for (int n = 0; n < N; n++) {
            float *di = dinp + (size_t)n * C;
            const float *d = dout + (size_t)n * OC;
            memset(di, 0, sizeof(float) * (size_t)C);
            for (int o = 0; o < OC; o++) {
                const float *w = weight + (size_t)o * C;
                float g = d[o];
                for (int c = 0; c < C; c++) di[c] += g * w[c];
            }
        }
    }
    /* dW[o][:] += sum over n of dout[n][o] * inp[n][:], in increasing n; four
     * rows of dW at a time so each inp row is loaded once per four. */
    int OCb = OC - OC % MM_BLOCK;
    for (int o = 0; o < OCb; o += MM_BLOCK) {
        float *w0 = dweight + (size_t)o * C, *w1 = w0 + C, *w2 = w1 + C, *w3 = w2 + C;
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C;
            const float *d = dout + (size_t)n * OC + o;
            float g0 = d[0], g1 = d[1], g2 = d[2], g3 = d[3];
            for (int c = 0; c < C; c++) {
                float xc = x[c];
                w0[c] += g0 * xc;
                w1[c] += g1 * xc;
                w2[c] += g2 * xc;
                w3[c] += g3 * xc;
            }
        }
    }
    for (int o = OCb; o < OC; o++) {
        float *w = dweight + (size_t)o * C;
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C;
            float g = dout[(size_t)n * OC + o];
            for (int c = 0; c < C; c++) w[c] += g * x[c];
        }
    }
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
