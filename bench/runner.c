/* runner.c - the plan's runs, one after another; see runner.h. */
#include "runner.h"

#include <stdlib.h>

#include "../core/safe_file.h"
#include "stop.h"

sb_status runner_warm_up(const Plan *plan, const BenchSetup *setup, sb_error *err) {
    BenchSetup quiet = *setup;
    quiet.progress = 0;
    quiet.position = NULL;
    for (int i = 0; i < plan->n_warmup; i++) {
        RunRecord rec;
        sb_status st = harness_run(&rec, &quiet, &plan->warmup[i], err);
        if (st) return st;
        run_record_free(&rec);
    }
    return SB_OK;
}

/* In a log (no live progress line): one plain line as run pos->run begins. */
static void log_run(const BenchPosition *pos, const RunSpec *s) {
    char eta[24];
    progress_format_duration(eta, sizeof eta, progress_bench_eta(pos, pos->tokens_done, clock_wall_now()));
    fprintf(stderr, "  run %d of %d: %s %s %s %d threads, %llu batches; bench ETA %s\n", pos->run, pos->runs,
            run_kind_name(s->kind), s->variant->name, s->route ? s->route : "", s->threads,
            (unsigned long long)s->batches, eta);
}

/* After run out->done: the folder rewritten, and the samples and checkpoints when it kept
 * its model; a failure of any is the bench's (the group, below, puts none of them in place). */
static sb_status after_run(const BenchRuns *out, const RunFolder *folder, sb_error *err) {
    sb_status st = run_folder_write(folder, out->runs, out->done, NULL, err);
    if (st || !out->runs[out->done - 1].params) return st;
    return run_folder_samples(folder, out->runs, out->done, err);
}

/* One run and everything it writes (its trace, the folder's files, samples and checkpoints),
 * committed together once every temporary is written: the folder is the one before the run
 * or the one after it, never a mix (a full disk fails the bench, the folder as it was). */
static sb_status run_one(BenchRuns *out, const BenchSetup *s, const RunSpec *spec, const RunFolder *folder,
                         sb_error *err) {
    safe_file_group_begin();
    sb_status st = harness_run(&out->runs[out->done], s, spec, err);
    if (st) {
        safe_file_group_abort();
        out->failed = 1;
        return st;
    }
    out->done++;
    if ((st = after_run(out, folder, err)) || (st = safe_file_group_commit(err))) safe_file_group_abort();
    return st;
}

sb_status runner_run(BenchRuns *out, const Plan *plan, const BenchSetup *setup, const RunFolder *folder,
                     sb_error *err) {
    *out = (BenchRuns){.runs = calloc((size_t)(plan->n ? plan->n : 1), sizeof *out->runs)};
    if (!out->runs) return sb_fail(err, SB_ENOMEM, "out of memory for %d runs' records", plan->n);
    BenchPosition pos = {.runs = plan->n, .start_s = clock_wall_now(), .tokens_total = plan->tokens};
    BenchSetup s = *setup;
    s.position = &pos;
    out->start_s = pos.start_s;
    while (out->done < plan->n && !(out->stop_sig = bench_stop_signal())) {
        const RunSpec *spec = &plan->runs[out->done];
        pos.run = out->done + 1;
        if (s.progress != 1) log_run(&pos, spec);
        sb_status st = run_one(out, &s, spec, folder, err);
        if (st) return st;
        pos.tokens_done += run_spec_tokens(spec);
    }
    return SB_OK;
}

void bench_runs_free(BenchRuns *r) {
    for (int i = 0; i < r->done; i++) run_record_free(&r->runs[i]);
    free(r->runs);
    *r = (BenchRuns){0};
}
