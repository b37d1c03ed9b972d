/* layers.c - encoder, LayerNorm, attention, GELU, residual and the
 * softmax cross-entropy; see layers.h. Plain loops in llm.c's style: these
 * are a small share of a step next to the matrix products. */
#include "layers.h"

#include <math.h>
#include <string.h>

void encoder_forward(float *out, const int *inp, const float *wte, const float *wpe, int B, int T, int D) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * D;
            const float *we = wte + (size_t)inp[b * T + t] * D;
            const float *pe = wpe + (size_t)t * D;
            for (int i = 0; i < D; i++) o[i] = we[i] + pe[i];
        }
}

void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp, int B, int T, int D) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * D;
            float *dwe = dwte + (size_t)inp[b * T + t] * D;
            float *dpe = dwpe + (size_t)t * D;
            for (int i = 0; i < D; i++) {
                dwe[i] += d[i];
                dpe[i] += d[i];
            }
        }
}

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
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

void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
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

void attention_forward(float *out, float *att, const float *inp, int B, int T, int D, int H) {
    int hs = D / H;
    float scale = 1.0f / sqrtf((float)hs);
    size_t C3 = 3 * (size_t)D;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const float *q = inp + ((size_t)b * T + t) * C3 + (size_t)h * hs;
                float *a = att + (((size_t)b * H + h) * T + t) * T;
                float maxv = -INFINITY;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = inp + ((size_t)b * T + t2) * C3 + D + (size_t)h * hs;
                    float s = 0.0f;
                    for (int i = 0; i < hs; i++) s += q[i] * k[i];
                    s *= scale;
                    a[t2] = s;
                    if (s > maxv) maxv = s;
                }
                float sum = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    a[t2] = expf(a[t2] - maxv);
                    sum += a[t2];
                }
                float inv = 1.0f / sum;
                for (int t2 = 0; t2 <= t; t2++) a[t2] *= inv;
                for (int t2 = t + 1; t2 < T; t2++) a[t2] = 0.0f;
                float *o = out + ((size_t)b * T + t) * D + (size_t)h * hs;
                for (int i = 0; i < hs; i++) o[i] = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = inp + ((size_t)b * T + t2) * C3 + 2 * (size_t)D + (size_t)h * hs;
                    float w = a[t2];
                    for (int i = 0; i < hs; i++) o[i] += w * v[i];
                }
            }
}

void attention_backward(float *dinp, float *scratch, const float *dout, const float *inp, const float *att,
                        int B, int T, int D, int H) {
    int hs = D / H;
    float scale = 1.0f / sqrtf((float)hs);
    size_t C3 = 3 * (size_t)D;
    float *datt = scratch, *dpre = scratch + T;
    memset(dinp, 0, sizeof(float) * (size_t)B * T * C3);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const float *a = att + (((size_t)b * H + h) * T + t) * T;
                const float *d = dout + ((size_t)b * T + t) * D + (size_t)h * hs;
                const float *q = inp + ((size_t)b * T + t) * C3 + (size_t)h * hs;
                float *dq = dinp + ((size_t)b * T + t) * C3 + (size_t)h * hs;
                /* out = sum_t2 a[t2] v[t2]: gradients into a and into v */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = inp + ((size_t)b * T + t2) * C3 + 2 * (size_t)D + (size_t)h * hs;
                    float *dv = dinp + ((size_t)b * T + t2) * C3 + 2 * (size_t)D + (size_t)h * hs;
                    float s = 0.0f;
                    for (int i = 0; i < hs; i++) {
                        s += v[i] * d[i];
                        dv[i] += a[t2] * d[i];
                    }
                    datt[t2] = s;
                }
                /* softmax backward: dpre = a * (datt - <a, datt>) */
                float dot = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) dot += a[t2] * datt[t2];
                for (int t2 = 0; t2 <= t; t2++) dpre[t2] = a[t2] * (datt[t2] - dot) * scale;
                /* pre = q . k: gradients into q and k */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = inp + ((size_t)b * T + t2) * C3 + D + (size_t)h * hs;
                    float *dk = dinp + ((size_t)b * T + t2) * C3 + D + (size_t)h * hs;
                    float g = dpre[t2];
                    for (int i = 0; i < hs; i++) {
                        dq[i] += g * k[i];
                        dk[i] += g * q[i];
                    }
                }
            }
}

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi) */

void gelu_forward(float *out, const float *inp, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i];
        float cube = 0.044715f * x * x * x;
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + cube)));
    }
}

void gelu_backward(float *dinp, const float *inp, const float *dout, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i];
        float cube = 0.044715f * x * x * x;
        float arg = GELU_SCALE * (x + cube);
        float th = tanhf(arg);
        float sech2 = 1.0f - th * th;
        float local = 0.5f * (1.0f + th) + x * 0.5f * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] = local * dout[i];
    }
}

void residual_forward(float *out, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void softmax_crossentropy_forward(float *probs, float *losses, const int *targets, int N, int V) {
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

void softmax_crossentropy_backward(float *probs, const int *targets, int N, int V) {
    float inv_n = 1.0f / (float)N;
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        p[targets[n]] -= 1.0f;
        for (int v = 0; v < V; v++) p[v] *= inv_n;
    }
}
