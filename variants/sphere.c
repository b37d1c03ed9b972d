/* sphere.c - the kissing-sphere trainer; see sphere.h for the design.
 *
 * Every node has a mutex, a Waiter (waiter.h: how its thread waits,
 * blocking, or for controls with --wait spin polling without the mutex; a
 * stealing worker with nothing to steal sleeps on its condition variable for
 * at most a millisecond instead) and
 * an inbox (a ring of job slot indices; JOB_END closes a step for a control). A job slot holds the
 * batch's tokens, its owner (the control that sums it) and, once computed,
 * the worker that holds its gradient. Messages go one hop at a time under
 * the receiver's lock only; there is no lock shared by the whole tree.
 *
 * Buffer reuse: every batch of a step has its own gradient slot, written by
 * whichever worker computed it and read once by its owner; slots are reused
 * only in the next step, after the root has consumed everything. A worker
 * therefore never waits for its gradient to be consumed (holding a gradient
 * while its owner waits, in order, for a batch still queued behind it would
 * deadlock under work stealing). A control keeps its sum until its parent
 * has added it, and only then overwrites it. */
#include "sphere.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/model.h"
#include "../core/reduce.h"
#include "sphere_plan.h"
#include "team.h"
#include "waiter.h"

#define SYMMETRY_GROUPS 12
#define JOB_END (-1)

/* In sphere_routes' order. */
typedef enum { ROUTE_SYMMETRY, ROUTE_ROUND_ROBIN, ROUTE_STEAL } RoutePolicy;

const char *const sphere_routes[] = {"symmetry", "round-robin", "steal", NULL};

/* One entry of a control's canonical summation order. */
typedef struct {
    int is_child; /* 0: the gradient of job slot `ref`; 1: the sum of control child `ref` */
    int ref;
} Contribution;

typedef struct {
    int owner;      /* control that sums this batch */
    int worker;     /* worker that computed it, once done */
    float loss;
    atomic_int done;
    int32_t step;   /* the step and the batch's index in the data, for the trace's tags */
    int64_t batch;
} JobSlot;

typedef struct SphereState SphereState;

typedef struct {
    SphereNode plan;
    SphereState *tree;
    pthread_mutex_t mu;
    Waiter wake;        /* rung under mu when this node has something new to do */
    int *ring; /* inbox */
    int head, count, cap;
    int holding;        /* controls: sum published and not yet consumed (guarded by mu) */
    int sum_ready;      /* controls: sum published (guarded by the PARENT's mu) */
    int group;          /* index of the level-1 sphere this node belongs to; -1 for the root */
    /* controls */
    Contribution *list;
    int n_list, cap_list;
    int *fwd_count;     /* jobs forwarded to each child this step */
    int rr;             /* round-robin cursor over children */
    float *acc;         /* this step's sum */
    /* workers */
    Workspace ws;
    int *neighbours, n_neighbours;
} SNode;

struct SphereState {
    Team t;
    RoutePolicy route;
    SpherePlan plan;
    SNode *nodes;
    JobSlot *slots;
    float *slot_grad;       /* bps gradients, one per batch of a step */
    int *slot_inputs, *slot_targets;
    uint64_t *group_batches;
    atomic_int shutdown;
    const float *params;
};

static int shutting_down(SphereState *s) { return atomic_load_explicit(&s->shutdown, memory_order_acquire); }

/* Inbox operations; the caller holds n->mu. */
static void inbox_push(SNode *n, int job) {
    /* a step sends a node at most bps jobs and one END; more is a protocol bug */
    if (n->count >= n->cap) abort();
    n->ring[(n->head + n->count) % n->cap] = job;
    n->count++;
}

static int inbox_pop_front(SNode *n) {
    int job = n->ring[n->head];
    n->head = (n->head + 1) % n->cap;
    n->count--;
    return job;
}

static int inbox_pop_back(SNode *n) {
    n->count--;
    return n->ring[(n->head + n->count) % n->cap];
}

static void send_job(SNode *to, int job) {
    pthread_mutex_lock(&to->mu);
    inbox_push(to, job);
    waiter_notify(&to->wake);
    pthread_mutex_unlock(&to->mu);
}

int sphere_dominant_group(const int *ids, size_t n) {
    size_t counts[SYMMETRY_GROUPS] = {0};
    for (size_t i = 0; i < n; i++) counts[ids[i] % SYMMETRY_GROUPS]++;
    int best = 0;
    for (int g = 1; g < SYMMETRY_GROUPS; g++)
        if (counts[g] > counts[best]) best = g;
    return best;
}

static void list_append(SNode *n, int is_child, int ref) {
    n->list[n->n_list].is_child = is_child;
    n->list[n->n_list].ref = ref;
    n->n_list++;
}

/* Forwards job j from control c to child index k (0-based among c's children). */
static void forward(SphereState *s, SNode *c, int k, int j) {
    SNode *child = &s->nodes[c->plan.first_child + k];
    c->fwd_count[k]++;
    if (child->plan.role == ROLE_WORKER) {
        s->slots[j].owner = c->plan.id;
        list_append(c, 0, j);
    }
    send_job(child, j);
}

/* After the last job of a step: close the step for every control child and
 * queue their sums, in child order, behind the batches. */
static void close_step(SphereState *s, SNode *c) {
    for (int k = 0; k < c->plan.n_children; k++) {
        SNode *child = &s->nodes[c->plan.first_child + k];
        /* only a child that got jobs this step takes part in it: one that got
         * none must not see an END it could mistake for a later step's */
        if (child->plan.role != ROLE_CONTROL || c->fwd_count[k] == 0) continue;
        send_job(child, JOB_END);
        list_append(c, 1, child->plan.id);
    }
}

static void start_step(SNode *c) {
    c->n_list = 0;
    c->rr = 0;
    memset(c->fwd_count, 0, sizeof(int) * (size_t)c->plan.n_children);
}

/* Is contribution e of control c ready? Caller holds c->mu. */
static int contribution_ready(SphereState *s, const Contribution *e) {
    if (e->is_child) return s->nodes[e->ref].sum_ready;
    return atomic_load_explicit(&s->slots[e->ref].done, memory_order_acquire);
}

/* Adds contributions e[0..m) into c's sum in one reduce_sum pass (the first
 * of the step starts the sum) and releases each control child among them.
 * Called without c->mu; their sum_ready flags were cleared under it. */
static void consume_run(SphereState *s, SNode *c, const Contribution *e, int m, int first) {
    const float *bufs[REDUCE_RUN_MAX + 1];
    int nb = 0;
    if (!first) bufs[nb++] = c->acc;
    for (int i = 0; i < m; i++)
        bufs[nb++] = e[i].is_child ? s->nodes[e[i].ref].acc : s->slot_grad + (size_t)e[i].ref * s->t.n_params;
    reduce_sum(c->acc, bufs, nb, s->t.n_params);
    for (int i = 0; i < m; i++) {
        if (!e[i].is_child) continue; /* a batch's slot is free once read; a control waits for its release */
        SNode *producer = &s->nodes[e[i].ref];
        pthread_mutex_lock(&producer->mu);
        producer->holding = 0;
        waiter_notify(&producer->wake);
        pthread_mutex_unlock(&producer->mu);
    }
}

/* Sums every contribution of c's list from *next on that is ready, in list
 * order, up to REDUCE_RUN_MAX per pass over memory (the same bits as one at a
 * time). Caller holds c->mu; returns with it. */
static void reduce_ready(SphereState *s, SNode *c, int *next, ThreadClock *clk) {
    while (*next < c->n_list && contribution_ready(s, &c->list[*next])) {
        Contribution run[REDUCE_RUN_MAX];
        int m = 0;
        do {
            run[m] = c->list[*next + m];
            if (run[m].is_child) s->nodes[run[m].ref].sum_ready = 0;
            m++;
        } while (m < REDUCE_RUN_MAX && *next + m < c->n_list && contribution_ready(s, &c->list[*next + m]));
        int first = *next == 0;
        pthread_mutex_unlock(&c->mu);
        thread_clock_phase(clk, PHASE_REDUCE);
        consume_run(s, c, run, m, first);
        *next += m;
        pthread_mutex_lock(&c->mu);
    }
}

/* Publishes own buffer to the parent (sum_ready for controls) and waits until
 * the parent has consumed it. */
static void publish_sum_and_wait(SphereState *s, SNode *c, ThreadClock *clk) {
    SNode *parent = &s->nodes[c->plan.parent];
    thread_clock_phase(clk, PHASE_WAIT);
    pthread_mutex_lock(&c->mu);
    c->holding = 1;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_lock(&parent->mu);
    c->sum_ready = 1;
    waiter_notify(&parent->wake);
    pthread_mutex_unlock(&parent->mu);
    pthread_mutex_lock(&c->mu);
    while (c->holding && !shutting_down(s)) waiter_wait(&c->wake, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void control_main(SphereState *s, SNode *c) {
    ThreadClock *clk = team_thread_begin(&s->t, c->plan.id, ROLE_CONTROL, c->plan.level, PHASE_WAIT);
    while (!shutting_down(s)) {
        start_step(c);
        int next = 0, ended = 0, received = 0;
        pthread_mutex_lock(&c->mu);
        for (;;) {
            if (shutting_down(s)) break;
            if (!ended && c->count > 0) {
                int j = inbox_pop_front(c);
                pthread_mutex_unlock(&c->mu);
                if (j != JOB_END) clk->step = s->slots[j].step;
                thread_clock_phase(clk, PHASE_DISPATCH);
                if (j == JOB_END) {
                    ended = 1;
                    close_step(s, c);
                } else {
                    received++;
                    forward(s, c, c->rr, j);
                    c->rr = (c->rr + 1) % c->plan.n_children;
                }
                pthread_mutex_lock(&c->mu);
                continue;
            }
            int before = next;
            reduce_ready(s, c, &next, clk);
            if (next != before) continue;
            if (ended && next == c->n_list) break;
            thread_clock_phase(clk, PHASE_WAIT);
            waiter_wait(&c->wake, &c->mu);
        }
        pthread_mutex_unlock(&c->mu);
        if (shutting_down(s)) break;
        if (received > 0) publish_sum_and_wait(s, c, clk);
    }
    team_thread_end(&s->t, c->plan.id);
}

/* A job from a kissing neighbour's inbox (the back: the work it would reach
 * last), or -1. */
static int steal_job(SphereState *s, SNode *w) {
    for (int i = 0; i < w->n_neighbours; i++) {
        SNode *v = &s->nodes[w->neighbours[i]];
        pthread_mutex_lock(&v->mu);
        int j = v->count > 0 ? inbox_pop_back(v) : -1;
        pthread_mutex_unlock(&v->mu);
        if (j >= 0) return j;
    }
    return -1;
}

static void worker_main(SphereState *s, SNode *w) {
    int id = w->plan.id;
    ThreadClock *clk = team_thread_begin(&s->t, id, ROLE_WORKER, w->plan.level, PHASE_WAIT);
    pthread_mutex_lock(&w->mu);
    for (;;) {
        int j = -1;
        while (!shutting_down(s)) {
            if (w->count > 0) {
                j = inbox_pop_front(w);
                break;
            }
            if (s->route == ROUTE_STEAL && w->n_neighbours > 0) {
                pthread_mutex_unlock(&w->mu);
                j = steal_job(s, w);
                pthread_mutex_lock(&w->mu);
                if (j >= 0) break;
                if (w->count > 0) continue; /* pushed while we looked elsewhere */
                /* Nothing to steal: sleep, but wake within a millisecond to look
                 * again, since a neighbour's new work does not signal us. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&w->wake.cv, &w->mu, &ts);
            } else {
                waiter_wait(&w->wake, &w->mu);
            }
        }
        if (j < 0) break;
        pthread_mutex_unlock(&w->mu);

        JobSlot *slot = &s->slots[j];
        clk->step = slot->step;
        clk->batch = slot->batch;
        thread_clock_phase(clk, PHASE_COMPUTE);
        float loss = model_forward(&w->ws, s->params, s->slot_inputs + (size_t)j * s->t.bt,
                                   s->slot_targets + (size_t)j * s->t.bt, s->t.cfg.B, s->t.cfg.T);
        model_backward(s->slot_grad + (size_t)j * s->t.n_params, &w->ws, s->params);
        clk->batches++;
        thread_clock_phase(clk, PHASE_WAIT);

        SNode *owner = &s->nodes[slot->owner];
        pthread_mutex_lock(&owner->mu);
        slot->worker = id;
        slot->loss = loss;
        atomic_store_explicit(&slot->done, 1, memory_order_release);
        waiter_notify(&owner->wake);
        pthread_mutex_unlock(&owner->mu);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    team_thread_end(&s->t, id);
}

/* Thread id's body: the node's role decides. */
static void node_main(void *ctx, int id) {
    SphereState *s = ctx;
    SNode *n = &s->nodes[id];
    if (n->plan.role == ROLE_CONTROL)
        control_main(s, n);
    else
        worker_main(s, n);
}

static void sphere_destroy(void *state);

/* Kissing neighbours of worker w, in the order it tries them: its siblings,
 * then the workers among the children of its parent's siblings. */
static int build_neighbours(SphereState *s, SNode *w) {
    const SphereNode *nodes = s->plan.nodes;
    const SphereNode *parent = &nodes[w->plan.parent];
    int cap = s->plan.threads, n = 0;
    w->neighbours = malloc(sizeof(int) * (size_t)cap);
    if (!w->neighbours) return -1;
    for (int c = parent->first_child; c < parent->first_child + parent->n_children; c++)
        if (c != w->plan.id && nodes[c].role == ROLE_WORKER) w->neighbours[n++] = c;
    if (parent->parent >= 0) {
        const SphereNode *gp = &nodes[parent->parent];
        for (int u = gp->first_child; u < gp->first_child + gp->n_children; u++) {
            if (u == parent->id) continue;
            for (int c = nodes[u].first_child; c < nodes[u].first_child + nodes[u].n_children; c++)
                if (nodes[c].role == ROLE_WORKER) w->neighbours[n++] = c;
        }
    }
    w->n_neighbours = n;
    return 0;
}

/* a batch per worker of the tree cfg asks for (controls compute none); 1 for a
 * tree that cannot be built, which create then refuses */
static int sphere_default_bps(const VariantConfig *cfg) {
    SpherePlan plan;
    if (sphere_plan_build(&plan, cfg->threads, cfg->fanout ? cfg->fanout : SPHERE_DEFAULT_FANOUT, NULL)) return 1;
    int workers = plan.n_workers;
    sphere_plan_free(&plan);
    return workers;
}

static sb_status sphere_create(void **state, const VariantConfig *cfg, sb_error *err) {
    *state = NULL;
    int k = 0;
    while (cfg->route && sphere_routes[k] && strcmp(cfg->route, sphere_routes[k]) != 0) k++;
    if (!sphere_routes[k])
        return sb_fail(err, SB_ECONFIG, "unknown routing policy '%s' (symmetry, round-robin, steal)", cfg->route);
    RoutePolicy route = (RoutePolicy)k;
    /* the plan checks the thread count */
    sb_status st = team_check_config(cfg, "sphere", 0, NULL, err);
    if (st) return st;
    SpherePlan plan;
    if ((st = sphere_plan_build(&plan, cfg->threads, cfg->fanout ? cfg->fanout : SPHERE_DEFAULT_FANOUT, err)))
        return st;
    size_t n_params = model_param_count(&cfg->model);
    double ws_bytes = (double)workspace_bytes(&cfg->model, cfg->B, cfg->T);
    int controls = plan.threads - plan.n_workers;
    int bps = variant_batches_per_step(&variant_sphere, cfg);
    double need = plan.n_workers * ws_bytes + (double)(bps + controls) * 4.0 * n_params;
    if ((st = team_check_memory("sphere", plan.threads, need, err))) {
        sphere_plan_free(&plan);
        return st;
    }
    SphereState *s = calloc(1, sizeof *s);
    if (!s) {
        sphere_plan_free(&plan);
        return sb_fail(err, SB_ENOMEM, "out of memory");
    }
    s->route = route;
    s->plan = plan;
    int N = plan.threads;
    if ((st = team_init(&s->t, cfg, N, bps, err))) {
        sphere_destroy(s);
        return st;
    }
    size_t bt = s->t.bt;
    s->nodes = calloc((size_t)N, sizeof *s->nodes);
    s->slots = calloc((size_t)bps, sizeof *s->slots);
    s->slot_grad = team_alloc(sizeof(float) * n_params * (size_t)bps);
    s->slot_inputs = team_alloc(sizeof(int) * bt * (size_t)bps);
    s->slot_targets = team_alloc(sizeof(int) * bt * (size_t)bps);
    s->group_batches = calloc((size_t)plan.nodes[0].n_children, sizeof(uint64_t));
    if (!s->nodes || !s->slots || !s->slot_grad || !s->slot_inputs || !s->slot_targets || !s->group_batches)
        goto nomem;
    for (int i = 0; i < N; i++) {
        SNode *n = &s->nodes[i];
        n->plan = plan.nodes[i];
        n->tree = s;
        pthread_mutex_init(&n->mu, NULL);
        /* workers always sleep; --wait is how controls wait */
        waiter_init(&n->wake, n->plan.role == ROLE_CONTROL ? cfg->wait : WAIT_BLOCK);
        n->cap = bps + 2;
        n->ring = malloc(sizeof(int) * (size_t)n->cap);
        if (!n->ring) goto nomem;
        int g = i;
        while (g > 0 && plan.nodes[g].level > 1) g = plan.nodes[g].parent;
        n->group = i == 0 ? -1 : g - plan.nodes[0].first_child;
        if (n->plan.role == ROLE_CONTROL) {
            n->cap_list = bps + n->plan.n_children;
            n->list = malloc(sizeof(Contribution) * (size_t)n->cap_list);
            n->fwd_count = calloc((size_t)n->plan.n_children, sizeof(int));
            n->acc = team_alloc(sizeof(float) * n_params);
            if (!n->list || !n->fwd_count || !n->acc) goto nomem;
        } else {
            if (build_neighbours(s, n)) goto nomem;
            if ((st = workspace_init(&n->ws, &cfg->model, cfg->B, cfg->T, err))) {
                sphere_destroy(s);
                return st;
            }
        }
    }
    *state = s;
    return SB_OK;
nomem:
    sphere_destroy(s);
    return sb_fail(err, SB_ENOMEM, "out of memory for a tree of %d threads", N);
}

/* The level-1 child (index among the root's children) a batch goes to. */
static int route_batch(SphereState *s, int j, uint64_t batch_index) {
    int fan = s->nodes[0].plan.n_children;
    if (s->route == ROUTE_ROUND_ROBIN) return (int)(batch_index % (uint64_t)fan);
    return sphere_dominant_group(s->slot_inputs + (size_t)j * s->t.bt, s->t.bt) % fan;
}

/* The root's share of a step: sum what its children send, in its list's order. */
static void root_reduce(SphereState *s, SNode *root, ThreadClock *clk) {
    int next = 0;
    pthread_mutex_lock(&root->mu);
    while (next < root->n_list) {
        reduce_ready(s, root, &next, clk);
        if (next < root->n_list) {
            thread_clock_phase(clk, PHASE_WAIT);
            waiter_wait(&root->wake, &root->mu);
        }
    }
    pthread_mutex_unlock(&root->mu);
}

static sb_status sphere_run(void *state, float *params, uint64_t first_batch, uint64_t batches, RunResult *res,
                            sb_error *err) {
    SphereState *s = state;
    Team *t = &s->t;
    const VariantConfig *c = &t->cfg;
    sb_status st = team_run_begin(t, first_batch, batches, ROLE_CONTROL, 0, PHASE_DISPATCH, res, err);
    if (st) return st;
    memset(s->group_batches, 0, sizeof(uint64_t) * (size_t)s->nodes[0].plan.n_children);
    s->params = params;
    atomic_store(&s->shutdown, 0);
    int N = s->plan.threads;
    for (int i = 0; i < N; i++) {
        s->nodes[i].head = s->nodes[i].count = 0;
        s->nodes[i].holding = s->nodes[i].sum_ready = 0;
    }
    SNode *root = &s->nodes[0];
    ThreadClock *clk = &t->clocks[0];
    if ((st = team_start(t, node_main, s, err))) goto stop;

    uint64_t k = 0;
    for (long step = 1; step <= t->book.steps; step++) {
        int in_step = train_step_batches(batches, k, t->bps);
        start_step(root);
        clk->step = (int32_t)step;
        thread_clock_phase(clk, PHASE_DISPATCH);
        for (int j = 0; j < in_step; j++) {
            uint64_t b = first_batch + k + (uint64_t)j;
            if ((st = tokens_window(s->slot_inputs + (size_t)j * t->bt, s->slot_targets + (size_t)j * t->bt, c->data,
                                    b * t->bt, c->B, c->T, err)))
                goto stop;
            s->slots[j].step = (int32_t)step;
            s->slots[j].batch = (int64_t)b;
            forward(s, root, route_batch(s, j, b), j);
        }
        close_step(s, root);
        root_reduce(s, root, clk);
        thread_clock_phase(clk, PHASE_OPTIMIZER);
        double loss_sum = 0.0;
        for (int j = 0; j < in_step; j++) loss_sum += s->slots[j].loss; /* batch order, as serial */
        step_book_update(&t->book, params, root->acc, in_step, loss_sum);
        for (int j = 0; j < in_step; j++) atomic_store_explicit(&s->slots[j].done, 0, memory_order_relaxed);
        k += (uint64_t)in_step;
    }
stop:
    thread_clock_phase(clk, PHASE_WAIT);
    atomic_store_explicit(&s->shutdown, 1, memory_order_release);
    for (int i = 1; i < N; i++) {
        pthread_mutex_lock(&s->nodes[i].mu);
        waiter_notify(&s->nodes[i].wake);
        pthread_mutex_unlock(&s->nodes[i].mu);
    }
    team_run_end(t, st, res);
    if (st) return st;
    for (int i = 0; i < N; i++)
        if (s->nodes[i].plan.role == ROLE_WORKER) s->group_batches[s->nodes[i].group] += t->clocks[i].batches;
    res->n_groups = root->plan.n_children;
    res->group_batches = s->group_batches;
    return SB_OK;
}

static void sphere_destroy(void *state) {
    SphereState *s = state;
    if (!s) return;
    for (int i = 0; s->nodes && i < s->plan.threads; i++) {
        SNode *n = &s->nodes[i];
        if (!n->tree) continue; /* never initialised */
        pthread_mutex_destroy(&n->mu);
        waiter_destroy(&n->wake);
        free(n->ring);
        free(n->list);
        free(n->fwd_count);
        free(n->acc);
        free(n->neighbours);
        workspace_free(&n->ws);
    }
    free(s->nodes);
    free(s->slots);
    free(s->slot_grad);
    free(s->slot_inputs);
    free(s->slot_targets);
    free(s->group_batches);
    team_free(&s->t);
    sphere_plan_free(&s->plan);
    free(s);
}

const Variant variant_sphere = {
    .name = "sphere",
    .summary = "kissing-sphere tree: controls forward batches and sum gradients upward",
    .min_threads = 2,
    .default_threads = 2,
    .default_batches_per_step = sphere_default_bps,
    .batches_per_step_doc = "one per worker",
    .routes = sphere_routes,
    .create = sphere_create,
    .run = sphere_run,
    .destroy = sphere_destroy,
};
