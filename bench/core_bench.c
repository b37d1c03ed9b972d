/* core_bench.c - single-thread speed of the training core, kernel by kernel;
 * see core_bench.h.
 *
 * One Workspace holds the activations of a real forward pass on random
 * tokens, so every kernel is timed on the buffers and shapes a training step
 * gives it (attention on real softmax weights, GELU on real pre-activations).
 * Kernels that overwrite their input (softmax, AdamW) are timed on what the
 * previous repetition left, which costs the same. The byte counts are the
 * least traffic each kernel must move (each input read once, each output
 * written once); a kernel whose arrays fit in cache can exceed the DRAM
 * bandwidth it is compared with. The gradient sum uses up to 63 buffers (the
 * flat control's count at 64 threads) to leave the caches; where even those
 * fit in twice the last-level cache (small presets) its bandwidth fraction is
 * not reported.
 *
 * The GEMM shapes: each weight's three products (forward, dinp, dweight) at
 * the step's sizes, on random operands, through matmul_gemm and the BLAS's
 * sgemm on the same buffers (both accumulate into C, beta 1, as the core's
 * products do); per repetition the two alternate which goes first, and each
 * gets its median. A sample is as many calls as make GEMM_SAMPLE_S (the same
 * count for both), so a short product is not one time slice's hostage. The
 * ratio is of wall-clock medians, as every figure here; the ratio of the
 * calling thread's CPU-time medians is kept beside it, since on a loaded
 * machine the wall clock also counts the time a thread waits for a core
 * (OpenBLAS calls sched_yield, which there gives its core away). */
#include "core_bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/adamw.h"
#include "../core/json_file.h"
#include "../core/layers.h"
#include "../core/matmul.h"
#include "../core/model.h"
#include "../core/presets.h"
#include "../core/reduce.h"
#include "../core/rng.h"
#include "../core/thread_clock.h"
#include "blas.h"
#include "results.h"

#define REDUCE_MIN_BYTES (256.0 * 1024 * 1024) /* the gradient sum's working set, as peak's arrays */
#define REDUCE_MAX_BUFFERS 63                  /* the flat control's worker count at 64 threads */

enum { K_STEP, K_MATMUL, K_CLASSIFIER, K_ATT_FWD, K_ATT_BWD, K_LN_FWD, K_LN_BWD, K_GELU_FWD, K_GELU_BWD, K_XENT_FWD, K_XENT_BWD,
       K_ADAMW, K_REDUCE, K_COUNT, K_COPY_PROBS = K_COUNT };

static const char *const kernel_names[K_COUNT] = {
    "step", "matmul", "classifier", "attention_forward", "attention_backward", "layernorm_forward", "layernorm_backward",
    "gelu_forward", "gelu_backward", "crossentropy_forward", "crossentropy_backward", "adamw", "reduce_sum"};

typedef struct {
    ModelConfig c;
    int B, T, N;
    Workspace ws;
    float *params, *grads, *logits, *probs0, *att_dout, *ln_dout;
    float *work; /* [N][V]: the unfused classifier's logits, for the matmul and crossentropy rows */
    int *inputs, *targets;
    AdamW opt;
    float **bufs; /* reduce_sum's k gradient-sized buffers */
    float *sum;
    int k;
} Bench;

/* Bytes of the last-level cache cpu0 sees (Linux sysfs), 32 MB if unknown:
 * sysconf's figure can be the whole host's on a VM. */
static double last_level_cache_bytes(void) {
    double bytes = 32.0 * 1024 * 1024;
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r");
    if (f) {
        double v;
        char unit = 0;
        if (fscanf(f, "%lf%c", &v, &unit) >= 1 && v > 0)
            bytes = v * (unit == 'K' ? 1024.0 : unit == 'M' ? 1024.0 * 1024 : 1.0);
        fclose(f);
    }
    return bytes;
}

/* Every matrix product of one forward and backward, at the model's shapes:
 * per layer qkv, attention projection, MLP up and down, then the classifier. */
static void all_matmuls(Bench *b) {
    const ModelConfig *c = &b->c;
    int N = b->N, D = c->D;
    Workspace *ws = &b->ws;
    float *w = b->params, *dw = b->grads, *db = b->sum, *s = ws->mm_scratch;
    const int shapes[4][2] = {{D, 3 * D}, {D, D}, {D, 4 * D}, {4 * D, D}};
    for (int l = 0; l < c->L; l++)
        for (int i = 0; i < 4; i++) {
            const float *x = shapes[i][0] == D ? ws->ln1 : ws->fch_gelu;
            matmul_forward(ws->fch, s, x, w, w, N, shapes[i][0], shapes[i][1]);
        }
    matmul_forward(b->work, s, ws->lnf, w, NULL, N, D, c->V);
    matmul_backward(ws->dln, dw, NULL, s, b->work, ws->lnf, w, N, D, c->V);
    for (int l = 0; l < c->L; l++)
        for (int i = 3; i >= 0; i--) {
            const float *x = shapes[i][0] == D ? ws->ln1 : ws->fch_gelu;
            matmul_backward(ws->dfch, dw, db, s, ws->fch, x, w, N, shapes[i][0], shapes[i][1]);
        }
}

static double matmul_flops(const Bench *b) {
    double N = b->N, D = b->c.D, per_layer = 12.0 * D * D;
    /* forward 2 N C OC, backward 4 N C OC (input and weight gradients) */
    return 6.0 * N * (per_layer * b->c.L + (double)b->c.V * D);
}

static void run_kernel(Bench *b, int id) {
    const ModelConfig *c = &b->c;
    int N = b->N, D = c->D, V = c->V;
    Workspace *ws = &b->ws;
    switch (id) {
    case K_STEP:
        model_forward(ws, b->params, b->inputs, b->targets, b->B, b->T);
        model_backward(b->grads, ws, b->params);
        adamw_update(&b->opt, b->params, b->grads);
        break;
    case K_MATMUL: all_matmuls(b); break;
    case K_CLASSIFIER:
        classifier_forward_backward(ws->dlnf, ws->dwte, ws->losses, ws->logits, ws->wte_packed, ws->mm_scratch,
                                    ws->lnf, b->params, b->targets, N, D, V);
        break;
    case K_ATT_FWD: attention_forward(ws->atty, ws->att, ws->att_scratch, ws->qkv, b->B, b->T, D, c->H); break;
    case K_ATT_BWD:
        attention_backward(ws->dqkv, ws->att_scratch, b->att_dout, ws->qkv, ws->att, b->B, b->T, D, c->H);
        break;
    case K_LN_FWD: layernorm_forward(ws->ln2, ws->ln2_mean, ws->ln2_rstd, ws->residual2, b->params, b->params, N, D); break;
    case K_LN_BWD:
        layernorm_backward(ws->dresidual, b->grads, b->grads + D, b->ln_dout, ws->residual2, b->params, ws->ln2_mean,
                           ws->ln2_rstd, N, D);
        break;
    case K_GELU_FWD: gelu_forward(ws->fch_gelu, ws->fch, N * 4 * D); break;
    case K_GELU_BWD: gelu_backward(ws->dfch, ws->fch, ws->dfch_gelu, N * 4 * D); break;
    /* both work in place: each call starts from a fresh copy (fresh logits,
     * fresh probabilities), and the copy's own median time is subtracted */
    case K_XENT_FWD:
        memcpy(b->work, b->logits, sizeof(float) * (size_t)N * V);
        softmax_crossentropy_forward(b->work, ws->losses, b->targets, N, V);
        break;
    case K_XENT_BWD:
        memcpy(b->work, b->probs0, sizeof(float) * (size_t)N * V);
        softmax_crossentropy_backward(b->work, b->targets, N, V, N);
        break;
    case K_COPY_PROBS: memcpy(b->work, b->probs0, sizeof(float) * (size_t)N * V); break;
    case K_ADAMW: adamw_update(&b->opt, b->params, b->grads); break;
    case K_REDUCE: reduce_sum(b->sum, (const float *const *)b->bufs, b->k, model_param_count(c)); break;
    }
}

/* Median seconds of `reps` calls after one warm-up; *spread = (max - min) / median. */
static double time_kernel(Bench *b, int id, int reps, double *spread) {
    double t[64];
    if (reps > 64) reps = 64;
    run_kernel(b, id);
    for (int r = 0; r < reps; r++) {
        double t0 = clock_wall_now();
        run_kernel(b, id);
        t[r] = clock_wall_now() - t0;
    }
    double med = results_median(t, reps); /* sorts t */
    *spread = med > 0 ? (t[reps - 1] - t[0]) / med : 0;
    return med;
}

/* The step's products, weight by weight: (C_in, OC) of qkv, proj, fc,
 * fcproj and the tied classifier; three shapes each. */
static int gemm_shape_list(GemmShape *s, const Bench *b) {
    const int D = b->c.D, N = b->N;
    const struct {
        const char *name;
        int in, out;
    } w[5] = {{"qkv", D, 3 * D}, {"proj", D, D}, {"fc", D, 4 * D}, {"fcproj", 4 * D, D}, {"classifier", D, b->c.V}};
    int n = 0;
    for (int i = 0; i < 5; i++) {
        GemmShape f = {.m = N, .n = w[i].out, .k = w[i].in, .trans_b = 1};      /* out = inp . W^T */
        GemmShape d = {.m = N, .n = w[i].in, .k = w[i].out};                    /* dinp = dout . W */
        GemmShape g = {.m = w[i].out, .n = w[i].in, .k = N, .trans_a = 1};     /* dW += dout^T . inp */
        snprintf(f.product, sizeof f.product, "%s forward", w[i].name);
        snprintf(d.product, sizeof d.product, "%s dinp", w[i].name);
        snprintf(g.product, sizeof g.product, "%s dweight", w[i].name);
        s[n++] = f;
        s[n++] = d;
        s[n++] = g;
    }
    return n;
}

/* calls calls of ours (who 0) or the BLAS's (who 1); the wall seconds of one,
 * and into *cpu the calling thread's CPU seconds of one (both run on it). */
static double gemm_calls(int who, int calls, const GemmShape *s, const Blas *blas, float *C, const float *A,
                         const float *B, float *scratch, double *cpu) {
    double t0 = clock_wall_now(), c0 = clock_thread_cpu_now();
    for (int c = 0; c < calls; c++)
        if (who == 0)
            matmul_gemm(C, scratch, A, s->trans_a, B, s->trans_b, s->m, s->n, s->k);
        else
            blas_gemm(blas, C, A, s->trans_a, B, s->trans_b, s->m, s->n, s->k);
    *cpu = (clock_thread_cpu_now() - c0) / calls;
    return (clock_wall_now() - t0) / calls;
}

#define GEMM_SAMPLE_S 0.02 /* each timed sample at least this long: a shorter one is at one time slice's mercy */

/* Times every shape, ours and the BLAS's interleaved, reps samples each after
 * one warm-up call each. */
static sb_status time_gemm_shapes(CoreBench *r, Bench *b, int reps, sb_error *err) {
    if (reps > 64) reps = 64;
    r->n_shapes = gemm_shape_list(r->shapes, b);
    Rng rng;
    rng_seed(&rng, 11);
    double log_sum = 0, min_ratio = INFINITY;
    for (int i = 0; i < r->n_shapes; i++) {
        GemmShape *s = &r->shapes[i];
        size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
        float *A = malloc(na * sizeof(float)), *B = malloc(nb * sizeof(float)), *C = calloc(nc, sizeof(float));
        if (!A || !B || !C) {
            free(A);
            free(B);
            free(C);
            return sb_fail(err, SB_ENOMEM, "cannot allocate the operands of a %d x %d x %d product", s->m, s->n, s->k);
        }
        for (size_t j = 0; j < na; j++) A[j] = rng_float(&rng) - 0.5f;
        for (size_t j = 0; j < nb; j++) B[j] = rng_float(&rng) - 0.5f;
        double t[2][64], cpu[2][64], unused;
        int players = r->blas.available ? 2 : 1;
        double warm = gemm_calls(0, 1, s, &r->blas, C, A, B, b->ws.mm_scratch, &unused);
        if (players == 2) gemm_calls(1, 1, s, &r->blas, C, A, B, b->ws.mm_scratch, &unused);
        int calls = warm >= GEMM_SAMPLE_S ? 1 : (int)ceil(GEMM_SAMPLE_S / (warm > 1e-6 ? warm : 1e-6));
        if (calls > 1000) calls = 1000;
        for (int rep = 0; rep < reps; rep++)
            for (int j = 0; j < players; j++) {
                int who = (rep + j) % players; /* alternate who goes first */
                t[who][rep] = gemm_calls(who, calls, s, &r->blas, C, A, B, b->ws.mm_scratch, &cpu[who][rep]);
            }
        double flops = 2.0 * s->m * s->n * s->k;
        s->ours_s = results_median(t[0], reps); /* sorts */
        s->ours_spread = s->ours_s > 0 ? (t[0][reps - 1] - t[0][0]) / s->ours_s : 0;
        s->ours_gflops = flops / s->ours_s / 1e9;
        s->ratio_cpu = NAN;
        s->blas_s = s->blas_spread = s->blas_gflops = s->ratio = NAN;
        if (players == 2) {
            s->ratio_cpu = results_median(cpu[1], reps) / results_median(cpu[0], reps);
            s->blas_s = results_median(t[1], reps);
            s->blas_spread = s->blas_s > 0 ? (t[1][reps - 1] - t[1][0]) / s->blas_s : 0;
            s->blas_gflops = flops / s->blas_s / 1e9;
            s->ratio = s->ours_gflops / s->blas_gflops;
            log_sum += log(s->ratio);
            if (s->ratio < min_ratio) min_ratio = s->ratio;
        }
        free(A);
        free(B);
        free(C);
    }
    r->shapes_min_ratio = r->blas.available ? min_ratio : NAN;
    r->shapes_geomean_ratio = r->blas.available ? exp(log_sum / r->n_shapes) : NAN;
    return SB_OK;
}

static void bench_free(Bench *b) {
    workspace_free(&b->ws);
    adamw_free(&b->opt);
    free(b->params);
    free(b->grads);
    free(b->logits);
    free(b->probs0);
    free(b->work);
    free(b->att_dout);
    free(b->ln_dout);
    free(b->inputs);
    free(b->targets);
    if (b->bufs)
        for (int i = 0; i < b->k; i++) free(b->bufs[i]);
    free(b->bufs);
    free(b->sum);
}

static sb_status bench_init(Bench *b, const ModelPreset *p, int V, sb_error *err) {
    memset(b, 0, sizeof *b);
    b->c = model_config_from_preset(p, V);
    b->B = p->B;
    b->T = p->T;
    b->N = p->B * p->T;
    sb_status st = workspace_init(&b->ws, &b->c, b->B, b->T, err);
    if (st) return st;
    size_t P = model_param_count(&b->c), N = (size_t)b->N, D = (size_t)b->c.D;
    b->params = malloc(P * sizeof(float));
    b->grads = malloc(P * sizeof(float));
    b->logits = malloc(N * (size_t)V * sizeof(float));
    b->probs0 = malloc(N * (size_t)V * sizeof(float));
    b->work = malloc(N * (size_t)V * sizeof(float));
    b->att_dout = malloc(N * D * sizeof(float));
    b->ln_dout = malloc(N * D * sizeof(float));
    b->inputs = malloc(N * sizeof(int));
    b->targets = malloc(N * sizeof(int));
    b->k = (int)ceil(REDUCE_MIN_BYTES / (P * sizeof(float)));
    if (b->k < 2) b->k = 2;
    if (b->k > REDUCE_MAX_BUFFERS) b->k = REDUCE_MAX_BUFFERS;
    b->bufs = calloc((size_t)b->k, sizeof(float *));
    b->sum = malloc(P * sizeof(float));
    int ok = b->params && b->grads && b->logits && b->probs0 && b->work && b->att_dout && b->ln_dout && b->inputs && b->targets && b->bufs &&
             b->sum;
    for (int i = 0; ok && i < b->k; i++) ok = (b->bufs[i] = malloc(P * sizeof(float))) != NULL;
    if (!ok) {
        bench_free(b);
        return sb_fail(err, SB_ENOMEM, "cannot allocate the buffers to benchmark the %s preset", p->name);
    }
    if ((st = adamw_init(&b->opt, P, adamw_defaults(), err))) {
        bench_free(b);
        return st;
    }
    Rng r;
    rng_seed(&r, 7);
    model_init(b->params, &b->c, 1);
    for (size_t i = 0; i < N; i++) {
        b->inputs[i] = (int)rng_below(&r, (uint32_t)V);
        b->targets[i] = (int)rng_below(&r, (uint32_t)V);
    }
    for (size_t i = 0; i < N * D; i++) {
        b->att_dout[i] = rng_float(&r) - 0.5f;
        b->ln_dout[i] = rng_float(&r) - 0.5f;
    }
    for (int i = 0; i < b->k; i++)
        for (size_t j = 0; j < P; j++) b->bufs[i][j] = rng_float(&r) - 0.5f;
    /* one real pass leaves real activations (layer 0's and the logits) in the workspace */
    model_forward(&b->ws, b->params, b->inputs, b->targets, b->B, b->T);
    model_backward(b->grads, &b->ws, b->params);
    matmul_forward(b->logits, b->ws.mm_scratch, b->ws.lnf, b->params, NULL, b->N, b->c.D, V);
    memcpy(b->probs0, b->logits, sizeof(float) * N * (size_t)V);
    softmax_crossentropy_forward(b->probs0, b->ws.losses, b->targets, b->N, V);
    return SB_OK;
}

static void kernel_work(const Bench *b, int id, double *flops, double *bytes) {
    double N = b->N, D = b->c.D, V = b->c.V, T = b->T, P = (double)model_param_count(&b->c), f = 4.0;
    double att = 2.0 * b->B * D * T * (T + 1); /* q.k and a.v over (t+1)/2 keys on average, 2 flops each */
    *flops = 0;
    *bytes = 0;
    switch (id) {
    case K_STEP: *flops = model_flops_per_batch(&b->c, b->B, b->T); break;
    case K_MATMUL: *flops = matmul_flops(b); break;
    case K_CLASSIFIER: *flops = 6.0 * N * D * V; break; /* its three products; the softmax is not counted */
    case K_ATT_FWD: *flops = att; *bytes = f * (N * 3 * D + N * D + b->B * b->c.H * T * T); break;
    case K_ATT_BWD: *flops = 2 * att; *bytes = f * (2 * N * 3 * D + N * D + b->B * b->c.H * T * T); break;
    case K_LN_FWD: *bytes = f * 2 * N * D; break;
    case K_LN_BWD: *bytes = f * 4 * N * D; break; /* dout, inp, dinp read and written */
    case K_GELU_FWD: *bytes = f * 2 * N * 4 * D; break;
    case K_GELU_BWD: *bytes = f * 3 * N * 4 * D; break;
    case K_XENT_FWD: *bytes = f * 2 * N * V; break;
    case K_XENT_BWD: *bytes = f * 2 * N * V; break;
    case K_ADAMW: *bytes = f * 7 * P; break; /* params, grads, m, v read; params, m, v written */
    case K_REDUCE: *bytes = f * (b->k + 1) * P; break;
    }
}

sb_status core_bench_run(CoreBench *r, const ModelPreset *preset, int V, int reps, const PeakResult *peak,
                         sb_error *err) {
    memset(r, 0, sizeof *r);
    Bench b;
    sb_status st = bench_init(&b, preset, V, err);
    if (st) return st;
    snprintf(r->preset, sizeof r->preset, "%s", preset->name);
    r->model = b.c;
    r->B = b.B;
    r->T = b.T;
    r->params = model_param_count(&b.c);
    r->reps = reps;
    r->reduce_buffers = b.k;
    double copy_spread, copy_s = time_kernel(&b, K_COPY_PROBS, reps, &copy_spread);
    int in_cache = (b.k + 1) * (double)r->params * sizeof(float) < 2 * last_level_cache_bytes();
    for (int id = 0; id < K_COUNT; id++) {
        KernelTiming *k = &r->kernels[r->n_kernels++];
        k->name = kernel_names[id];
        k->seconds = time_kernel(&b, id, reps, &k->spread);
        if (id == K_XENT_FWD || id == K_XENT_BWD) /* a kernel no slower than its copy: no figure */
            k->seconds = k->seconds > copy_s ? k->seconds - copy_s : NAN;
        kernel_work(&b, id, &k->flops, &k->bytes);
        k->memory_bound = k->flops == 0;
        k->gflops = k->flops > 0 ? k->flops / k->seconds / 1e9 : NAN;
        k->gbs = k->bytes > 0 ? k->bytes / k->seconds / 1e9 : NAN;
        k->fraction = k->memory_bound ? k->gbs / peak->read_gbs_1t : k->gflops / peak->fma_gflops_1t;
    }
    const KernelTiming *step = &r->kernels[K_STEP], *mm = &r->kernels[K_MATMUL], *red = &r->kernels[K_REDUCE];
    r->step_s = step->seconds;
    r->step_spread = step->spread;
    r->step_gflops = step->gflops;
    r->step_fraction_of_peak = step->fraction;
    r->matmul_gflops = mm->gflops;
    r->matmul_fraction_of_peak = mm->fraction;
    r->reduce_gbs = red->gbs;
    /* buffers that fit in the last-level cache say nothing about memory bandwidth */
    r->reduce_in_cache = in_cache;
    r->reduce_fraction_of_bandwidth = in_cache ? NAN : red->fraction;
    r->blocking = *matmul_blocking();
    blas_open(&r->blas);
    st = time_gemm_shapes(r, &b, reps, err);
    blas_close(&r->blas);
    bench_free(&b);
    return st;
}

void core_bench_print(FILE *f, const CoreBench *r) {
    const ModelConfig *c = &r->model;
    fprintf(f, "%s preset: B=%d T=%d D=%d L=%d H=%d V=%d, %zu parameters; median of %d, 1 thread\n", r->preset,
            r->B, r->T, c->D, c->L, c->H, c->V, r->params, r->reps);
    fprintf(f, "  %-22s %10s %7s %9s %8s %9s\n", "kernel", "ms/call", "spread", "GFLOP/s", "GB/s", "of peak");
    for (int i = 0; i < r->n_kernels; i++) {
        const KernelTiming *k = &r->kernels[i];
        char gf[32] = "-", gb[32] = "-";
        if (!isnan(k->gflops)) snprintf(gf, sizeof gf, "%.1f", k->gflops);
        if (!isnan(k->gbs)) snprintf(gb, sizeof gb, "%.1f", k->gbs);
        fprintf(f, "  %-22s %10.3f %6.1f%% %9s %8s %8.1f%% %s\n", k->name, k->seconds * 1e3, 100 * k->spread, gf, gb,
                100 * k->fraction, k->memory_bound ? "of read bw" : "of FMA peak");
    }
    fprintf(f, "  step %.1f GFLOP/s = %.1f%% of FMA peak; matmul %.1f%%; ", r->step_gflops,
            100 * r->step_fraction_of_peak, 100 * r->matmul_fraction_of_peak);
    if (r->reduce_in_cache)
        fprintf(f, "gradient sum of %d buffers fits in cache: no bandwidth figure\n", r->reduce_buffers);
    else
        fprintf(f, "gradient sum of %d buffers %.1f%% of read bw\n", r->reduce_buffers,
                100 * r->reduce_fraction_of_bandwidth);
    const MatmulBlocking *bl = &r->blocking;
    fprintf(f, "  GEMM shapes: ours (%dx%d tile, kc %d mc %d nc %d) beside %s, 1 thread, same operands, "
               "interleaved, median of %d\n",
            bl->mr, bl->nr, bl->kc, bl->mc, bl->nc, r->blas.available ? r->blas.name : "no BLAS", r->reps);
    if (!r->blas.available) fprintf(f, "  (BLAS not measured: %s)\n", r->blas.error);
    fprintf(f, "  %-20s %6s %6s %6s %10s %10s %9s %9s\n", "product", "M", "N", "K", "ours GF/s", "BLAS GF/s", "ours/BLAS",
            "(CPU time)");
    for (int i = 0; i < r->n_shapes; i++) {
        const GemmShape *s = &r->shapes[i];
        char bg[32] = "-", ra[32] = "-", rc[32] = "-";
        if (!isnan(s->blas_gflops)) snprintf(bg, sizeof bg, "%.1f", s->blas_gflops);
        if (!isnan(s->ratio)) snprintf(ra, sizeof ra, "%.2f", s->ratio);
        if (!isnan(s->ratio_cpu)) snprintf(rc, sizeof rc, "%.2f", s->ratio_cpu);
        fprintf(f, "  %-20s %6d %6d %6d %10.1f %10s %9s %9s\n", s->product, s->m, s->n, s->k, s->ours_gflops, bg, ra,
                rc);
    }
    if (r->blas.available)
        fprintf(f, "  ours/BLAS over the shapes: lowest %.2f, geometric mean %.2f\n", r->shapes_min_ratio,
                r->shapes_geomean_ratio);
}

void core_bench_json(JsonWriter *w, const CoreBench *r) {
    const ModelConfig *c = &r->model;
    json_object_begin(w);
    json_kv_string(w, "preset", r->preset);
    json_kv_int(w, "B", r->B);
    json_kv_int(w, "T", r->T);
    json_kv_int(w, "D", c->D);
    json_kv_int(w, "L", c->L);
    json_kv_int(w, "H", c->H);
    json_kv_int(w, "V", c->V);
    json_kv_uint(w, "params", r->params);
    json_kv_int(w, "reps", r->reps);
    json_kv_double(w, "step_s", r->step_s);
    json_kv_double(w, "step_gflops", r->step_gflops);
    json_kv_double(w, "step_fraction_of_peak", r->step_fraction_of_peak);
    json_kv_double(w, "matmul_gflops", r->matmul_gflops);
    json_kv_double(w, "matmul_fraction_of_peak", r->matmul_fraction_of_peak);
    json_kv_int(w, "reduce_buffers", r->reduce_buffers);
    json_kv_bool(w, "reduce_in_cache", r->reduce_in_cache);
    json_kv_double(w, "reduce_gbs", r->reduce_gbs);
    json_kv_double(w, "reduce_fraction_of_bandwidth", r->reduce_fraction_of_bandwidth);
    json_key(w, "kernels");
    json_array_begin(w);
    for (int i = 0; i < r->n_kernels; i++) {
        const KernelTiming *k = &r->kernels[i];
        json_object_begin(w);
        json_kv_string(w, "name", k->name);
        json_kv_string(w, "bound", k->memory_bound ? "memory" : "compute");
        json_kv_double(w, "seconds", k->seconds);
        json_kv_double(w, "spread", k->spread);
        json_kv_double(w, "gflops", k->gflops);
        json_kv_double(w, "gbs", k->gbs);
        json_kv_double(w, "fraction", k->fraction);
        json_object_end(w);
    }
    json_array_end(w);
    json_kv_double(w, "gemm_min_ratio", r->shapes_min_ratio);
    json_kv_double(w, "gemm_geomean_ratio", r->shapes_geomean_ratio);
    json_key(w, "gemm_shapes");
    json_array_begin(w);
    for (int i = 0; i < r->n_shapes; i++) {
        const GemmShape *s = &r->shapes[i];
        json_object_begin(w);
        json_kv_string(w, "product", s->product);
        json_kv_int(w, "m", s->m);
        json_kv_int(w, "n", s->n);
        json_kv_int(w, "k", s->k);
        json_kv_bool(w, "trans_a", s->trans_a);
        json_kv_bool(w, "trans_b", s->trans_b);
        json_kv_double(w, "ours_gflops", s->ours_gflops);
        json_kv_double(w, "blas_gflops", s->blas_gflops);
        json_kv_double(w, "ratio", s->ratio);
        json_kv_double(w, "ratio_cpu", s->ratio_cpu);
        json_key(w, "blas_name");
        if (r->blas.available)
            json_string(w, r->blas.name);
        else
            json_null(w);
        json_kv_double(w, "ours_spread", s->ours_spread);
        json_kv_double(w, "blas_spread", s->blas_spread);
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
}

/* Our GEMM's register tile and blocks, and the caches they were chosen from. */
static void blocking_json(JsonWriter *w, const MatmulBlocking *b) {
    json_object_begin(w);
    json_kv_int(w, "mr", b->mr);
    json_kv_int(w, "nr", b->nr);
    json_kv_int(w, "kc", b->kc);
    json_kv_int(w, "mc", b->mc);
    json_kv_int(w, "nc", b->nc);
    json_kv_bool(w, "from_caches", b->from_caches);
    json_kv_uint(w, "l1d_bytes", b->l1d);
    json_kv_uint(w, "l2_bytes", b->l2);
    json_kv_uint(w, "l3_bytes", b->l3);
    json_object_end(w);
}

sb_status core_bench_write(const char *path, const CoreBench *r, int n, const PeakResult *peak, const char *run_id,
                           sb_error *err) {
    JsonFile jf;
    sb_status st = json_file_open(&jf, path, "core timings", 2, err);
    if (st) return st;
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_kv_int(w, "schema", 1);
    if (run_id) json_kv_string(w, "run_id", run_id); /* in a run folder */
    json_key(w, "peak");
    peak_json(w, peak);
    if (n > 0) {
        json_key(w, "blas");
        blas_json(w, &r[0].blas);
        json_key(w, "matmul");
        blocking_json(w, &r[0].blocking);
    }
    json_key(w, "presets");
    json_array_begin(w);
    for (int i = 0; i < n; i++) core_bench_json(w, &r[i]);
    json_array_end(w);
    json_object_end(w);
    return json_file_commit(&jf, err);
}
