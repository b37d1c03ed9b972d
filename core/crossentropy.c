/* crossentropy.c - softmax over the vocabulary and the cross-entropy loss; see layers.h.
 *
 * softmax_crossentropy_forward_ref / _backward_ref are the plain scalar
 * versions (libm expf, the row sum in double): the reference. The fast
 * versions do the same per row with vf16, in three passes over the row (which
 * fits in L1): the maximum (exact, so its order does not matter); exp(x - max)
 * with vexp16, stored and summed at once in 16 float lanes, folded by vsum;
 * then the scaling by 1/sum. The last V % 16 columns go through the same
 * vector code after vload_part, with the missing lanes masked out of the max
 * and the sum. The lanes and the order in which they are added depend only
 * on V, never on the pointers' alignment, so each row's result is a fixed
 * function of its logits. The loss is still log(sum) + max - logit[target],
 * from the logits, with sum >= 1 (the maximum contributes exp(0) = 1).
 * The backward, (p - onehot) / n_mean, is the reference's arithmetic vectorised,
 * so it gives the same bits. tests/test_kernels_pointwise.c holds the fast
 * versions to the references. */
#include "layers.h"
#include "vmath.h"

#include <math.h>
#include <string.h>

void softmax_crossentropy_forward_ref(float *probs, float *losses, const int *targets, int N, int V) {
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        float maxv = -INFINITY;
        for (int v = 0; v < V; v++)
            if (p[v] > maxv) maxv = p[v];
        float target_logit = targets ? p[targets[n]] : 0.0f;
        double sum = 0.0;
        for (int v = 0; v < V; v++) {
            p[v] = expf(p[v] - maxv);
            sum += p[v];
        }
        float inv = (float)(1.0 / sum);
        for (int v = 0; v < V; v++) p[v] *= inv;
        if (targets) losses[n] = (float)(log(sum) + maxv - target_logit);
    }
}

void softmax_crossentropy_backward_ref(float *probs, const int *targets, int N, int V, int n_mean) {
    float inv_n = 1.0f / (float)n_mean;
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        p[targets[n]] -= 1.0f;
        for (int v = 0; v < V; v++) p[v] *= inv_n;
    }
}

/* All ones (as bits) in the first r lanes, zero in the others. */
SB_INLINE vi16 lanes_below(int r) {
    const vi16 idx = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    return idx < (vi16){r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r};
}

void softmax_crossentropy_forward(float *probs, float *losses, const int *targets, int N, int V) {
    const int vend = V - V % VLEN; /* columns [vend, V) are the tail */
    const int rem = V - vend;
    const vi16 tail = lanes_below(rem);
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        float target_logit = targets ? p[targets[n]] : 0.0f;

        /* 1. the maximum, in four independent chains (the maximum is exact,
         * so how the columns are split between them does not matter); the
         * tail's missing lanes are -inf */
        vf16 m0 = vsplat(-INFINITY), m1 = m0, m2 = m0, m3 = m0;
        int c = 0;
        for (; c + 4 * VLEN <= vend; c += 4 * VLEN) {
            m0 = vmaxv(m0, VLOAD(p + c));
            m1 = vmaxv(m1, VLOAD(p + c + VLEN));
            m2 = vmaxv(m2, VLOAD(p + c + 2 * VLEN));
            m3 = vmaxv(m3, VLOAD(p + c + 3 * VLEN));
        }
        for (; c < vend; c += VLEN) m0 = vmaxv(m0, VLOAD(p + c));
        if (rem) {
            vf16 x = vload_part(p + vend, rem);
            m1 = vmaxv(m1, (vf16)((tail & (vi16)x) | (~tail & (vi16)vsplat(-INFINITY))));
        }
        float maxv = vmax(vmaxv(vmaxv(m0, m1), vmaxv(m2, m3)));
        vf16 mv = vsplat(maxv);

        /* 2. p = exp(x - max), summed in 16 lanes; the tail's missing lanes add 0 */
        vf16 s = vsplat(0.0f);
        for (int v = 0; v < vend; v += VLEN) {
            vf16 e = vexp16(VLOAD(p + v) - mv);
            VSTORE(p + v, e);
            s += e;
        }
        if (rem) {
            vf16 e = vexp16(vload_part(p + vend, rem) - mv);
            vstore_part(p + vend, e, rem);
            s += (vf16)(tail & (vi16)e);
        }
        float sum = vsum(s);

        /* 3. normalise */
        vf16 inv = vsplat(1.0f / sum);
        for (int v = 0; v < vend; v += VLEN) VSTORE(p + v, VLOAD(p + v) * inv);
        if (rem) vstore_part(p + vend, vload_part(p + vend, rem) * inv, rem);

        if (targets) losses[n] = (float)(log((double)sum) + maxv - target_logit);
    }
}

void softmax_crossentropy_backward(float *probs, const int *targets, int N, int V, int n_mean) {
    const int vend = V - V % VLEN;
    const int rem = V - vend;
    const float inv_n = 1.0f / (float)n_mean;
    const vf16 iv = vsplat(inv_n);
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        p[targets[n]] -= 1.0f;
        for (int v = 0; v < vend; v += VLEN) VSTORE(p + v, VLOAD(p + v) * iv);
        if (rem) vstore_part(p + vend, vload_part(p + vend, rem) * iv, rem);
    }
}
