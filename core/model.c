/* model.c - forward and backward of the transformer; see model.h.
 *
 * The structure follows llm.c's train_gpt2.c: a forward pass that stores
 * every activation the backward pass needs, and a backward pass that walks
 * the layers in reverse, keeping the gradient of the residual stream in one
 * buffer (dresidual) that each block's two branches add into. Two changes
 * keep memory per thread small, since trainers hold one workspace per
 * thread: attention keeps only its softmax weights (not the pre-softmax
 * scores), and the gradients of activations reuse one set of per-layer
 * scratch buffers instead of a full copy of the activations. */
#include "model.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "matmul.h"
#include "rng.h"

/* Every buffer of the workspace in order, with its size in floats; used both
 * to size the one allocation and to hand out pointers into it. */
#define WS_FIELDS(X, B, T, D, L, H, V)                                                                   \
    X(encoded, (B) * (T) * (D))                                                                          \
    X(ln1, (L) * (B) * (T) * (D)) X(ln1_mean, (L) * (B) * (T)) X(ln1_rstd, (L) * (B) * (T))            \
    X(qkv, (L) * (B) * (T) * 3 * (D)) X(atty, (L) * (B) * (T) * (D)) X(att, (L) * (B) * (H) * (T) * (T)) \
    X(residual2, (L) * (B) * (T) * (D))                                                                  \
    X(ln2, (L) * (B) * (T) * (D)) X(ln2_mean, (L) * (B) * (T)) X(ln2_rstd, (L) * (B) * (T))            \
    X(fch, (L) * (B) * (T) * 4 * (D)) X(fch_gelu, (L) * (B) * (T) * 4 * (D))                           \
    X(residual3, (L) * (B) * (T) * (D))                                                                  \
    X(lnf, (B) * (T) * (D)) X(lnf_mean, (B) * (T)) X(lnf_rstd, (B) * (T))                              \
    X(logits, ((B) * (T) < CLASSIFIER_ROWS ? (B) * (T) : CLASSIFIER_ROWS) * (V)) X(probs, (B) * (V))    \
    X(losses, (B) * (T)) X(dlnf, (B) * (T) * (D)) X(dwte, (V) * (D))                                    \
    X(wte_packed, matmul_packed_floats((int)(D), (int)(V)))                                              \
    X(dresidual, (B) * (T) * (D)) X(dln, (B) * (T) * (D)) X(datty, (B) * (T) * (D))                    \
    X(dqkv, (B) * (T) * 3 * (D)) X(dfch, (B) * (T) * 4 * (D)) X(dfch_gelu, (B) * (T) * 4 * (D))        \
    X(att_scratch, attention_scratch_floats((int)(T), (int)(D), (int)(H))) X(mm_scratch, MATMUL_SCRATCH_FLOATS)

/* Each buffer starts on a 64-byte line (16 floats) of the one allocation. */
static size_t ws_round(size_t floats) { return (floats + 15) / 16 * 16; }

static size_t workspace_floats(const ModelConfig *c, size_t B, size_t T) {
    size_t D = (size_t)c->D, L = (size_t)c->L, H = (size_t)c->H, V = (size_t)c->V, n = 0;
    /* a layer-less model still gets one set of per-layer buffers' worth of nothing */
#define WS_COUNT(name, size) n += ws_round(size);
    WS_FIELDS(WS_COUNT, B, T, D, L, H, V)
#undef WS_COUNT
    return n;
}

size_t workspace_bytes(const ModelConfig *c, int B, int T) {
    return workspace_floats(c, (size_t)B, (size_t)T) * sizeof(float);
}

sb_status workspace_init(Workspace *ws, const ModelConfig *c, int B, int T, sb_error *err) {
    memset(ws, 0, sizeof *ws);
    sb_status st = model_config_check(c, err);
    if (st) return st;
    if (B < 1 || B > MODEL_MAX_B || T < 1 || T > c->T)
        return sb_fail(err, SB_ECONFIG, "batch %d x %d does not fit a model with context length %d", B, T,
                       c->T);
    size_t n = workspace_floats(c, (size_t)B, (size_t)T);
    float *mem = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    if (!mem)
        return sb_fail(err, SB_ENOMEM, "cannot allocate %.1f MB of activations for a %d x %d batch",
                       (double)n * sizeof(float) / 1e6, B, T);
    memset(mem, 0, n * sizeof(float));
    ws->cfg = *c;
    ws->B = B;
    ws->T = T;
    ws->mem = mem;
    ws->mem_floats = n;
    size_t D = (size_t)c->D, L = (size_t)c->L, H = (size_t)c->H, V = (size_t)c->V;
    size_t Bs = (size_t)B, Ts = (size_t)T;
    float *p = mem;
#define WS_ASSIGN(name, size) ws->name = p; p += ws_round(size);
    WS_FIELDS(WS_ASSIGN, Bs, Ts, D, L, H, V)
#undef WS_ASSIGN
    return SB_OK;
}

void workspace_free(Workspace *ws) {
    free(ws->mem);
    memset(ws, 0, sizeof *ws);
}

/* Irwin-Hall: the sum of 12 uniforms minus 6 has mean 0 and variance 1 and
 * needs no libm, so the same seed gives the same weights on any platform. */
static float normal_draw(Rng *r) {
    double s = 0.0;
    for (int i = 0; i < 12; i++) s += rng_double(r);
    return (float)(s - 6.0);
}

static void fill_normal(float *x, size_t n, float std, Rng *r) {
    for (size_t i = 0; i < n; i++) x[i] = std * normal_draw(r);
}

static void fill_const(float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

void model_init(float *params, const ModelConfig *c, unsigned long long seed) {
    Rng r;
    rng_seed(&r, seed);
    size_t D = (size_t)c->D;
    const float std = 0.02f;
    const float resid_std = c->L > 0 ? std / sqrtf(2.0f * (float)c->L) : std;
    ModelTensors m = model_tensors(c, params);
    fill_normal(m.wte, (size_t)c->V * D, std, &r);
    fill_normal(m.wpe, (size_t)c->T * D, std, &r);
    for (int l = 0; l < c->L; l++) {
        LayerTensors t = layer_tensors(c, params, l);
        fill_const(t.ln1_w, D, 1.0f);
        fill_const(t.ln1_b, D, 0.0f);
        fill_normal(t.qkv_w, 3 * D * D, std, &r);
        fill_const(t.qkv_b, 3 * D, 0.0f);
        fill_normal(t.proj_w, D * D, resid_std, &r);
        fill_const(t.proj_b, D, 0.0f);
        fill_const(t.ln2_w, D, 1.0f);
        fill_const(t.ln2_b, D, 0.0f);
        fill_normal(t.fc_w, 4 * D * D, std, &r);
        fill_const(t.fc_b, 4 * D, 0.0f);
        fill_normal(t.fcproj_w, 4 * D * D, resid_std, &r);
        fill_const(t.fcproj_b, D, 0.0f);
    }
    fill_const(m.lnf_w, D, 1.0f);
    fill_const(m.lnf_b, D, 0.0f);
}

/* Per-layer activation pointers for a pass of b x t tokens. Buffers are laid
 * out for the workspace's capacity, so layer l starts at l * capacity. */
typedef struct {
    float *ln1, *ln1_mean, *ln1_rstd, *qkv, *atty, *att, *residual2;
    float *ln2, *ln2_mean, *ln2_rstd, *fch, *fch_gelu, *residual3;
} LayerActs;

static LayerActs layer_acts(const Workspace *ws, int l) {
    size_t BT = (size_t)ws->B * ws->T, D = (size_t)ws->cfg.D, H = (size_t)ws->cfg.H;
    size_t L = (size_t)l;
    LayerActs a;
    a.ln1 = ws->ln1 + L * BT * D;
    a.ln1_mean = ws->ln1_mean + L * BT;
    a.ln1_rstd = ws->ln1_rstd + L * BT;
    a.qkv = ws->qkv + L * BT * 3 * D;
    a.atty = ws->atty + L * BT * D;
    a.att = ws->att + L * (size_t)ws->B * H * ws->T * ws->T;
    a.residual2 = ws->residual2 + L * BT * D;
    a.ln2 = ws->ln2 + L * BT * D;
    a.ln2_mean = ws->ln2_mean + L * BT;
    a.ln2_rstd = ws->ln2_rstd + L * BT;
    a.fch = ws->fch + L * BT * 4 * D;
    a.fch_gelu = ws->fch_gelu + L * BT * 4 * D;
    a.residual3 = ws->residual3 + L * BT * D;
    return a;
}

float model_forward(Workspace *ws, const float *params, const int *inputs, const int *targets, int b, int t) {
    const ModelConfig *c = &ws->cfg;
    int D = c->D, H = c->H, V = c->V, N = b * t;
    float *P = (float *)params; /* the tensor views are read-only here */
    ModelTensors m = model_tensors(c, P);
    ws->b = b;
    ws->t = t;
    ws->inputs = inputs;
    ws->targets = targets;

    encoder_forward(ws->encoded, inputs, m.wte, m.wpe, b, t, D);
    const float *x = ws->encoded;
    for (int l = 0; l < c->L; l++) {
        LayerTensors w = layer_tensors(c, P, l);
        LayerActs a = layer_acts(ws, l);
        layernorm_forward(a.ln1, a.ln1_mean, a.ln1_rstd, x, w.ln1_w, w.ln1_b, N, D);
        matmul_forward(a.qkv, ws->mm_scratch, a.ln1, w.qkv_w, w.qkv_b, N, D, 3 * D);
        attention_forward(a.atty, a.att, ws->att_scratch, a.qkv, b, t, D, H);
        matmul_forward(ws->dln, ws->mm_scratch, a.atty, w.proj_w, w.proj_b, N, D, D); /* dln: free until backward */
        residual_forward(a.residual2, x, ws->dln, N * D);
        layernorm_forward(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual2, w.ln2_w, w.ln2_b, N, D);
        matmul_forward(a.fch, ws->mm_scratch, a.ln2, w.fc_w, w.fc_b, N, D, 4 * D);
        gelu_forward(a.fch_gelu, a.fch, N * 4 * D);
        matmul_forward(ws->dln, ws->mm_scratch, a.fch_gelu, w.fcproj_w, w.fcproj_b, N, 4 * D, D);
        residual_forward(a.residual3, a.residual2, ws->dln, N * D);
        x = a.residual3;
    }
    layernorm_forward(ws->lnf, ws->lnf_mean, ws->lnf_rstd, x, m.lnf_w, m.lnf_b, N, D);
    if (!targets) { /* sampling: the next token's distribution after each sequence */
        for (int i = 0; i < b; i++)
            classifier_probs(ws->probs + (size_t)i * V, ws->mm_scratch, ws->lnf + ((size_t)i * t + t - 1) * D, m.wte, 1,
                             D, V);
        return 0.0f;
    }
    /* the classifier's backward runs here, block by block while its logits
     * are in cache (core/classifier.c); model_backward takes dlnf and dwte */
    classifier_forward_backward(ws->dlnf, ws->dwte, ws->losses, ws->logits, ws->wte_packed, ws->mm_scratch, ws->lnf,
                                m.wte, targets, N, D, V);
    double sum = 0.0;
    for (int i = 0; i < N; i++) sum += ws->losses[i];
    return (float)(sum / N);
}

void model_backward(float *grads, Workspace *ws, const float *params) {
    /* dlnf and dwte come from the last forward: one with targets */
    assert(ws->targets && "model_backward needs a forward with targets just before");
    const ModelConfig *c = &ws->cfg;
    int D = c->D, H = c->H, V = c->V, b = ws->b, t = ws->t, N = b * t;
    float *P = (float *)params;
    ModelTensors m = model_tensors(c, P);
    ModelTensors dm = model_tensors(c, grads);
    memset(grads, 0, model_param_count(c) * sizeof(float));

    memcpy(dm.wte, ws->dwte, sizeof(float) * (size_t)V * D); /* the classifier's share, from forward */
    const float *x_last = c->L > 0 ? layer_acts(ws, c->L - 1).residual3 : ws->encoded;
    memset(ws->dresidual, 0, sizeof(float) * (size_t)N * D);
    layernorm_backward(ws->dresidual, dm.lnf_w, dm.lnf_b, ws->dlnf, x_last, m.lnf_w, ws->lnf_mean,
                       ws->lnf_rstd, N, D);

    for (int l = c->L - 1; l >= 0; l--) {
        LayerTensors w = layer_tensors(c, P, l);
        LayerTensors dw = layer_tensors(c, grads, l);
        LayerActs a = layer_acts(ws, l);
        const float *x = l > 0 ? layer_acts(ws, l - 1).residual3 : ws->encoded;
        /* dresidual holds d(residual3); it flows unchanged into residual2 and
         * into the MLP branch's output fcproj. */
        matmul_backward(ws->dfch_gelu, dw.fcproj_w, dw.fcproj_b, ws->mm_scratch, ws->dresidual, a.fch_gelu, w.fcproj_w, N,
                        4 * D, D);
        gelu_backward(ws->dfch, a.fch, ws->dfch_gelu, N * 4 * D);
        matmul_backward(ws->dln, dw.fc_w, dw.fc_b, ws->mm_scratch, ws->dfch, a.ln2, w.fc_w, N, D, 4 * D);
        layernorm_backward(ws->dresidual, dw.ln2_w, dw.ln2_b, ws->dln, a.residual2, w.ln2_w, a.ln2_mean,
                           a.ln2_rstd, N, D);
        /* dresidual now holds d(residual2): into x and the attention branch. */
        matmul_backward(ws->datty, dw.proj_w, dw.proj_b, ws->mm_scratch, ws->dresidual, a.atty, w.proj_w, N, D, D);
        attention_backward(ws->dqkv, ws->att_scratch, ws->datty, a.qkv, a.att, b, t, D, H);
        matmul_backward(ws->dln, dw.qkv_w, dw.qkv_b, ws->mm_scratch, ws->dqkv, a.ln1, w.qkv_w, N, D, 3 * D);
        layernorm_backward(ws->dresidual, dw.ln1_w, dw.ln1_b, ws->dln, x, w.ln1_w, a.ln1_mean, a.ln1_rstd,
                           N, D);
    }
    encoder_backward(dm.wte, dm.wpe, ws->dresidual, ws->inputs, b, t, D);
}

double model_flops_per_batch(const ModelConfig *c, int b, int t) {
    double N = (double)b * t, D = c->D, V = c->V, L = c->L;
    /* matmuls: 12 D^2 per layer plus the tied classifier V D, 2 flops each;
     * attention: q.k and a.v over on average (t+1)/2 keys, 2 flops each. */
    double fwd = 2.0 * N * (12.0 * D * D * L + V * D) + 2.0 * 2.0 * N * ((t + 1) / 2.0) * D * L;
    return 3.0 * fwd; /* backward costs two forwards */
}

double model_flops_per_token(const ModelConfig *c, int t) { return model_flops_per_batch(c, 1, t) / t; }
