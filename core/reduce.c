/* reduce.c - gradient buffer sums; see reduce.h.
 *
 * reduce_sum walks the buffers in chunks of REDUCE_CHUNK floats: the chunk of
 * the output is started from the first buffer, then the other buffers are
 * added REDUCE_GROUP at a time (one pass reads four streams, so the hardware
 * prefetchers see long sequential reads) while the chunk stays in L2: memory
 * sees each buffer read once and the output written once. The adds are
 * 16-lane vectors and each element is summed in buffer order; elements are
 * independent, so vector width, chunking and grouping change nothing in the
 * result. */
#include "reduce.h"

#include <string.h>

#include "vmath.h"

#define REDUCE_CHUNK 32768 /* floats: 128 KB of the output, kept in L2 across the passes */
#define REDUCE_GROUP 4     /* buffers streamed at once, so the prefetchers see long streams */

/* acc[i] = (((acc[i] + g[0][c0 + i]) + g[1][c0 + i]) + ...) for m buffers */
static void add_group(float *restrict acc, const float *const *g, int m, size_t c0, size_t n) {
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        vf16 s = VLOAD(acc + i);
        for (int b = 0; b < m; b++) s += VLOAD(g[b] + c0 + i);
        VSTORE(acc + i, s);
    }
    for (; i < n; i++) {
        float s = acc[i];
        for (int b = 0; b < m; b++) s += g[b][c0 + i];
        acc[i] = s;
    }
}

void reduce_add(float *acc, const float *g, size_t n) {
    add_group(acc, &g, 1, 0, n);
}

void reduce_sum(float *out, const float *const *bufs, int k, size_t n) {
    for (size_t c0 = 0; c0 < n; c0 += REDUCE_CHUNK) {
        size_t len = n - c0 < REDUCE_CHUNK ? n - c0 : REDUCE_CHUNK;
        float *o = out + c0;
        if (bufs[0] != out) memcpy(o, bufs[0] + c0, sizeof(float) * len);
        for (int b = 1; b < k; b += REDUCE_GROUP) {
            int m = k - b < REDUCE_GROUP ? k - b : REDUCE_GROUP;
            add_group(o, bufs + b, m, c0, len);
        }
    }
}

void reduce_sum_ref(float *out, const float *const *bufs, int k, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float s = bufs[0][i];
        for (int b = 1; b < k; b++) s += bufs[b][i];
        out[i] = s;
    }
}
