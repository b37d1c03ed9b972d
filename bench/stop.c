/* stop.c - the bench's stop flag; see stop.h. The handler calls only
 * write, sigaction and raise, all async-signal-safe. */
#include "stop.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "../core/safe_file.h"

static atomic_int stop_sig;
static struct sigaction previous[2]; /* SIGINT, SIGTERM: what was there before */
static int installed[2];

static int slot_of(int sig) { return sig == SIGINT ? 0 : 1; }

static void on_stop(int sig) {
    int none = 0;
    if (atomic_compare_exchange_strong(&stop_sig, &none, sig)) {
        static const char msg[] = "\nbench: stopping after the run in progress (again to stop now)\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        return;
    }
    /* the second signal: the handler before ours (safe_file's removes the
     * temporaries and takes the default action), once this one returns */
    sigaction(sig, &previous[slot_of(sig)], NULL);
    raise(sig);
}

void bench_stop_install(void) {
    safe_file_signals_install(); /* so that ours goes in front of it */
    const int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        struct sigaction sa = {.sa_handler = on_stop, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], &sa, &previous[i]) == 0) installed[i] = 1;
    }
}

int bench_stop_signal(void) { return atomic_load(&stop_sig); }

void bench_stop_restore(void) {
    const int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++)
        if (installed[i]) {
            sigaction(sigs[i], &previous[i], NULL);
            installed[i] = 0;
        }
}

const char *bench_stop_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }
