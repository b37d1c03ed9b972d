/* trainer_data.c - see trainer_data.h. */
#include "trainer_data.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/model.h"
#include "testutil.h"
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

void td_assert_accounting(const RunResult *r) {
    double threads_cpu = 0.0;
    for (int t = 0; t < r->n_threads; t++) {
        const ThreadStats *s = &r->threads[t];
        assert_int_equal(s->id, t);
        double wsum = 0.0, csum = 0.0;
        for (int ph = 0; ph < PHASE_COUNT; ph++) {
            wsum += s->phase_wall[ph];
            csum += s->phase_cpu[ph];
        }
        assert_close(wsum, s->wall_s, 1e-6 * s->wall_s + 1e-9);
        assert_close(csum, s->cpu_s, 1e-6 * s->cpu_s + 1e-9);
        threads_cpu += s->cpu_s;
    }
    assert_true(r->process_cpu_s > 0.2); /* enough work that a few percent is meaningful */
    assert_close(threads_cpu, r->process_cpu_s, 0.03 * r->process_cpu_s + 0.01);
}
