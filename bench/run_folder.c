/* run_folder.c - the run folder's writes after each run and at the end; see run_folder.h. */
#include "run_folder.h"

#include <math.h>
#include <stdlib.h>

#include "../core/checkpoint.h"
#include "../core/generate.h"
#include "../core/path.h"
#include "../core/tokenizer.h"
#include "noise.h"

/* The summary and the noise warnings of the n runs; NULL rows: out of memory. */
typedef struct {
    SummaryRow *rows;
    int n_rows;
    NoiseWarning *warn;
    int n_warn;
} FolderSummary;

static sb_status summary_make(FolderSummary *s, const RunFolder *f, const RunRecord *runs, int n, sb_error *err) {
    *s = (FolderSummary){.rows = calloc((size_t)(n ? n : 1), sizeof *s->rows),
                         .warn = calloc(NOISE_MAX_WARNINGS, sizeof *s->warn)};
    if (!s->rows || !s->warn) {
        free(s->rows);
        free(s->warn);
        return sb_fail(err, SB_ENOMEM, "out of memory for %d runs' summary", n);
    }
    s->n_rows = summarize(s->rows, runs, n, f->m->cores, &f->setup->model, f->peak);
    NoiseInputs ni = {.load_before = f->m->load_before[0], .cores = f->m->cores, .peak = f->peak,
                      .core = f->core, .rows = s->rows, .n_rows = s->n_rows,
                      .runs = runs, .n_runs = n, .counters = f->setup->counters};
    s->n_warn = noise_check(s->warn, NOISE_MAX_WARNINGS, &ni);
    return SB_OK;
}

static void summary_free(FolderSummary *s) {
    free(s->rows);
    free(s->warn);
}

sb_status run_folder_write(const RunFolder *f, const RunRecord *runs, int n, const char *stopped_by, sb_error *err) {
    FolderSummary s;
    sb_status st = summary_make(&s, f, runs, n, err);
    if (st) return st;
    BenchOptions o = f->options;
    o.complete = n == o.runs_planned;
    o.stopped_by = stopped_by;
    st = results_write(f->dir, f->m, &o, f->setup, f->dataset, f->peak, runs, n, s.rows, s.n_rows, err);
    if (!st) st = noise_write(f->dir, s.warn, s.n_warn, results_run_id(&f->options), err);
    summary_free(&s);
    return st;
}

void run_folder_print_summary(FILE *out, const RunFolder *f, const RunRecord *runs, int n) {
    FolderSummary s;
    sb_error err;
    if (summary_make(&s, f, runs, n, &err)) {
        fprintf(out, "no summary: %s\n", err.msg);
        return;
    }
    summary_print(out, s.rows, s.n_rows, f->m);
    noise_print(out, s.warn, s.n_warn);
    summary_free(&s);
}

/* One full run's model saved beside the results, and its lines in samples.txt. */
static sb_status sample_run(FILE *out, const RunFolder *f, const RunRecord *r, const Vocab *vocab, sb_error *err) {
    static const char *const prompts[] = {"the", "a", "it was"};
    const ModelConfig *model = &f->setup->model;
    char name[128], ckpt[SB_PATH_MAX], reached[96] = "";
    snprintf(name, sizeof name, "model-%s.ckpt", r->spec.variant->name);
    sb_status st = path_join(ckpt, sizeof ckpt, f->dir, name, err);
    if (st || (st = checkpoint_save(ckpt, model, r->params, err))) return st;
    if (r->target_loss > 0.0f)
        snprintf(reached, sizeof reached, isnan(r->time_to_target_s) ? " (target %.4f not reached)"
                                                                       : " (target %.4f reached in %.1f s)",
                 r->target_loss, r->time_to_target_s);
    fprintf(out, "# %s, %d threads, %llu batches, final loss %.4f%s; temperature 0.8, seeds 1..3\n",
            r->spec.variant->name, r->spec.threads, (unsigned long long)r->res.batches, r->res.last_loss, reached);
    for (int k = 0; k < 3 && !st; k++)
        st = generate_text(out, r->params, model, vocab, prompts[k], 30, 0.8f, 0, (uint64_t)(k + 1), err);
    return st;
}

sb_status run_folder_samples(const RunFolder *f, const RunRecord *runs, int n, sb_error *err) {
    char vocab_path[SB_PATH_MAX], path[SB_PATH_MAX];
    Vocab vocab;
    sb_status st;
    if ((st = path_suffix(vocab_path, sizeof vocab_path, f->dataset->tokens_path, ".vocab", err)) ||
        (st = path_join(path, sizeof path, f->dir, "samples.txt", err)) || (st = vocab_load(&vocab, vocab_path, err)))
        return st;
    SafeFile sf;
    if (!(st = safe_file_open(&sf, path, "samples", err))) {
        fprintf(sf.f, "# run_id %s\n", results_run_id(&f->options));
        for (int i = 0; i < n && !st; i++)
            if (runs[i].params) st = sample_run(sf.f, f, &runs[i], &vocab, err);
        if (st)
            safe_file_abort(&sf);
        else
            st = safe_file_commit(&sf, 1, err);
    }
    vocab_free(&vocab);
    return st;
}

sb_status run_folder_core(const RunFolder *f, sb_error *err) {
    char path[SB_PATH_MAX];
    if (!f->core) return SB_OK;
    sb_status st = path_join(path, sizeof path, f->dir, "core.json", err);
    return st ? st : core_bench_write(path, f->core, 1, f->peak, f->options.run_id, err);
}

sb_status run_folder_mark_latest(const RunFolder *f, sb_error *err) {
    SafeFile sf;
    sb_status st = safe_file_open(&sf, "results/LATEST", "results/LATEST", err);
    if (st) return st;
    fprintf(sf.f, "%s\n", f->dir);
    return safe_file_commit(&sf, 1, err);
}
