/* trainer_data.c - see trainer_data.h. */
#include "trainer_data.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/model.h"
#include "../../core/rng.h"

TokenFile td_random_tokens(uint32_t V, uint64_t n_batches, int B, int T, uint64_t seed) {
    TokenFile tf;
    tf.vocab_size = V;
    tf.n_tokens = n_batches * (uint64_t)B * (uint64_t)T + 1;
    tf.ids = malloc(tf.n_tokens * sizeof(uint32_t));
    Rng r;
    rng_seed(&r, seed);
    for (uint64_t i = 0; tf.ids && i < tf.n_tokens; i++) tf.ids[i] = rng_below(&r, V);
    return tf;
}

VariantConfig td_config(const TokenFile *tf, ModelConfig m, int B, int T, int threads, int batches_per_step) {
    VariantConfig c;
    memset(&c, 0, sizeof c);
    c.data = tf;
    c.model = m;
    c.B = B;
    c.T = T;
    c.threads = threads;
    c.batches_per_step = batches_per_step;
    c.adamw = adamw_defaults();
    c.adamw.lr = 1e-2f;
    return c;
}

float *td_train(const Variant *v, const VariantConfig *c, uint64_t first, uint64_t batches, td_inspect_fn inspect,
                void *ctx) {
    float *p = malloc(model_param_count(&c->model) * sizeof(float));
    if (!p) fail_msg("out of memory for %zu parameters", model_param_count(&c->model));
    model_init(p, &c->model, 1);
    void *state;
    sb_error err;
    if (v->create(&state, c, &err) != SB_OK) fail_msg("%s create: %s", v->name, err.msg);
    RunResult res;
    if (v->run(state, p, first, batches, &res, &err) != SB_OK) fail_msg("%s run: %s", v->name, err.msg);
    if (inspect) inspect(&res, ctx);
    v->destroy(state);
    return p;
}
