/* cmd_bench.c - `bench`: the main job. Runs every trainer, records every thread.
 *
 * This file is the command's options and the calls of its stages, in the
 * order they run (Google Benchmark's runner is the model):
 *   read_options   the command line -> the plan's options and the set-up
 *   plan_build     the list of runs (bench/plan.c: pure, tested on its own)
 *   prepare        the run folder, the dataset, the plan against it, the counters
 *   measure_machine  the machine's ceilings (peak) and the core's kernels
 *   runner_warm_up one short unrecorded run per trainer (bench/runner.c)
 *   runner_run     every run of the plan, with run k of N and the bench's ETA;
 *                  after each, the run folder's files are rewritten from the
 *                  runs so far (bench/run_folder.c), so the folder is whole
 *                  and reportable after every run
 *   finish         the summary printed, the folder's name in results/LATEST
 * SIGINT or SIGTERM (bench/stop.h) stops it between runs: the folder keeps
 * what finished and context.json says it is incomplete and why.
 * Everything lands in a run folder under results/ (see bench/results.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/machine.h"
#include "../bench/peak.h"
#include "../bench/plan.h"
#include "../bench/runner.h"
#include "../bench/stop.h"
#include "../core/model.h"
#include "../core/path.h"
#include "../core/presets.h"
#include "../core/safe_file.h"
#include "../dataset/cache.h"
#include "cli.h"
#include "commands.h"

/* What --quick sets beside the plan's own defaults (plan.h). */
#define PEAK_MB(quick) ((quick) ? 64 : 256)
#define CORE_REPS(quick) ((quick) ? 3 : 7)

/* The full runs' schedule (measured choices: docs/DESIGN.md, "The full
 * runs"): steps of FULL_BPS batches (an epoch of 63-batch steps is 36
 * updates, too few to converge), a peak rate for them, a linear warm-up, a cosine decay
 * to a tenth of the peak over the epoch, global-norm clipping, and the target
 * the corpus's entropy floor + FULL_TARGET_MARGIN nats. */
#define FULL_BPS 8
#define FULL_LR 3e-3
#define FULL_WARMUP 20
#define FULL_LR_FLOOR 0.1f
#define FULL_CLIP 1.0f
#define FULL_TARGET_MARGIN 0.5

typedef struct {
    /* options */
    PlanOptions po;
    const ModelPreset *preset;
    const char *data_dir, *out, *events;
    WaitMode wait;
    int pin, use_counters, list;
    double full_lr, target_margin;
    long long full_warmup, corpus_bytes, full_bps;
    /* the bench */
    MachineInfo m;
    Plan plan;
    DatasetInfo dinfo;
    TokenFile tf;
    ModelConfig model;
    CounterSet cs;
    BenchSetup setup;
    PeakResult peak;
    CoreBench core;
    int have_core;
    char out_dir[SB_PATH_MAX];
    RunFolder folder;    /* what the folder's files are written from */
    BenchRuns runs;      /* the runs, runs.done of them finished */
    char **argv;         /* the argument list context.json records, owned */
    char run_id[96];     /* DATE-REVISION-PID: written into every file of the folder */
    OutputLock lock;     /* the run folder's: a second bench into it is refused */
} Bench;

static const CliOptSpec specs[] = {
    {"--variants", 0, "LIST: trainers to compare (default: every trainer but serial, which is the baseline)"},
    {"--threads", 0, "LIST: thread counts of the sweep (default 1,2,4,16,64 and the core count)"},
    {"--full-threads", 0, "N: threads of the full-epoch runs (default 64, the original's shape)"},
    {"--batches", 0, "K: batches of the full-epoch runs (default: all of the dataset)"},
    {"--sweep-batches", 0, "K: batches of each sweep run (default 24)"},
    {"--reps", 0, "R: repetitions of each sweep and routing configuration (default 9)"},
    {"--full-reps", 0, "R: repetitions of each full-epoch run (default 1)"},
    {"--batches-per-step", 0, "S: batches per AdamW step, the same for every trainer (default 63)"},
    {"--full-batches-per-step", 0, "S: batches per step of the full runs (default 8: enough updates in one epoch to "
                                    "converge)"},
    {"--full-lr", 0, "X: the full runs' peak learning rate (default 0.003; the other runs keep 0.001, constant)"},
    {"--full-warmup", 0, "N: the full runs' warm-up steps before the cosine decay (default 20)"},
    {"--target-margin", 0, "X: the full runs stop at the corpus's entropy floor + X nats (default 0.5; 0: train "
                            "the whole epoch)"},
    {"--model", 0, "PRESET: tiny, bench or seed (default bench)"},
    {"--batch-tokens", 0, "LIST: tokens per batch (B x T) swept at --full-threads (default 256,64: the "
                            "model's own batch is the sweep's run at --full-threads; "
                           "0: none)"},
    {"--batch-reps", 0, "R: repetitions of the tokens-per-batch sweep (default 9)"},
    {"--events", 0, "LIST: counters (default " COUNTERS_DEFAULT_EVENTS ")"},
    {"--no-counters", 1, "record no counters"},
    {"--pin", 1, "pin thread i to the (i mod cores)-th CPU this process may use"},
    {"--wait", 0, "block|spin: how control threads wait (default block)"},
    {"--quick", 1, "everything small (a check that the bench works, not a measurement; see below)"},
    {"--list", 1, "print the runs these options give, in order, and exit (no dataset, nothing measured)"},
    {"--data-dir", 0, "DIR: where the dataset is kept (default data)"},
    {"--corpus-bytes", 0, "N: size of the corpus made in --data-dir (default 73 MB; a small one for tests)"},
    {"--out", 0, "DIR: run folder (default results/DATE-REVISION[-dirty][-quick])"},
    {"--help", 1, "print this"},
    {NULL, 0, NULL},
};

static void print_notes(void) {
    PlanOptions q;
    plan_defaults(&q, 1, 1, 4, 1);
    printf("\n--quick sets: --sweep-batches %lld, --reps %lld, --threads 1,2,CORES, --batch-tokens 0 (no batch sweep), "
           "--batch-reps 1, --batches 2 x --batches-per-step, the batch B at a quarter of the preset's, peak arrays of %d MB "
           "(else %d), core kernel timings the median of %d (else %d).\n",
           q.sweep_batches, q.reps, PEAK_MB(1), PEAK_MB(0), CORE_REPS(1), CORE_REPS(0));
    printf("\nA run writes into its folder (--out):\n"
           "  context.json        machine, build, model, dataset, options, counters\n"
           "  runs.csv            one row per run\n"
           "  threads.csv         one row per thread per run, with its counters\n"
           "  groups.csv          batches per level-1 sphere, per run\n"
           "  loss.csv            loss per step, per run\n"
           "  summary.json        per configuration: median, mean, sd, cv, min, max, spread; speedups,\n"
           "                      efficiency and ratios with 95%% intervals and verdicts\n"
           "  gbench.json         the runs in Google Benchmark's JSON format (its compare.py reads it)\n"
           "  warnings.json       the noise guards' warnings, each naming its figure\n"
           "  samples.txt         text sampled from each full run's model\n"
           "  model-TRAINER.ckpt  each full run's trained model\n"
           "  core.json           the core's kernels on one thread against the peak\n"
           "  trace-KIND-TRAINER-THREADS.json  the traced runs' timelines (Perfetto, chrome://tracing)\n"
           "  REPORT.md           the report (`make bench` runs `make report RUN=FOLDER`)\n"
           "and writes the folder's name into results/LATEST. Every file is rewritten after each run (a temporary\n"
           "renamed into place), so the folder is whole at any moment; SIGINT or SIGTERM stops the bench after\n"
           "the run in progress (a second one at once), and context.json then says \"complete\": false and\n"
           "which runs finished.\n"
           "\nThe full runs train in steps of --full-batches-per-step batches with a cosine schedule (warm-up,\n"
           "then decay to a tenth of --full-lr) and clipping to global norm 1 until their loss reaches the\n"
           "target (the corpus's entropy + --target-margin) or the epoch ends; time to target is their wall\n"
           "time. The other runs keep a constant rate (0.001) over a fixed number of batches.\n"
           "\nexit status: 0 success, 1 the work failed, 2 usage (a bad option), 128+N stopped by signal N\n");
}

/* The program's whole argument list (sphere-bench bench ...), which context.json records. */
static sb_status keep_argv(Bench *b, int argc, char **argv, sb_error *err) {
    b->m.argc = argc + 2;
    b->m.argv = b->argv = calloc((size_t)argc + 3, sizeof(char *));
    if (!b->argv) return sb_fail(err, SB_ENOMEM, "out of memory for the argument list");
    b->argv[0] = "sphere-bench";
    b->argv[1] = "bench";
    for (int i = 0; i < argc; i++) b->argv[i + 2] = argv[i];
    return SB_OK;
}

/* The plan's options: the defaults, then what was given (the plan checks the ranges, so these only parse). */
static sb_status read_plan_options(Bench *b, const CliArgs *a, sb_error *err) {
    PlanOptions *o = &b->po;
    plan_defaults(o, cli_flag(a, "--quick"), b->m.cores, b->preset->B, b->preset->T);
    o->variants = cli_get(a, "--variants");
    o->threads = cli_get(a, "--threads");
    o->batch_tokens = cli_get(a, "--batch-tokens");
    const long long lo = -(1LL << 62), hi = 1LL << 62;
    sb_status st;
    if ((st = cli_get_long(a, "--full-threads", lo, hi, &o->full_threads, err)) ||
        (st = cli_get_long(a, "--batches", 1, 1LL << 40, &o->full_batches, err)) || /* 0 is the plan's "all" */
        (st = cli_get_long(a, "--sweep-batches", lo, hi, &o->sweep_batches, err)) ||
        (st = cli_get_long(a, "--reps", lo, hi, &o->reps, err)) ||
        (st = cli_get_long(a, "--full-reps", lo, hi, &o->full_reps, err)) ||
        (st = cli_get_long(a, "--batch-reps", lo, hi, &o->batch_reps, err)) ||
        (st = cli_get_long(a, "--batches-per-step", lo, hi, &o->batches_per_step, err)))
        return st;
    return SB_OK;
}

/* The full runs' schedule, the corpus's size and the rest of the set-up. */
static sb_status read_setup_options(Bench *b, const CliArgs *a, sb_error *err) {
    b->corpus_bytes = CORPUS_DEFAULT_BYTES;
    b->full_lr = FULL_LR;
    b->full_warmup = FULL_WARMUP;
    b->full_bps = FULL_BPS;
    b->target_margin = FULL_TARGET_MARGIN;
    sb_status st;
    if ((st = cli_get_wait(a, &b->wait, err)) ||
        (st = cli_get_long(a, "--corpus-bytes", 1000, 1LL << 40, &b->corpus_bytes, err)) ||
        (st = cli_get_double(a, "--full-lr", 1e-6, 1.0, &b->full_lr, err)) ||
        (st = cli_get_long(a, "--full-warmup", 0, 1LL << 30, &b->full_warmup, err)) ||
        (st = cli_get_long(a, "--full-batches-per-step", 1, 1 << 20, &b->full_bps, err)) ||
        (st = cli_get_double(a, "--target-margin", 0.0, 100.0, &b->target_margin, err)))
        return st;
    b->data_dir = cli_get(a, "--data-dir") ? cli_get(a, "--data-dir") : "data";
    b->out = cli_get(a, "--out");
    b->events = cli_get(a, "--events");
    b->pin = cli_flag(a, "--pin");
    b->use_counters = !cli_flag(a, "--no-counters");
    b->list = cli_flag(a, "--list");
    return SB_OK;
}

/* The command line -> b's options; the exit status on failure, else -1. */
static int read_options(Bench *b, int argc, char **argv) {
    CliArgs a;
    int rc = cli_parse_command(&a, "bench", "[options]", specs, 0, argc, argv);
    if (rc >= 0) {
        if (rc == 0) print_notes();
        return rc;
    }
    sb_error err;
    const char *preset_name = cli_get(&a, "--model") ? cli_get(&a, "--model") : "bench";
    if (model_preset_lookup(&b->preset, preset_name, &err)) return cli_error("bench", err.msg, 1);
    machine_info_read(&b->m);
    if (keep_argv(b, argc, argv, &err)) return cli_error("bench", err.msg, 0);
    if (read_plan_options(b, &a, &err) || read_setup_options(b, &a, &err)) return cli_error("bench", err.msg, 1);
    return -1;
}

/* --list: the plan, one run a line. */
static void print_plan(const Plan *p) {
    printf("%d runs (%llu tokens)\n", p->n, (unsigned long long)p->tokens);
    for (int i = 0; i < p->n; i++) {
        const RunSpec *s = &p->runs[i];
        char batches[32];
        if (s->batches)
            snprintf(batches, sizeof batches, "%llu", (unsigned long long)s->batches);
        else
            snprintf(batches, sizeof batches, "all");
        printf("%4d  %-9s %-8s %-11s %4d threads  rep %d  %d x %d  %s batches%s\n", i + 1, run_kind_name(s->kind),
               s->variant->name, s->route ? s->route : "-", s->threads, s->rep, s->B, s->T, batches,
               s->trace == TRACE_WRITE ? "  (traced)" : "");
    }
}

/* The run folder: named, made with its parents, and refused when it holds
 * another run's files, before the dataset is made or anything measured. */
static sb_status make_run_folder(Bench *b, sb_error *err) {
    sb_status st;
    if (b->out) {
        st = path_join(b->out_dir, sizeof b->out_dir, "", b->out, err);
    } else {
        char name[256];
        snprintf(name, sizeof name, "%s-%s%s%s", b->m.date_compact, b->m.git_revision, b->m.git_dirty ? "-dirty" : "",
                 b->po.quick ? "-quick" : "");
        st = path_join(b->out_dir, sizeof b->out_dir, "results", name, err);
    }
    return st ? st : safe_dir_prepare_locked(b->out_dir, &b->lock, err); /* held to the end: one writer */
}

/* The counters (a bad --events list is refused before anything is made),
 * the run folder, the dataset and the plan against it. */
static sb_status prepare(Bench *b, sb_error *err) {
    sb_status st;
    if (b->use_counters && (st = counters_setup(&b->cs, b->events, NULL, err))) {
        b->use_counters = 0;
        return st;
    }
    if ((st = make_run_folder(b, err))) return st;
    st = dataset_ensure(&b->dinfo, &b->tf, b->data_dir, (uint64_t)b->corpus_bytes, CORPUS_DEFAULT_SEED, 8192, err);
    if (st) return st;
    b->model = model_config_from_preset(b->preset, (int)b->tf.vocab_size);
    b->model.vocab_id = b->tf.vocab_id;
    b->po.data_batches = tokens_batch_count(&b->tf, b->plan.B, b->plan.T);
    plan_free(&b->plan);
    return plan_build(&b->plan, &b->po, err);
}

/* The machine's ceilings, so every throughput can be read as a fraction of
 * them, and the core's own single-thread speed kernel by kernel (core.json). */
static sb_status measure_machine(Bench *b, sb_error *err) {
    fprintf(stderr, "bench: %s, %d cores; model %s (V=%d, %zu parameters), %d runs; results in %s\n", b->m.cpu_model,
            b->m.cores, b->preset->name, b->model.V, model_param_count(&b->model), b->plan.n, b->out_dir);
    if (b->use_counters)
        for (int i = 0; i < b->cs.n; i++)
            fprintf(stderr, "bench: counter %-16s %s\n", b->cs.ev[i].name,
                    b->cs.ev[i].usable ? "counts" : b->cs.ev[i].why);
    sb_status st = peak_measure(&b->peak, PEAK_MB(b->po.quick), err);
    if (st) return st;
    peak_print(stderr, &b->peak);
    b->have_core = core_bench_run(&b->core, b->preset, b->model.V, CORE_REPS(b->po.quick), &b->peak, err) == SB_OK;
    if (b->have_core)
        core_bench_print(stderr, &b->core);
    else
        fprintf(stderr, "sphere-bench: bench: no core timings: %s\n", err->msg);
    return SB_OK;
}

/* The run folder's description: every write after a run reads it. */
static void describe_folder(Bench *b) {
    b->folder = (RunFolder){
        .dir = b->out_dir,
        .options = {
            .preset = b->preset->name,
            .B = b->plan.B,
            .T = b->plan.T,
            .batches_per_step = (int)b->po.batches_per_step,
            .reps = (int)b->po.reps,
            .full_reps = (int)b->po.full_reps,
            .pin = b->pin,
            .quick = b->po.quick,
            .events = b->events,
            .wait = b->wait,
            .run_id = b->run_id,
            .runs_planned = b->plan.n,
            .full_schedule = &b->setup.full_schedule,
            .full_lr = b->setup.full_lr,
            .trainers = b->plan.trainers,
            .n_trainers = b->plan.n_trainers,
        },
        .m = &b->m,
        .setup = &b->setup,
        .dataset = &b->dinfo,
        .peak = &b->peak,
        .core = b->have_core ? &b->core : NULL,
    };
}

/* After the last run (or a stop): the summary on stdout, the folder's name in
 * results/LATEST for `make bench`'s report. */
static void finish(const Bench *b) {
    run_folder_print_summary(stdout, &b->folder, b->runs.runs, b->runs.done);
    printf("bench: %d of %d runs in %.0f s; results in %s%s\n", b->runs.done, b->plan.n,
           clock_wall_now() - b->runs.start_s, b->out_dir, b->runs.done == b->plan.n ? "" : " (incomplete)");
    sb_error err;
    if (run_folder_mark_latest(&b->folder, &err)) fprintf(stderr, "sphere-bench: bench: %s\n", err.msg);
}

/* The folder rewritten from the runs so far, every file in place at once or none (a full disk). */
static sb_status folder_rewrite(const Bench *b, const char *why, sb_error *err) {
    safe_file_group_begin();
    sb_status st = run_folder_write(&b->folder, b->runs.runs, b->runs.done, why, err);
    if (st || (st = safe_file_group_commit(err))) safe_file_group_abort();
    return st;
}

/* Where a bench that did not finish stopped, for the messages and context.json. */
static int report_stop(const Bench *b, sb_status st, const sb_error *err) {
    int rc = 0;
    const char *why = NULL;
    char failed[sizeof err->msg + 32];
    if (st && b->runs.failed) {
        fprintf(stderr, "sphere-bench: bench: run %d of %d failed: %s\n", b->runs.done + 1, b->plan.n, err->msg);
        why = "a failed run";
        rc = 1;
    } else if (st) {
        rc = cli_error("bench", err->msg, 0);
        snprintf(failed, sizeof failed, "a failed write: %s", err->msg); /* what is missing, in context.json */
        why = b->runs.done > 0 ? failed : NULL; /* none: the runs' records could not be had */
    } else if (b->runs.stop_sig) {
        why = bench_stop_name(b->runs.stop_sig);
        fprintf(stderr, "bench: stopped by %s after %d of %d runs; %s holds them, marked incomplete in context.json\n",
                why, b->runs.done, b->plan.n, b->out_dir);
        rc = 128 + b->runs.stop_sig;
    }
    sb_error e2;
    if (why && folder_rewrite(b, why, &e2)) rc = cli_error("bench", e2.msg, 0);
    return rc;
}

/* What every run shares: the data, the model, the options, the full runs' schedule. */
static void make_setup(Bench *b) {
    double target = b->target_margin > 0 ? b->dinfo.corpus.entropy_nats + b->target_margin : 0.0;
    b->setup = (BenchSetup){
        .data = &b->tf,
        .model = b->model,
        .batches_per_step = (int)b->po.batches_per_step,
        .adamw = adamw_defaults(),
        .init_seed = 1,
        .wait = b->wait,
        .counters = b->use_counters ? &b->cs : NULL,
        .pin = b->pin,
        .cores = b->m.cores,
        .cpu_ids = b->m.cpu_ids,
        .progress = isatty(2) ? 1 : 2,
        .trace_dir = b->out_dir,
        .run_id = b->run_id,
        .full_schedule = {.kind = LR_COSINE, .warmup = (long)b->full_warmup, .floor = FULL_LR_FLOOR,
                          .clip_norm = FULL_CLIP, .target_loss = (float)target},
        .full_lr = (float)b->full_lr,
        .full_batches_per_step = (int)b->full_bps,
    };
}

/* From the dataset to the results; the exit status. */
static int bench_run(Bench *b) {
    sb_error err;
    bench_stop_install();
    if (prepare(b, &err)) return cli_error("bench", err.msg, err.code == SB_EARG);
    snprintf(b->run_id, sizeof b->run_id, "%s-%s-%ld", b->m.date_compact, b->m.git_revision, (long)getpid());
    make_setup(b);
    if (measure_machine(b, &err) || runner_warm_up(&b->plan, &b->setup, &err)) return cli_error("bench", err.msg, 0);
    describe_folder(b);
    if (run_folder_core(&b->folder, &err)) return cli_error("bench", err.msg, 0); /* a folder without it would lie */
    sb_status st = runner_run(&b->runs, &b->plan, &b->setup, &b->folder, &err);
    machine_read_load(b->m.load_after);
    int rc = report_stop(b, st, &err);
    /* once more with the load after the run, whatever stopped it (a stop has just rewritten it) */
    if (!rc && b->runs.done > 0 && folder_rewrite(b, NULL, &err))
        rc = cli_error("bench", err.msg, 0);
    if (b->runs.done > 0) finish(b);
    bench_stop_restore();
    return rc;
}

int cmd_bench(int argc, char **argv) {
    Bench *b = calloc(1, sizeof *b);
    if (!b) return cli_error("bench", "out of memory", 0);
    b->lock = OUTPUT_LOCK_NONE;
    sb_error err;
    int rc = read_options(b, argc, argv);
    if (rc < 0 && plan_build(&b->plan, &b->po, &err)) /* bad options are refused before any work */
        rc = cli_error("bench", err.msg, 1);
    if (rc < 0 && b->list) {
        print_plan(&b->plan);
        rc = 0;
    }
    if (rc < 0) rc = bench_run(b);
    bench_runs_free(&b->runs);
    free(b->argv);
    plan_free(&b->plan);
    counters_teardown(&b->cs);
    tokens_free(&b->tf);
    output_lock_release(&b->lock);
    free(b);
    return rc;
}
