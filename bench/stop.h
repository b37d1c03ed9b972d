/* stop.h - SIGINT and SIGTERM ask the bench to stop at its next safe point.
 *
 * A run is never cut in half: the first signal only sets a flag, which the
 * bench reads between runs (bench_stop_signal), so it writes what finished,
 * marks the folder incomplete and exits. The handler sits in front of
 * core/safe_file.c's, installed first: a second signal is passed on to it,
 * which removes any temporary being written and ends the process the
 * default way. The flag is process-wide state, as a signal is. */
#ifndef SB_STOP_H
#define SB_STOP_H

/* Installs the handler for SIGINT and SIGTERM (where the signal is not
 * ignored), keeping the one it replaces to pass a second signal on to. */
void bench_stop_install(void);

/* The signal that asked to stop (SIGINT or SIGTERM), 0 while none has. */
int bench_stop_signal(void);

/* Puts back the handlers bench_stop_install replaced. */
void bench_stop_restore(void);

/* "SIGINT", "SIGTERM" (else "a signal"), for messages and context.json. */
const char *bench_stop_name(int sig);

#endif
