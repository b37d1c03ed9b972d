/* slot_pool.h - K threads, one gradient slot per batch of a step, each thread
 * one slice of the parameters.
 *
 * What sharded (whose threads then update their slices) and batch_sum (which
 * hands the sum to its caller) share: a gradient slot per batch of a step
 * (64-byte aligned), every thread's workspace and token buffers, the slices
 * (whole runs of SLOT_POOL_ALIGN_FLOATS floats, spread to within one run of
 * each other), the barrier, and the two halves of a step. Thread id computes
 * batches id, id+K, ... of the step into their slots; after a barrier it sums
 * its slice of every slot into slot 0 in batch order, REDUCE_RUN_MAX slots a
 * reduce_sum pass, which gives serial's bits. */
#ifndef SB_SLOT_POOL_H
#define SB_SLOT_POOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "../core/model.h"
#include "barrier.h"
#include "variant.h"

#define SLOT_POOL_ALIGN_FLOATS 16

typedef struct {
    Barrier barrier;
    int threads;
    Workspace *ws;          /* [threads] */
    float *slot_grad;       /* [bps][stride], 64-byte aligned */
    size_t stride;          /* floats per slot: n_params rounded up to SLOT_POOL_ALIGN_FLOATS */
    float *slot_loss;       /* [bps] */
    int *inputs, *targets;  /* [threads][B*T]: each thread's batch */
    size_t *slice;          /* [threads+1]: thread t sums elements slice[t] .. slice[t+1]-1 */
    sb_error *errs;         /* [threads]: a failed batch load's message */
    atomic_int failed;      /* a thread's batch could not be loaded */
} SlotPool;

/* Checks the memory (refused naming `who` when over 0.85 of the machine's)
 * and allocates for `threads` threads and steps of up to bps batches. */
sb_status slot_pool_init(SlotPool *p, const VariantConfig *cfg, int threads, int bps, const char *who,
                         sb_error *err) SB_MUST_CHECK;
void slot_pool_free(SlotPool *p);

static inline float *slot_pool_slot(const SlotPool *p, int j) { return p->slot_grad + (size_t)j * p->stride; }

/* Thread id's batches of a step of n batches whose first is batch `first` of
 * the data: forward and backward into their slots, losses into slot_loss,
 * clk tagged with each batch. A batch that cannot be loaded sets `failed`
 * and ends this thread's share. */
void slot_pool_compute(SlotPool *p, int id, ThreadClock *clk, const VariantConfig *c, const float *params,
                       uint64_t first, int n);

/* Slot 0's slice of thread id becomes the sum of the step's n slots there, in
 * batch order, leaving slot `skip` out (-1: none; a test's mutant uses it). */
void slot_pool_reduce(SlotPool *p, int id, int n, int skip);

/* After a failure: the first failing thread's message in err; its status. */
sb_status slot_pool_error(const SlotPool *p, sb_error *err) SB_MUST_CHECK;

#endif
