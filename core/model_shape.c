/* model_shape.c - shape checks and the parameter layout; see model_shape.h
 * (the presets and their sizing are presets.c's). */
#include "model_shape.h"


sb_status model_config_check(const ModelConfig *c, sb_error *err) {
    if (c->V < 1 || c->V > MODEL_MAX_V)
        return sb_fail(err, SB_ECONFIG, "vocabulary size %d is outside 1..%d", c->V, MODEL_MAX_V);
    if (c->T < 1 || c->T > MODEL_MAX_T)
        return sb_fail(err, SB_ECONFIG, "context length T=%d is outside 1..%d", c->T, MODEL_MAX_T);
    if (c->D < 1 || c->D > MODEL_MAX_D)
        return sb_fail(err, SB_ECONFIG, "channels D=%d is outside 1..%d", c->D, MODEL_MAX_D);
    if (c->L < 0 || c->L > MODEL_MAX_L)
        return sb_fail(err, SB_ECONFIG, "layers L=%d is outside 0..%d", c->L, MODEL_MAX_L);
    if (c->H < 1 || c->D % c->H != 0)
        return sb_fail(err, SB_ECONFIG, "heads H=%d must be positive and divide D=%d", c->H, c->D);
    return SB_OK;
}

size_t model_layer_param_count(const ModelConfig *c) {
    size_t D = (size_t)c->D;
    /* ln1 2D, qkv 3D*D+3D, proj D*D+D, ln2 2D, fc 4D*D+4D, fcproj 4D*D+D */
    return 12 * D * D + 13 * D;
}

size_t model_param_count(const ModelConfig *c) {
    size_t D = (size_t)c->D;
    return (size_t)c->V * D + (size_t)c->T * D + (size_t)c->L * model_layer_param_count(c) + 2 * D;
}

LayerTensors layer_tensors(const ModelConfig *c, float *buf, int l) {
    size_t D = (size_t)c->D;
    float *p = buf + (size_t)c->V * D + (size_t)c->T * D + (size_t)l * model_layer_param_count(c);
    LayerTensors t;
    t.ln1_w = p; p += D;
    t.ln1_b = p; p += D;
    t.qkv_w = p; p += 3 * D * D;
    t.qkv_b = p; p += 3 * D;
    t.proj_w = p; p += D * D;
    t.proj_b = p; p += D;
    t.ln2_w = p; p += D;
    t.ln2_b = p; p += D;
    t.fc_w = p; p += 4 * D * D;
    t.fc_b = p; p += 4 * D;
    t.fcproj_w = p; p += 4 * D * D;
    t.fcproj_b = p;
    return t;
}

ModelTensors model_tensors(const ModelConfig *c, float *buf) {
    size_t D = (size_t)c->D;
    ModelTensors t;
    t.wte = buf;
    t.wpe = buf + (size_t)c->V * D;
    t.lnf_w = buf + (size_t)c->V * D + (size_t)c->T * D + (size_t)c->L * model_layer_param_count(c);
    t.lnf_b = t.lnf_w + D;
    return t;
}
