/* core_bench.h - how fast the training core runs on one thread, kernel by
 * kernel, as a fraction of what this machine could do.
 *
 * For a model preset, times (median of repetitions after a warm-up, one
 * thread, wall clock) a whole training step - forward, backward, AdamW - and
 * each kernel family at the shapes that step uses: the matrix products,
 * attention, LayerNorm, GELU, softmax cross-entropy, AdamW, and the k-buffer
 * gradient sum. Compute-bound kernels are reported in GFLOP/s against the
 * single-thread fp32 FMA peak, memory-bound ones in GB/s against the
 * single-thread read bandwidth (both from peak.h, measured in the same run).
 * Every matrix product shape of the step is also timed beside a CBLAS sgemm
 * (OpenBLAS unless built otherwise, one thread; blas.h) on the same
 * operands, the two interleaved, so the core's GEMM has an anchor measured
 * in the same run. Speed belongs here, never in the tests. */
#ifndef SB_CORE_BENCH_H
#define SB_CORE_BENCH_H

#include <stdio.h>

#include "../core/model_shape.h"
#include "../core/presets.h"
#include "../core/error.h"
#include "../core/json_write.h"
#include "../core/matmul_blocking.h"
#include "blas.h"
#include "peak.h"

#define CORE_BENCH_MAX_KERNELS 16
#define CORE_BENCH_MAX_SHAPES 16

/* One product of the step as C[m][n] += op(A)[m][k] . op(B)[k][n]. */
typedef struct {
    char product[32];         /* "qkv forward", "qkv dinp", "qkv dweight", ..., "classifier dweight" */
    int m, n, k, trans_a, trans_b;
    double ours_s, blas_s;    /* median seconds of one call */
    double ours_spread, blas_spread;
    double ours_gflops, blas_gflops, ratio; /* ratio: ours / BLAS's GFLOP/s; NaN without a BLAS */
    double ratio_cpu;         /* the same from the calling thread's CPU-time medians */
} GemmShape;

typedef struct {
    const char *name;  /* "matmul", "attention_forward", ... */
    int memory_bound;  /* reported against bandwidth rather than FMA peak */
    double seconds;    /* median time of one call (for matmul: all of a step's products) */
    double spread;     /* (max - min) / median over the repetitions */
    double flops;      /* per call, 0 where not meaningful */
    double bytes;      /* per call: the least traffic the kernel must move */
    double gflops, gbs;
    double fraction;   /* gflops / FMA peak, or gbs / read bandwidth */
} KernelTiming;

typedef struct {
    char preset[16];
    ModelConfig model;
    int B, T;
    size_t params;
    int reps;
    double step_s, step_spread, step_gflops, step_fraction_of_peak;
    double matmul_gflops, matmul_fraction_of_peak;
    int reduce_buffers; /* k of the gradient sum: enough buffers to exceed the caches */
    int reduce_in_cache; /* its buffers fit in the cache: no bandwidth fraction (NaN) */
    double reduce_gbs, reduce_fraction_of_bandwidth;
    KernelTiming kernels[CORE_BENCH_MAX_KERNELS];
    int n_kernels;
    GemmShape shapes[CORE_BENCH_MAX_SHAPES];
    int n_shapes;
    double shapes_min_ratio, shapes_geomean_ratio; /* over the shapes; NaN without a BLAS */
    Blas blas;                 /* what was timed beside our GEMM (closed again; its description stays) */
    MatmulBlocking blocking;   /* our GEMM's tile and blocks */
} CoreBench;

/* Measures one preset with vocabulary V. peak supplies the denominators. */
sb_status core_bench_run(CoreBench *r, const ModelPreset *preset, int V, int reps, const PeakResult *peak,
                         sb_error *err);

void core_bench_print(FILE *f, const CoreBench *r);
/* One preset as one JSON object value. */
void core_bench_json(JsonWriter *w, const CoreBench *r);
/* {"schema": 1, "run_id", "peak": {...}, "blas": {...}, "matmul": {...}, "presets": [...]} into path (atomically). */
sb_status core_bench_write(const char *path, const CoreBench *r, int n, const PeakResult *peak, const char *run_id,
                           sb_error *err);

#endif
