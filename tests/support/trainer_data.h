/* trainer_data.h - data and configurations the trainer tests share.
 *
 * Random tokens make every batch different, so a lost, repeated or reordered
 * batch changes what a trainer learns; the tests compare trainers on them. */
#ifndef SB_TRAINER_DATA_H
#define SB_TRAINER_DATA_H

#include <stdint.h>

#include "../../variants/variant.h"

/* n_batches windows of B x T tokens (plus the one shifted target), ids
 * uniform below V, from rng.h with `seed`. Free tf.ids. */
TokenFile td_random_tokens(uint32_t V, uint64_t n_batches, int B, int T, uint64_t seed);

/* A VariantConfig for model m and B x T batches of tf, AdamW at lr 1e-2,
 * no hooks, no progress, default route. */
VariantConfig td_config(const TokenFile *tf, ModelConfig m, int B, int T, int threads, int batches_per_step);

/* The accounting every threaded run must add up to: threads numbered 0 .. n-1
 * in order, each thread's phase wall times summing to its wall time and phase
 * CPU times to its CPU time (within 1e-6), and the threads' CPU to the
 * process's getrusage CPU over the run (within 3 % + 10 ms; the run must have
 * used more than 0.2 s of CPU for that to mean anything). */
void td_assert_accounting(const RunResult *r);

/* Sees a run's result while the trainer, which owns its statistics, still lives. */
typedef void (*td_inspect_fn)(const RunResult *res, void *ctx);

/* Trains fresh parameters (c->model initialised with seed 1) with v over
 * batches first .. first+batches-1, failing the test on any error; calls
 * inspect (if not NULL) on the result before destroying the trainer.
 * Returns the parameters; free them. */
float *td_train(const Variant *v, const VariantConfig *c, uint64_t first, uint64_t batches, td_inspect_fn inspect,
                void *ctx);

#endif
