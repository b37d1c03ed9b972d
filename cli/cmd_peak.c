/* cmd_peak.c - `peak`: measure the machine's fp32 FMA and memory-bandwidth ceilings. */
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "../bench/peak.h"
#include "../core/json_write.h"

int cmd_peak(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--array-mb", 0, "N: size of each bandwidth array in MB (default 256: far beyond any cache)"},
        {"--json", 1, "print the figures as JSON"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "peak", "[--array-mb N] [--json]", specs, 0, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    long long mb = 256;
    if (cli_get_long(&a, "--array-mb", 1, 1 << 16, &mb, &err)) return cli_error("peak", err.msg, 1);
    PeakResult p;
    if (peak_measure(&p, (double)mb, &err)) return cli_error("peak", err.msg, 0);
    if (cli_flag(&a, "--json")) {
        JsonWriter w;
        json_init(&w, stdout, "standard output", 1);
        peak_json(&w, &p);
        if (json_finish(&w, &err)) return cli_error("peak", err.msg, 0);
    } else {
        peak_print(stdout, &p);
    }
    return 0;
}
