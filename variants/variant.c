/* variant.c - the registry of trainers and the checks they share; see variant.h. */
#include "variant.h"

#include <string.h>

#include "../core/tokenizer.h"

/* The registry: one X(name) per trainer, whose Variant is variant_<name>
 * (defined in variants/<name>.c) and whose .name is "name"
 * (tests/test_trainer.c checks that they agree). The declarations, the list
 * and the names string are all made from it, so a new trainer is its file
 * and one word here. */
#define VARIANTS(X) X(serial) X(flat) X(sphere) X(sharded)
#define VARIANT_DECL(v) extern const Variant variant_##v;
#define VARIANT_ENTRY(v) &variant_##v,
#define VARIANT_NAME(v) ", " #v

VARIANTS(VARIANT_DECL)
static const Variant *const all_variants[] = {VARIANTS(VARIANT_ENTRY) NULL};

const Variant *const *variant_all(void) { return all_variants; }

const char *variant_names(void) { return VARIANTS(VARIANT_NAME) + 2; /* past the first ", " */ }

const Variant *variant_find(const char *name) {
    for (int i = 0; name && all_variants[i]; i++)
        if (strcmp(all_variants[i]->name, name) == 0) return all_variants[i];
    return NULL;
}

int variant_batches_per_step(const Variant *v, const VariantConfig *cfg) {
    return cfg->batches_per_step ? cfg->batches_per_step : v->default_batches_per_step(cfg);
}

int train_step_batches(uint64_t batches, uint64_t done, int batches_per_step) {
    uint64_t left = batches - done;
    return left < (uint64_t)batches_per_step ? (int)left : batches_per_step;
}

long train_step_count(uint64_t batches, int batches_per_step) {
    return (long)((batches + (uint64_t)batches_per_step - 1) / (uint64_t)batches_per_step);
}

sb_status train_config_check(const TokenFile *data, const ModelConfig *model, int B, int T,
                             uint64_t first_batch, uint64_t batches, int batches_per_step, sb_error *err) {
    if (B < 1 || B > MODEL_MAX_B) return sb_fail(err, SB_ECONFIG, "batch size B=%d is outside 1..%d", B, MODEL_MAX_B);
    if (T < 1 || T > model->T)
        return sb_fail(err, SB_ECONFIG, "sequence length T=%d is outside 1..%d (the model's context)", T, model->T);
    if (batches_per_step < 1)
        return sb_fail(err, SB_ECONFIG, "batches per step must be at least 1 (got %d)", batches_per_step);
    if (data->vocab_size > (uint32_t)model->V && model->V >= TOKENIZER_MIN_VOCAB)
        return sb_fail(err, SB_ECONFIG,
                       "config does not fit the file: the token file has a vocabulary of %u but the model only "
                       "%d; tokenize with --vocab %d or build the model for this data",
                       data->vocab_size, model->V, model->V);
    if (data->vocab_size > (uint32_t)model->V) /* no token file can be made that small: no --vocab hint */
        return sb_fail(err, SB_ECONFIG,
                       "config does not fit the file: the token file has a vocabulary of %u but the model only "
                       "%d (below tokenize's smallest, %d); build the model for this data",
                       data->vocab_size, model->V, TOKENIZER_MIN_VOCAB);
    uint64_t have = tokens_batch_count(data, B, T);
    if (batches == 0) return sb_fail(err, SB_ECONFIG, "a run needs at least one batch");
    if (first_batch >= have || batches > have - first_batch)
        return sb_fail(err, SB_ERANGE,
                       "batches %llu..%llu requested but the token file holds only %llu batches of %d x %d",
                       (unsigned long long)first_batch, (unsigned long long)(first_batch + batches - 1),
                       (unsigned long long)have, B, T);
    return SB_OK;
}

void thread_stats_from_clock(ThreadStats *s, const ThreadClock *c) {
    s->id = c->id;
    s->role = c->role;
    s->level = c->level;
    s->cpu_s = c->cpu_s;
    s->wall_s = c->wall_s;
    memcpy(s->phase_wall, c->phase_wall, sizeof s->phase_wall);
    memcpy(s->phase_cpu, c->phase_cpu, sizeof s->phase_cpu);
    s->batches = c->batches;
}
