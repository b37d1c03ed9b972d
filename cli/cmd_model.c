/* cmd_model.c - `init` and `grad`: a model's checkpoint and one batch's gradient. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/checkpoint.h"
#include "../core/model.h"
#include "../core/presets.h"
#include "../core/safe_file.h"
#include "../core/tokenizer.h"
#include "../core/tokens.h"
#include "cli.h"
#include "commands.h"

int cmd_init(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--model", 0, "PRESET: tiny, bench or seed"},
        {"--vocab", 0, "V: vocabulary size (the token file's)"},
        {"--seed", 0, "S: initialisation seed (default 1)"},
        {"--out", 0, "CKPT: checkpoint to write"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "init", "--model PRESET --vocab V [--seed S] --out CKPT", specs, 0, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    const char *preset_name, *out;
    long long vocab = 0, seed = 1;
    if (cli_require(&a, "--model", &preset_name, &err) || cli_require(&a, "--out", &out, &err) ||
        cli_get_long(&a, "--vocab", TOKENIZER_MIN_VOCAB, MODEL_MAX_V, &vocab, &err) ||
        cli_get_long(&a, "--seed", 0, 1LL << 62, &seed, &err) || safe_output_check("--out", out, &err))
        return cli_error("init", err.msg, 1);
    if (!cli_get(&a, "--vocab")) return cli_error("init", "--vocab is required", 1);
    const ModelPreset *p;
    if (model_preset_lookup(&p, preset_name, &err)) return cli_error("init", err.msg, 1);
    ModelConfig c = model_config_from_preset(p, (int)vocab);
    if (model_config_check(&c, &err)) return cli_error("init", err.msg, 1);
    size_t n = model_param_count(&c);
    float *params = malloc(n * sizeof(float));
    if (!params) return cli_error("init", "out of memory for the parameters", 0);
    model_init(params, &c, (unsigned long long)seed);
    sb_status st = checkpoint_save(out, &c, params, &err);
    free(params);
    if (st) return cli_error("init", err.msg, 0);
    printf("init %s: preset %s, V=%d T=%d D=%d L=%d H=%d, %zu parameters, seed %lld\n", out, p->name, c.V, c.T,
           c.D, c.L, c.H, n, seed);
    return 0;
}

int cmd_grad(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--ckpt", 0, "CKPT: the model"},
        {"--data", 0, "TOKENS: token file"},
        {"--offset", 0, "I: first token of the window (default 0)"},
        {"--batch", 0, "B: sequences in the window; each is the model's T tokens (default 1)"},
        {"--out", 0, "GRADS: gradient file to write (checkpoint format)"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "grad", "--ckpt CKPT --data TOKENS [--offset I] [--batch B] --out GRADS", specs,
                               0, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    const char *ckpt, *data, *out;
    long long offset = 0, batch = 1;
    if (cli_require(&a, "--ckpt", &ckpt, &err) || cli_require(&a, "--data", &data, &err) ||
        cli_require(&a, "--out", &out, &err) || cli_get_long(&a, "--offset", 0, 1LL << 62, &offset, &err) ||
        cli_get_long(&a, "--batch", 1, MODEL_MAX_B, &batch, &err) || safe_output_check("--out", out, &err))
        return cli_error("grad", err.msg, 1);
    const SafeRole roles[] = {{"--ckpt", ckpt, 0}, {"--data", data, 0}, {"--out", out, 1}};
    if (safe_files_distinct(roles, 3, &err)) return cli_error("grad", err.msg, 1);
    ModelConfig c;
    float *params = NULL, *grads = NULL;
    TokenFile tf = {0};
    Workspace ws = {0};
    int *inputs = NULL, *targets = NULL;
    rc = 1;
    if (checkpoint_load(ckpt, &c, &params, &err) || tokens_load(&tf, data, &err) ||
        checkpoint_vocab_check(ckpt, &c, tf.vocab_id, data, &err))
        goto fail;
    if (tf.vocab_size > (uint32_t)c.V) {
        sb_fail(&err, SB_ECONFIG, "%s has a vocabulary of %u but the model in %s only %d", data, tf.vocab_size, ckpt,
                c.V);
        goto fail;
    }
    size_t bt = (size_t)batch * (size_t)c.T;
    inputs = malloc(bt * sizeof(int));
    targets = malloc(bt * sizeof(int));
    grads = malloc(model_param_count(&c) * sizeof(float));
    if (!inputs || !targets || !grads) {
        sb_fail(&err, SB_ENOMEM, "out of memory for a %lld x %d batch", batch, c.T);
        goto fail;
    }
    if (tokens_window(inputs, targets, &tf, (uint64_t)offset, (int)batch, c.T, &err) ||
        workspace_init(&ws, &c, (int)batch, c.T, &err))
        goto fail;
    float loss = model_forward(&ws, params, inputs, targets, (int)batch, c.T);
    if (!isfinite(loss)) {
        sb_fail(&err, SB_ERANGE, "the loss of %s on this window is %g; nothing written", ckpt, (double)loss);
        goto fail;
    }
    model_backward(grads, &ws, params);
    if (checkpoint_check_finite("the gradient", &c, grads, &err) || checkpoint_save(out, &c, grads, &err)) goto fail;
    printf("loss %.9g\n", loss);
    rc = 0;
fail:
    if (rc) cli_error("grad", err.msg, 0);
    workspace_free(&ws);
    tokens_free(&tf);
    free(params);
    free(grads);
    free(inputs);
    free(targets);
    return rc;
}
