/* span_buffer.c - a thread's preallocated span array; see span_buffer.h. */
#include "span_buffer.h"

#include <stdlib.h>
#include <string.h>

sb_status span_buffer_init(SpanBuffer *b, size_t cap, sb_error *err) {
    *b = (SpanBuffer){0};
    if (cap == 0) return SB_OK;
    if (cap > SIZE_MAX / sizeof(PhaseSpan))
        return sb_fail(err, SB_ECONFIG, "a trace of %zu spans per thread does not fit in memory", cap);
    b->spans = malloc(cap * sizeof(PhaseSpan));
    if (!b->spans) return sb_fail(err, SB_ENOMEM, "out of memory for a trace of %zu spans per thread", cap);
    memset(b->spans, 0xff, cap * sizeof(PhaseSpan)); /* not 0: malloc + memset 0 may become a lazy calloc */
    b->cap = cap;
    return SB_OK;
}

void span_buffer_free(SpanBuffer *b) {
    free(b->spans);
    *b = (SpanBuffer){0};
}

void span_buffer_reset(SpanBuffer *b) {
    b->n = 0;
    b->dropped = 0;
}
