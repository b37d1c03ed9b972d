/* grad_norm.h - the global L2 norm of a gradient, in one canonical order, and
 * the clip factor it gives.
 *
 * The norm is taken over fixed chunks of GRAD_NORM_CHUNK floats: each
 * chunk's sum of squares in double, in element order, then the chunks' sums
 * added in chunk order. The chunk boundaries depend only on the element
 * count, so a trainer that computes the chunks on many threads (any thread
 * any chunk) gets bitwise the norm a single thread gets, as long as the sums
 * are added by grad_norm_total. Clipping multiplies the gradient by
 * grad_clip_scale(norm, max): 1 when the norm is within max (or max is 0). */
#ifndef SB_GRAD_NORM_H
#define SB_GRAD_NORM_H

#include <stddef.h>

#define GRAD_NORM_CHUNK 4096

/* Chunks of an n-element gradient. */
size_t grad_norm_chunks(size_t n);

/* sums[c] = sum of g[i]^2 over chunk c, for chunks c_lo .. c_hi-1 of the
 * n-element g (threads may fill disjoint chunk ranges at once). */
void grad_norm_partial(double *sums, const float *g, size_t n, size_t c_lo, size_t c_hi);

/* sqrt of sums[0] + ... + sums[n_chunks-1], added in that order. */
double grad_norm_total(const double *sums, size_t n_chunks);

/* The factor that brings norm down to max_norm: max_norm / norm when norm
 * exceeds it, else 1 (also for max_norm <= 0, or a norm that is not finite,
 * which is left for the divergence check to report). */
float grad_clip_scale(double norm, float max_norm);

#endif
