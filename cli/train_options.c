/* train_options.c - the options every command that trains takes; see train_options.h. */
#include "train_options.h"

sb_status train_options_get(TrainOptions *o, const CliArgs *a, sb_error *err) {
    *o = (TrainOptions){.preset_name = cli_get(a, "--model"), .seed = 1, .wait = WAIT_BLOCK};
    double lr = 1e-3, wd = 0.0;
    sb_status st;
    if ((st = cli_require(a, "--data", &o->data_path, err)) ||
        (st = cli_get_long(a, "--threads", 1, VARIANT_MAX_THREADS, &o->threads, err)) ||
        (st = cli_get_long(a, "--batches", 1, 1LL << 40, &o->batches, err)) ||
        (st = cli_get_long(a, "--first-batch", 0, 1LL << 40, &o->first_batch, err)) ||
        (st = cli_get_long(a, "--batches-per-step", 1, 1 << 20, &o->batches_per_step, err)) ||
        (st = cli_get_long(a, "--fanout", 1, VARIANT_MAX_THREADS, &o->fanout, err)) ||
        (st = cli_get_long(a, "--seed", 0, 1LL << 62, &o->seed, err)) ||
        (st = cli_get_double(a, "--lr", 0.0, 10.0, &lr, err)) ||
        (st = cli_get_double(a, "--weight-decay", 0.0, 10.0, &wd, err)) || (st = cli_get_wait(a, &o->wait, err)))
        return st;
    o->adamw = adamw_defaults();
    o->adamw.lr = (float)lr;
    o->adamw.weight_decay = (float)wd;
    return SB_OK;
}

sb_status train_options_preset(const ModelPreset **out, const TrainOptions *o, sb_error *err) {
    return model_preset_lookup(out, o->preset_name ? o->preset_name : "bench", err);
}

sb_status train_options_batches(TrainOptions *o, const TokenFile *tf, int B, int T, sb_error *err) {
    if (o->batches) return SB_OK;
    uint64_t have = tokens_batch_count(tf, B, T), first = (uint64_t)o->first_batch;
    o->batches = have > first ? (long long)(have - first) : 0;
    if (o->batches == 0)
        return sb_fail(err, SB_ERANGE, "%s holds no whole batch of %d x %d tokens after batch %lld", o->data_path, B,
                       T, o->first_batch);
    return SB_OK;
}

VariantConfig train_options_config(const TrainOptions *o, const TokenFile *tf, ModelConfig model, int B, int T) {
    return (VariantConfig){.data = tf,
                           .model = model,
                           .B = B,
                           .T = T,
                           .threads = (int)o->threads,
                           .batches_per_step = (int)o->batches_per_step,
                           .adamw = o->adamw,
                           .wait = o->wait,
                           .fanout = (int)o->fanout};
}
