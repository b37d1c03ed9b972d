/* kernel_buffers.c - guarded NaN buffers for the kernel tests; see kernel_buffers.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_buffers.h"

#include <math.h>
#include <stdlib.h>

float kb_uniform(Rng *r, float lo, float hi) { return lo + (hi - lo) * rng_float(r); }

float *kb_nan_buffer(size_t n) {
    float *p = malloc((n + KB_GUARD + 1) * sizeof(float));
    assert_non_null(p);
    for (size_t i = 0; i < n + KB_GUARD + 1; i++) p[i] = NAN;
    return p;
}

void kb_assert_guard_intact(const float *p, size_t n) {
    for (size_t i = n; i < n + KB_GUARD; i++) assert_true(isnan(p[i]));
}
