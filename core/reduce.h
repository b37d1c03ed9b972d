/* reduce.h - summing gradient buffers, the control threads' share of a step.
 *
 * A trainer that averages W workers' gradients must read W buffers of P
 * floats; nothing else it does is as large. reduce_sum reads each of k
 * buffers once and writes the sum once ((k+1) P floats of traffic, against
 * 3 (k-1) P for k-1 passes of acc += g), a cache-sized chunk at a time, so it
 * runs at memory bandwidth. Every element is summed in buffer order,
 * ((b0 + b1) + b2) + ..., exactly as repeated reduce_add calls sum it: the two
 * give bitwise the same result, and a trainer may use either. */
#ifndef SB_REDUCE_H
#define SB_REDUCE_H

#include <stddef.h>

/* The most buffers a trainer passes to one reduce_sum: it sums the gradients
 * that are ready together, up to this many, so no worker waits long for its
 * release. */
#define REDUCE_RUN_MAX 16

/* acc[i] += g[i] */
void reduce_add(float *acc, const float *g, size_t n);

/* out[i] = bufs[0][i] + bufs[1][i] + ... + bufs[k-1][i], in that order; k >= 1.
 * out may be bufs[0] but no other buffer. */
void reduce_sum(float *out, const float *const *bufs, int k, size_t n);

/* The same with plain loops, for the tests. */
void reduce_sum_ref(float *out, const float *const *bufs, int k, size_t n);

#endif
