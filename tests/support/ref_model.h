/* Reference model for the tests: a second, independent reading of the GPT-style model fixed in
 * docs/DESIGN.md ("The training core"), written in double precision for obviousness, not speed.
 * The fast float32 model in core/ is checked against it: its loss against ref_model_loss, its
 * gradients against ref_model_fd_grad (central finite differences of this loss). Nothing here
 * shares code with core/, so a misreading of the spec would have to be made twice to go unseen.
 * Parameters are one flat double buffer in the docs/DESIGN.md order; ref_param_offset names its parts. */
#ifndef REF_MODEL_H
#define REF_MODEL_H

#include <stddef.h>

typedef struct {
    int V;    /* vocabulary size */
    int maxT; /* context length: rows of wpe */
    int D;    /* channels; must be a multiple of H */
    int L;    /* layers; 0 is allowed (embeddings -> lnf -> tied logits) */
    int H;    /* heads */
} RefConfig;

/* Number of parameters in the flat buffer: (V + maxT)*D + L*(12*D*D + 13*D) + 2*D. */
size_t ref_param_count(RefConfig c);

/* Offset of a named tensor in the flat buffer, and its element count in *size (size may be NULL).
 * name is "wte", "wpe", "lnf_w", "lnf_b" (layer ignored) or one of the per-layer names "ln1_w",
 * "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b", "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w",
 * "fcproj_b" with 0 <= layer < L. Returns (size_t)-1 for an unknown name or a layer out of range. */
size_t ref_param_offset(RefConfig c, const char *name, int layer, size_t *size);

/* Per-position cross-entropy -log softmax(logits)[target] for all B*T positions, written to
 * losses[b*T + t]. inputs/targets are B*T token ids, row-major [B][T]; position t uses wpe[t].
 * Returns 0, or -1 (losses untouched) for an invalid config, T > maxT, or a token id outside [0,V). */
int ref_model_position_losses(RefConfig c, const double *params, const int *inputs,
                              const int *targets, int B, int T, double *losses);

/* Mean softmax cross-entropy over all B*T positions, computed entirely in double.
 * Returns NaN where ref_model_position_losses would fail. */
double ref_model_loss(RefConfig c, const double *params, const int *inputs, const int *targets,
                      int B, int T);

/* Central finite-difference gradient of ref_model_loss w.r.t. params[i] with step h:
 * (loss(p_i + h) - loss(p_i - h)) / (2h). params[i] is restored bit for bit before returning. */
double ref_model_fd_grad(RefConfig c, double *params, size_t i, double h, const int *inputs,
                         const int *targets, int B, int T);

#endif
