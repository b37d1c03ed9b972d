/* setup.c - options, data and per-rank trainer for the MPI commands; see setup.h. */
#include "setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../cli/train_options.h"
#include "../core/presets.h"
#include "sim.h"
#include "sim_timing.h"

/* The simulation's options: --timing (only under SMPI, never with --save),
 * one simulated core a rank, and --sim-costs (only with --timing). */
static sb_status read_sim_options(MpiSetup *s, const CliArgs *a, sb_error *err) {
    s->timing = cli_flag(a, "--timing");
    if (s->timing && !sim_active())
        return sb_fail(err, SB_EARG, "--timing: only under simulation (a program built with smpicc, make sim)");
    if (s->timing && cli_get(a, "--save"))
        return sb_fail(err, SB_EARG, "--save: timing mode computes no model, so it writes no checkpoint");
    if (sim_active() && s->threads != 1)
        return sb_fail(err, SB_EARG, "--threads %d: under simulation a rank is one simulated core (--threads 1): "
                                     "SMPI charges only the thread that calls MPI", s->threads);
    const char *costs = cli_get(a, "--sim-costs");
    SimCosts c;
    char tail;
    if (costs && !s->timing) return sb_fail(err, SB_EARG, "--sim-costs: only with --timing");
    if (costs && (sscanf(costs, "%lf,%lf,%lf%c", &c.batch_s, &c.adamw_s, &c.add_s, &tail) != 3 ||
                  !(c.batch_s >= 0 && c.batch_s < 1e6) || !(c.adamw_s >= 0 && c.adamw_s < 1e6) ||
                  !(c.add_s >= 0 && c.add_s < 1e6)))
        return sb_fail(err, SB_EARG, "--sim-costs '%s': give three durations in seconds, B,A,D, each 0 or more", costs);
    sim_set_timing(s->timing);
    if (costs) sim_set_costs(&c);
    return SB_OK;
}

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
    if ((st = read_sim_options(s, a, err))) return st;
    if ((st = tokens_load(&s->tf, s->data_path, err))) return st;
    s->model = model_config_from_preset(preset, (int)s->tf.vocab_size);
    s->model.vocab_id = s->tf.vocab_id;
    if ((st = model_config_check(&s->model, err))) return st;
    s->B = preset->B;
    s->T = s->model.T;
    if ((st = train_options_batches(&o, &s->tf, s->B, s->T, err))) return st;
    s->batches = o.batches;
    /* timing mode reads only the calibration's batches */
    uint64_t read = s->timing && s->batches > SIM_CAL_BATCHES ? SIM_CAL_BATCHES : (uint64_t)s->batches;
    if (s->timing && sim_costs()) read = 1; /* --sim-costs: no calibration; one batch keeps the shape checked */
    if (s->timing && !sim_costs() && s->batches < SIM_CAL_BATCHES)
        return sb_fail(err, SB_ERANGE, "--batches %lld: timing mode needs at least %d (its calibration)", s->batches,
                       SIM_CAL_BATCHES);
    return train_config_check(&s->tf, &s->model, s->B, s->T, (uint64_t)s->first, read, 1, err);
}

void setup_free(MpiSetup *s) { tokens_free(&s->tf); }

int setup_bps(const MpiSetup *s, const RankPlan *plan) {
    return s->bps ? (int)s->bps : plan->computing * s->threads;
}

sb_status setup_batch_sum(const MpiSetup *s, const RankPlan *plan, int bps, BatchSum **bs, sb_error *err) {
    *bs = NULL;
    if (s->timing && s->rank != 0) return SB_OK; /* timing mode: rank 0's calibration alone computes */
    VariantConfig vc = {.data = &s->tf,
                        .model = s->model,
                        .B = s->B,
                        .T = s->T,
                        .threads = plan->node[s->rank].computes ? s->threads : 1,
                        /* the largest share; timing mode's calibration: one batch a step */
                        .batches_per_step = s->timing ? 1 : (bps + plan->computing - 1) / plan->computing,
                        .adamw = s->adamw,
                        .wait = s->wait};
    return batch_sum_create(bs, &vc, err);
}

sb_status setup_params(const MpiSetup *s, float **params, sb_error *err) {
    size_t n = model_param_count(&s->model);
    *params = sim_buffer_alloc(n * sizeof(float));
    if (!*params) return sb_fail(err, SB_ENOMEM, "out of memory for %zu parameters", n);
    model_init(*params, &s->model, (unsigned long long)s->seed);
    return SB_OK;
}

void setup_params_free(float *params) { sim_buffer_free(params); }
