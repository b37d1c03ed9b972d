/* encoder.c - token + position embedding, and the residual sum; see layers.h.
 * Plain loops: memory-bound and a small share of a step. */
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

void residual_forward(float *out, const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
}
