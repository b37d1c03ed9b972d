/* layernorm.c - LayerNorm forward and backward over rows of D; see layers.h.
 *
 * layernorm_forward_ref / layernorm_backward_ref are the plain scalar loops:
 * the reference. The fast versions run the same formulas 16 floats at a time
 * with vf16 along D. Each row reduction (mean, variance, the two means of
 * backward) sums the row's 16-float blocks into four vector accumulators in
 * a fixed rotation (the last D % 16 floats, through vload_part, zero-padded
 * and masked where the padding would not contribute 0), adds the four
 * accumulators pairwise and the 16 lanes with vsum: an order that depends
 * on D only, never on alignment. The elementwise outputs go out through
 * vstore_part for the tail. dweight and dbias still add rows in order n.
 * tests/test_kernels_attention.c holds the fast versions to the references. */
#include "layers.h"
#include "vmath.h"

#include <math.h>
#include <string.h>

void layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int N, int D) {
    const float eps = 1e-5f;
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * D;
        float m = 0.0f;
        for (int i = 0; i < D; i++) m += x[i];
        m /= D;
        float v = 0.0f;
        for (int i = 0; i < D; i++) {
            float dx = x[i] - m;
            v += dx * dx;
        }
        v /= D;
        float s = 1.0f / sqrtf(v + eps);
        float *o = out + (size_t)n * D;
        for (int i = 0; i < D; i++) o[i] = (s * (x[i] - m)) * weight[i] + bias[i];
        mean[n] = m;
        rstd[n] = s;
    }
}

void layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int D) {
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * D;
        const float *x = inp + (size_t)n * D;
        float *dx = dinp + (size_t)n * D;
        float m = mean[n], s = rstd[n];
        /* two reductions: the mean of dnorm and of dnorm * norm */
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (int i = 0; i < D; i++) {
            float norm = (x[i] - m) * s;
            float dnorm = weight[i] * d[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean /= D;
        dnorm_norm_mean /= D;
        for (int i = 0; i < D; i++) {
            float norm = (x[i] - m) * s;
            float dnorm = weight[i] * d[i];
            dbias[i] += d[i];
            dweight[i] += norm * d[i];
            dx[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
}

/* ---- the fast versions ---------------------------------------------------- */

/* The four accumulators, pairwise, then the lanes. */
SB_INLINE float vsum4(const vf16 acc[4]) { return vsum((acc[0] + acc[1]) + (acc[2] + acc[3])); }

SB_INLINE vf16 vtail_mask(int rem) {
    const vi16 lanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    return (vf16)(lanes < rem);
}

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                       const float *bias, int N, int D) {
    const float eps = 1e-5f;
    const int Dv = D / VLEN * VLEN, rem = D - Dv;
    const vi16 tail = (vi16)vtail_mask(rem);
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * D;
        float *o = out + (size_t)n * D;
        /* mean: block k into accumulator k % 4 */
        vf16 acc[4] = {vsplat(0.0f), vsplat(0.0f), vsplat(0.0f), vsplat(0.0f)};
        for (int i = 0, k = 0; i < Dv; i += VLEN, k = (k + 1) & 3) acc[k] += VLOAD(x + i);
        if (rem) acc[(Dv / VLEN) & 3] += vload_part(x + Dv, rem);
        float m = vsum4(acc) / D;
        /* biased variance, around the mean */
        const vf16 vm = vsplat(m);
        acc[0] = acc[1] = acc[2] = acc[3] = vsplat(0.0f);
        for (int i = 0, k = 0; i < Dv; i += VLEN, k = (k + 1) & 3) {
            vf16 dx = VLOAD(x + i) - vm;
            acc[k] += dx * dx;
        }
        if (rem) {
            vf16 dx = (vf16)((vi16)(vload_part(x + Dv, rem) - vm) & tail);
            acc[(Dv / VLEN) & 3] += dx * dx;
        }
        float v = vsum4(acc) / D;
        float s = 1.0f / sqrtf(v + eps);
        const vf16 vs = vsplat(s);
        for (int i = 0; i < Dv; i += VLEN)
            VSTORE(o + i, (vs * (VLOAD(x + i) - vm)) * VLOAD(weight + i) + VLOAD(bias + i));
        if (rem) {
            vf16 y = (vs * (vload_part(x + Dv, rem) - vm)) * vload_part(weight + Dv, rem) + vload_part(bias + Dv, rem);
            vstore_part(o + Dv, y, rem);
        }
        mean[n] = m;
        rstd[n] = s;
    }
}

void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int D) {
    const int Dv = D / VLEN * VLEN, rem = D - Dv;
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * D;
        const float *x = inp + (size_t)n * D;
        float *dx = dinp + (size_t)n * D;
        const vf16 vm = vsplat(mean[n]), vs = vsplat(rstd[n]);
        /* the mean of dnorm and of dnorm * norm; in the zero-padded tail
         * dnorm = weight * dout is 0, so it adds nothing */
        vf16 a1[4] = {vsplat(0.0f), vsplat(0.0f), vsplat(0.0f), vsplat(0.0f)};
        vf16 a2[4] = {vsplat(0.0f), vsplat(0.0f), vsplat(0.0f), vsplat(0.0f)};
        for (int i = 0, k = 0; i < Dv; i += VLEN, k = (k + 1) & 3) {
            vf16 norm = (VLOAD(x + i) - vm) * vs;
            vf16 dnorm = VLOAD(weight + i) * VLOAD(d + i);
            a1[k] += dnorm;
            a2[k] += dnorm * norm;
        }
        if (rem) {
            int k = (Dv / VLEN) & 3;
            vf16 norm = (vload_part(x + Dv, rem) - vm) * vs;
            vf16 dnorm = vload_part(weight + Dv, rem) * vload_part(d + Dv, rem);
            a1[k] += dnorm;
            a2[k] += dnorm * norm;
        }
        const vf16 dnorm_mean = vsplat(vsum4(a1) / D), dnorm_norm_mean = vsplat(vsum4(a2) / D);
        for (int i = 0; i < Dv; i += VLEN) {
            vf16 di = VLOAD(d + i);
            vf16 norm = (VLOAD(x + i) - vm) * vs;
            vf16 dnorm = VLOAD(weight + i) * di;
            VSTORE(dbias + i, VLOAD(dbias + i) + di);
            VSTORE(dweight + i, VLOAD(dweight + i) + norm * di);
            VSTORE(dx + i, VLOAD(dx + i) + (dnorm - dnorm_mean - norm * dnorm_norm_mean) * vs);
        }
        if (rem) {
            vf16 di = vload_part(d + Dv, rem);
            vf16 norm = (vload_part(x + Dv, rem) - vm) * vs;
            vf16 dnorm = vload_part(weight + Dv, rem) * di;
            vstore_part(dbias + Dv, vload_part(dbias + Dv, rem) + di, rem);
            vstore_part(dweight + Dv, vload_part(dweight + Dv, rem) + norm * di, rem);
            vstore_part(dx + Dv, vload_part(dx + Dv, rem) + (dnorm - dnorm_mean - norm * dnorm_norm_mean) * vs, rem);
        }
    }
}
