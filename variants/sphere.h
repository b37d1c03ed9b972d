/* sphere.h - the kissing-sphere trainer: a recursive tree of control threads.
 *
 * The tree comes from sphere_plan.h. The root (the calling thread) loads each
 * batch and routes it to a level-1 sphere; every control forwards the jobs it
 * receives to its children (round-robin, in arrival order) and sums what comes
 * back while the children keep computing; workers only compute. The root does
 * the final sum and the AdamW update.
 *
 * Routing policies (--route): "symmetry" (default, the original design: the
 * level-1 sphere of the batch's dominant symmetry group, token id % 12),
 * "round-robin", and "steal" (symmetry, but an idle worker takes queued work
 * from its kissing neighbours: its siblings' inboxes, then those of the
 * workers of its parent's siblings).
 *
 * Determinism: a batch's gradient is summed by the control it was routed to
 * (its owner), whoever computed it, and every control adds its contributions
 * in one canonical order: its worker children's batches in the order it
 * forwarded them, then its control children's sums in child order. So a run
 * is bitwise reproducible at a given thread count and policy, steal
 * included. It differs from flat/serial only by the order of float sums. */
#ifndef SB_SPHERE_H
#define SB_SPHERE_H

#include "variant.h"

extern const Variant variant_sphere;

/* The routing policies' names, the default first, NULL-terminated: the one
 * list `train --route` accepts and the bench runs. */
extern const char *const sphere_routes[];

/* The dominant symmetry group (id % 12, ties to the lowest group) of n ids. */
int sphere_dominant_group(const int *ids, size_t n);

#endif
