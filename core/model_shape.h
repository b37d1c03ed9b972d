/* model_shape.h - the model's shape and the parameter layout.
 *
 * A ModelConfig is exactly what a checkpoint header stores (V, T, D, L, H,
 * and the fingerprint of the vocabulary it was trained on);
 * the batch size B is a property of a run, not of a model, so it lives in a
 * preset beside the shape (presets.h). The parameter buffer is one float array in
 * docs/DESIGN.md's order; layer_tensors() and model_tensors() give pointers into
 * it without copying, and work equally on a gradient buffer of the same
 * layout. */
#ifndef SB_MODEL_SHAPE_H
#define SB_MODEL_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct {
    int V; /* vocabulary size */
    int T; /* context length: rows of wpe, the longest sequence */
    int D; /* channels */
    int L; /* layers */
    int H; /* attention heads; D % H == 0 */
    uint32_t vocab_id; /* the fingerprint of the vocabulary it was trained on (vocab_id.h); 0: not recorded */
} ModelConfig;

/* Upper bounds that keep every size computation inside size_t and int. */
#define MODEL_MAX_V (1 << 24)
#define MODEL_MAX_T 65536
#define MODEL_MAX_D 16384
#define MODEL_MAX_L 1024
#define MODEL_MAX_B 65536

/* Refuses shapes that cannot work (non-positive sizes, D % H != 0, limits). */
sb_status model_config_check(const ModelConfig *c, sb_error *err) SB_MUST_CHECK;

size_t model_param_count(const ModelConfig *c);
size_t model_layer_param_count(const ModelConfig *c);

/* Pointers to one layer's tensors inside a parameter (or gradient) buffer. */
typedef struct {
    float *ln1_w, *ln1_b;       /* [D], [D] */
    float *qkv_w, *qkv_b;       /* [3D][D], [3D]: rows q, then k, then v */
    float *proj_w, *proj_b;     /* [D][D], [D] */
    float *ln2_w, *ln2_b;       /* [D], [D] */
    float *fc_w, *fc_b;         /* [4D][D], [4D] */
    float *fcproj_w, *fcproj_b; /* [D][4D], [D] */
} LayerTensors;

typedef struct {
    float *wte;          /* [V][D], also the output projection (tied) */
    float *wpe;          /* [T][D] */
    float *lnf_w, *lnf_b; /* [D], [D] */
} ModelTensors;

LayerTensors layer_tensors(const ModelConfig *c, float *buf, int l);
ModelTensors model_tensors(const ModelConfig *c, float *buf);

#endif
