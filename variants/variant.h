/* variant.h - the interface every trainer implements, and the registry of trainers.
 *
 * A trainer is created with a configuration (data, model shape, thread
 * count, batches per step, its own options), runs over a range of batches
 * updating a parameter buffer in place, reports per-thread statistics, and is
 * destroyed. It also says its defaults (threads, batches per step), which
 * the command line asks for instead of knowing trainers by name. The bench
 * and the `train` command know trainers only through this: adding one is a
 * new file in variants/ and a line in the registry (variant.c's VARIANTS).
 *
 * Arithmetic contract: every step covers batches_per_step consecutive
 * batches (the last step may have fewer); the step's gradient is the mean of
 * its batches' gradients and is applied with one AdamW update; a run starts
 * with fresh optimizer state. The step's rate, clipping and the early end at
 * a target loss come from the schedule, applied in variants/step_book.c: a
 * trainer loops `for (step = 1; step <= book.steps; step++)`, reading
 * book.steps on every pass, since reaching the target shortens it. A trainer that sums the batch gradients in
 * batch-index order reproduces `serial` bitwise.
 *
 * Counters without coupling: a trainer never measures hardware counters
 * itself. It calls hooks.thread_begin on every training thread, on that
 * thread, before the thread's first phase, and hooks.thread_end after its
 * last; the bench opens and reads counters there. */
#ifndef SB_VARIANT_H
#define SB_VARIANT_H

#include <stdint.h>

#include "../core/adamw.h"
#include "../core/model_shape.h"
#include "../core/error.h"
#include "../core/lr_schedule.h"
#include "../core/thread_clock.h"
#include "../core/tokens.h"

#define VARIANT_MAX_THREADS 4096

typedef struct {
    void (*thread_begin)(void *ctx, int thread_id, ThreadRole role, int level);
    void (*thread_end)(void *ctx, int thread_id);
    void *ctx;
} ThreadHooks;

typedef enum { WAIT_BLOCK = 0, WAIT_SPIN = 1 } WaitMode;

typedef struct {
    long step;           /* 1-based */
    long steps;          /* in the run */
    uint64_t batches_done;
    uint64_t batches;    /* in the run */
    float loss;          /* mean loss of this step's batches, before the update */
    double elapsed_s;    /* wall time since the run began */
} TrainProgress;

/* Called by the thread that applies the update, after every step; may be NULL. */
typedef void (*train_progress_fn)(const TrainProgress *p, void *ctx);

typedef struct {
    const TokenFile *data;
    ModelConfig model;
    int B, T;              /* batch shape; T <= model.T */
    int threads;           /* every thread that trains, the calling one included */
    int batches_per_step;  /* 0: the trainer's default (Variant.default_batches_per_step) */
    AdamWConfig adamw;
    WaitMode wait;         /* how control threads wait for workers */
    const char *route;     /* routing policy of tree trainers; NULL: the default */
    int fanout;            /* children per control in tree trainers; 0: the default */
    ThreadHooks hooks;
    train_progress_fn progress;
    void *progress_ctx;
    size_t trace_spans;    /* spans kept per thread for a timeline; 0: none */
    TrainSchedule schedule; /* rate per step, clipping, target loss; zero: a constant rate, the whole range */
} VariantConfig;

typedef struct {
    int id;
    ThreadRole role;
    int level;
    double cpu_s, wall_s;
    double phase_wall[PHASE_COUNT]; /* seconds of wall time per phase; they add up to wall_s */
    double phase_cpu[PHASE_COUNT];  /* seconds of CPU time per phase; they add up to cpu_s */
    uint64_t batches;
} ThreadStats;

typedef struct {
    uint64_t batches, tokens;
    long steps;
    int batches_per_step;   /* the value used, defaults resolved */
    float last_loss;        /* mean loss of the last step */
    double wall_s;          /* wall time of the measured region: first dispatch to last update */
    double process_cpu_s;   /* getrusage CPU time of the whole process over the same region */
    int n_threads;
    const ThreadStats *threads;  /* n_threads, owned by the trainer until its next run or destroy */
    const float *step_loss;      /* steps entries, same ownership */
    int n_groups;                /* tree trainers: level-1 spheres; 0 otherwise */
    const uint64_t *group_batches; /* batches each group received */
    const SpanBuffer *spans;     /* n_threads timelines when traced (trace_spans > 0), else NULL; same ownership */
} RunResult;

typedef struct Variant {
    const char *name;
    const char *summary;
    int min_threads;        /* the fewest threads it trains with (flat and sphere keep a control apart: 2) */
    int default_threads;    /* the threads it trains with when none are asked for (`train` without --threads) */
    /* The batches per step it takes when cfg->batches_per_step is 0, for cfg's
     * threads and its own options; create resolves 0 to this, and anyone
     * sizing a run asks variant_batches_per_step. At least 1, even for a
     * config create refuses. */
    int (*default_batches_per_step)(const VariantConfig *cfg);
    const char *batches_per_step_doc; /* that default in words, for help texts: "one per worker" */
    const char *const *routes; /* routing policies it takes (VariantConfig.route), its default first,
                                  NULL-terminated; NULL: it routes nothing */
    sb_status (*create)(void **state, const VariantConfig *cfg, sb_error *err) SB_MUST_CHECK;
    /* Trains params in place over batches first .. first+batches-1. */
    sb_status (*run)(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                     sb_error *err) SB_MUST_CHECK;
    void (*destroy)(void *state);
} Variant;

const Variant *variant_find(const char *name);
/* NULL-terminated list of every trainer. */
const Variant *const *variant_all(void);
/* "serial, flat, ..." for messages. */
const char *variant_names(void);

/* Checks every trainer shares: batch shape within the model, token vocabulary
 * within the model's, batches_per_step >= 1, batch range inside the file. */
sb_status train_config_check(const TokenFile *data, const ModelConfig *model, int B, int T,
                             uint64_t first_batch, uint64_t batches, int batches_per_step, sb_error *err) SB_MUST_CHECK;

/* cfg's batches per step: its own, or v's default when it gives 0. */
int variant_batches_per_step(const Variant *v, const VariantConfig *cfg);

/* Steps a run of `batches` takes: the last step may be partial. */
long train_step_count(uint64_t batches, int batches_per_step);

/* Batches in the step that follows the first `done` of a run's `batches`:
 * batches_per_step, or what is left for the last, partial step. */
int train_step_batches(uint64_t batches, uint64_t done, int batches_per_step);

/* Copies a finished clock into the stats a RunResult reports. */
void thread_stats_from_clock(ThreadStats *s, const ThreadClock *c);

#endif
