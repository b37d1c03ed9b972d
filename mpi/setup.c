/* setup.c - options, data and per-rank trainer for the MPI commands; see setup.h. */
#include "setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../cli/train_options.h"
#include "../core/presets.h"

sb_status setup_from_args(MpiSetup *s, const CliArgs *a, sb_error *err) {
    TrainOptions o;
    const ModelPreset *preset;
    sb_status st;
    if ((st = train_options_get(&o, a, err)) || (st = train_options_preset(&preset, &o, err))) return st;
    s->data_path = o.data_path;
    s->threads = o.threads ? (int)o.threads : 1;
    s->fanout = o.fanout ? (int)o.fanout : 12;
    s->first = o.first_batch;
    s->bps = o.batches_per_step;
    s->seed = o.seed;
    s->adamw = o.adamw;
    s->wait = o.wait;
    if ((st = tokens_load(&s->tf, s->data_path, err))) return st;
    s->model = model_config_from_preset(preset, (int)s->tf.vocab_size);
    s->model.vocab_id = s->tf.vocab_id;
    if ((st = model_config_check(&s->model, err))) return st;
    s->B = preset->B;
    s->T = s->model.T;
    if ((st = train_options_batches(&o, &s->tf, s->B, s->T, err))) return st;
    s->batches = o.batches;
    return train_config_check(&s->tf, &s->model, s->B, s->T, (uint64_t)s->first, (uint64_t)s->batches, 1, err);
}

void setup_free(MpiSetup *s) { tokens_free(&s->tf); }

int setup_bps(const MpiSetup *s, const RankPlan *plan) {
    return s->bps ? (int)s->bps : plan->computing * s->threads;
}

sb_status setup_batch_sum(const MpiSetup *s, const RankPlan *plan, int bps, BatchSum **bs, sb_error *err) {
    VariantConfig vc = {.data = &s->tf,
                        .model = s->model,
                        .B = s->B,
                        .T = s->T,
                        .threads = plan->node[s->rank].computes ? s->threads : 1,
                        .batches_per_step = (bps + plan->computing - 1) / plan->computing, /* the largest share */
                        .adamw = s->adamw,
                        .wait = s->wait};
    return batch_sum_create(bs, &vc, err);
}

sb_status setup_params(const MpiSetup *s, float **params, sb_error *err) {
    size_t n = model_param_count(&s->model);
    *params = malloc(n * sizeof(float));
    if (!*params) return sb_fail(err, SB_ENOMEM, "out of memory for %zu parameters", n);
    model_init(*params, &s->model, (unsigned long long)s->seed);
    return SB_OK;
}
