/* cmd_bench.c - `bench`: the main job. Runs every trainer, records every thread.
 *
 * Order of work: make or check the dataset; probe the counters; one warm-up
 * run per trainer (not recorded); the full-epoch runs at the original's
 * shape (64 threads, every batch, each trainer at least once); the thread
 * sweep (serial at 1 thread, the others at 2.. threads) on a fixed subset of
 * batches, repeated; the routing runs (sphere under each policy); and, with
 * --batch-tokens, the batch-size sweep. Within each repetition the trainers
 * run one after another at the same configuration (A B A B ...), so slow
 * drift of the machine hits all of them alike. Everything lands in a run
 * folder under results/ (see results.h) and a summary table is printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/checkpoint.h"
#include "../core/generate.h"
#include "../core/model.h"
#include "../core/safe_file.h"
#include "../core/tokenizer.h"
#include "../variants/sphere_plan.h"
#include "cli.h"
#include "commands.h"
#include "../bench/counters.h"
#include "../dataset/cache.h"
#include "../bench/harness.h"
#include "../bench/machine.h"
#include "../bench/core_bench.h"
#include "../bench/peak.h"
#include "../bench/results.h"

#define MAX_LIST 32
#define MAX_RUNS 4096

/* Parses "1,2,64" into v (at most MAX_LIST positive ints). */
static sb_status parse_int_list(const char *s, int *v, int *n, long lo, long hi, const char *opt, sb_error *err) {
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || x < lo || x > hi || *n >= MAX_LIST)
            return sb_fail(err, SB_EARG, "%s wants a comma-separated list of up to %d integers in %ld..%ld, got '%s'",
                           opt, MAX_LIST, lo, hi, s);
        v[(*n)++] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (*n == 0) return sb_fail(err, SB_EARG, "%s is empty", opt);
    return SB_OK;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int sort_unique(int *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_int);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (k == 0 || v[i] != v[k - 1]) v[k++] = v[i];
    return k;
}

/* The models the full runs trained: saved beside the results (git-ignored),
 * and a few lines sampled from each into samples.txt, for the report. */
static sb_status write_samples(const char *dir, const RunRecord *runs, int n, const ModelConfig *model,
                               const char *vocab_path, sb_error *err) {
    static const char *const prompts[] = {"the", "a", "it was"};
    Vocab vocab;
    sb_status st = vocab_load(&vocab, vocab_path, err);
    if (st) return st;
    char path[4200];
    snprintf(path, sizeof path, "%s/samples.txt", dir);
    SafeFile sf;
    if ((st = safe_file_open(&sf, path, "samples", err))) goto out;
    for (int i = 0; i < n && !st; i++) {
        if (!runs[i].params) continue;
        char ckpt[4200];
        snprintf(ckpt, sizeof ckpt, "%s/model-%s.ckpt", dir, runs[i].spec.variant->name);
        if ((st = checkpoint_save(ckpt, model, runs[i].params, err))) break;
        fprintf(sf.f, "# %s, %d threads, %llu batches, final loss %.4f; temperature 0.8, seeds 1..3\n",
                runs[i].spec.variant->name, runs[i].spec.threads, (unsigned long long)runs[i].res.batches,
                runs[i].res.last_loss);
        for (int k = 0; k < 3 && !st; k++)
            st = generate_text(sf.f, runs[i].params, model, &vocab, prompts[k], 30, 0.8f, 0, (uint64_t)(k + 1), err);
    }
    if (st)
        safe_file_abort(&sf);
    else
        st = safe_file_commit(&sf, 1, err);
out:
    vocab_free(&vocab);
    return st;
}

typedef struct {
    RunSpec specs[MAX_RUNS];
    int n;
    int overflow; /* runs that did not fit: the plan is refused, never cut short */
} RunList;

static void add_run(RunList *l, RunKind kind, const Variant *v, const char *route, int threads, int rep, int B, int T,
                    uint64_t batches) {
    if (l->n >= MAX_RUNS) {
        l->overflow++;
        return;
    }
    RunSpec *s = &l->specs[l->n++];
    *s = (RunSpec){kind, v, route, threads, rep, B, T, 0, batches, kind == RUN_FULL && rep == 1};
}

int cmd_bench(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--variants", 0, "LIST: trainers to compare (default: every trainer but serial, which is the baseline)"},
        {"--threads", 0, "LIST: thread counts of the sweep (default 1,2,4,8,16,32,64 and the core count)"},
        {"--full-threads", 0, "N: threads of the full-epoch runs (default 64, the original's shape)"},
        {"--batches", 0, "K: batches of the full-epoch runs (default: all of the dataset)"},
        {"--sweep-batches", 0, "K: batches of each sweep run (default 48)"},
        {"--reps", 0, "R: repetitions of each sweep configuration (default 3)"},
        {"--full-reps", 0, "R: repetitions of each full-epoch run (default 1)"},
        {"--batches-per-step", 0, "S: batches per AdamW step, the same for every trainer (default 63)"},
        {"--model", 0, "PRESET: tiny, bench or seed (default bench)"},
        {"--batch-tokens", 0, "LIST: tokens per batch (B x T) swept at --full-threads (default 4096,1024,256,64; "
                               "0: none)"},
        {"--batch-reps", 0, "R: repetitions of the tokens-per-batch sweep (default 1)"},
        {"--events", 0, "LIST: counters (default " COUNTERS_DEFAULT_EVENTS ")"},
        {"--no-counters", 1, "record no counters"},
        {"--pin", 1, "pin thread i to the (i mod cores)-th CPU this process may use"},
        {"--wait", 0, "block|spin: how control threads wait (default block)"},
        {"--quick", 1, "everything small (a check that the bench works, not a measurement)"},
        {"--data-dir", 0, "DIR: where the dataset is kept (default data)"},
        {"--out", 0, "DIR: run folder (default results/DATE-REVISION)"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "bench", "[options]", specs, 0, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    int quick = cli_flag(&a, "--quick");
    long long full_threads = 64, full_batches = 0, sweep_batches = quick ? 8 : 48, reps = quick ? 1 : 3,
              full_reps = 1, bps = 63, batch_reps = 1;
    const char *preset_name = cli_get(&a, "--model") ? cli_get(&a, "--model") : "bench";
    const char *data_dir = cli_get(&a, "--data-dir") ? cli_get(&a, "--data-dir") : "data";
    const char *wait = cli_get(&a, "--wait");
    if (cli_get_long(&a, "--full-threads", 2, VARIANT_MAX_THREADS, &full_threads, &err) ||
        cli_get_long(&a, "--batches", 1, 1LL << 40, &full_batches, &err) ||
        cli_get_long(&a, "--sweep-batches", 1, 1LL << 40, &sweep_batches, &err) ||
        cli_get_long(&a, "--reps", 1, 1000, &reps, &err) || cli_get_long(&a, "--full-reps", 1, 1000, &full_reps, &err) ||
        cli_get_long(&a, "--batch-reps", 1, 1000, &batch_reps, &err) ||
        cli_get_long(&a, "--batches-per-step", 1, 1 << 20, &bps, &err))
        return cli_error("bench", err.msg, 1);
    if (wait && strcmp(wait, "block") != 0 && strcmp(wait, "spin") != 0)
        return cli_error("bench", "--wait takes block or spin", 1);
    const ModelPreset *preset = model_preset_find(preset_name);
    if (!preset) {
        snprintf(err.msg, sizeof err.msg, "no model preset '%s' (presets: %s)", preset_name, model_preset_names());
        return cli_error("bench", err.msg, 1);
    }
    MachineInfo m;
    machine_info_read(&m);

    /* trainers */
    const Variant *variants[MAX_LIST];
    int n_variants = 0;
    const char *vlist = cli_get(&a, "--variants");
    if (vlist) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", vlist);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            const Variant *v = variant_find(tok);
            if (!v || strcmp(v->name, "serial") == 0 || n_variants >= MAX_LIST) {
                snprintf(err.msg, sizeof err.msg, "--variants: '%s' is not a parallel trainer (available: %s; serial "
                         "always runs as the baseline)", tok, variant_names());
                return cli_error("bench", err.msg, 1);
            }
            variants[n_variants++] = v;
        }
    } else {
        for (const Variant *const *v = variant_all(); *v; v++)
            if (strcmp((*v)->name, "serial") != 0) variants[n_variants++] = *v;
    }
    const Variant *serial = variant_find("serial");

    /* thread counts */
    int threads[MAX_LIST + 1], n_threads = 0;
    if (cli_get(&a, "--threads")) {
        if (parse_int_list(cli_get(&a, "--threads"), threads, &n_threads, 1, VARIANT_MAX_THREADS, "--threads", &err))
            return cli_error("bench", err.msg, 1);
    } else if (quick) {
        /* 64 threads are covered by the full runs; the sweep only checks the path */
        threads[0] = 1;
        threads[1] = 2;
        threads[2] = m.cores;
        n_threads = 3;
    } else {
        int d[] = {1, 2, 4, 8, 16, 32, 64};
        memcpy(threads, d, sizeof d);
        n_threads = 7;
        threads[n_threads++] = m.cores;
    }
    n_threads = sort_unique(threads, n_threads);
    int batch_tokens[MAX_LIST], n_bt = 0;
    const char *bt_list = cli_get(&a, "--batch-tokens") ? cli_get(&a, "--batch-tokens") : quick ? "0" : "4096,1024,256,64";
    if (strcmp(bt_list, "0") != 0 &&
        parse_int_list(bt_list, batch_tokens, &n_bt, 1, MODEL_MAX_B * preset->T, "--batch-tokens", &err))
        return cli_error("bench", err.msg, 1);
    for (int i = 0; i < n_bt; i++) {
        int T = batch_tokens[i] < preset->T ? batch_tokens[i] : preset->T;
        if (batch_tokens[i] % T != 0) {
            snprintf(err.msg, sizeof err.msg, "--batch-tokens %d is not a multiple of the preset's T=%d (B x T with "
                     "T <= %d)", batch_tokens[i], preset->T, preset->T);
            return cli_error("bench", err.msg, 1);
        }
    }

    /* --quick: a quarter of the preset's batch, so 64 threads' workspaces fit
     * in memory and in time; a check that the bench works, not a measurement */
    int run_B = quick && preset->B >= 4 ? preset->B / 4 : preset->B;

    /* dataset */
    DatasetInfo dinfo;
    TokenFile tf;
    if (dataset_ensure(&dinfo, &tf, data_dir, CORPUS_DEFAULT_BYTES, CORPUS_DEFAULT_SEED, 8192, &err))
        return cli_error("bench", err.msg, 0);
    ModelConfig model = model_config_from_preset(preset, (int)tf.vocab_size);
    uint64_t have = tokens_batch_count(&tf, run_B, preset->T);
    if (!full_batches) full_batches = quick ? 2 * bps : (long long)have;
    if ((uint64_t)full_batches > have || (uint64_t)sweep_batches > have) {
        snprintf(err.msg, sizeof err.msg, "the dataset holds %llu batches of %d x %d; asked for %lld",
                 (unsigned long long)have, run_B, preset->T,
                 full_batches > sweep_batches ? full_batches : sweep_batches);
        tokens_free(&tf);
        return cli_error("bench", err.msg, 1);
    }

    /* counters */
    CounterSet cs;
    int use_counters = !cli_flag(&a, "--no-counters");
    if (use_counters && counters_setup(&cs, cli_get(&a, "--events"), NULL, &err)) {
        tokens_free(&tf);
        return cli_error("bench", err.msg, 1);
    }

    BenchSetup b = {&tf, model, (int)bps, adamw_defaults(), 1, wait && !strcmp(wait, "spin") ? WAIT_SPIN : WAIT_BLOCK,
                    use_counters ? &cs : NULL, cli_flag(&a, "--pin"), m.cores, m.cpu_ids, isatty(2) ? 1 : 2};
    BenchOptions opt = {preset->name, run_B, preset->T, (int)bps, (int)reps, (int)full_reps, b.pin, quick,
                        cli_get(&a, "--events"), b.wait};

    /* the plan of runs */
    static RunList plan;
    plan.n = plan.overflow = 0;
    for (int r = 1; r <= full_reps; r++)
        for (int v = 0; v < n_variants; v++)
            add_run(&plan, RUN_FULL, variants[v], NULL, (int)full_threads, r, run_B, preset->T,
                    (uint64_t)full_batches);
    for (int r = 1; r <= reps; r++)
        for (int t = 0; t < n_threads; t++) {
            if (threads[t] == 1) {
                add_run(&plan, RUN_SWEEP, serial, NULL, 1, r, run_B, preset->T, (uint64_t)sweep_batches);
                continue;
            }
            for (int v = 0; v < n_variants; v++)
                add_run(&plan, RUN_SWEEP, variants[v], NULL, threads[t], r, run_B, preset->T,
                        (uint64_t)sweep_batches);
        }
    const Variant *sphere = variant_find("sphere");
    int has_sphere = 0;
    for (int v = 0; v < n_variants; v++) has_sphere |= variants[v] == sphere;
    static const char *const routes[] = {"symmetry", "round-robin", "steal"};
    for (int k = 0; has_sphere && k < 3; k++)
        add_run(&plan, RUN_ROUTE, sphere, routes[k], (int)full_threads, 1, run_B, preset->T,
                (uint64_t)sweep_batches);
    for (int r = 1; r <= batch_reps && n_bt; r++)
        for (int i = 0; i < n_bt; i++) {
            int T = batch_tokens[i] < preset->T ? batch_tokens[i] : preset->T, B = batch_tokens[i] / T;
            /* the same tokens as a sweep run: more, smaller batches */
            uint64_t nb = (uint64_t)sweep_batches * (uint64_t)(run_B * preset->T) / (uint64_t)batch_tokens[i];
            if (r == 1) add_run(&plan, RUN_BATCH, serial, NULL, 1, r, B, T, nb);
            for (int v = 0; v < n_variants; v++)
                add_run(&plan, RUN_BATCH, variants[v], NULL, (int)full_threads, r, B, T, nb);
        }

    if (plan.overflow) {
        sb_fail(&err, SB_ECONFIG, "the plan has %d runs, more than the %d one bench can hold: use fewer --reps, "
                "--threads or --batch-tokens", plan.n + plan.overflow, MAX_RUNS);
        goto fail_early;
    }

    char out_dir[4096];
    if (cli_get(&a, "--out"))
        snprintf(out_dir, sizeof out_dir, "%s", cli_get(&a, "--out"));
    else
        snprintf(out_dir, sizeof out_dir, "results/%s-%s%s%s", m.date_compact, m.git_revision,
                 m.git_dirty ? "-dirty" : "", quick ? "-quick" : "");
    fprintf(stderr, "bench: %s, %d cores; model %s (V=%d, %zu parameters), %d runs; results in %s\n", m.cpu_model,
            m.cores, preset->name, model.V, model_param_count(&model), plan.n, out_dir);
    if (use_counters)
        for (int i = 0; i < cs.n; i++)
            fprintf(stderr, "bench: counter %-16s %s\n", cs.ev[i].name, cs.ev[i].usable ? "counts" : cs.ev[i].why);

    /* the machine's ceilings, so every throughput can be read as a fraction of them */
    PeakResult peak;
    if (peak_measure(&peak, quick ? 64 : 256, &err)) goto fail_early;
    peak_print(stderr, &peak);
    /* the core's own single-thread speed, kernel by kernel, against that peak (core.json) */
    CoreBench core;
    int have_core = core_bench_run(&core, preset, model.V, quick ? 3 : 7, &peak, &err) == SB_OK;
    if (have_core)
        core_bench_print(stderr, &core);
    else
        fprintf(stderr, "sphere-bench: bench: no core timings: %s\n", err.msg);

    /* warm-up: one short run per trainer, not recorded */
    for (int v = -1; v < n_variants; v++) {
        RunSpec w = {RUN_SWEEP, v < 0 ? serial : variants[v], NULL, v < 0 ? 1 : 2, 0, run_B, preset->T, 0, 2, 0};
        BenchSetup quiet = b;
        quiet.progress = 0;
        RunRecord rec;
        if (harness_run(&rec, &quiet, &w, &err)) goto fail_early;
        run_record_free(&rec);
    }

    RunRecord *runs = calloc((size_t)plan.n, sizeof *runs);
    SummaryRow *rows = calloc((size_t)plan.n, sizeof *rows);
    if (!runs || !rows) {
        free(runs);
        free(rows);
        sb_fail(&err, SB_ENOMEM, "out of memory for %d runs' records", plan.n);
        goto fail_early;
    }
    int done = 0;
    double t0 = clock_wall_now();
    for (; done < plan.n; done++) {
        if (b.progress != 1)
            fprintf(stderr, "  run %d/%d: %s %s %s %d threads, %llu batches\n", done + 1, plan.n,
                    run_kind_name(plan.specs[done].kind), plan.specs[done].variant->name,
                    plan.specs[done].route ? plan.specs[done].route : "", plan.specs[done].threads,
                    (unsigned long long)plan.specs[done].batches);
        if (harness_run(&runs[done], &b, &plan.specs[done], &err)) break;
    }
    rc = done < plan.n ? 1 : 0;
    if (rc) fprintf(stderr, "sphere-bench: bench: run %d failed: %s\n", done + 1, err.msg);
    /* whatever was measured is written, even after a failure */
    int n_rows = summarize(rows, runs, done, m.cores, &model, &peak);
    if (done > 0) {
        if (results_write(out_dir, &m, &opt, &b, &dinfo, &peak, runs, done, rows, n_rows, &err)) {
            cli_error("bench", err.msg, 0);
            rc = 1;
        } else {
            char vocab_path[4200];
            snprintf(vocab_path, sizeof vocab_path, "%s.vocab", dinfo.tokens_path);
            if (write_samples(out_dir, runs, done, &model, vocab_path, &err))
                fprintf(stderr, "sphere-bench: bench: no samples: %s\n", err.msg);
            char core_path[4200];
            snprintf(core_path, sizeof core_path, "%s/core.json", out_dir);
            if (have_core && core_bench_write(core_path, &core, 1, &peak, &err))
                fprintf(stderr, "sphere-bench: bench: no core.json: %s\n", err.msg);
            summary_print(stdout, rows, n_rows, &m);
            printf("bench: %d runs in %.0f s; results in %s\n", done, clock_wall_now() - t0, out_dir);
            /* `make bench` reports on the run it just made: it reads the folder from here */
            FILE *latest = fopen("results/LATEST", "w");
            if (latest) {
                fprintf(latest, "%s\n", out_dir);
                fclose(latest);
            }
        }
    }
    for (int i = 0; i < done; i++) run_record_free(&runs[i]);
    free(runs);
    free(rows);
    if (use_counters) counters_teardown(&cs);
    tokens_free(&tf);
    return rc;
fail_early:
    if (use_counters) counters_teardown(&cs);
    tokens_free(&tf);
    return cli_error("bench", err.msg, 0);
}
