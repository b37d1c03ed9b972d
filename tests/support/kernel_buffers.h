/* kernel_buffers.h - buffers for testing a fast kernel against its reference.
 *
 * Outputs are allocated filled with NaN and followed by KB_GUARD more NaNs,
 * so an element a kernel forgot to write stays NaN and fails the comparison,
 * and a write past the end shows in the guard; one spare float lets a test
 * shift the start by one to check that alignment changes nothing. */
#ifndef SB_KERNEL_BUFFERS_H
#define SB_KERNEL_BUFFERS_H

#include <stddef.h>

#include "../../core/rng.h"

#define KB_GUARD 16 /* NaN floats after every output */

/* uniform in [lo, hi) */
float kb_uniform(Rng *r, float lo, float hi);
/* n floats, then KB_GUARD NaNs, then one spare float: all NaN. */
float *kb_nan_buffer(size_t n);
/* Fails the test unless the KB_GUARD floats after p[n) are still NaN. */
void kb_assert_guard_intact(const float *p, size_t n);

#endif
