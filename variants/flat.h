/* flat.h - the flat trainer: one control thread and N-1 workers.
 *
 * The design the original project ran on 64 cores, without its bugs: the
 * calling thread is the control; it loads each batch of a step and hands it
 * to the workers through a queue, then waits for the gradients in batch-index
 * order, sums every one of them itself (serially: this is the design under
 * test), averages, and applies AdamW. Workers only compute. Exactly N
 * threads exist while it trains. Summing in batch-index order makes the
 * result independent of which worker took which batch, and bitwise equal to
 * `serial` with the same batches per step (default: one batch per worker). */
#ifndef SB_FLAT_H
#define SB_FLAT_H

#include "variant.h"

extern const Variant variant_flat;

#endif
