/* sharded.h - the sharded trainer: N threads, every one a worker, no control.
 *
 * The design of reduce-scatter data parallelism (NCCL, ZeRO, Rabenseifner's
 * allreduce) on shared memory. A step covers batches_per_step batches
 * (default: one per thread; with more, thread t takes batches t, t+N, ...),
 * each batch's gradient in its own slot. After its batches each thread meets
 * the others at a barrier, then sums its own contiguous slice of the
 * parameter vector across the step's slots in batch order and applies AdamW
 * to that slice; a second barrier ends the step. Slices are whole runs of 16
 * floats (64 bytes, one cache line and one vector), so no two threads write
 * a line of the same buffer. A thread without a batch in a (partial) step
 * still reduces and updates its slice. Summing in batch order makes the
 * result bitwise that of `serial` and `flat` with the same batches per step.
 *
 * Exactly N threads, the caller (thread 0) included; thread 0 records the
 * step and calls progress once the step is complete. */
#ifndef SB_SHARDED_H
#define SB_SHARDED_H

#include "slot_pool.h"
#include "variant.h"

extern const Variant variant_sharded;

/* Floats per slice unit: 64 bytes. */
#define SHARDED_ALIGN_FLOATS SLOT_POOL_ALIGN_FLOATS

#endif
