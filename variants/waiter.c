/* waiter.c - waiting for other threads, blocking or spinning; see waiter.h. */
#include "waiter.h"

#include <sched.h>

void waiter_init(Waiter *w, WaitMode mode) {
    pthread_cond_init(&w->cv, NULL);
    atomic_init(&w->events, 0);
    w->mode = mode;
}

void waiter_destroy(Waiter *w) { pthread_cond_destroy(&w->cv); }

void wait_spin_turn(unsigned turn) {
    if (turn >= WAIT_SPIN_PAUSES) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void waiter_wait(Waiter *w, pthread_mutex_t *mu) {
    /* notifiers hold mu, so nothing was notified since the caller's check */
    unsigned seen = atomic_load_explicit(&w->events, memory_order_relaxed);
    if (w->mode == WAIT_SPIN) {
        pthread_mutex_unlock(mu);
        for (unsigned turn = 0; atomic_load_explicit(&w->events, memory_order_acquire) == seen; turn++)
            wait_spin_turn(turn);
        pthread_mutex_lock(mu);
        return;
    }
    while (atomic_load_explicit(&w->events, memory_order_relaxed) == seen) pthread_cond_wait(&w->cv, mu);
}

void waiter_notify(Waiter *w) {
    atomic_fetch_add_explicit(&w->events, 1, memory_order_release);
    pthread_cond_signal(&w->cv);
}
