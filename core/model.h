/* model.h - the GPT-style transformer of docs/DESIGN.md: init, forward, backward.
 *
 * The parameters are one flat float buffer (config.h gives its layout); the
 * gradients are a buffer of the same layout. Everything a forward and
 * backward pass needs besides those lives in a Workspace, sized for at most
 * B x T tokens. A thread that trains owns one Workspace and one gradient
 * buffer and only reads the parameters, which is what lets the trainers share
 * one parameter buffer among many threads.
 *
 * model_forward returns the mean cross-entropy; model_backward then writes
 * the gradient of that mean into grads (overwriting it). Both are
 * single-threaded and bitwise deterministic. */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include <stddef.h>

#include "model_shape.h"
#include "error.h"

typedef struct {
    ModelConfig cfg;
    int B, T;        /* capacity: the largest batch this workspace can hold */
    int b, t;        /* the shape of the last forward pass */
    const int *inputs, *targets; /* of the last forward pass (not owned) */
    float *mem;      /* one allocation holding every buffer below */
    size_t mem_floats;
    /* activations, saved by forward for backward */
    float *encoded;                      /* [B][T][D] */
    float *ln1, *ln1_mean, *ln1_rstd;    /* per layer: [L][B][T][D], [L][B][T] x2 */
    float *qkv;                          /* [L][B][T][3D] */
    float *atty;                         /* [L][B][T][D] */
    float *att;                          /* [L][B][H][T][T] */
    float *residual2;                    /* [L][B][T][D] */
    float *ln2, *ln2_mean, *ln2_rstd;    /* [L][B][T][D], [L][B][T] x2 */
    float *fch, *fch_gelu;               /* [L][B][T][4D] x2 */
    float *residual3;                    /* [L][B][T][D] */
    float *lnf, *lnf_mean, *lnf_rstd;    /* [B][T][D], [B][T] x2 */
    float *logits;                       /* [min(B*T, CLASSIFIER_ROWS)][V]: the fused classifier's block */
    float *probs;                        /* [B][V]: next-token probabilities (forward without targets) */
    float *losses;                       /* [B][T] */
    float *dlnf;                         /* [B][T][D]: d(loss)/d(lnf), left by forward for backward */
    float *dwte;                         /* [V][D]: the classifier's share of d(loss)/d(wte), likewise */
    float *wte_packed;                   /* matmul_packed_floats(D, V): wte in the matmul's panels */
    /* backward scratch, reused layer after layer */
    float *dresidual, *dln, *datty;      /* [B][T][D] each */
    float *dqkv;                         /* [B][T][3D] */
    float *dfch, *dfch_gelu;             /* [B][T][4D] each */
    float *att_scratch;                  /* attention_scratch_floats(T, D, H): attention's blocks */
    float *mm_scratch;                   /* MATMUL_SCRATCH_FLOATS: the matmul's packed panels */
} Workspace;

/* Bytes a workspace for B x T tokens needs, so a caller can refuse early. */
size_t workspace_bytes(const ModelConfig *c, int B, int T);
sb_status workspace_init(Workspace *ws, const ModelConfig *c, int B, int T, sb_error *err) SB_MUST_CHECK;
void workspace_free(Workspace *ws);

/* GPT-2 style initialisation: weights ~ N(0, 0.02) (the residual projections
 * proj_w and fcproj_w scaled by 1/sqrt(2L)), LayerNorm weights 1, biases 0.
 * The normal draws come from rng.h only, so a seed fixes the model everywhere. */
void model_init(float *params, const ModelConfig *c, unsigned long long seed);

/* Runs the model on inputs[b][t] (b <= ws->B, t <= ws->T and t <= cfg.T).
 * With targets, returns the mean loss over the b*t positions and already
 * holds the classifier's gradients for model_backward (the classifier runs
 * forward and backward at once, core/classifier.c); without (targets NULL)
 * returns 0 and leaves in ws->probs[i] the next-token probabilities after
 * the last position of sequence i. */
float model_forward(Workspace *ws, const float *params, const int *inputs, const int *targets, int b, int t);

/* Gradient of the last forward's mean loss w.r.t. every parameter, written
 * (not added) into grads. Needs a forward with targets just before. */
void model_backward(float *grads, Workspace *ws, const float *params);

/* Forward and backward FLOPs of one pass over b x t tokens, counting the
 * matrix products and attention (2 per multiply-add), for throughput figures. */
double model_flops_per_batch(const ModelConfig *c, int b, int t);
/* The same count per token of a batch of t-token sequences: what the run's
 * JSON records as flops_per_token and the report reads. */
double model_flops_per_token(const ModelConfig *c, int t);

#endif
