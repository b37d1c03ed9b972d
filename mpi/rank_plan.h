/* rank_plan.h - which rank computes which batches, and who sends its sum to whom.
 *
 * A pure function of (policy, ranks, fan-out, whether controls compute), the
 * same on every rank, so no rank needs to ask another:
 *   flat       rank 0 is the control of ranks 1 .. R-1;
 *   tree       the kissing-sphere plan over ranks (variants/sphere_plan.h):
 *              breadth first, at most `fanout` children per control;
 *   allreduce  no control: every rank computes and reduces with the library.
 * A rank with children is a control; controls compute batches only with
 * controls_compute (the original's rule: they never do); a rank without
 * children always computes. With R = 1 the only rank computes everything.
 * Ownership: the computing ranks in rank order, c_0 .. c_{m-1}, split each
 * step's n batches into contiguous blocks, c_i owning batches
 * floor(i n / m) .. floor((i+1) n / m) - 1 of the step: no batch is lost or
 * computed twice, and a rank's batches are consecutive, so its sum in batch
 * order is one piece of serial's. */
#ifndef SB_RANK_PLAN_H
#define SB_RANK_PLAN_H

#include "../core/error.h"

typedef enum { POLICY_FLAT = 0, POLICY_TREE, POLICY_ALLREDUCE, POLICY_COUNT } Policy;

typedef struct {
    int parent;                  /* -1 for the root, and for every rank under allreduce */
    int first_child, n_children; /* children: first_child .. first_child+n_children-1 */
    int level;                   /* depth in the tree (allreduce: 0) */
    int computes;                /* 1 if the rank computes batches */
    int comp_index;              /* its index among the computing ranks, -1 if it does not compute */
} RankNode;

typedef struct {
    Policy policy;
    int ranks, fanout, controls_compute;
    int computing;               /* m: ranks that compute */
    RankNode *node;              /* [ranks], owned */
} RankPlan;

const char *policy_name(Policy p);
/* "flat", "tree" or "allreduce"; SB_EARG with the list otherwise. */
sb_status policy_parse(const char *s, Policy *out, sb_error *err) SB_MUST_CHECK;

sb_status rank_plan_build(RankPlan *p, Policy policy, int ranks, int fanout, int controls_compute, sb_error *err) SB_MUST_CHECK;
void rank_plan_free(RankPlan *p);

/* Batches lo .. hi-1 (offsets within a step of n) of rank r; lo == hi: none. */
void rank_plan_share(const RankPlan *p, int r, int n, int *lo, int *hi);
/* Batches of a step of n computed in r's subtree (r and every rank below it). */
int rank_plan_subtree_batches(const RankPlan *p, int r, int n);

#endif
