/* commands.h - the subcommands of build/sphere-bench.
 *
 * Each takes the words after its name and returns the process exit status:
 * 0 on success, 1 when the work failed (the error is printed), 2 for a
 * usage error. */
#ifndef SB_COMMANDS_H
#define SB_COMMANDS_H

int cmd_corpus(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_grad(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_peak(int argc, char **argv);
int cmd_bench_core(int argc, char **argv);

#endif
