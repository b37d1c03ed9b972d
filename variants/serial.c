/* serial.c - the single-threaded reference trainer; see serial.h. */
#include "serial.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/model.h"

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sb_status train_config_check(const TokenFile *data, const ModelConfig *model, int B, int T,
                             uint64_t first_batch, uint64_t batches, int batches_per_step, sb_error *err) {
    if (B < 1 || B > MODEL_MAX_B) return sb_fail(err, SB_ECONFIG, "batch size B=%d is outside 1..%d", B, MODEL_MAX_B);
    if (T < 1 || T > model->T)
        return sb_fail(err, SB_ECONFIG, "sequence length T=%d is outside 1..%d (the model's context)", T, model->T);
    if (batches_per_step < 1)
        return sb_fail(err, SB_ECONFIG, "batches per step must be at least 1 (got %d)", batches_per_step);
    if (data->vocab_size > (uint32_t)model->V)
        return sb_fail(err, SB_ECONFIG,
                       "the token file has a vocabulary of %u but the model only %d: tokenize with --vocab %d "
                       "or build the model for this data",
                       data->vocab_size, model->V, model->V);
    uint64_t have = tokens_batch_count(data, B, T);
    if (batches == 0) return sb_fail(err, SB_ECONFIG, "a run needs at least one batch");
    if (first_batch >= have || batches > have - first_batch)
        return sb_fail(err, SB_ERANGE,
                       "batches %llu..%llu requested but the token file holds only %llu batches of %d x %d",
                       (unsigned long long)first_batch, (unsigned long long)(first_batch + batches - 1),
                       (unsigned long long)have, B, T);
    return SB_OK;
}

sb_status serial_train(float *params, const SerialConfig *cfg, SerialResult *res, sb_error *err) {
    sb_status st = train_config_check(cfg->data, &cfg->model, cfg->B, cfg->T, cfg->first_batch, cfg->batches,
                                      cfg->batches_per_step, err);
    if (st) return st;
    size_t n = model_param_count(&cfg->model);
    size_t bt = (size_t)cfg->B * cfg->T;
    Workspace ws;
    AdamW opt = {0};
    float *grads = malloc(n * sizeof(float)), *sum = malloc(n * sizeof(float));
    int *inputs = malloc(bt * sizeof(int)), *targets = malloc(bt * sizeof(int));
    if ((st = workspace_init(&ws, &cfg->model, cfg->B, cfg->T, err))) goto out_nows;
    if ((st = adamw_init(&opt, n, cfg->adamw, err))) goto out;
    if (!grads || !sum || !inputs || !targets) {
        st = sb_fail(err, SB_ENOMEM, "cannot allocate gradient buffers for %zu parameters", n);
        goto out;
    }
    memset(res, 0, sizeof *res);
    double t0 = wall_now();
    long steps = (long)((cfg->batches + (uint64_t)cfg->batches_per_step - 1) / (uint64_t)cfg->batches_per_step);
    uint64_t k = 0;
    for (long s = 1; s <= steps; s++) {
        uint64_t in_step = cfg->batches - k < (uint64_t)cfg->batches_per_step ? cfg->batches - k
                                                                               : (uint64_t)cfg->batches_per_step;
        double loss_sum = 0.0;
        for (uint64_t j = 0; j < in_step; j++, k++) {
            uint64_t offset = (cfg->first_batch + k) * bt;
            if ((st = tokens_window(inputs, targets, cfg->data, offset, cfg->B, cfg->T, err))) goto out;
            loss_sum += model_forward(&ws, params, inputs, targets, cfg->B, cfg->T);
            model_backward(j == 0 ? sum : grads, &ws, params);
            if (j > 0)
                for (size_t i = 0; i < n; i++) sum[i] += grads[i];
        }
        float scale = 1.0f / (float)in_step;
        for (size_t i = 0; i < n; i++) sum[i] *= scale;
        adamw_update(&opt, params, sum);
        res->last_loss = (float)(loss_sum / (double)in_step);
        res->steps = s;
        if (cfg->progress) {
            TrainProgress p = {s, steps, k, cfg->batches, res->last_loss, wall_now() - t0};
            cfg->progress(&p, cfg->progress_ctx);
        }
    }
    res->batches = cfg->batches;
    res->tokens = cfg->batches * bt;
    res->wall_s = wall_now() - t0;
out:
    adamw_free(&opt);
    workspace_free(&ws);
out_nows:
    free(grads);
    free(sum);
    free(inputs);
    free(targets);
    return st;
}
