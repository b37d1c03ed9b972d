/* peak.h - what this machine could do: the ceiling every throughput is set against.
 *
 * fp32 FMA throughput from many independent vector multiply-add chains, at
 * the widest vectors the build targets (core/vmath.h's 16 lanes fill them on
 * an AVX-512 machine) and at 8 lanes (256-bit, what an AVX2 machine has);
 * and memory bandwidth, STREAM-style, on arrays far beyond the caches: read
 * (a sum), write (a fill), and add (c = a + b, the shape of a gradient
 * reduce). Each is measured on one thread and on every core PEAK_REPS
 * times; the figure is the best, as STREAM reports, and its spread over the
 * repetitions, (max - min) / median of the rates, is kept beside it so a
 * noisy ceiling is seen (noise.h warns above 10 %). */
#ifndef SB_PEAK_H
#define SB_PEAK_H

#include <stdio.h>

#include "../core/error.h"
#include "../core/json_write.h"

#define PEAK_REPS 3

typedef struct {
    int vector_bits;              /* widest vectors of this build: 512, 256 or 128 */
    int threads_all;              /* threads of the "all" figures: the cores this process may use */
    double array_mb;              /* size of each bandwidth array */
    double fma_gflops_1t, fma_gflops_all;   /* widest vectors */
    double fma8_gflops_1t, fma8_gflops_all; /* 8-lane (256-bit) vectors */
    double read_gbs_1t, write_gbs_1t, add_gbs_1t;
    double read_gbs_all, write_gbs_all, add_gbs_all;
    int reps;                     /* repetitions of each figure */
    /* each figure's spread over its repetitions: (max - min) / median rate */
    double fma_spread_1t, fma_spread_all, fma8_spread_1t, fma8_spread_all;
    double read_spread_1t, write_spread_1t, add_spread_1t;
    double read_spread_all, write_spread_all, add_spread_all;
} PeakResult;

/* Takes a few seconds. array_mb 0 means the default (256 MB per array). */
sb_status peak_measure(PeakResult *p, double array_mb, sb_error *err);

void peak_print(FILE *f, const PeakResult *p);
/* The fields as one JSON object value. */
void peak_json(JsonWriter *w, const PeakResult *p);

#endif
