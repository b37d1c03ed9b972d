/* barrier.h - N threads meet before any goes on: the phase boundary of a
 * trainer whose threads all compute, then all reduce.
 *
 * A generation counter and an arrival count. The last thread to arrive
 * resets the count and advances the generation; the others wait for the
 * generation to move: blocking on a condition variable (WAIT_BLOCK) or
 * polling it with wait_spin_turn (WAIT_SPIN, the pause then yield of
 * waiter.h), touching no lock. Everything a thread wrote before it arrived is
 * visible to every thread after the barrier (release on arrival, acquire on
 * the generation). Reusable at once: a thread may arrive at the next round
 * while others are still leaving this one. */
#ifndef SB_BARRIER_H
#define SB_BARRIER_H

#include <pthread.h>
#include <stdatomic.h>

#include "variant.h"

typedef struct {
    pthread_mutex_t mu; /* WAIT_BLOCK only: guards the sleep on cv */
    pthread_cond_t cv;
    atomic_uint generation;
    atomic_int arrived;  /* in this generation */
    int parties;
    WaitMode mode;
} Barrier;

void barrier_init(Barrier *b, int parties, WaitMode mode);
void barrier_destroy(Barrier *b);

/* Returns when all parties have called it; 1 in the thread that arrived
 * last, 0 in the others. */
int barrier_wait(Barrier *b);

#endif
