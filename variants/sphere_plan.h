/* sphere_plan.h - the shape of the kissing-sphere tree for N threads.
 *
 * Built breadth-first: the root (node 0) takes up to F children; each
 * further level is filled only when the one above is full, and the last,
 * partial level is spread as evenly as possible over the nodes above it
 * (64 threads, F 12: 1 root, 12 level-1 nodes, 51 workers as 5,5,5,4,...,4).
 * Nodes are numbered level by level, and a node's children have consecutive
 * ids. A node with children is a control and never processes a batch; a
 * node without children is a worker. Siblings are each other's "kissing"
 * neighbours. */
#ifndef SB_SPHERE_PLAN_H
#define SB_SPHERE_PLAN_H

#include "../core/error.h"
#include "../core/thread_clock.h"

#define SPHERE_DEFAULT_FANOUT 12
#define SPHERE_MAX_THREADS 4096

typedef struct {
    int id, parent, level;
    int first_child, n_children; /* children are first_child .. first_child+n_children-1 */
    ThreadRole role;
} SphereNode;

typedef struct {
    int threads, fanout, levels;
    int n_workers;
    SphereNode *nodes; /* threads entries, owned */
} SpherePlan;

sb_status sphere_plan_build(SpherePlan *p, int threads, int fanout, sb_error *err) SB_MUST_CHECK;
void sphere_plan_free(SpherePlan *p);

#endif
