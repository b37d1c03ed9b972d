/* test_trainer_barrier.c - variants/barrier, the phase boundary of the
 * sharded trainer.
 *
 * Threads write their own cell of a round's row (plain stores) and meet at
 * the barrier; after it each reads every cell of that row. A barrier that let
 * a thread through early, or did not publish what was written before it,
 * shows as a cell not yet written (and as a race under ThreadSanitizer). One
 * thread comes late to every round, so an early pass is not left to luck.
 * Exactly one thread per round is told it arrived last. Many rounds reuse the
 * barrier back to back. The alarm turns a hang into a failure (a livelock
 * guard, not a speed limit). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "../variants/barrier.h"
#include "support/testutil.h"

enum { ROUNDS = 300, MAX_THREADS = 9 };

typedef struct {
    Barrier b;
    int n;
    int cell[ROUNDS][MAX_THREADS];
    atomic_int last[ROUNDS];  /* threads told they arrived last */
    atomic_int missing;       /* cells seen unwritten after the barrier */
} Meeting;

typedef struct {
    Meeting *m;
    int id;
} Arg;

static void *member(void *p) {
    Arg *a = p;
    Meeting *m = a->m;
    for (int r = 0; r < ROUNDS; r++) {
        if (a->id == r % m->n && r % 10 == 0) usleep(2000); /* late, now and then, each in turn */
        m->cell[r][a->id] = r * 100 + a->id + 1;
        if (barrier_wait(&m->b)) atomic_fetch_add(&m->last[r], 1);
        for (int t = 0; t < m->n; t++)
            if (m->cell[r][t] != r * 100 + t + 1) atomic_fetch_add(&m->missing, 1);
    }
    return NULL;
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_trainer_barrier: a barrier never opened\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

static void meet(int n, WaitMode mode) {
    Meeting *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->n = n;
    barrier_init(&m->b, n, mode);
    pthread_t tids[MAX_THREADS];
    Arg args[MAX_THREADS];
    for (int t = 1; t < n; t++) {
        args[t] = (Arg){.m = m, .id = t};
        assert_int_equal(pthread_create(&tids[t], NULL, member, &args[t]), 0);
    }
    args[0] = (Arg){.m = m, .id = 0};
    member(&args[0]);
    for (int t = 1; t < n; t++) pthread_join(tids[t], NULL);
    assert_int_equal(atomic_load(&m->missing), 0);
    for (int r = 0; r < ROUNDS; r++) assert_int_equal(atomic_load(&m->last[r]), 1);
    barrier_destroy(&m->b);
    free(m);
}

static void test_barrier_block(void **state) {
    (void)state;
    alarm(120);
    for (int n = 1; n <= MAX_THREADS; n += 4) meet(n, WAIT_BLOCK);
    meet(2, WAIT_BLOCK);
    alarm(0);
}

static void test_barrier_spin(void **state) {
    (void)state;
    alarm(120);
    for (int n = 1; n <= MAX_THREADS; n += 4) meet(n, WAIT_SPIN);
    meet(2, WAIT_SPIN);
    alarm(0);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_barrier_block),
        cmocka_unit_test(test_barrier_spin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
