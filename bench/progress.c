/* progress.c - the bench's position and ETA; see progress.h. */
#include "progress.h"

#include <math.h>
#include <stdio.h>

double progress_bench_eta(const BenchPosition *pos, uint64_t tokens_now, double now_s) {
    double elapsed = now_s - pos->start_s;
    if (tokens_now == 0 || elapsed <= 0) return -1.0;
    uint64_t left = tokens_now < pos->tokens_total ? pos->tokens_total - tokens_now : 0;
    return elapsed * (double)left / (double)tokens_now;
}

void progress_format_duration(char *buf, size_t n, double seconds) {
    if (!(seconds >= 0) || !isfinite(seconds)) {
        snprintf(buf, n, "?");
        return;
    }
    long s = lround(seconds);
    if (s < 60)
        snprintf(buf, n, "%ld s", s);
    else if (s < 3600)
        snprintf(buf, n, "%ld m %02ld s", s / 60, s % 60);
    else
        snprintf(buf, n, "%ld h %02ld m", s / 3600, s % 3600 / 60);
}
