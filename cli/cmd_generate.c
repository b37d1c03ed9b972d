/* cmd_generate.c - `generate`: sample text from a trained checkpoint (core/generate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/checkpoint.h"
#include "../core/generate.h"
#include "../core/tokenizer.h"
#include "cli.h"
#include "commands.h"

int cmd_generate(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--ckpt", 0, "CKPT: the trained model"},
        {"--vocab", 0, "FILE: the vocabulary (TOKENS.vocab written by tokenize)"},
        {"--prompt", 0, "TEXT: words to start from"},
        {"-n", 0, "N: tokens to generate (default 50)"},
        {"--temperature", 0, "X: sampling temperature (default 1.0)"},
        {"--top-k", 0, "K: sample only among the K likeliest tokens (default 0: all)"},
        {"--seed", 0, "S: sampling seed (default 1)"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "generate", "--ckpt CKPT --vocab FILE --prompt TEXT [-n N] [options]", specs, 0,
                               argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    const char *ckpt, *vocab_path, *prompt;
    long long n = 50, top_k = 0, seed = 1;
    double temperature = 1.0;
    if (cli_require(&a, "--ckpt", &ckpt, &err) || cli_require(&a, "--vocab", &vocab_path, &err) ||
        cli_require(&a, "--prompt", &prompt, &err) || cli_get_long(&a, "-n", 0, 1 << 20, &n, &err) ||
        cli_get_long(&a, "--top-k", 0, MODEL_MAX_V, &top_k, &err) ||
        cli_get_long(&a, "--seed", 0, 1LL << 62, &seed, &err) ||
        cli_get_double(&a, "--temperature", 0.01, 100.0, &temperature, &err))
        return cli_error("generate", err.msg, 1);

    ModelConfig c;
    float *params = NULL;
    Vocab vocab = {0};
    rc = 1;
    if (checkpoint_load(ckpt, &c, &params, &err) || vocab_load(&vocab, vocab_path, &err) ||
        checkpoint_vocab_check(ckpt, &c, vocab.id, vocab_path, &err) ||
        generate_text(stdout, params, &c, &vocab, prompt, (int)n, (float)temperature, (int)top_k, (uint64_t)seed,
                      &err))
        cli_error("generate", err.msg, 0);
    else
        rc = 0;
    vocab_free(&vocab);
    free(params);
    return rc;
}
