/* waiter.h - how a control thread waits for the threads it depends on, as --wait asks.
 *
 * Every wait of a control (flat's control, sphere's root and controls) goes
 * through a Waiter in the config's WaitMode, and so does a sphere worker's,
 * always WAIT_BLOCK. The other waits are not this one: sharded's and
 * batch_sum's threads meet at barrier.h's barrier (which spins the same way),
 * threads start behind the Team's gate (team.c), and a few workers block on
 * plain condition variables of their trainer's own: flat's on its queue and
 * on their release, and sphere's stealing worker, with nothing to steal, on
 * its Waiter's condition variable for at most a millisecond (a neighbour's
 * new work does not ring it).
 *
 * A Waiter belongs to one waiting thread and to the mutex that guards what it
 * waits for. A thread that changes that state does so under the mutex and
 * then rings the waiter (waiter_notify): an event counter goes up and the
 * condition variable is signalled. The waiting thread checks its condition
 * under the mutex and, when it does not hold, calls waiter_wait without
 * letting go of the mutex in between; waiter_wait returns, the mutex held
 * again, once the counter has moved, so no event is lost between the check
 * and the wait.
 *
 * WAIT_BLOCK sleeps on the condition variable. WAIT_SPIN busy-waits, as the
 * original's control threads did, but polls the counter with the mutex
 * released: the threads it waits for can always take the mutex to hand it
 * work, and no clock is read while it spins. A spinner that has paused
 * WAIT_SPIN_PAUSES times yields the core between polls, so on a machine with
 * fewer cores than threads it still lets the thread it waits for run. */
#ifndef SB_WAITER_H
#define SB_WAITER_H

#include <pthread.h>
#include <stdatomic.h>

#include "variant.h"

/* pauses before a spinning thread starts yielding its core between polls */
#define WAIT_SPIN_PAUSES 2000

typedef struct {
    pthread_cond_t cv;
    atomic_uint events; /* notifications so far */
    WaitMode mode;
} Waiter;

void waiter_init(Waiter *w, WaitMode mode);
void waiter_destroy(Waiter *w);

/* Caller holds mu and has found its condition false since it last took mu.
 * Returns with mu held after at least one waiter_notify. */
void waiter_wait(Waiter *w, pthread_mutex_t *mu);

/* Caller holds the waiter's mutex and has just changed what it guards. */
void waiter_notify(Waiter *w);

/* One turn of a busy wait: a pause instruction, or after WAIT_SPIN_PAUSES
 * turns a yield of the core. `turn` counts the turns of this wait from 0. */
void wait_spin_turn(unsigned turn);

#endif
