/* serial.h - the single-threaded trainer every parallel trainer is measured against.
 *
 * A run covers batches first .. first+n-1 of a token file; every
 * batches_per_step (default 1) consecutive batches form one step whose
 * gradients are summed in batch order, divided by the step's batch count,
 * and applied with AdamW. The last step may be partial: it averages over the
 * batches it has. The parallel trainers must reproduce exactly this
 * arithmetic. Registered as the variant "serial"; threads must be 1. */
#ifndef SB_SERIAL_H
#define SB_SERIAL_H

#include "variant.h"

extern const Variant variant_serial;

#endif
