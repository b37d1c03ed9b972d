/* vmath.h - 16-lane float vectors and the few vector math functions the
 * kernels need (exp, tanh), written with GCC/Clang vector extensions.
 *
 * vf16 is a 512-bit vector: one AVX-512 register where the target has them;
 * elsewhere the compiler splits it into 256- or 128-bit halves, so the same
 * source is the portable fallback. The functions are static inlines over
 * vectors, always inlined into their callers: that are always inlined into their callers, which
 * avoids GCC's warning about passing vectors by value across an ABI that
 * depends on -march.
 *
 * vexp16 is the Cephes expf polynomial after a Cody-Waite range reduction:
 * relative error within about 2 float ulps on [-87.3, 88.7]; below that it
 * returns 0, above it the value at 88.7 (the callers only pass arguments
 * <= 0, after subtracting a maximum), and NaN stays NaN, so a diverging run
 * shows in its loss. It is a fixed function of its input, so
 * every kernel built on it stays bitwise deterministic. Each kernel file
 * keeps a plain reference using libm beside its fast version; the tests hold
 * the two together. */
#ifndef SB_VMATH_H
#define SB_VMATH_H

#include <stdint.h>
#include <string.h>

typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
typedef float vf16u __attribute__((vector_size(64), aligned(4))); /* unaligned access */

#define VLEN 16
#define VLOAD(p) (*(const vf16u *)(p))
#define VSTORE(p, v) (*(vf16u *)(p) = (v))

#define SB_INLINE static inline __attribute__((always_inline))

SB_INLINE vf16 vsplat(float x) {
    return (vf16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}

/* The first n (< VLEN) floats of p, the rest zero; and the store back. */
SB_INLINE vf16 vload_part(const float *p, int n) {
    float buf[VLEN] = {0};
    memcpy(buf, p, sizeof(float) * (size_t)n);
    return VLOAD(buf);
}

SB_INLINE void vstore_part(float *p, vf16 v, int n) {
    float buf[VLEN];
    VSTORE(buf, v);
    memcpy(p, buf, sizeof(float) * (size_t)n);
}

/* Horizontal sum in one fixed order (pairwise halves), so a row's sum is the
 * same float whatever the machine splits vf16 into. */
SB_INLINE float vsum(vf16 v) {
    float a[VLEN];
    VSTORE(a, v);
    for (int w = VLEN / 2; w >= 1; w /= 2)
        for (int i = 0; i < w; i++) a[i] += a[i + w];
    return a[0];
}

SB_INLINE float vmax(vf16 v) {
    float a[VLEN];
    VSTORE(a, v);
    float m = a[0];
    for (int i = 1; i < VLEN; i++) m = a[i] > m ? a[i] : m;
    return m;
}

SB_INLINE vf16 vmaxv(vf16 a, vf16 b) {
    vi16 gt = a > b; /* -1 where a > b */
    return (vf16)((gt & (vi16)a) | (~gt & (vi16)b));
}

SB_INLINE vf16 vminv(vf16 a, vf16 b) {
    vi16 lt = a < b;
    return (vf16)((lt & (vi16)a) | (~lt & (vi16)b));
}

SB_INLINE vf16 vexp16(vf16 x) {
    const vf16 hi = vsplat(88.7f), lo = vsplat(-87.3f);
    vi16 keep = x >= lo; /* below lo the result is 0 */
    vi16 nan = x != x;   /* NaN passes through, as expf's does */
    vf16 x0 = x;
    x = vminv(vmaxv(x, lo), hi);
    /* n = round(x / ln 2) with the 1.5 * 2^23 trick, r = x - n ln 2 in two parts */
    const vf16 shifter = vsplat(12582912.0f);
    vf16 t = x * vsplat(1.44269504088896341f) + shifter;
    vf16 n = t - shifter;
    vf16 r = x - n * vsplat(0.693359375f);
    r = r - n * vsplat(-2.12194440e-4f);
    vf16 p = vsplat(1.9875691500e-4f);
    p = p * r + vsplat(1.3981999507e-3f);
    p = p * r + vsplat(8.3334519073e-3f);
    p = p * r + vsplat(4.1665795894e-2f);
    p = p * r + vsplat(1.6666665459e-1f);
    p = p * r + vsplat(5.0000001201e-1f);
    p = p * (r * r) + r + vsplat(1.0f);
    /* times 2^n: add n to the exponent field */
    vi16 ni = __builtin_convertvector(n, vi16);
    vi16 bits = (vi16)p + (ni << 23);
    return (vf16)((bits & keep) | ((vi16)x0 & nan));
}

/* tanh(x) = sign(x) (1 - 2 / (exp(2|x|) + 1)); absolute error about 1e-7. */
SB_INLINE vf16 vtanh16(vf16 x) {
    vi16 sign = (vi16)x & (vi16)vsplat(-0.0f);
    vf16 ax = (vf16)((vi16)x & ~(vi16)vsplat(-0.0f));
    vf16 e = vexp16(vsplat(-2.0f) * ax); /* in (0, 1]: never overflows */
    vf16 th = (vsplat(1.0f) - e) / (vsplat(1.0f) + e);
    return (vf16)((vi16)th | sign);
}

#endif
