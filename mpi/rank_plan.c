/* rank_plan.c - roles and batch ownership of ranks; see rank_plan.h. */
#include "rank_plan.h"

#include <stdlib.h>
#include <string.h>

#include "../variants/sphere_plan.h"

static const char *const names[POLICY_COUNT] = {"flat", "tree", "allreduce"};

const char *policy_name(Policy p) { return p >= 0 && p < POLICY_COUNT ? names[p] : "?"; }

sb_status policy_parse(const char *s, Policy *out, sb_error *err) {
    for (int p = 0; p < POLICY_COUNT; p++)
        if (s && strcmp(s, names[p]) == 0) {
            *out = (Policy)p;
            return SB_OK;
        }
    return sb_fail(err, SB_EARG, "--policy: unknown policy '%s' (flat, tree or allreduce)", s ? s : "");
}

sb_status rank_plan_build(RankPlan *p, Policy policy, int ranks, int fanout, int controls_compute, sb_error *err) {
    memset(p, 0, sizeof *p);
    if (ranks < 1 || ranks > SPHERE_MAX_THREADS)
        return sb_fail(err, SB_ECONFIG, "%d ranks: between 1 and %d are supported", ranks, SPHERE_MAX_THREADS);
    p->policy = policy;
    p->ranks = ranks;
    p->fanout = fanout;
    p->controls_compute = controls_compute;
    p->node = calloc((size_t)ranks, sizeof *p->node);
    if (!p->node) return sb_fail(err, SB_ENOMEM, "out of memory for %d ranks' plan", ranks);
    for (int r = 0; r < ranks; r++) p->node[r] = (RankNode){.parent = -1, .first_child = 0, .n_children = 0};
    if (policy == POLICY_FLAT) {
        p->node[0].first_child = 1;
        p->node[0].n_children = ranks - 1;
        for (int r = 1; r < ranks; r++) p->node[r].parent = 0, p->node[r].level = 1;
    } else if (policy == POLICY_TREE && ranks > 1) { /* one rank: the root alone */
        SpherePlan sp;
        sb_status st = sphere_plan_build(&sp, ranks, fanout, err);
        if (st) {
            rank_plan_free(p);
            return st;
        }
        for (int r = 0; r < ranks; r++)
            p->node[r] = (RankNode){.parent = sp.nodes[r].parent,
                                    .first_child = sp.nodes[r].first_child,
                                    .n_children = sp.nodes[r].n_children,
                                    .level = sp.nodes[r].level};
        sphere_plan_free(&sp);
    }
    for (int r = 0; r < ranks; r++) {
        RankNode *n = &p->node[r];
        n->computes = policy == POLICY_ALLREDUCE || n->n_children == 0 || controls_compute;
        n->comp_index = n->computes ? p->computing++ : -1;
    }
    return SB_OK;
}

void rank_plan_free(RankPlan *p) {
    free(p->node);
    p->node = NULL;
}

void rank_plan_share(const RankPlan *p, int r, int n, int *lo, int *hi) {
    int i = p->node[r].comp_index;
    if (i < 0) {
        *lo = *hi = 0;
        return;
    }
    long long m = p->computing;
    *lo = (int)((long long)i * n / m);
    *hi = (int)((long long)(i + 1) * n / m);
}

int rank_plan_subtree_batches(const RankPlan *p, int r, int n) {
    int lo, hi;
    rank_plan_share(p, r, n, &lo, &hi);
    int total = hi - lo;
    const RankNode *nd = &p->node[r];
    for (int c = 0; c < nd->n_children; c++) total += rank_plan_subtree_batches(p, nd->first_child + c, n);
    return total;
}
