/* cli.c - option parsing for the subcommands; see cli.h. */
#include "cli.h"

#include "../core/safe_file.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int spec_index_n(const CliOptSpec *specs, const char *name, size_t len) {
    for (int i = 0; specs[i].name; i++)
        if (strlen(specs[i].name) == len && strncmp(specs[i].name, name, len) == 0) return i;
    return -1;
}

static int spec_index(const CliOptSpec *specs, const char *name) { return spec_index_n(specs, name, strlen(name)); }

sb_status cli_parse(CliArgs *a, const char *command, const CliOptSpec *specs, int max_positional, int argc,
                    char **argv, sb_error *err) {
    memset(a, 0, sizeof *a);
    a->command = command;
    a->specs = specs;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] == '-' && w[1] && !isdigit((unsigned char)w[1]) && w[1] != '.') {
            /* "--opt=value" is "--opt value" */
            const char *eq = w[1] == '-' ? strchr(w, '=') : NULL;
            size_t len = eq ? (size_t)(eq - w) : strlen(w);
            int k = spec_index_n(specs, w, len);
            if (k < 0)
                return sb_fail(err, SB_EARG, "unknown option '%.*s' (see '%s %s --help')", (int)len, w,
                               cli_program, command);
            if (a->values[k])
                return sb_fail(err, SB_EARG, "option %s is given twice; give it once", specs[k].name);
            if (specs[k].is_flag) {
                if (eq) return sb_fail(err, SB_EARG, "option %s takes no value (got '%s')", specs[k].name, w);
                a->values[k] = "1";
            } else if (eq) {
                a->values[k] = eq + 1;
            } else {
                if (i + 1 >= argc) return sb_fail(err, SB_EARG, "option %s needs a value", w);
                a->values[k] = argv[++i];
            }
        } else {
            if (a->n_positional >= max_positional)
                return sb_fail(err, SB_EARG, "unexpected argument '%s' (see '%s %s --help')", w,
                               cli_program, command);
            a->positional[a->n_positional++] = w;
        }
    }
    return SB_OK;
}

const char *cli_get(const CliArgs *a, const char *name) {
    int k = spec_index(a->specs, name);
    return k < 0 ? NULL : a->values[k];
}

int cli_flag(const CliArgs *a, const char *name) { return cli_get(a, name) != NULL; }

sb_status cli_require(const CliArgs *a, const char *name, const char **out, sb_error *err) {
    *out = cli_get(a, name);
    if (!*out || !**out) return sb_fail(err, SB_EARG, "%s is required", name);
    return SB_OK;
}

sb_status cli_get_long(const CliArgs *a, const char *name, long long min, long long max, long long *out,
                       sb_error *err) {
    const char *v = cli_get(a, name);
    if (!v) return SB_OK;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return sb_fail(err, SB_EARG, "%s wants an integer, got '%s'", name, v);
    if (x < min || x > max)
        return sb_fail(err, SB_EARG, "%s %lld is outside %lld..%lld", name, x, min, max);
    *out = x;
    return SB_OK;
}

sb_status cli_get_double(const CliArgs *a, const char *name, double min, double max, double *out, sb_error *err) {
    const char *v = cli_get(a, name);
    if (!v) return SB_OK;
    char *end = NULL;
    errno = 0;
    /* decimal only: strtod would also read hex ("0x10" is 16), "inf" and "nan" */
    double x = v[strspn(v, "0123456789+-.eE")] ? NAN : strtod(v, &end);
    if (isnan(x) || errno || end == v || *end || !isfinite(x))
        return sb_fail(err, SB_EARG, "%s wants a decimal number, got '%s'", name, v);
    if (x < min || x > max)
        return sb_fail(err, SB_EARG, "%s %g is outside %g..%g", name, x, min, max);
    *out = x;
    return SB_OK;
}

void cli_print_usage(const char *command, const char *synopsis, const CliOptSpec *specs) {
    printf("usage: %s %s %s\n", cli_program, command, synopsis);
    for (int i = 0; specs[i].name; i++)
        printf("  %-20s %s\n", specs[i].name, specs[i].help);
}

/* The main program's name; the MPI program defines its own (mpi/main.c). */
__attribute__((weak)) const char *const cli_program = "sphere-bench";

int cli_error(const char *command, const char *msg, int is_usage) {
    fprintf(stderr, "%s: %s: %s\n", cli_program, command, msg);
    return is_usage ? 2 : 1;
}

int cli_exit_status(int rc, const char *program) {
    int e = fflush(stdout) == 0 ? 0 : errno;
    if (!e && !ferror(stdout)) return rc;
    fprintf(stderr, "%s: cannot write standard output: %s\n", program,
            e ? strerror(e) : "an earlier write to it failed");
    return rc ? rc : 1;
}

int cli_parse_command(CliArgs *a, const char *command, const char *synopsis, const CliOptSpec *specs,
                      int max_positional, int argc, char **argv) {
    sb_error err;
    if (cli_parse(a, command, specs, max_positional, argc, argv, &err)) return cli_error(command, err.msg, 1);
    if (cli_flag(a, "--help")) {
        cli_print_usage(command, synopsis, specs);
        return 0;
    }
    return -1;
}

sb_status cli_check_output(const char *option, const char *path, sb_error *err) {
    return path ? safe_output_check(option, path, err) : SB_OK;
}

sb_status cli_get_wait(const CliArgs *a, WaitMode *out, sb_error *err) {
    const char *v = cli_get(a, "--wait");
    if (!v) return SB_OK;
    if (strcmp(v, "block") == 0)
        *out = WAIT_BLOCK;
    else if (strcmp(v, "spin") == 0)
        *out = WAIT_SPIN;
    else
        return sb_fail(err, SB_EARG, "--wait takes block or spin, got '%s'", v);
    return SB_OK;
}
