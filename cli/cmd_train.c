/* cmd_train.c - `train`: run one trainer over a range of batches and save the model.
 *
 * The trainer is chosen by name from the registry (variants/variant.h); the
 * model's shape comes from a preset (or from --init CKPT to continue a saved
 * model) and its vocabulary from the token file. At the end it prints the
 * per-thread table and, with --json, writes the run; with --trace, every
 * thread's timeline for Perfetto (bench/trace.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/checkpoint.h"
#include "../core/model.h"
#include "../core/presets.h"
#include "../core/safe_file.h"
#include "../core/tokens.h"
#include "../variants/variant.h"
#include "cli.h"
#include "commands.h"
#include "../bench/run_output.h"
#include "../bench/trace.h"

typedef struct {
    long every; /* print one line every this many steps */
    uint64_t tokens_per_batch;
    int quiet;
    long diverged_step; /* first step whose loss is not finite, 0: none */
    float diverged_loss;
} PrintCtx;

static void print_progress(const TrainProgress *p, void *ctx) {
    PrintCtx *pc = ctx;
    if (!isfinite(p->loss) && !pc->diverged_step) {
        pc->diverged_step = p->step;
        pc->diverged_loss = p->loss;
        fprintf(stderr, "train: the loss is %g at step %ld: training diverged (a lower --lr or --weight-decay?)\n",
                (double)p->loss, p->step);
    }
    if (pc->quiet) return;
    if (p->step % pc->every != 0 && p->step != p->steps && p->step != 1) return;
    double tps = p->elapsed_s > 0 ? (double)(p->batches_done * pc->tokens_per_batch) / p->elapsed_s : 0.0;
    printf("step %6ld/%ld  batches %8llu/%llu  loss %.4f  %.0f tokens/s  %.1f s\n", p->step, p->steps,
           (unsigned long long)p->batches_done, (unsigned long long)p->batches, p->loss, tps, p->elapsed_s);
    fflush(stdout);
}

int cmd_train(int argc, char **argv) {
    char variant_help[256]; /* the registry's trainers, so a new one appears by itself */
    snprintf(variant_help, sizeof variant_help, "NAME: trainer (%s; default serial)", variant_names());
    const CliOptSpec specs[] = {
        {"--variant", 0, variant_help},
        {"--threads", 0, "N: threads that train, the control included (default 1 for serial, 2 otherwise)"},
        {"--data", 0, "TOKENS: token file"},
        {"--model", 0, "PRESET: tiny, bench or seed (default bench)"},
        {"--init", 0, "CKPT: start from this checkpoint instead of a fresh model"},
        {"--batches", 0, "K: batches to train on (default: every batch of the file)"},
        {"--batch", 0, "B: sequences per batch (default: the preset's, or with --init the matching preset's)"},
        {"--first-batch", 0, "I: index of the first batch (default 0)"},
        {"--batches-per-step", 0, "S: batches averaged per AdamW step (default: 1 serial, one per worker flat)"},
        {"--route", 0, "symmetry|round-robin|steal: sphere's routing policy (default symmetry)"},
        {"--fanout", 0, "F: sphere's children per control (default 12)"},
        {"--wait", 0, "block|spin: how control threads wait for workers (default block)"},
        {"--seed", 0, "S: initialisation seed (default 1)"},
        {"--lr", 0, "X: learning rate (default 0.001)"},
        {"--weight-decay", 0, "X: AdamW weight decay (default 0)"},
        {"--schedule", 0, "constant|cosine: the rate per step (default constant; cosine: linear warm-up to --lr, "
                          "then half a cosine down to --lr-floor x --lr at the last step)"},
        {"--warmup", 0, "N: warm-up steps of --schedule cosine (default 0)"},
        {"--lr-floor", 0, "F: the last step's rate as a fraction of --lr, 0..1 (default 0.1)"},
        {"--clip", 0, "X: clip each step's mean gradient to global L2 norm X (default 0: no clipping)"},
        {"--print-every", 0, "N: print the loss every N steps (default: about 40 lines)"},
        {"--save", 0, "CKPT: write the trained model here"},
        {"--json", 0, "FILE: write the run, per thread, as JSON"},
        {"--trace", 0, "FILE: write every thread's timeline (Chrome Trace Event Format: Perfetto, chrome://tracing)"},
        {"--quiet", 1, "no per-step lines and no per-thread table"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "train", "--variant NAME --threads N --data TOKENS [--model PRESET] [--batches K] "
                               "[--save CKPT] [--json FILE] [--trace FILE] [options]", specs, 0, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    const char *variant_name = cli_get(&a, "--variant"), *data_path, *preset_name = cli_get(&a, "--model");
    const char *init_path = cli_get(&a, "--init"), *save = cli_get(&a, "--save"), *json = cli_get(&a, "--json");
    const char *trace = cli_get(&a, "--trace");
    const char *route = cli_get(&a, "--route");
    long long batches = 0, first = 0, bps = 0, seed = 1, every = 0, threads = 0, batch_b = 0, fanout = 0;
    long long warmup = 0;
    double lr = 1e-3, wd = 0.0, lr_floor = 0.1, clip = 0.0;
    if (cli_require(&a, "--data", &data_path, &err) ||
        cli_get_long(&a, "--threads", 1, VARIANT_MAX_THREADS, &threads, &err) ||
        cli_get_long(&a, "--batches", 1, 1LL << 40, &batches, &err) ||
        cli_get_long(&a, "--first-batch", 0, 1LL << 40, &first, &err) ||
        cli_get_long(&a, "--batch", 1, MODEL_MAX_B, &batch_b, &err) ||
        cli_get_long(&a, "--fanout", 1, VARIANT_MAX_THREADS, &fanout, &err) ||
        safe_output_check("--save", save, &err) || safe_output_check("--json", json, &err) ||
        safe_output_check("--trace", trace, &err) ||
        cli_get_long(&a, "--batches-per-step", 1, 1 << 20, &bps, &err) ||
        cli_get_long(&a, "--seed", 0, 1LL << 62, &seed, &err) ||
        cli_get_long(&a, "--print-every", 1, 1LL << 40, &every, &err) ||
        cli_get_double(&a, "--lr", 0.0, 10.0, &lr, &err) ||
        cli_get_double(&a, "--weight-decay", 0.0, 10.0, &wd, &err) ||
        cli_get_long(&a, "--warmup", 0, 1LL << 40, &warmup, &err) ||
        cli_get_double(&a, "--lr-floor", 0.0, 1.0, &lr_floor, &err) ||
        cli_get_double(&a, "--clip", 0.0, 1e6, &clip, &err))
        return cli_error("train", err.msg, 1);
    const char *sched_name = cli_get(&a, "--schedule") ? cli_get(&a, "--schedule") : "constant";
    int kind = lr_schedule_kind(sched_name);
    if (kind < 0) {
        snprintf(err.msg, sizeof err.msg, "--schedule '%s' is neither constant nor cosine", sched_name);
        return cli_error("train", err.msg, 1);
    }
    TrainSchedule schedule = {.kind = (LrKind)kind, .warmup = warmup, .floor = (float)lr_floor, .clip_norm = (float)clip};
    if (!variant_name) variant_name = "serial";
    const Variant *variant = variant_find(variant_name);
    if (!variant) {
        snprintf(err.msg, sizeof err.msg, "unknown variant '%s' (available: %s)", variant_name, variant_names());
        return cli_error("train", err.msg, 1);
    }
    if (!threads) threads = strcmp(variant->name, "serial") == 0 ? 1 : 2;
    WaitMode wait_mode = WAIT_BLOCK;
    if (cli_get_wait(&a, &wait_mode, &err)) return cli_error("train", err.msg, 1);
    if (init_path && preset_name)
        return cli_error("train", "give --model PRESET or --init CKPT, not both: a checkpoint fixes the shape", 1);
    const ModelPreset *preset = model_preset_find(preset_name ? preset_name : "bench");
    if (!preset) {
        snprintf(err.msg, sizeof err.msg, "no model preset '%s' (presets: %s)", preset_name, model_preset_names());
        return cli_error("train", err.msg, 1);
    }

    const SafeRole roles[] = {{"--data", data_path, 0}, {"--init", init_path, 0}, {"--save", save, 1},
                              {"--json", json, 1}, {"--trace", trace, 1}};
    if (safe_files_distinct(roles, 5, &err)) return cli_error("train", err.msg, 1);

    TokenFile tf = {0};
    float *params = NULL;
    void *state = NULL;
    ModelConfig c;
    rc = 1;
    if (tokens_load(&tf, data_path, &err)) goto fail;
    if (init_path) {
        if (checkpoint_load(init_path, &c, &params, &err)) goto fail;
    } else {
        c = model_config_from_preset(preset, (int)tf.vocab_size);
        if (model_config_check(&c, &err)) goto fail;
        params = malloc(model_param_count(&c) * sizeof(float));
        if (!params) {
            snprintf(err.msg, sizeof err.msg, "out of memory for %zu parameters", model_param_count(&c));
            goto fail;
        }
        model_init(params, &c, (unsigned long long)seed);
    }
    if (init_path && !batch_b) {
        /* a checkpoint has no batch size: take the preset of the same shape */
        for (const ModelPreset *p = model_presets(); p->name && !batch_b; p++)
            if (p->T == c.T && p->D == c.D && p->L == c.L && p->H == c.H) batch_b = p->B;
        if (!batch_b) {
            snprintf(err.msg, sizeof err.msg, "%s matches no preset's shape: give --batch B", init_path);
            goto fail;
        }
    }
    int B = batch_b ? (int)batch_b : preset->B, T = c.T;
    if (batches == 0) {
        uint64_t have = tokens_batch_count(&tf, B, T);
        batches = have > (uint64_t)first ? (long long)(have - (uint64_t)first) : 0;
        if (batches == 0) {
            snprintf(err.msg, sizeof err.msg, "%s holds no whole batch of %d x %d tokens after batch %lld",
                     data_path, B, T, first);
            goto fail;
        }
    }
    AdamWConfig ac = adamw_defaults();
    ac.lr = (float)lr;
    ac.weight_decay = (float)wd;
    int quiet = cli_flag(&a, "--quiet");
    PrintCtx pc = {.every = every, .tokens_per_batch = (uint64_t)B * (uint64_t)T, .quiet = quiet};
    VariantConfig vc = {.data = &tf,
                        .model = c,
                        .B = B,
                        .T = T,
                        .threads = (int)threads,
                        .batches_per_step = (int)bps,
                        .adamw = ac,
                        .wait = wait_mode,
                        .route = route,
                        .fanout = (int)fanout,
                        .progress = print_progress,
                        .progress_ctx = &pc,
                        .schedule = schedule,
                        /* steps bounded by one batch each: the trainer resolves its default later */
                        .trace_spans = trace ? trace_capacity((uint64_t)batches,
                                                              train_step_count((uint64_t)batches, bps ? (int)bps : 1))
                                             : 0};
    if (variant->create(&state, &vc, &err)) goto fail;
    if (!pc.every) {
        /* the trainer resolves its default batches per step; a guess is fine for pacing output */
        int eff_bps = bps ? (int)bps : (threads > 1 ? (int)threads - 1 : 1);
        pc.every = (train_step_count((uint64_t)batches, eff_bps) + 39) / 40;
    }
    printf("train: variant %s, %lld threads, V=%d T=%d D=%d L=%d H=%d (%zu parameters), B=%d, %lld batches from %lld\n",
           variant->name, threads, c.V, c.T, c.D, c.L, c.H, model_param_count(&c), B, batches, first);
    fflush(stdout);
    RunResult res;
    if (variant->run(state, params, (uint64_t)first, (uint64_t)batches, &res, &err)) goto fail;
    /* A diverged run is a failure: nothing written, nothing saved. */
    for (long s = 0; s < res.steps && res.step_loss && !pc.diverged_step; s++)
        if (!isfinite(res.step_loss[s])) pc.diverged_step = s + 1, pc.diverged_loss = res.step_loss[s];
    if (!pc.diverged_step && !isfinite(res.last_loss)) pc.diverged_step = res.steps, pc.diverged_loss = res.last_loss;
    if (pc.diverged_step) {
        snprintf(err.msg, sizeof err.msg,
                 "training diverged: the loss is %g at step %ld of %ld; nothing written or saved (a lower --lr or "
                 "--weight-decay?)",
                 (double)pc.diverged_loss, pc.diverged_step,
                 train_step_count((uint64_t)batches, res.batches_per_step > 0 ? res.batches_per_step : 1));
        goto fail;
    }
    if (checkpoint_check_finite("the trained model", &c, params, &err)) goto fail;
    double flops = model_flops_per_batch(&c, B, T) * (double)res.batches;
    if (!quiet) run_print_table(stdout, variant->name, &res);
    printf("done: %llu batches (%d per step, %ld steps), %llu tokens in %.2f s: %.0f tokens/s, %.2f GFLOP/s, "
           "final loss %.4f\n",
           (unsigned long long)res.batches, res.batches_per_step, res.steps, (unsigned long long)res.tokens, res.wall_s,
           (double)res.tokens / res.wall_s, flops / res.wall_s / 1e9, res.last_loss);
    if (json) {
        if (run_json_write(json, variant->name, &c, B, &res, &err)) goto fail;
        printf("wrote %s\n", json);
    }
    if (trace) {
        char title[128];
        snprintf(title, sizeof title, "train: %s, %d threads", variant->name, res.n_threads);
        if (trace_write(trace, title, variant->name, &res, &err)) goto fail;
        printf("wrote %s\n", trace);
    }
    if (save) {
        if (checkpoint_save(save, &c, params, &err)) goto fail;
        printf("saved %s\n", save);
    }
    rc = 0;
fail:
    if (rc) cli_error("train", err.msg, 0);
    if (state) variant->destroy(state);
    tokens_free(&tf);
    free(params);
    return rc;
}
