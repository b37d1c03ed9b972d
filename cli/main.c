/* main.c - entry point of build/sphere-bench: dispatches to a subcommand.
 *
 * The one program holds every tool of the suite (data, model, training, the
 * bench; the report is report/report.py), so a user and the Makefile need one
 * binary and the tests exercise exactly what users run. Exit status: 0
 * success, 1 the work failed, 2 usage (commands.h). */
#include <stdio.h>
#include <string.h>

#include "../bench/machine.h"
#include "../variants/variant.h"
#include "cli.h"
#include "commands.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    int names_trainers; /* usage appends the registry's trainers, so a new one appears by itself */
} Command;

static const Command commands[] = {
    {"bench", cmd_bench, "the main job: run every trainer, record every thread, write results/", 0},
    {"corpus", cmd_corpus, "write the synthetic English-like corpus and its statistics", 0},
    {"tokenize", cmd_tokenize, "turn a text file into a token file and a vocabulary", 0},
    {"init", cmd_init, "write a freshly initialised checkpoint", 0},
    {"grad", cmd_grad, "write the gradient of the mean loss on one batch", 0},
    {"train", cmd_train, "train a model with one of the trainers", 1},
    {"generate", cmd_generate, "sample text from a checkpoint", 0},
    {"peak", cmd_peak, "measure this machine's fp32 FMA and memory-bandwidth ceilings", 0},
    {"bench-core", cmd_bench_core, "time the training core's kernels on one thread against the measured peak", 0},
    {"plan", cmd_plan, "print the kissing-sphere tree for N threads", 0},
    {NULL, NULL, NULL, 0},
};

static void usage(FILE *f) {
    fprintf(f, "usage: sphere-bench COMMAND [options]   ('sphere-bench help COMMAND' for its options)\n"
               "       sphere-bench --version\n\n");
    for (const Command *c = commands; c->name; c++) {
        fprintf(f, "  %-10s %s", c->name, c->summary);
        if (c->names_trainers) fprintf(f, " (%s)", variant_names());
        fputc('\n', f);
    }
    fprintf(f, "\noptions take '--opt value' or '--opt=value', each at most once.\n"
               "exit status: 0 success, 1 the work failed (a missing or bad file, a failed run), 2 usage (a bad\n"
               "command or option).\n");
}

/* The git revision it was built from (as the bench records it) and how it was built. */
static int version(void) {
    MachineInfo m;
    machine_info_read(&m);
    printf("sphere-bench %s%s\ncompiler: %s\nbuild flags: %s\n", m.git_revision, m.git_dirty ? "-dirty" : "",
           m.compiler, m.cflags);
    return 0;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        if (argc > 2) {
            fprintf(stderr, "sphere-bench: --version takes no arguments\n");
            return 2;
        }
        return version();
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc >= 3) {
            for (const Command *c = commands; c->name; c++)
                if (strcmp(c->name, argv[2]) == 0) {
                    char *help_argv[] = {"--help", NULL};
                    return c->run(1, help_argv);
                }
            fprintf(stderr, "sphere-bench: no command '%s'\n", argv[2]);
            return 2;
        }
        usage(stdout);
        return 0;
    }
    for (const Command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0) return c->run(argc - 2, argv + 2);
    fprintf(stderr, "sphere-bench: no command '%s'\n", name);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv) { return cli_exit_status(dispatch(argc, argv), cli_program); }
