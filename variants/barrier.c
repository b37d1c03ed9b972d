/* barrier.c - a reusable barrier, blocking or spinning; see barrier.h. */
#include "barrier.h"

#include "waiter.h"

void barrier_init(Barrier *b, int parties, WaitMode mode) {
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    atomic_init(&b->generation, 0);
    atomic_init(&b->arrived, 0);
    b->parties = parties;
    b->mode = mode;
}

void barrier_destroy(Barrier *b) {
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}

int barrier_wait(Barrier *b) {
    /* read before arriving: the generation cannot move until we have */
    unsigned gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) + 1 == b->parties) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed); /* published by the release below */
        if (b->mode == WAIT_SPIN) {
            atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
        } else {
            pthread_mutex_lock(&b->mu);
            atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
        }
        return 1;
    }
    if (b->mode == WAIT_SPIN) {
        for (unsigned turn = 0; atomic_load_explicit(&b->generation, memory_order_acquire) == gen; turn++)
            wait_spin_turn(turn);
    } else {
        pthread_mutex_lock(&b->mu);
        while (atomic_load_explicit(&b->generation, memory_order_acquire) == gen) pthread_cond_wait(&b->cv, &b->mu);
        pthread_mutex_unlock(&b->mu);
    }
    return 0;
}
