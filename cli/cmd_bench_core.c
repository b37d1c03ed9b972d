/* cmd_bench_core.c - `bench-core`: the training core's single-thread speed per
 * kernel, as a fraction of the machine's measured peak. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "../bench/core_bench.h"
#include "../bench/peak.h"
#include "../core/presets.h"

#define MAX_PRESETS 8

int cmd_bench_core(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--model", 0, "LIST: presets to measure, comma-separated (default bench,seed)"},
        {"--vocab", 0, "V: vocabulary size (default 5005, the corpus's)"},
        {"--reps", 0, "N: timed repetitions per kernel after a warm-up, median reported (default 5)"},
        {"--json", 0, "FILE: write the peak and every preset's figures as JSON"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "bench-core", "[--model LIST] [--vocab V] [--reps N] [--json FILE]", specs, 0,
                               argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    long long vocab = 5005, reps = 5;
    if (cli_get_long(&a, "--vocab", 6, MODEL_MAX_V, &vocab, &err) || cli_get_long(&a, "--reps", 1, 64, &reps, &err) ||
        cli_check_output("--json", cli_get(&a, "--json"), &err))
        return cli_error("bench-core", err.msg, 1);
    const char *list = cli_get(&a, "--model") ? cli_get(&a, "--model") : "bench,seed";
    const ModelPreset *presets[MAX_PRESETS];
    int n = 0;
    char buf[256];
    if (strlen(list) >= sizeof buf) return cli_error("bench-core", "--model: the preset list is too long", 1);
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const ModelPreset *p;
        if (model_preset_lookup(&p, tok, &err)) return cli_error("bench-core", err.msg, 1);
        if (n == MAX_PRESETS) return cli_error("bench-core", "--model: at most 8 presets", 1);
        presets[n++] = p;
    }
    if (n == 0) return cli_error("bench-core", "--model: no preset given", 1);

    PeakResult peak;
    if (peak_measure(&peak, 0, &err)) return cli_error("bench-core", err.msg, 0);
    peak_print(stdout, &peak);
    static CoreBench results[MAX_PRESETS];
    for (int i = 0; i < n; i++) {
        if (core_bench_run(&results[i], presets[i], (int)vocab, (int)reps, &peak, &err))
            return cli_error("bench-core", err.msg, 0);
        core_bench_print(stdout, &results[i]);
        fflush(stdout);
    }
    const char *json = cli_get(&a, "--json");
    if (json) {
        if (core_bench_write(json, results, n, &peak, NULL, &err)) return cli_error("bench-core", err.msg, 0);
        printf("bench-core: wrote %s\n", json);
    }
    return 0;
}
