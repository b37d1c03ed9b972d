/* presets.h - the named model shapes with their batch size: tiny (tests),
 * bench (the benchmark), seed (the original project's).
 *
 * The `bench` preset is sized so that one pass over the 73 MB corpus (about
 * 2272 batches of 4096 tokens) takes a few minutes on 2 cores: small enough
 * to run at 64 threads inside the bench's time budget, big enough that each
 * batch is real work against which coordination costs can be measured. */
#ifndef SB_PRESETS_H
#define SB_PRESETS_H

#include "error.h"
#include "model_shape.h"

typedef struct {
    const char *name;
    int B, T, D, L, H;
    const char *purpose;
} ModelPreset;

const ModelPreset *model_preset_find(const char *name);
/* The preset called name into *out, or SB_EARG with "no model preset 'NAME'
 * (presets: ...)": the one message every command gives. */
sb_status model_preset_lookup(const ModelPreset **out, const char *name, sb_error *err) SB_MUST_CHECK;
/* The presets, NULL-name terminated, for help texts. */
const ModelPreset *model_presets(void);
/* "tiny, bench, seed": the preset names, for messages. */
const char *model_preset_names(void);

/* Builds a config from a preset and a vocabulary size. */
ModelConfig model_config_from_preset(const ModelPreset *p, int V);

#endif
