/* sphere_plan.c - building the tree; see sphere_plan.h. */
#include "sphere_plan.h"

#include <stdlib.h>

sb_status sphere_plan_build(SpherePlan *p, int threads, int fanout, sb_error *err) {
    p->nodes = NULL;
    if (threads < 2 || threads > SPHERE_MAX_THREADS)
        return sb_fail(err, SB_ECONFIG,
                       "variant sphere needs 2..%d threads (a root and at least one worker); got --threads %d",
                       SPHERE_MAX_THREADS, threads);
    if (fanout < 1 || fanout > SPHERE_MAX_THREADS)
        return sb_fail(err, SB_ECONFIG, "fan-out %d is outside 1..%d", fanout, SPHERE_MAX_THREADS);
    SphereNode *n = calloc((size_t)threads, sizeof *n);
    if (!n) return sb_fail(err, SB_ENOMEM, "out of memory for a plan of %d threads", threads);
    n[0] = (SphereNode){0, -1, 0, 0, 0, ROLE_WORKER};
    int level_start = 0, level_count = 1, next = 1, levels = 1;
    while (next < threads) {
        int remaining = threads - next;
        long cap = (long)level_count * fanout;
        int count = remaining < cap ? remaining : (int)cap;
        /* spread `count` children over this level's nodes as evenly as possible */
        int base = count / level_count, extra = count % level_count;
        for (int i = 0; i < level_count; i++) {
            SphereNode *parent = &n[level_start + i];
            int k = base + (i < extra);
            parent->first_child = next;
            parent->n_children = k;
            for (int c = 0; c < k; c++, next++)
                n[next] = (SphereNode){next, parent->id, parent->level + 1, 0, 0, ROLE_WORKER};
        }
        level_start += level_count;
        level_count = count;
        levels++;
    }
    int workers = 0;
    for (int i = 0; i < threads; i++) {
        n[i].role = n[i].n_children > 0 ? ROLE_CONTROL : ROLE_WORKER;
        workers += n[i].role == ROLE_WORKER;
    }
    p->threads = threads;
    p->fanout = fanout;
    p->levels = levels;
    p->n_workers = workers;
    p->nodes = n;
    return SB_OK;
}

void sphere_plan_free(SpherePlan *p) {
    free(p->nodes);
    p->nodes = NULL;
}
