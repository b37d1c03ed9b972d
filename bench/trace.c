/* trace.c - Chrome Trace Event Format from a run's span buffers; see trace.h.
 * Written with the one JSON writer (core/json_write.h) behind a temporary. */
#include "trace.h"

#include <math.h>
#include <stdlib.h>

#include "../core/json_file.h"

#define TRACE_PID 1

size_t trace_capacity(uint64_t batches, long steps) {
    return (size_t)(4 * batches + 8 * (uint64_t)(steps > 0 ? steps : 0) + 16);
}

/* Whole nanoseconds since origin, so that a span's end and the next one's
 * start, the same clock reading, print as the same number. */
static long long ns_since(double t, double origin) { return llround((t - origin) * 1e9); }

static double us(long long ns) { return (double)ns / 1e3; }

/* The fields every event starts with. */
static void event_begin(JsonWriter *w, const char *name, const char *ph, int tid, long long ts_ns) {
    json_object_begin(w);
    json_kv_string(w, "name", name);
    json_kv_string(w, "ph", ph);
    json_kv_int(w, "pid", TRACE_PID);
    json_kv_int(w, "tid", tid);
    json_kv_double(w, "ts", us(ts_ns));
}

static void metadata(JsonWriter *w, const char *name, int tid, const char *key, const char *s, long long v) {
    event_begin(w, name, "M", tid, 0);
    json_key(w, "args");
    json_object_begin(w);
    if (s)
        json_kv_string(w, key, s);
    else
        json_kv_int(w, key, v);
    json_object_end(w);
    json_object_end(w);
}

static void write_span(JsonWriter *w, int tid, const PhaseSpan *s, double origin) {
    long long a = ns_since(s->start, origin), b = ns_since(s->end, origin);
    event_begin(w, phase_name((Phase)s->phase), "X", tid, a);
    json_kv_double(w, "dur", us(b > a ? b - a : 0));
    json_kv_string(w, "cat", "phase");
    json_key(w, "args");
    json_object_begin(w);
    json_kv_int(w, "step", s->step);
    if (s->batch >= 0) json_kv_int(w, "batch", s->batch);
    json_object_end(w);
    json_object_end(w);
}

/* The loss of each step at the end of thread 0's last span of that step. */
static void write_loss(JsonWriter *w, const RunResult *r, double origin) {
    const SpanBuffer *b = &r->spans[0];
    for (size_t i = 0; i < b->n; i++) {
        const PhaseSpan *s = &b->spans[i];
        int last_of_step = i + 1 == b->n || b->spans[i + 1].step != s->step;
        if (!last_of_step || s->step < 1 || s->step > r->steps) continue;
        event_begin(w, "loss", "C", 0, ns_since(s->end, origin));
        json_key(w, "args");
        json_object_begin(w);
        json_kv_float(w, "loss", r->step_loss[s->step - 1]);
        json_object_end(w);
        json_object_end(w);
    }
}

sb_status trace_write(const char *path, const char *title, const char *variant, const char *run_id, const RunResult *r,
                      sb_error *err) {
    if (!r->spans)
        return sb_fail(err, SB_ECONFIG, "%s: the run kept no trace (VariantConfig.trace_spans was 0)", path);
    double origin = INFINITY;
    size_t spans = 0;
    uint64_t dropped = 0;
    for (int t = 0; t < r->n_threads; t++) {
        const SpanBuffer *b = &r->spans[t];
        if (b->n && b->spans[0].start < origin) origin = b->spans[0].start;
        spans += b->n;
        dropped += b->dropped;
    }
    if (!isfinite(origin)) origin = 0.0;
    JsonFile jf;
    sb_status st = json_file_open(&jf, path, "trace", 2, err);
    if (st) return st;
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_kv_string(w, "displayTimeUnit", "ms");
    json_key(w, "otherData");
    json_object_begin(w);
    json_kv_int(w, "schema", TRACE_SCHEMA);
    json_kv_string(w, "title", title);
    json_kv_string(w, "variant", variant);
    if (run_id) json_kv_string(w, "run_id", run_id); /* in a run folder */
    json_kv_int(w, "threads", r->n_threads);
    json_kv_int(w, "steps", r->steps);
    json_kv_uint(w, "batches", r->batches);
    json_kv_uint(w, "spans", spans);
    json_kv_uint(w, "dropped_spans", dropped);
    json_key(w, "dropped_by_thread");
    json_array_begin(w);
    for (int t = 0; t < r->n_threads; t++) json_uint(w, r->spans[t].dropped);
    json_array_end(w);
    json_object_end(w);
    json_key(w, "traceEvents");
    json_array_begin(w);
    metadata(w, "process_name", 0, "name", title, 0);
    for (int t = 0; t < r->n_threads; t++) {
        const ThreadStats *s = &r->threads[t];
        char name[64];
        snprintf(name, sizeof name, "%s %d, level %d", role_name(s->role), s->id, s->level);
        metadata(w, "thread_name", s->id, "name", name, 0);
        metadata(w, "thread_sort_index", s->id, "sort_index", NULL, s->id);
    }
    for (int t = 0; t < r->n_threads; t++) {
        const SpanBuffer *b = &r->spans[t];
        for (size_t i = 0; i < b->n; i++) write_span(w, r->threads[t].id, &b->spans[i], origin);
        if (!b->dropped) continue;
        event_begin(w, "spans dropped", "i", r->threads[t].id, b->n ? ns_since(b->spans[b->n - 1].end, origin) : 0);
        json_kv_string(w, "s", "t");
        json_key(w, "args");
        json_object_begin(w);
        json_kv_uint(w, "dropped", b->dropped);
        json_kv_uint(w, "capacity", b->cap);
        json_object_end(w);
        json_object_end(w);
    }
    if (r->n_threads > 0 && r->step_loss) write_loss(w, r, origin);
    json_array_end(w);
    json_object_end(w);
    return json_file_commit(&jf, err);
}
