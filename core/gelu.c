/* gelu.c - GELU (tanh approximation) forward and backward; see layers.h.
 *
 * gelu_forward_ref / gelu_backward_ref are the plain scalar versions with
 * libm's tanhf: the reference. gelu_forward / gelu_backward evaluate the same
 * formulas 16 floats at a time with vf16 and vtanh16 (absolute error about
 * 1e-7, see vmath.h); the last n % 16 elements go through the same vector
 * code after vload_part, and only their lanes are stored back. Every element
 * is computed independently of its neighbours and of the pointers'
 * alignment, so the result is a fixed function of the input.
 * tests/test_kernels_pointwise.c holds the fast versions to the references. */
#include "layers.h"
#include "vmath.h"

#include <math.h>
#include <string.h>

#define GELU_SCALE 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_CUBE 0.044715f

void gelu_forward_ref(float *out, const float *inp, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i];
        float cube = GELU_CUBE * x * x * x;
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + cube)));
    }
}

void gelu_backward_ref(float *dinp, const float *inp, const float *dout, int n) {
    for (int i = 0; i < n; i++) {
        float x = inp[i];
        float cube = GELU_CUBE * x * x * x;
        float arg = GELU_SCALE * (x + cube);
        float th = tanhf(arg);
        float sech2 = 1.0f - th * th;
        float local = 0.5f * (1.0f + th) + x * 0.5f * sech2 * GELU_SCALE * (1.0f + 3.0f * GELU_CUBE * x * x);
        dinp[i] = local * dout[i];
    }
}

/* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
SB_INLINE vf16 gelu16(vf16 x) {
    vf16 cube = vsplat(GELU_CUBE) * x * x * x;
    vf16 th = vtanh16(vsplat(GELU_SCALE) * (x + cube));
    return vsplat(0.5f) * x * (vsplat(1.0f) + th);
}

/* d gelu / dx, the same formula as gelu_backward_ref */
SB_INLINE vf16 gelu_grad16(vf16 x) {
    vf16 cube = vsplat(GELU_CUBE) * x * x * x;
    vf16 th = vtanh16(vsplat(GELU_SCALE) * (x + cube));
    vf16 sech2 = vsplat(1.0f) - th * th;
    return vsplat(0.5f) * (vsplat(1.0f) + th) +
           x * vsplat(0.5f) * sech2 * vsplat(GELU_SCALE) * (vsplat(1.0f) + vsplat(3.0f * GELU_CUBE) * x * x);
}

void gelu_forward(float *out, const float *inp, int n) {
    int i = 0;
    for (; i + VLEN <= n; i += VLEN) VSTORE(out + i, gelu16(VLOAD(inp + i)));
    if (i < n) vstore_part(out + i, gelu16(vload_part(inp + i, n - i)), n - i);
}

void gelu_backward(float *dinp, const float *inp, const float *dout, int n) {
    int i = 0;
    for (; i + VLEN <= n; i += VLEN) VSTORE(dinp + i, gelu_grad16(VLOAD(inp + i)) * VLOAD(dout + i));
    if (i < n) {
        int r = n - i;
        vstore_part(dinp + i, gelu_grad16(vload_part(inp + i, r)) * vload_part(dout + i, r), r);
    }
}
