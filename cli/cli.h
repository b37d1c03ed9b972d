/* cli.h - command-line parsing shared by the subcommands.
 *
 * Each subcommand declares the options it takes; parsing refuses anything
 * else by name, and any option given twice. "--opt value" and "--opt=value"
 * are the same. The typed getters refuse malformed or out-of-range
 * numbers with a message that names the option, so no subcommand ever runs
 * with a value it did not understand. */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stdint.h>

#include "../core/error.h"
#include "../variants/variant.h"

#define CLI_MAX_OPTS 32
#define CLI_MAX_POSITIONAL 4

typedef struct {
    const char *name;  /* "--data" */
    int is_flag;       /* takes no value */
    const char *help;
} CliOptSpec;

typedef struct {
    const char *command;
    const CliOptSpec *specs; /* terminated by a NULL name */
    const char *values[CLI_MAX_OPTS]; /* parsed value per spec, NULL if absent; "1" for a flag */
    const char *positional[CLI_MAX_POSITIONAL];
    int n_positional;
} CliArgs;

/* Parses argv[0..argc) (the words after the subcommand name). */
sb_status cli_parse(CliArgs *a, const char *command, const CliOptSpec *specs, int max_positional, int argc,
                    char **argv, sb_error *err) SB_MUST_CHECK;

/* The value of an option, or NULL. */
const char *cli_get(const CliArgs *a, const char *name);
/* The value of an option that must be given. */
sb_status cli_require(const CliArgs *a, const char *name, const char **out, sb_error *err) SB_MUST_CHECK;
/* Integer options: absent leaves *out unchanged (the default). */
sb_status cli_get_long(const CliArgs *a, const char *name, long long min, long long max, long long *out,
                       sb_error *err) SB_MUST_CHECK;
sb_status cli_get_double(const CliArgs *a, const char *name, double min, double max, double *out, sb_error *err)
    SB_MUST_CHECK;
int cli_flag(const CliArgs *a, const char *name);
/* --wait block|spin: absent leaves *out unchanged (the default). */
sb_status cli_get_wait(const CliArgs *a, WaitMode *out, sb_error *err) SB_MUST_CHECK;

/* The program's name in usage lines, messages and hints: "sphere-bench",
 * or "sphere-bench-mpi" in the MPI program, which defines its own (a
 * link-time constant: cli.c's is weak). */
extern const char *const cli_program;

/* Prints "<program>: <command>: <message>" to stderr and returns the exit
 * status: 2 for a usage error, 1 for a failure of the work. */
int cli_error(const char *command, const char *msg, int is_usage);

/* The exit status once standard output is flushed: a write to it that
 * failed (a full disk, /dev/full) turns success into failure (1), with a
 * message naming the program. A closed pipe ends the program through SIGPIPE
 * first, quietly, as a filter should. Every command's status passes here. */
int cli_exit_status(int rc, const char *program);

/* Parses a subcommand's words; prints its usage for --help. Returns -1 when
 * the command should go on, otherwise the exit status to return at once. */
int cli_parse_command(CliArgs *a, const char *command, const char *synopsis, const CliOptSpec *specs,
                      int max_positional, int argc, char **argv);

/* Refuses, before any work is done, an output path whose directory is
 * missing or not writable; NULL passes. */
sb_status cli_check_output(const char *option, const char *path, sb_error *err) SB_MUST_CHECK;

/* Prints a command's options to stdout. */
void cli_print_usage(const char *command, const char *synopsis, const CliOptSpec *specs);

#endif
