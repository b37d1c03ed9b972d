/* cmd_train.c - `train`: run one trainer over a range of batches and save the model.
 *
 * The trainer is chosen by name from the registry (variants/variant.h), which
 * also gives its defaults (threads, batches per step) for the options left
 * out; the model's shape comes from a preset (or from --init CKPT to continue
 * a saved model) and its vocabulary from the token file. At the end it prints
 * the per-thread table and, with --json, writes the run; with --trace, every
 * thread's timeline for Perfetto (bench/trace.h).
 *
 * The command runs in short stages: options (train_parse), the data and the
 * model (train_load), the trainer's config (train_configure), the run and its
 * divergence check (train_run), and what it writes (train_write). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/checkpoint.h"
#include "../core/model.h"
#include "../core/safe_file.h"
#include "../core/tokens.h"
#include "../variants/variant.h"
#include "cli.h"
#include "commands.h"
#include "train_options.h"
#include "../bench/run_output.h"
#include "../bench/trace.h"

typedef struct {
    long every; /* print one line every this many steps */
    uint64_t tokens_per_batch;
    int quiet;
    long diverged_step; /* first step whose loss is not finite, 0: none */
    float diverged_loss;
} PrintCtx;

/* What the command line asks for. */
typedef struct {
    TrainOptions o;         /* the options every training command shares */
    const Variant *variant;
    const ModelPreset *preset; /* NULL with --init */
    const char *init_path, *save, *json, *trace, *route;
    long long batch_b;      /* --batch; 0: the preset's */
    long long every;        /* --print-every; 0: about 40 lines */
    TrainSchedule schedule;
    int quiet;
} TrainArgs;

/* The run: its data and model, the trainer and what it made. */
typedef struct {
    TokenFile tf;
    ModelConfig model;
    float *params;
    int B, T;
    VariantConfig vc;
    void *state;
    RunResult res;
    PrintCtx pc;
} TrainRun;

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

/* "LEAD (default: serial X, flat Y, ...)": every registered trainer's default
 * threads (bps 0) or batches per step (bps 1), so a new trainer's show by themselves. */
static const char *defaults_help(char *buf, size_t size, const char *lead, int bps) {
    size_t len = (size_t)snprintf(buf, size, "%s (default:", lead);
    for (const Variant *const *v = variant_all(); *v && len < size; v++) {
        const char *sep = v == variant_all() ? "" : ",";
        len += bps ? (size_t)snprintf(buf + len, size - len, "%s %s %s", sep, (*v)->name, (*v)->batches_per_step_doc)
                   : (size_t)snprintf(buf + len, size - len, "%s %s %d", sep, (*v)->name, (*v)->default_threads);
    }
    if (len < size) snprintf(buf + len, size - len, ")");
    return buf;
}

static sb_status train_parse(TrainArgs *t, const CliArgs *a, sb_error *err) {
    *t = (TrainArgs){.init_path = cli_get(a, "--init"), .save = cli_get(a, "--save"), .json = cli_get(a, "--json"),
                     .trace = cli_get(a, "--trace"), .route = cli_get(a, "--route"), .quiet = cli_flag(a, "--quiet")};
    long long warmup = 0;
    double lr_floor = 0.1, clip = 0.0;
    sb_status st;
    if ((st = train_options_get(&t->o, a, err)) ||
        (st = cli_get_long(a, "--batch", 1, MODEL_MAX_B, &t->batch_b, err)) ||
        (st = safe_output_check("--save", t->save, err)) || (st = safe_output_check("--json", t->json, err)) ||
        (st = safe_output_check("--trace", t->trace, err)) ||
        (st = cli_get_long(a, "--print-every", 1, 1LL << 40, &t->every, err)) ||
        (st = cli_get_long(a, "--warmup", 0, 1LL << 40, &warmup, err)) ||
        (st = cli_get_double(a, "--lr-floor", 0.0, 1.0, &lr_floor, err)) ||
        (st = cli_get_double(a, "--clip", 0.0, 1e6, &clip, err)))
        return st;
    const char *sched_name = cli_get(a, "--schedule") ? cli_get(a, "--schedule") : "constant";
    int kind = lr_schedule_kind(sched_name);
    if (kind < 0) return sb_fail(err, SB_EARG, "--schedule '%s' is neither constant nor cosine", sched_name);
    t->schedule = (TrainSchedule){.kind = (LrKind)kind, .warmup = warmup, .floor = (float)lr_floor,
                                  .clip_norm = (float)clip};
    const char *variant_name = cli_get(a, "--variant") ? cli_get(a, "--variant") : "serial";
    if (!(t->variant = variant_find(variant_name)))
        return sb_fail(err, SB_EARG, "unknown variant '%s' (available: %s)", variant_name, variant_names());
    if (!t->o.threads) t->o.threads = t->variant->default_threads;
    if (t->init_path && t->o.preset_name)
        return sb_fail(err, SB_EARG, "give --model PRESET or --init CKPT, not both: a checkpoint fixes the shape");
    if (!t->init_path && (st = train_options_preset(&t->preset, &t->o, err))) return st;
    const SafeRole roles[] = {{"--data", t->o.data_path, 0}, {"--init", t->init_path, 0}, {"--save", t->save, 1},
                              {"--json", t->json, 1}, {"--trace", t->trace, 1}};
    return safe_files_distinct(roles, 5, err);
}

/* A checkpoint has no batch size: the B of the preset of the same shape. */
static sb_status batch_of_shape(int *B, const ModelConfig *c, const char *init_path, sb_error *err) {
    for (const ModelPreset *p = model_presets(); p->name; p++)
        if (p->T == c->T && p->D == c->D && p->L == c->L && p->H == c->H) return *B = p->B, SB_OK;
    return sb_fail(err, SB_ECONFIG, "%s matches no preset's shape: give --batch B", init_path);
}

/* The token file, the model (saved, or fresh from the preset), the batch shape and count. */
static sb_status train_load(TrainRun *r, TrainArgs *t, sb_error *err) {
    sb_status st;
    if ((st = tokens_load(&r->tf, t->o.data_path, err))) return st;
    if (t->init_path) {
        if ((st = checkpoint_load(t->init_path, &r->model, &r->params, err)) ||
            (st = checkpoint_vocab_check(t->init_path, &r->model, r->tf.vocab_id, t->o.data_path, err)))
            return st;
        if (!r->model.vocab_id) r->model.vocab_id = r->tf.vocab_id; /* what it trains on from here */
    } else {
        r->model = model_config_from_preset(t->preset, (int)r->tf.vocab_size);
        r->model.vocab_id = r->tf.vocab_id;
        if ((st = model_config_check(&r->model, err))) return st;
        if (!(r->params = malloc(model_param_count(&r->model) * sizeof(float))))
            return sb_fail(err, SB_ENOMEM, "out of memory for %zu parameters", model_param_count(&r->model));
        model_init(r->params, &r->model, (unsigned long long)t->o.seed);
    }
    r->B = (int)t->batch_b;
    r->T = r->model.T;
    if (!r->B && t->preset) r->B = t->preset->B;
    if (!r->B && (st = batch_of_shape(&r->B, &r->model, t->init_path, err))) return st;
    return train_options_batches(&t->o, &r->tf, r->B, r->T, err);
}

/* The trainer's config, its output pacing from the batches per step it will take, and the trainer. */
static sb_status train_configure(TrainRun *r, const TrainArgs *t, sb_error *err) {
    r->pc = (PrintCtx){.every = t->every, .tokens_per_batch = (uint64_t)r->B * (uint64_t)r->T, .quiet = t->quiet};
    VariantConfig *vc = &r->vc;
    *vc = train_options_config(&t->o, &r->tf, r->model, r->B, r->T);
    vc->route = t->route;
    vc->schedule = t->schedule;
    vc->progress = print_progress;
    vc->progress_ctx = &r->pc;
    uint64_t batches = (uint64_t)t->o.batches;
    long steps = train_step_count(batches, variant_batches_per_step(t->variant, vc));
    if (t->trace) vc->trace_spans = trace_capacity(batches, steps);
    if (!r->pc.every) r->pc.every = (steps + 39) / 40;
    return t->variant->create(&r->state, vc, err);
}

/* The first step whose loss is not finite, from the curve and the last loss. */
static void find_divergence(PrintCtx *pc, const RunResult *res) {
    for (long s = 0; s < res->steps && res->step_loss && !pc->diverged_step; s++)
        if (!isfinite(res->step_loss[s])) pc->diverged_step = s + 1, pc->diverged_loss = res->step_loss[s];
    if (!pc->diverged_step && !isfinite(res->last_loss)) pc->diverged_step = res->steps, pc->diverged_loss = res->last_loss;
}

/* Trains; a diverged run is a failure: nothing written, nothing saved. */
static sb_status train_run(TrainRun *r, const TrainArgs *t, sb_error *err) {
    const ModelConfig *c = &r->model;
    printf("train: variant %s, %lld threads, V=%d T=%d D=%d L=%d H=%d (%zu parameters), B=%d, %lld batches from %lld\n",
           t->variant->name, t->o.threads, c->V, c->T, c->D, c->L, c->H, model_param_count(c), r->B, t->o.batches,
           t->o.first_batch);
    fflush(stdout);
    sb_status st = t->variant->run(r->state, r->params, (uint64_t)t->o.first_batch, (uint64_t)t->o.batches, &r->res,
                                   err);
    if (st) return st;
    find_divergence(&r->pc, &r->res);
    if (r->pc.diverged_step)
        return sb_fail(err, SB_ERANGE,
                       "training diverged: the loss is %g at step %ld of %ld; nothing written or saved (a lower --lr "
                       "or --weight-decay?)",
                       (double)r->pc.diverged_loss, r->pc.diverged_step,
                       train_step_count((uint64_t)t->o.batches, r->res.batches_per_step));
    return checkpoint_check_finite("the trained model", c, r->params, err);
}

/* The table and the summary line; then the run's JSON, its timeline and the model, each if asked. */
static sb_status train_write(const TrainRun *r, const TrainArgs *t, sb_error *err) {
    const RunResult *res = &r->res;
    const char *name = t->variant->name;
    double flops = model_flops_per_batch(&r->model, r->B, r->T) * (double)res->batches;
    if (!t->quiet) run_print_table(stdout, name, res);
    printf("done: %llu batches (%d per step, %ld steps), %llu tokens in %.2f s: %.0f tokens/s, %.2f GFLOP/s, "
           "final loss %.4f\n",
           (unsigned long long)res->batches, res->batches_per_step, res->steps, (unsigned long long)res->tokens,
           res->wall_s, (double)res->tokens / res->wall_s, flops / res->wall_s / 1e9, res->last_loss);
    /* every output written before any is renamed: a failure on one leaves all three as they were */
    safe_file_group_begin();
    sb_status st = SB_OK;
    char title[128];
    snprintf(title, sizeof title, "train: %s, %d threads", name, res->n_threads);
    if ((t->json && (st = run_json_write(t->json, name, &r->model, r->B, res, err))) ||
        (t->trace && (st = trace_write(t->trace, title, name, NULL, res, err))) ||
        (t->save && (st = checkpoint_save(t->save, &r->model, r->params, err))) ||
        (st = safe_file_group_commit(err))) {
        safe_file_group_abort();
        return st;
    }
    if (t->json) printf("wrote %s\n", t->json);
    if (t->trace) printf("wrote %s\n", t->trace);
    if (t->save) printf("saved %s\n", t->save);
    return SB_OK;
}

int cmd_train(int argc, char **argv) {
    char variant_help[256], threads_help[256], bps_help[320]; /* from the registry: a new trainer shows by itself */
    snprintf(variant_help, sizeof variant_help, "NAME: trainer (%s; default serial)", variant_names());
    const CliOptSpec specs[] = {
        {"--variant", 0, variant_help},
        {"--threads", 0, defaults_help(threads_help, sizeof threads_help, "N: threads that train, the control included", 0)},
        {"--data", 0, "TOKENS: token file"},
        {"--model", 0, "PRESET: tiny, bench or seed (default bench)"},
        {"--init", 0, "CKPT: start from this checkpoint instead of a fresh model"},
        {"--batches", 0, "K: batches to train on (default: every batch of the file)"},
        {"--batch", 0, "B: sequences per batch (default: the preset's, or with --init the matching preset's)"},
        {"--first-batch", 0, "I: index of the first batch (default 0)"},
        {"--batches-per-step", 0, defaults_help(bps_help, sizeof bps_help, "S: batches averaged per AdamW step", 1)},
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
    TrainArgs t;
    if (train_parse(&t, &a, &err)) return cli_error("train", err.msg, 1);
    TrainRun r = {0};
    OutputLock locks[3] = {OUTPUT_LOCK_NONE, OUTPUT_LOCK_NONE, OUTPUT_LOCK_NONE}; /* one writer of each output */
    rc = output_lock_beside(&locks[0], "--save", t.save, &err) || output_lock_beside(&locks[1], "--json", t.json, &err) ||
         output_lock_beside(&locks[2], "--trace", t.trace, &err) || train_load(&r, &t, &err) || train_configure(&r, &t, &err) || train_run(&r, &t, &err) ||
         train_write(&r, &t, &err);
    if (rc) cli_error("train", err.msg, 0);
    for (int i = 0; i < 3; i++) output_lock_release(&locks[i]);
    if (r.state) t.variant->destroy(r.state);
    tokens_free(&r.tf);
    free(r.params);
    return rc;
}
