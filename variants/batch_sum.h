/* batch_sum.h - K threads sum the gradients of a run of batches, in batch order.
 *
 * What a trainer spread over processes needs from one process: each step,
 * "the sum of the gradients of batches first .. first+n-1, and the sum of
 * their losses", computed by this process's K threads, summed exactly as
 * serial sums them (every element in batch order), and nothing more: no
 * AdamW, which the caller applies (or not) after combining sums with other
 * processes. A Variant cannot be used for this: its run applies AdamW itself.
 *
 * The threads persist for a run (batch_sum_begin .. batch_sum_end); the
 * caller is thread 0 and between calls to batch_sum_step it may do anything
 * (the MPI program talks to other ranks there) while threads 1 .. K-1 wait
 * at a barrier (PHASE_WAIT). A step, on every thread t:
 *   compute  batches j = t, t+K, ... < n: gradient into slot j, loss into slot_loss[j]
 *   wait     barrier: every slot written
 *   reduce   slot 0's slice t += slots 1 .. n-1, in batch order (reduce_sum runs)
 *   wait     barrier: every slice summed; thread 0 returns slot 0
 * which is sharded's step without its optimizer, so with the same batches its
 * sum, divided and applied by step_book_update, gives serial's bits. */
#ifndef SB_BATCH_SUM_H
#define SB_BATCH_SUM_H

#include "team.h"

typedef struct BatchSum BatchSum;

/* cfg->threads is K (>= 1); cfg->batches_per_step the most batches one step
 * may hand over (>= 1). The run's AdamW state lives in the book (below). */
sb_status batch_sum_create(BatchSum **out, const VariantConfig *cfg, sb_error *err) SB_MUST_CHECK;
void batch_sum_destroy(BatchSum *s);

/* Begins a run over batches first_batch .. first_batch+batches-1 in steps of
 * cfg->batches_per_step (checked against the data, as every trainer's run):
 * starts threads 1 .. K-1 and thread 0's clock in role0. params is read by
 * every step; the caller may change it between steps. */
sb_status batch_sum_begin(BatchSum *s, const float *params, uint64_t first_batch, uint64_t batches,
                          ThreadRole role0, RunResult *res, sb_error *err) SB_MUST_CHECK;

/* On thread 0: the K threads compute batches first .. first+n-1 (absolute
 * indices, 1 <= n <= batches_per_step); *sum points at their gradients' sum
 * (n_params floats, valid until the next step), *loss_sum is their losses'
 * sum in batch order. Thread 0's clock ends in PHASE_REDUCE. */
sb_status batch_sum_step(BatchSum *s, uint64_t first, int n, float **sum, double *loss_sum, sb_error *err)
    SB_MUST_CHECK;

/* Thread 0's clock (the caller marks its own phases between steps) and the
 * run's step book (AdamW state, loss curve, progress) for whoever applies
 * the update. */
ThreadClock *batch_sum_clock(BatchSum *s);
StepBook *batch_sum_book(BatchSum *s);

/* Stops threads 1 .. K-1, joins them and, when the run succeeded (st is
 * SB_OK), fills res (its batches: those this process computed). It cannot
 * fail: the run's outcome is st. */
void batch_sum_end(BatchSum *s, sb_status st, RunResult *res);

#endif
