/* test_sphere.c - the kissing-sphere plan and trainer.
 *
 * The plan is checked for shape at the thread counts the issue names and
 * beyond. The trainer is checked against flat: where the root's children are
 * all workers the root sums every batch in batch order, so the two must be
 * bitwise equal; in deeper trees the only allowed difference is the order of
 * float sums, bounded below (see SUM_ORDER_TOL). Every policy must be bitwise
 * reproducible run to run, and must compute every batch exactly once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "../core/model.h"
#include "../variants/flat.h"
#include "../variants/sphere.h"
#include "../variants/sphere_plan.h"
#include "support/testutil.h"
#include "support/trainer_data.h"

static const ModelConfig tiny = {.V = 32, .T = 8, .D = 16, .L = 2, .H = 4}; /* V T D L H */
enum { TB = 2, TT = 8 };
static const char *const policies[] = {"symmetry", "round-robin", "steal"};

/* Reordering a sum of k float gradients moves it by a few ulps of its
 * largest term; through a few AdamW steps at lr 1e-2 that stays far below
 * what one lost or repeated batch does (about lr per parameter). */
#define SUM_ORDER_MAX_TOL 2e-4
#define SUM_ORDER_MEAN_TOL 2e-6

/* Seconds a 64-thread --wait spin run of 40 tiny batches may take before it
 * counts as livelocked (blocking, it takes well under a second, also under
 * ThreadSanitizer). */
#define SPIN_DEADLINE_S 30

static void check_plan(int threads, int fanout) {
    SpherePlan p;
    sb_error err;
    assert_int_equal(sphere_plan_build(&p, threads, fanout, &err), SB_OK);
    assert_int_equal(p.threads, threads);
    assert_int_equal(p.nodes[0].parent, -1);
    assert_int_equal(p.nodes[0].role, ROLE_CONTROL);
    int workers = 0, leaves = 0;
    for (int i = 0; i < threads; i++) {
        const SphereNode *n = &p.nodes[i];
        assert_int_equal(n->id, i);
        assert_true(n->n_children <= fanout);
        assert_int_equal(n->role, n->n_children > 0 ? ROLE_CONTROL : ROLE_WORKER);
        workers += n->role == ROLE_WORKER;
        leaves += n->n_children == 0;
        if (i > 0) {
            const SphereNode *parent = &p.nodes[n->parent];
            assert_true(n->id >= parent->first_child && n->id < parent->first_child + parent->n_children);
            assert_int_equal(n->level, parent->level + 1);
            assert_true(n->level >= p.nodes[i - 1].level); /* numbered breadth-first */
        }
    }
    assert_int_equal(workers, leaves);
    assert_int_equal(workers, p.n_workers);
    /* as shallow as possible: the level before the last is full */
    long full = 1, total = 1;
    int levels = 1;
    while (total < threads) {
        full *= fanout;
        total += full;
        levels++;
    }
    assert_int_equal(p.levels, levels);
    /* the last level is spread evenly: parent child counts differ by at most one */
    int last = p.levels - 1, lo = 1 << 30, hi = -1;
    for (int i = 0; i < threads; i++)
        if (p.nodes[i].level == last - 1) {
            if (p.nodes[i].n_children < lo) lo = p.nodes[i].n_children;
            if (p.nodes[i].n_children > hi) hi = p.nodes[i].n_children;
        }
    if (threads > 1) assert_true(hi - lo <= 1);
    sphere_plan_free(&p);
}

static void test_plan_shapes(void **state) {
    (void)state;
    static const int counts[] = {2, 3, 12, 13, 14, 64, 157, 158, 200, 1000, 4096};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) check_plan(counts[k], 12);
    check_plan(15, 2);
    check_plan(100, 3);
    check_plan(5, 1); /* a chain */
}

static void test_plan_64_is_the_original_shape(void **state) {
    (void)state;
    SpherePlan p;
    assert_int_equal(sphere_plan_build(&p, 64, 12, NULL), SB_OK);
    assert_int_equal(p.nodes[0].n_children, 12);
    for (int i = 1; i <= 12; i++) {
        assert_int_equal(p.nodes[i].level, 1);
        assert_int_equal(p.nodes[i].role, ROLE_CONTROL);
        assert_true(p.nodes[i].n_children == 4 || p.nodes[i].n_children == 5);
    }
    assert_int_equal(p.n_workers, 51);
    sphere_plan_free(&p);
    /* 2: a root and one worker; 13: a root and 12 workers; 158: one node deeper */
    assert_int_equal(sphere_plan_build(&p, 2, 12, NULL), SB_OK);
    assert_int_equal(p.n_workers, 1);
    sphere_plan_free(&p);
    assert_int_equal(sphere_plan_build(&p, 13, 12, NULL), SB_OK);
    assert_int_equal(p.n_workers, 12);
    assert_int_equal(p.levels, 2);
    sphere_plan_free(&p);
    assert_int_equal(sphere_plan_build(&p, 157, 12, NULL), SB_OK);
    assert_int_equal(p.levels, 3);
    assert_int_equal(p.n_workers, 144);
    sphere_plan_free(&p);
    assert_int_equal(sphere_plan_build(&p, 158, 12, NULL), SB_OK);
    assert_int_equal(p.levels, 4);
    assert_int_equal(p.n_workers, 144); /* one level-2 node became a control of one worker */
    sphere_plan_free(&p);
}

static void test_plan_refuses(void **state) {
    (void)state;
    SpherePlan p;
    sb_error err;
    assert_int_equal(sphere_plan_build(&p, 1, 12, &err), SB_ECONFIG);
    assert_contains(err.msg, "at least one worker");
    assert_int_equal(sphere_plan_build(&p, 0, 12, &err), SB_ECONFIG);
    assert_int_equal(sphere_plan_build(&p, -3, 12, &err), SB_ECONFIG);
    assert_int_equal(sphere_plan_build(&p, SPHERE_MAX_THREADS + 1, 12, &err), SB_ECONFIG);
    assert_int_equal(sphere_plan_build(&p, 10, 0, &err), SB_ECONFIG);
}

static void test_dominant_group(void **state) {
    (void)state;
    int ids[] = {5, 17, 29, 6, 18, 100}; /* groups 5, 5, 5, 6, 6, 4 */
    assert_int_equal(sphere_dominant_group(ids, 6), 5);
    int tie[] = {13, 14}; /* groups 1 and 2: the lower wins */
    assert_int_equal(sphere_dominant_group(tie, 2), 1);
    int zero[] = {0, 12, 24};
    assert_int_equal(sphere_dominant_group(zero, 3), 0);
}

static TokenFile random_tokens(uint64_t n_batches, uint64_t seed) {
    return td_random_tokens((uint32_t)tiny.V, n_batches, TB, TT, seed);
}

static VariantConfig config(const TokenFile *tf, int threads, int bps, const char *route) {
    VariantConfig c = td_config(tf, tiny, TB, TT, threads, bps);
    c.route = route;
    return c;
}

typedef struct {
    uint64_t total_batches, control_batches, group_total;
    int n_threads, n_groups;
    double threads_cpu, process_cpu;
} RunSummary;

static void summarize(const RunResult *res, void *ctx) {
    RunSummary *sum = ctx;
    memset(sum, 0, sizeof *sum);
    for (int t = 0; t < res->n_threads; t++) {
        sum->total_batches += res->threads[t].batches;
        if (res->threads[t].role == ROLE_CONTROL) sum->control_batches += res->threads[t].batches;
        sum->threads_cpu += res->threads[t].cpu_s;
    }
    for (int g = 0; g < res->n_groups; g++) sum->group_total += res->group_batches[g];
    sum->n_threads = res->n_threads;
    sum->n_groups = res->n_groups;
    sum->process_cpu = res->process_cpu_s;
}

static float *train(const Variant *v, const VariantConfig *c, uint64_t batches, RunSummary *sum) {
    return td_train(v, c, 0, batches, sum ? summarize : NULL, sum);
}

static void compare(const float *a, const float *b, double *max_diff, double *mean_diff, size_t *differ) {
    size_t n = model_param_count(&tiny);
    *max_diff = *mean_diff = 0.0;
    *differ = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        *differ += memcmp(&a[i], &b[i], sizeof(float)) != 0;
        if (d > *max_diff) *max_diff = d;
        *mean_diff += d / (double)n;
    }
}

/* Root with only worker children: the root sums in batch order, as flat does. */
static void test_shallow_tree_equals_flat_bitwise(void **state) {
    (void)state;
    TokenFile tf = random_tokens(30, 21);
    for (int threads = 2; threads <= 3; threads++)
        for (size_t k = 0; k < 3; k++) {
            VariantConfig sc = config(&tf, threads, 4, policies[k]), fc = config(&tf, threads, 4, NULL);
            RunSummary rs;
            float *ps = train(&variant_sphere, &sc, 19, &rs), *pf = train(&variant_flat, &fc, 19, NULL);
            double mx, mean;
            size_t differ;
            compare(ps, pf, &mx, &mean, &differ);
            if (differ) fail_msg("%d threads, %s: %zu parameters differ from flat", threads, policies[k], differ);
            assert_int_equal(rs.total_batches, 19);
            free(ps);
            free(pf);
        }
    free(tf.ids);
}

/* Deeper trees, every policy: every batch computed once, reproducible bit for
 * bit, and equal to flat up to the order of float sums. */
static void test_deep_trees_match_flat(void **state) {
    (void)state;
    TokenFile tf = random_tokens(80, 22);
    static const int shapes[][3] = {/* threads, fanout, batches per step */
                                    {16, 12, 15}, {20, 12, 0}, {15, 2, 8}, {14, 12, 13}, {7, 3, 5}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t k = 0; k < 3; k++) {
            VariantConfig sc = config(&tf, shapes[s][0], shapes[s][2], policies[k]);
            sc.fanout = shapes[s][1];
            uint64_t batches = 37;
            RunSummary rs;
            float *a = train(&variant_sphere, &sc, batches, &rs);
            float *b = train(&variant_sphere, &sc, batches, NULL);
            double mx, mean;
            size_t differ;
            compare(a, b, &mx, &mean, &differ);
            if (differ)
                fail_msg("threads %d fanout %d %s: run-to-run %zu parameters differ", shapes[s][0], shapes[s][1],
                         policies[k], differ);
            assert_int_equal(rs.total_batches, batches);
            assert_int_equal(rs.group_total, batches);
            assert_int_equal(rs.control_batches, 0);
            assert_int_equal(rs.n_threads, shapes[s][0]);
            SpherePlan p;
            assert_int_equal(sphere_plan_build(&p, shapes[s][0], shapes[s][1], NULL), SB_OK);
            int bps = shapes[s][2] ? shapes[s][2] : p.n_workers;
            sphere_plan_free(&p);
            VariantConfig fc = config(&tf, 3, bps, NULL);
            float *f = train(&variant_flat, &fc, batches, NULL);
            compare(a, f, &mx, &mean, &differ);
            if (mx > SUM_ORDER_MAX_TOL || mean > SUM_ORDER_MEAN_TOL)
                fail_msg("threads %d fanout %d %s: max |sphere - flat| %.3g, mean %.3g", shapes[s][0], shapes[s][1],
                         policies[k], mx, mean);
            free(a);
            free(b);
            free(f);
        }
    free(tf.ids);
}

/* Losing one batch moves parameters by far more than the tolerance, so the
 * tolerance above can tell a reordered sum from a lost batch. */
static void test_tolerance_catches_a_lost_batch(void **state) {
    (void)state;
    TokenFile tf = random_tokens(40, 23);
    VariantConfig a = config(&tf, 3, 8, NULL), b = config(&tf, 3, 8, NULL);
    float *full = train(&variant_flat, &a, 32, NULL);
    /* the same run with the last batch of each step replaced: steps of 7 */
    b.batches_per_step = 7;
    float *other = train(&variant_flat, &b, 28, NULL);
    double mx, mean;
    size_t differ;
    compare(full, other, &mx, &mean, &differ);
    assert_true(mx > 10 * SUM_ORDER_MAX_TOL);
    assert_true(mean > 10 * SUM_ORDER_MEAN_TOL);
    free(full);
    free(other);
    free(tf.ids);
}

/* Roles and levels follow the plan; controls compute nothing; the threads'
 * CPU adds up to the process's. */
static int seen_role[64], seen_level[64];

static void hook_begin(void *ctx, int id, ThreadRole role, int level) {
    (void)ctx;
    if (id >= 0 && id < 64) {
        seen_role[id] = (int)role;
        seen_level[id] = level;
    }
}

/* Called by the root after each step, while every thread of the tree lives. */
static void count_tasks(const TrainProgress *p, void *ctx) {
    (void)p;
    int *max_tasks = ctx, n = tu_count_entries("/proc/self/task", "");
    if (n > *max_tasks) *max_tasks = n;
}

static void test_accounting_follows_plan(void **state) {
    (void)state;
    TokenFile tf = random_tokens(200, 24);
    VariantConfig c = config(&tf, 20, 0, "round-robin");
    int max_tasks = 0;
    c.hooks.thread_begin = hook_begin;
    c.progress = count_tasks;
    c.progress_ctx = &max_tasks;
    memset(seen_role, -1, sizeof seen_role);
    RunSummary rs;
    int before = tu_settled_thread_count();
    float *p = train(&variant_sphere, &c, 190, &rs);
    SpherePlan plan;
    assert_int_equal(sphere_plan_build(&plan, 20, 12, NULL), SB_OK);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(seen_role[i], (int)plan.nodes[i].role);
        assert_int_equal(seen_level[i], plan.nodes[i].level);
    }
    sphere_plan_free(&plan);
    assert_int_equal(rs.total_batches, 190);
    assert_int_equal(max_tasks - before, 19); /* exactly N threads, the caller (the root) included */
    assert_close(rs.threads_cpu, rs.process_cpu, 0.05 * rs.process_cpu + 0.02);
    free(p);
    free(tf.ids);
}

/* Work stealing over many short steps, on trees whose workers are each
 * other's neighbours: every batch computed, the run reproducible, and no hang
 * (the alarm turns one into a failure). A thief once held its gradient until
 * its owner took it, while the owner waited, in order, for a batch queued
 * behind the thief: a deadlock that needs an unlucky preemption, which this
 * stress does not reliably produce; the fix (a gradient slot per batch, so no
 * worker ever waits on its owner) removes the cycle by construction. */
static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_sphere: steal stress run hung (deadlock)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

static void test_steal_never_deadlocks(void **state) {
    (void)state;
    TokenFile tf = random_tokens(400, 26);
    signal(SIGALRM, on_alarm);
    alarm(120);
    static const int shapes[][2] = {{3, 12}, {4, 12}, {7, 2}, {9, 3}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        VariantConfig c = config(&tf, shapes[k][0], 3, "steal");
        c.fanout = shapes[k][1];
        RunSummary rs;
        float *a = train(&variant_sphere, &c, 390, &rs);
        float *b = train(&variant_sphere, &c, 390, NULL);
        assert_int_equal(rs.total_batches, 390);
        double mx, mean;
        size_t differ;
        compare(a, b, &mx, &mean, &differ);
        assert_int_equal(differ, 0);
        free(a);
        free(b);
    }
    alarm(0);
    free(tf.ids);
}

/* --wait spin must not starve the threads a control waits for: a spinning
 * control once held its own mutex all but one pause per turn (and read the
 * thread clock twice per turn under it), so its parent could not hand it work
 * and 64 threads at fan-out 3 took about a minute on 40 tiny batches against
 * a twentieth of a second blocking. The alarm is a livelock guard, not a
 * speed assertion: it allows hundreds of times the blocking run's time. The
 * spinning run must also train the same model as the blocking one. */
static void on_spin_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_sphere: --wait spin run did not finish: a spinning control starves its tree\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

static void test_spin_does_not_starve_the_tree(void **state) {
    (void)state;
    TokenFile tf = random_tokens(60, 27);
    VariantConfig c = config(&tf, 64, 7, "round-robin");
    c.fanout = 3;
    float *blocked = train(&variant_sphere, &c, 40, NULL);
    signal(SIGALRM, on_spin_alarm);
    alarm(SPIN_DEADLINE_S);
    c.wait = WAIT_SPIN;
    RunSummary rs;
    float *spun = train(&variant_sphere, &c, 40, &rs);
    alarm(0);
    assert_int_equal(rs.total_batches, 40);
    double mx, mean;
    size_t differ;
    compare(blocked, spun, &mx, &mean, &differ);
    assert_int_equal(differ, 0);
    free(blocked);
    free(spun);
    free(tf.ids);
}

static void test_sphere_refuses(void **state) {
    (void)state;
    TokenFile tf = random_tokens(10, 25);
    void *st;
    sb_error err;
    VariantConfig c = config(&tf, 1, 0, NULL);
    assert_int_equal(variant_sphere.create(&st, &c, &err), SB_ECONFIG);
    assert_contains(err.msg, "threads");
    c = config(&tf, 4097, 0, NULL);
    assert_int_equal(variant_sphere.create(&st, &c, &err), SB_ECONFIG);
    c = config(&tf, 8, 0, "random");
    assert_int_equal(variant_sphere.create(&st, &c, &err), SB_ECONFIG);
    assert_contains(err.msg, "random");
    c = config(&tf, 8, -1, NULL);
    assert_int_equal(variant_sphere.create(&st, &c, &err), SB_ECONFIG);
    free(tf.ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_shapes),
        cmocka_unit_test(test_plan_64_is_the_original_shape),
        cmocka_unit_test(test_plan_refuses),
        cmocka_unit_test(test_dominant_group),
        cmocka_unit_test(test_shallow_tree_equals_flat_bitwise),
        cmocka_unit_test(test_deep_trees_match_flat),
        cmocka_unit_test(test_tolerance_catches_a_lost_batch),
        cmocka_unit_test(test_accounting_follows_plan),
        cmocka_unit_test(test_steal_never_deadlocks),
        cmocka_unit_test(test_spin_does_not_starve_the_tree),
        cmocka_unit_test(test_sphere_refuses),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
