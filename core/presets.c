/* presets.c - the model presets; see presets.h. */
#include "presets.h"

#include <string.h>

static const ModelPreset presets[] = {
    {"tiny", 2, 8, 16, 2, 4, "for tests: every gradient checked by finite differences"},
    {"bench", 64, 64, 64, 2, 4, "the benchmark: one 73 MB epoch in a few minutes on 2 cores"},
    {"seed", 32, 128, 256, 4, 8, "the original project's configuration"},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

const ModelPreset *model_presets(void) { return presets; }

const char *model_preset_names(void) { return "tiny, bench, seed"; }

const ModelPreset *model_preset_find(const char *name) {
    for (const ModelPreset *p = presets; name && p->name; p++)
        if (strcmp(p->name, name) == 0) return p;
    return NULL;
}

sb_status model_preset_lookup(const ModelPreset **out, const char *name, sb_error *err) {
    if ((*out = model_preset_find(name))) return SB_OK;
    return sb_fail(err, SB_EARG, "no model preset '%s' (presets: %s)", name ? name : "", model_preset_names());
}

ModelConfig model_config_from_preset(const ModelPreset *p, int V) {
    ModelConfig c = {.V = V, .T = p->T, .D = p->D, .L = p->L, .H = p->H};
    return c;
}
