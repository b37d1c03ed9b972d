/* train_options.h - the options every command that trains takes, read once.
 *
 * `train` and sphere-bench-mpi's train and bench name the same things with
 * the same words: the token file, the model preset, threads, the batch range
 * and batches per step, the tree's fan-out, the seed, AdamW's rate and
 * weight decay, and how controls wait. Reading them here gives every such
 * command one set of limits and messages, and one way from the options to
 * a trainer's VariantConfig. */
#ifndef SB_TRAIN_OPTIONS_H
#define SB_TRAIN_OPTIONS_H

#include "../core/presets.h"
#include "cli.h"

typedef struct {
    const char *data_path;         /* --data TOKENS, required */
    const char *preset_name;       /* --model PRESET as given; NULL: absent */
    long long threads;             /* --threads N; 0: absent (the command's default) */
    long long batches;             /* --batches K; 0: absent (every batch from first_batch on) */
    long long first_batch;         /* --first-batch I; default 0 */
    long long batches_per_step;    /* --batches-per-step S; 0: the trainer's default */
    long long fanout;              /* --fanout F; 0: the trainer's default */
    long long seed;                /* --seed S; default 1 */
    AdamWConfig adamw;             /* adamw_defaults() with --lr (default 0.001) and --weight-decay (default 0) */
    WaitMode wait;                 /* --wait; default block */
} TrainOptions;

/* Reads the options above from a (a command's specs must name them all). */
sb_status train_options_get(TrainOptions *o, const CliArgs *a, sb_error *err) SB_MUST_CHECK;

/* The preset --model names, bench when absent; the presets' one message when none is called so. */
sb_status train_options_preset(const ModelPreset **out, const TrainOptions *o, sb_error *err) SB_MUST_CHECK;

/* With no --batches, every whole B x T batch of tf from --first-batch on;
 * fails, naming the file, when there is none. */
sb_status train_options_batches(TrainOptions *o, const TokenFile *tf, int B, int T, sb_error *err) SB_MUST_CHECK;

/* A trainer's config of model and B x T batches of tf as the options ask:
 * threads, batches per step, fan-out, AdamW and waiting; the rest zero. */
VariantConfig train_options_config(const TrainOptions *o, const TokenFile *tf, ModelConfig model, int B, int T);

#endif
