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

#endif
