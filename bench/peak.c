/* peak.c - measuring the machine's fp32 and memory ceilings; see peak.h.
 *
 * The FMA loop keeps twelve independent accumulators so that two FMA units
 * with a latency of four cycles always have work; the values converge to a
 * fixed point (a = a*b + c with b < 1), so no denormals or infinities slow it
 * down. Bandwidth kernels touch every page once before timing. */
#include "peak.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/thread_clock.h"
#include "machine.h"
#include "stats.h"

#if defined(__AVX512F__)
#define PEAK_WIDE_BYTES 64
#elif defined(__AVX__)
#define PEAK_WIDE_BYTES 32
#else
#define PEAK_WIDE_BYTES 16
#endif

typedef float vwide __attribute__((vector_size(PEAK_WIDE_BYTES)));
typedef float v8 __attribute__((vector_size(32)));

#define CHAINS 12

/* One FMA loop per vector type: `iters` x CHAINS multiply-adds of
 * sizeof(V)/4 lanes. Returns a value that depends on every chain, so the
 * compiler cannot drop any. */
#define DEFINE_FMA_LOOP(name, V)                                              \
    static float name(long iters) {                                           \
        V a[CHAINS], b, c;                                                    \
        for (size_t k = 0; k < sizeof(V) / sizeof(float); k++) {              \
            b[k] = 0.999f;                                                    \
            c[k] = 1e-3f;                                                     \
        }                                                                     \
        for (int i = 0; i < CHAINS; i++) a[i] = b * (float)(i + 1);           \
        for (long it = 0; it < iters; it++)                                   \
            for (int i = 0; i < CHAINS; i++) a[i] = a[i] * b + c;             \
        float s = 0.0f;                                                       \
        for (int i = 0; i < CHAINS; i++)                                      \
            for (size_t k = 0; k < sizeof(V) / sizeof(float); k++) s += a[i][k]; \
        return s;                                                             \
    }
DEFINE_FMA_LOOP(fma_wide, vwide)
DEFINE_FMA_LOOP(fma_8, v8)

typedef enum { K_FMA_WIDE, K_FMA_8, K_READ, K_WRITE, K_ADD } Kernel;

typedef struct {
    Kernel kernel;
    long iters;
    float *a, *b, *c;
    size_t n;
    pthread_barrier_t *start;
    double seconds;
    float sink;
} Job;

static float read_sum(const float *a, size_t n) {
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += a[i + k];
    float s = 0.0f;
    for (int k = 0; k < 16; k++) s += acc[k];
    for (; i < n; i++) s += a[i];
    return s;
}

static void run_kernel(Job *j) {
    switch (j->kernel) {
    case K_FMA_WIDE: j->sink = fma_wide(j->iters); break;
    case K_FMA_8: j->sink = fma_8(j->iters); break;
    case K_READ: j->sink = read_sum(j->a, j->n); break;
    case K_WRITE:
        for (size_t i = 0; i < j->n; i++) j->a[i] = 1.5f;
        j->sink = j->a[j->n / 2];
        break;
    case K_ADD:
        for (size_t i = 0; i < j->n; i++) j->c[i] = j->a[i] + j->b[i];
        j->sink = j->c[j->n / 2];
        break;
    }
}

static void *job_main(void *p) {
    Job *j = p;
    if (j->start) pthread_barrier_wait(j->start);
    double t0 = clock_wall_now();
    run_kernel(j);
    j->seconds = clock_wall_now() - t0;
    return NULL;
}

/* Runs the kernel on `threads` threads over slices of the arrays PEAK_REPS
 * times; returns the wall time of the slowest thread, best of the
 * repetitions, and the spread of the rates (1 / time) into *spread. */
static double timed(Kernel k, int threads, long iters, float *a, float *b, float *c, size_t n, double *spread) {
    const int reps = PEAK_REPS;
    double best = 1e30, rate[PEAK_REPS];
    Job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)threads);
    for (int r = 0; r < reps; r++) {
        size_t per = n / (size_t)threads;
        for (int t = 0; t < threads; t++) {
            size_t off = (size_t)t * per;
            jobs[t] = (Job){.kernel = k, .iters = iters, .a = a ? a + off : NULL, .b = b ? b + off : NULL,
                            .c = c ? c + off : NULL, .n = per, .start = threads > 1 ? &bar : NULL};
        }
        for (int t = 1; t < threads; t++) pthread_create(&tid[t], NULL, job_main, &jobs[t]);
        job_main(&jobs[0]);
        double worst = jobs[0].seconds;
        for (int t = 1; t < threads; t++) {
            pthread_join(tid[t], NULL);
            if (jobs[t].seconds > worst) worst = jobs[t].seconds;
        }
        if (worst < best) best = worst;
        rate[r] = 1.0 / worst;
    }
    SampleStats st;
    stats_describe(&st, rate, reps);
    *spread = st.spread;
    pthread_barrier_destroy(&bar);
    free(jobs);
    free(tid);
    return best;
}

sb_status peak_measure(PeakResult *p, double array_mb, sb_error *err) {
    memset(p, 0, sizeof *p);
    if (array_mb <= 0) array_mb = 256;
    p->array_mb = array_mb;
    p->vector_bits = PEAK_WIDE_BYTES * 8;
    p->threads_all = machine_usable_cpus(NULL); /* every core this process may use, as the bench counts them */
    size_t n = (size_t)(array_mb * 1024 * 1024 / sizeof(float));
    float *a = aligned_alloc(64, n * sizeof(float)), *b = aligned_alloc(64, n * sizeof(float)),
          *c = aligned_alloc(64, n * sizeof(float));
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return sb_fail(err, SB_ENOMEM, "cannot allocate 3 arrays of %.0f MB for the bandwidth test", array_mb);
    }
    for (size_t i = 0; i < n; i++) {
        a[i] = 1.0f;
        b[i] = 2.0f;
        c[i] = 0.0f;
    }
    /* FMA: 100 M iterations: about 0.15 s per run at 512 bits on a 4 GHz core */
    const long iters = 100000000;
    double wide_flops = (double)iters * CHAINS * 2.0 * (PEAK_WIDE_BYTES / 4);
    double v8_flops = (double)iters * CHAINS * 2.0 * 8;
    int T = p->threads_all;
    p->reps = PEAK_REPS;
    p->fma_gflops_1t = wide_flops / timed(K_FMA_WIDE, 1, iters, NULL, NULL, NULL, 0, &p->fma_spread_1t) / 1e9;
    p->fma_gflops_all = T * wide_flops / timed(K_FMA_WIDE, T, iters, NULL, NULL, NULL, 0, &p->fma_spread_all) / 1e9;
    p->fma8_gflops_1t = v8_flops / timed(K_FMA_8, 1, iters, NULL, NULL, NULL, 0, &p->fma8_spread_1t) / 1e9;
    p->fma8_gflops_all = T * v8_flops / timed(K_FMA_8, T, iters, NULL, NULL, NULL, 0, &p->fma8_spread_all) / 1e9;
    double bytes = (double)n * sizeof(float);
    for (int all = 0; all <= 1; all++) {
        int t = all ? T : 1;
        double *sp[2][3] = {{&p->read_spread_1t, &p->write_spread_1t, &p->add_spread_1t},
                            {&p->read_spread_all, &p->write_spread_all, &p->add_spread_all}};
        double r = bytes / timed(K_READ, t, 0, a, NULL, NULL, n, sp[all][0]) / 1e9;
        double w = bytes / timed(K_WRITE, t, 0, c, NULL, NULL, n, sp[all][1]) / 1e9;
        double s = 3.0 * bytes / timed(K_ADD, t, 0, a, b, c, n, sp[all][2]) / 1e9;
        if (all) {
            p->read_gbs_all = r;
            p->write_gbs_all = w;
            p->add_gbs_all = s;
        } else {
            p->read_gbs_1t = r;
            p->write_gbs_1t = w;
            p->add_gbs_1t = s;
        }
    }
    free(a);
    free(b);
    free(c);
    return SB_OK;
}

void peak_print(FILE *f, const PeakResult *p) {
    fprintf(f, "fp32 FMA, %d-bit vectors: %.1f GFLOP/s on 1 thread (spread %.1f%%), %.1f on %d (spread %.1f%%); "
               "best of %d\n",
            p->vector_bits, p->fma_gflops_1t, 100.0 * p->fma_spread_1t, p->fma_gflops_all, p->threads_all,
            100.0 * p->fma_spread_all, p->reps);
    fprintf(f, "fp32 FMA, 256-bit vectors: %.1f GFLOP/s on 1 thread (spread %.1f%%), %.1f on %d (spread %.1f%%)\n",
            p->fma8_gflops_1t, 100.0 * p->fma8_spread_1t, p->fma8_gflops_all, p->threads_all,
            100.0 * p->fma8_spread_all);
    fprintf(f, "memory, %.0f MB arrays (GB/s): read %.1f, write %.1f, c=a+b %.1f on 1 thread; read %.1f, write %.1f, "
               "c=a+b %.1f on %d\n",
            p->array_mb, p->read_gbs_1t, p->write_gbs_1t, p->add_gbs_1t, p->read_gbs_all, p->write_gbs_all,
            p->add_gbs_all, p->threads_all);
}

void peak_json(JsonWriter *w, const PeakResult *p) {
    json_object_begin(w);
    json_kv_int(w, "vector_bits", p->vector_bits);
    json_kv_int(w, "threads_all", p->threads_all);
    json_kv_double(w, "array_mb", p->array_mb);
    json_kv_double(w, "fma_gflops_1t", p->fma_gflops_1t);
    json_kv_double(w, "fma_gflops_all", p->fma_gflops_all);
    json_kv_double(w, "fma8_gflops_1t", p->fma8_gflops_1t);
    json_kv_double(w, "fma8_gflops_all", p->fma8_gflops_all);
    json_kv_double(w, "read_gbs_1t", p->read_gbs_1t);
    json_kv_double(w, "write_gbs_1t", p->write_gbs_1t);
    json_kv_double(w, "add_gbs_1t", p->add_gbs_1t);
    json_kv_double(w, "read_gbs_all", p->read_gbs_all);
    json_kv_double(w, "write_gbs_all", p->write_gbs_all);
    json_kv_double(w, "add_gbs_all", p->add_gbs_all);
    json_kv_int(w, "reps", p->reps);
    json_kv_double(w, "fma_spread_1t", p->fma_spread_1t);
    json_kv_double(w, "fma_spread_all", p->fma_spread_all);
    json_kv_double(w, "fma8_spread_1t", p->fma8_spread_1t);
    json_kv_double(w, "fma8_spread_all", p->fma8_spread_all);
    json_kv_double(w, "read_spread_1t", p->read_spread_1t);
    json_kv_double(w, "write_spread_1t", p->write_spread_1t);
    json_kv_double(w, "add_spread_1t", p->add_spread_1t);
    json_kv_double(w, "read_spread_all", p->read_spread_all);
    json_kv_double(w, "write_spread_all", p->write_spread_all);
    json_kv_double(w, "add_spread_all", p->add_spread_all);
    json_object_end(w);
}
