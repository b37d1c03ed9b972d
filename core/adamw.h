/* adamw.h - the AdamW optimizer (decoupled weight decay).
 *
 * State is two buffers of the parameter layout (first and second moments)
 * and a step counter that advances by one on every update: the bias
 * corrections 1 - beta^t depend on it, and the original project's counter
 * never advanced, which silently turned Adam into something else. */
#ifndef SB_ADAMW_H
#define SB_ADAMW_H

#include <stddef.h>

#include "error.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
} AdamWConfig;

typedef struct {
    AdamWConfig cfg;
    size_t n;
    float *m, *v; /* owned, n floats each */
    long step;    /* updates applied so far */
} AdamW;

/* lr 1e-3, betas 0.9 / 0.999, eps 1e-8, weight decay 0 */
AdamWConfig adamw_defaults(void);

sb_status adamw_init(AdamW *opt, size_t n, AdamWConfig cfg, sb_error *err) SB_MUST_CHECK;
void adamw_free(AdamW *opt);

/* One update of params with grads; advances opt->step first, so the first
 * update uses t = 1. */
void adamw_update(AdamW *opt, float *params, const float *grads);

/* Update number t (1-based) of elements begin .. end-1 only, leaving
 * opt->step alone: threads that each own a slice of the parameters update
 * their slices with the same t, then one of them advances opt->step. Every
 * element gets bitwise what adamw_update gives it. */
void adamw_update_range(AdamW *opt, long t, float *params, const float *grads, size_t begin, size_t end);

#endif
