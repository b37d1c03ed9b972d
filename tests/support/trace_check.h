/* trace_check.h - the trace file checker shared by test_trace.c and
 * test_train_trace.c; see trace_check.c. */
#ifndef SB_TEST_TRACE_CHECK_H
#define SB_TEST_TRACE_CHECK_H

/* Checks trace (run: the same run's `train --json` file, or NULL; batches:
 * the compute spans expected, -1 not checked; dropped: the dropped spans
 * expected as a number, or "any" for some); fails the test with the
 * checker's message. */
void check_trace(const char *trace, const char *run, long batches, const char *dropped);

#endif
