/* lr_schedule.c - the learning rate of each step; see lr_schedule.h. */
#include "lr_schedule.h"

#include <math.h>
#include <string.h>

float lr_schedule_rate(const TrainSchedule *s, float peak, long step, long steps) {
    if (!s || s->kind != LR_COSINE) return peak;
    long w = s->warmup > 0 ? s->warmup : 0;
    if (step < w) return (float)((double)peak * (double)(step + 1) / (double)w);
    double p = steps - 1 > w ? (double)(step - w) / (double)(steps - 1 - w) : 1.0;
    if (p > 1.0) p = 1.0;
    double f = s->floor;
    return (float)((double)peak * (f + (1.0 - f) * 0.5 * (1.0 + cos(M_PI * p))));
}

int lr_schedule_kind(const char *name) {
    if (strcmp(name, "constant") == 0) return LR_CONSTANT;
    if (strcmp(name, "cosine") == 0) return LR_COSINE;
    return -1;
}

const char *lr_schedule_name(LrKind kind) { return kind == LR_COSINE ? "cosine" : "constant"; }
