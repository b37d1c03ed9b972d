/* cmd_plan.c - `plan`: print the kissing-sphere tree for N threads, as text or JSON. */
#include <stdio.h>

#include "../core/json_write.h"
#include "../variants/sphere_plan.h"
#include "cli.h"
#include "commands.h"

int cmd_plan(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--threads", 0, "N: threads in the tree, root included"},
        {"--fanout", 0, "F: children per control (default 12)"},
        {"--json", 1, "print {\"threads\", \"fanout\", \"nodes\": [{\"id\", \"parent\", \"level\", \"role\"}]}"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "plan", "--threads N [--fanout F] [--json]", specs, 0, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    long long threads = 0, fanout = SPHERE_DEFAULT_FANOUT;
    if (cli_get_long(&a, "--threads", -(1LL << 40), 1LL << 40, &threads, &err) ||
        cli_get_long(&a, "--fanout", -(1LL << 40), 1LL << 40, &fanout, &err))
        return cli_error("plan", err.msg, 1);
    if (!cli_get(&a, "--threads")) return cli_error("plan", "--threads is required", 1);
    if (threads < 2 || threads > SPHERE_MAX_THREADS || fanout < 1 || fanout > SPHERE_MAX_THREADS) {
        sb_fail(&err, SB_EARG, "a tree needs 2..%d threads (a root and a worker) and a fan-out of 1..%d; got "
                "--threads %lld --fanout %lld", SPHERE_MAX_THREADS, SPHERE_MAX_THREADS, threads, fanout);
        return cli_error("plan", err.msg, 1);
    }
    SpherePlan p;
    if (sphere_plan_build(&p, (int)threads, (int)fanout, &err))
        return cli_error("plan", err.msg, 1);
    rc = 0;
    if (cli_flag(&a, "--json")) {
        JsonWriter w;
        json_init(&w, stdout, "standard output", 2);
        json_object_begin(&w);
        json_kv_int(&w, "threads", p.threads);
        json_kv_int(&w, "fanout", p.fanout);
        json_key(&w, "nodes");
        json_array_begin(&w);
        for (int i = 0; i < p.threads; i++) {
            json_object_begin(&w);
            json_kv_int(&w, "id", p.nodes[i].id);
            json_kv_int(&w, "parent", p.nodes[i].parent);
            json_kv_int(&w, "level", p.nodes[i].level);
            json_kv_string(&w, "role", role_name(p.nodes[i].role));
            json_object_end(&w);
        }
        json_array_end(&w);
        json_object_end(&w);
        if (json_finish(&w, &err)) rc = cli_error("plan", err.msg, 0);
    } else {
        printf("%d threads, fan-out %d: %d levels, %d controls, %d workers\n", p.threads, p.fanout, p.levels,
               p.threads - p.n_workers, p.n_workers);
        for (int l = 0; l < p.levels; l++) {
            int controls = 0, workers = 0;
            for (int i = 0; i < p.threads; i++)
                if (p.nodes[i].level == l) *(p.nodes[i].role == ROLE_CONTROL ? &controls : &workers) += 1;
            printf("  level %d: %d controls, %d workers\n", l, controls, workers);
        }
        for (int i = 0; i < p.threads; i++)
            if (p.nodes[i].role == ROLE_CONTROL)
                printf("  node %d (level %d) -> children %d..%d\n", i, p.nodes[i].level, p.nodes[i].first_child,
                       p.nodes[i].first_child + p.nodes[i].n_children - 1);
    }
    sphere_plan_free(&p);
    return rc;
}
