/* adamw.c - AdamW as in Loshchilov & Hutter: the weight decay is applied to
 * the parameter directly, not mixed into the gradient; see adamw.h. */
#include "adamw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

AdamWConfig adamw_defaults(void) {
    AdamWConfig c = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f};
    return c;
}

sb_status adamw_init(AdamW *opt, size_t n, AdamWConfig cfg, sb_error *err) {
    opt->cfg = cfg;
    opt->n = n;
    opt->step = 0;
    /* not calloc: its pages may be untouched, and a memset after calloc (or
     * after malloc, which GCC turns into calloc) is optimised away */
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    opt->m = aligned_alloc(64, bytes ? bytes : 64);
    opt->v = aligned_alloc(64, bytes ? bytes : 64);
    if (!opt->m || !opt->v) {
        adamw_free(opt);
        return sb_fail(err, SB_ENOMEM, "cannot allocate AdamW state for %zu parameters", n);
    }
    /* every page written now, so the first update does not page-fault
     * inside a trainer's measured region */
    memset(opt->m, 0, bytes);
    memset(opt->v, 0, bytes);
    return SB_OK;
}

void adamw_free(AdamW *opt) {
    free(opt->m);
    free(opt->v);
    opt->m = opt->v = NULL;
}

void adamw_update(AdamW *opt, float *params, const float *grads) {
    opt->step++;
    adamw_update_range(opt, opt->step, params, grads, 0, opt->n);
}

void adamw_update_range(AdamW *opt, long t, float *params, const float *grads, size_t begin, size_t end) {
    AdamWConfig c = opt->cfg;
    float bc1 = 1.0f - powf(c.beta1, (float)t);
    float bc2 = 1.0f - powf(c.beta2, (float)t);
    /* restrict: the four buffers never overlap, so the compiler vectorises
     * the loop with no run-time overlap checks (with -fno-math-errno, sqrtf
     * is one vector instruction) */
    float *restrict p = params, *restrict mb = opt->m, *restrict vb = opt->v;
    const float *restrict gb = grads;
    for (size_t i = begin; i < end; i++) {
        float g = gb[i];
        float m = c.beta1 * mb[i] + (1.0f - c.beta1) * g;
        float v = c.beta2 * vb[i] + (1.0f - c.beta2) * g * g;
        mb[i] = m;
        vb[i] = v;
        float mhat = m / bc1, vhat = v / bc2;
        p[i] -= c.lr * (mhat / (sqrtf(vhat) + c.eps) + c.weight_decay * p[i]);
    }
}
