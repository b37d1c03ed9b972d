/* grad_norm.c - the gradient's global norm in chunks; see grad_norm.h. */
#include "grad_norm.h"

#include <math.h>

size_t grad_norm_chunks(size_t n) { return (n + GRAD_NORM_CHUNK - 1) / GRAD_NORM_CHUNK; }

void grad_norm_partial(double *sums, const float *g, size_t n, size_t c_lo, size_t c_hi) {
    for (size_t c = c_lo; c < c_hi; c++) {
        size_t lo = c * GRAD_NORM_CHUNK, hi = lo + GRAD_NORM_CHUNK < n ? lo + GRAD_NORM_CHUNK : n;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)g[i] * (double)g[i];
        sums[c] = s;
    }
}

double grad_norm_total(const double *sums, size_t n_chunks) {
    double s = 0.0;
    for (size_t c = 0; c < n_chunks; c++) s += sums[c];
    return sqrt(s);
}

float grad_clip_scale(double norm, float max_norm) {
    if (!(max_norm > 0.0f) || !isfinite(norm) || norm <= (double)max_norm) return 1.0f;
    return (float)((double)max_norm / norm);
}
