/* layernorm.c - LayerNorm forward and backward over rows of D; see layers.h. */
#include "layers.h"

#include <math.h>
#include <string.h>

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
