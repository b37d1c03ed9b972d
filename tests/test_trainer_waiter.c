/* test_trainer_waiter.c - variants/waiter: how a control thread (and a
 * sphere worker) waits for others.
 *
 * A ping-pong of many rounds in both modes loses no notification (a lost one
 * hangs; the alarm turns a hang into a failure: a livelock guard, not a speed
 * limit). A spinning waiter must not hold the mutex while it spins: the
 * threads it waits for need that mutex to hand it work (issue 17, item 1:
 * sphere's spinning controls let go of it for one pause per turn and starved
 * their parents). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../variants/waiter.h"
#include "support/testutil.h"

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_trainer_waiter: a wait never returned (lost notification or livelock)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

enum { ROUNDS = 20000 };

typedef struct {
    pthread_mutex_t mu;
    Waiter ping, pong; /* the two threads' waiters */
    long turn;         /* even: ping's move, odd: pong's */
} PingPong;

static void *pong_main(void *arg) {
    PingPong *p = arg;
    pthread_mutex_lock(&p->mu);
    for (long r = 0; r < ROUNDS; r++) {
        while (p->turn % 2 == 0) waiter_wait(&p->pong, &p->mu);
        p->turn++;
        waiter_notify(&p->ping);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void ping_pong(WaitMode mode) {
    PingPong p;
    pthread_mutex_init(&p.mu, NULL);
    waiter_init(&p.ping, mode);
    waiter_init(&p.pong, mode);
    p.turn = 0;
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, pong_main, &p), 0);
    pthread_mutex_lock(&p.mu);
    for (long r = 0; r < ROUNDS; r++) {
        while (p.turn % 2 == 1) waiter_wait(&p.ping, &p.mu);
        p.turn++;
        waiter_notify(&p.pong);
    }
    while (p.turn < 2 * ROUNDS) waiter_wait(&p.ping, &p.mu);
    pthread_mutex_unlock(&p.mu);
    pthread_join(tid, NULL);
    assert_int_equal(p.turn, 2 * ROUNDS);
    waiter_destroy(&p.ping);
    waiter_destroy(&p.pong);
    pthread_mutex_destroy(&p.mu);
}

static void test_ping_pong_block(void **state) {
    (void)state;
    alarm(60);
    ping_pong(WAIT_BLOCK);
    alarm(0);
}

static void test_ping_pong_spin(void **state) {
    (void)state;
    alarm(60);
    ping_pong(WAIT_SPIN);
    alarm(0);
}

typedef struct {
    pthread_mutex_t mu;
    Waiter w;
    int ready, inside;
    atomic_int returned;
} Spinner;

static void *spinner_main(void *arg) {
    Spinner *s = arg;
    pthread_mutex_lock(&s->mu);
    s->inside = 1;
    while (!s->ready) waiter_wait(&s->w, &s->mu);
    pthread_mutex_unlock(&s->mu);
    atomic_store(&s->returned, 1);
    return NULL;
}

/* While a spinning waiter waits, the mutex is free: once the spinner is
 * inside its wait, every one of many trylocks succeeds. (The old spin held
 * the mutex except for one pause per turn, so most would fail.) Spin mode
 * only: a blocking wait may wake spuriously and take the mutex for a moment. */
static void test_spinner_leaves_the_mutex_free(void **state) {
    (void)state;
    alarm(60);
    Spinner s = {.ready = 0, .inside = 0};
    pthread_mutex_init(&s.mu, NULL);
    waiter_init(&s.w, WAIT_SPIN);
    atomic_init(&s.returned, 0);
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, spinner_main, &s), 0);
    for (;;) { /* until the spinner holds... then has let go of the mutex in its wait */
        pthread_mutex_lock(&s.mu);
        int in = s.inside;
        pthread_mutex_unlock(&s.mu);
        if (in) break;
        usleep(100);
    }
    int failed = 0;
    for (int i = 0; i < 20000; i++) {
        if (pthread_mutex_trylock(&s.mu) != 0) {
            failed++;
            continue;
        }
        pthread_mutex_unlock(&s.mu);
    }
    assert_int_equal(failed, 0);
    assert_int_equal(atomic_load(&s.returned), 0); /* nothing notified: still waiting */
    pthread_mutex_lock(&s.mu);
    s.ready = 1;
    waiter_notify(&s.w);
    pthread_mutex_unlock(&s.mu);
    pthread_join(tid, NULL);
    assert_int_equal(atomic_load(&s.returned), 1);
    waiter_destroy(&s.w);
    pthread_mutex_destroy(&s.mu);
    alarm(0);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_pong_block),
        cmocka_unit_test(test_ping_pong_spin),
        cmocka_unit_test(test_spinner_leaves_the_mutex_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
