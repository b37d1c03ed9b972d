/* team.h - the threads-and-clocks skeleton every trainer runs on: its team of threads.
 *
 * A trainer's state embeds a Team. It holds the configuration, the
 * per-thread clocks and statistics, the loss curve and the step book, and
 * does for every trainer alike: the thread-count and memory checks (a run
 * whose buffers exceed 0.85 of physical memory is refused), starting the
 * threads with an explicit TEAM_THREAD_STACK stack behind a start gate (a
 * thread runs its body only once all have started; if the system refuses one,
 * none runs and the run fails with a message), joining them, the measured
 * region's process CPU and wall time, and the hooks (called on each thread
 * itself, before its first phase and after its last), and, when asked, each
 * thread's span buffer (allocated here, attached to its clock at its begin).
 * The caller is thread 0.
 *
 * A run is team_run_begin, team_start, the trainer's own loop,
 * whatever tells its threads to stop, and team_run_end. The waits trainers
 * share live in waiter.h and barrier.h (waiter.h says which waits are a
 * trainer's own); the end of a step in step_book.h. */
#ifndef SB_TEAM_H
#define SB_TEAM_H

#include <pthread.h>

#include "step_book.h"
#include "variant.h"

/* Team threads get this much stack whatever the process's limits, so a run
 * does not depend on `ulimit -s` or the C library's default. The kernels keep
 * no large block on the stack (attention's blocks and the matmul's panels are
 * workspace scratch, core/attention.c): this is room for ordinary frames. */
#define TEAM_THREAD_STACK (8u << 20)

typedef struct Team Team;

/* The body of thread `id` (1 .. threads-1); ctx as given to team_start. */
typedef void (*team_body_fn)(void *ctx, int id);

typedef struct {
    Team *team;
    int id;
} TeamLaunch;

struct Team {
    VariantConfig cfg;      /* as created */
    int threads;            /* every thread that trains, the caller's (id 0) included */
    int bps;                /* batches per step, the default resolved */
    size_t n_params;
    size_t bt;              /* tokens per batch, B x T */
    ThreadClock *clocks;    /* [threads], cache-line aligned */
    ThreadStats *stats;     /* [threads] */
    SpanBuffer *spans;      /* [threads] when cfg.trace_spans > 0, else NULL */
    float *step_loss;       /* [steps] of the last run */
    pthread_t *tids;        /* [threads]; entry 0 unused */
    TeamLaunch *launch;  /* [threads] */
    team_body_fn body;
    void *body_ctx;
    int started;            /* threads started by team_start in this run, besides the caller */
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    int gate;               /* 0 closed, 1 open, -1 aborted */
    StepBook book;          /* the current run's */
    uint64_t batches;       /* in the current run */
    double cpu0;            /* process CPU at the start of the measured region */
};

/* threads within min_threads .. VARIANT_MAX_THREADS (why: what the minimum
 * is for), batches per step not negative, the model well formed. */
sb_status team_check_config(const VariantConfig *cfg, const char *variant, int min_threads, const char *why,
                               sb_error *err) SB_MUST_CHECK;

/* Refuses a run whose buffers, need_bytes in all, exceed 0.85 of physical memory. */
sb_status team_check_memory(const char *variant, int threads, double need_bytes, sb_error *err) SB_MUST_CHECK;

/* bytes of 64-byte-aligned memory (free() releases it), every page written
 * once here, so that no page fault lands in the measured region: the rule
 * the workspaces follow (core/model.c), for every buffer a trainer writes
 * while it trains. NULL when out of memory. */
void *team_alloc(size_t bytes);

/* bps: batches per step, defaults resolved. On failure t can still be freed. */
sb_status team_init(Team *t, const VariantConfig *cfg, int threads, int bps, sb_error *err) SB_MUST_CHECK;
void team_free(Team *t);

/* Checks the run against the data, starts the step book and the measured
 * region, and begins thread 0 (the caller) in role0 at level0, phase first. */
sb_status team_run_begin(Team *t, uint64_t first_batch, uint64_t batches, ThreadRole role0, int level0,
                            Phase first, RunResult *res, sb_error *err) SB_MUST_CHECK;

/* Starts threads 1 .. threads-1, each running body(ctx, id). */
sb_status team_start(Team *t, team_body_fn body, void *ctx, sb_error *err) SB_MUST_CHECK;

/* On thread id, before its first phase: the begin hook, then its clock. */
ThreadClock *team_thread_begin(Team *t, int id, ThreadRole role, int level, Phase first);
/* On thread id, after its last phase: its clock stopped, then the end hook. */
void team_thread_end(Team *t, int id);

/* After the caller has told its threads to stop: joins them, ends thread 0
 * and the measured region, and when the run succeeded (st == SB_OK) fills
 * res. It cannot fail: the run's outcome is st. */
void team_run_end(Team *t, sb_status st, RunResult *res);

#endif
