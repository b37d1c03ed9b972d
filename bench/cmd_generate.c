/* cmd_generate.c - `generate`: sample text from a trained checkpoint.
 *
 * Each new token runs the model over the last T tokens of the context (no
 * cache: this is a check that the model learned something, not a server). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/checkpoint.h"
#include "../core/model.h"
#include "../core/sample.h"
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
    float *params = NULL, *scratch = NULL;
    Vocab vocab = {0};
    Workspace ws = {0};
    int *ctx = NULL;
    size_t len = 0, cap = 0;
    rc = 1;
    if (checkpoint_load(ckpt, &c, &params, &err) || vocab_load(&vocab, vocab_path, &err)) goto fail;
    if (vocab.size > (uint32_t)c.V) {
        snprintf(err.msg, sizeof err.msg, "%s has %u words but the model in %s only %d", vocab_path, vocab.size,
                 ckpt, c.V);
        goto fail;
    }
    cap = strlen(prompt) / 2 + 2 + (size_t)n;
    ctx = malloc(cap * sizeof(int));
    scratch = malloc((size_t)c.V * sizeof(float));
    if (!ctx || !scratch || workspace_init(&ws, &c, 1, c.T, &err)) goto fail;
    char word[256];
    for (const char *p = prompt; *p;) {
        while (*p && isspace((unsigned char)*p)) p++;
        size_t w = 0;
        while (*p && !isspace((unsigned char)*p)) {
            if (w + 1 < sizeof word) word[w++] = *p;
            p++;
        }
        if (!w) break;
        word[w] = 0;
        ctx[len++] = (int)vocab_lookup(&vocab, word);
    }
    if (len == 0) {
        snprintf(err.msg, sizeof err.msg, "--prompt has no words; give at least one");
        goto fail;
    }
    Rng r;
    rng_seed(&r, (uint64_t)seed);
    for (size_t i = 0; i < len; i++) printf("%s%s", i ? " " : "", ctx[i] < (int)vocab.size ? vocab.words[ctx[i]] : "<unk>");
    for (long long k = 0; k < n; k++) {
        size_t t = len < (size_t)c.T ? len : (size_t)c.T;
        model_forward(&ws, params, ctx + len - t, NULL, 1, (int)t);
        int next = sample_token(ws.probs + (t - 1) * (size_t)c.V, scratch, c.V, (float)temperature, (int)top_k, &r);
        ctx[len++] = next;
        printf(" %s", next < (int)vocab.size ? vocab.words[next] : "<unk>");
    }
    printf("\n");
    rc = 0;
fail:
    if (rc) cli_error("generate", err.msg, 0);
    workspace_free(&ws);
    vocab_free(&vocab);
    free(params);
    free(scratch);
    free(ctx);
    return rc;
}
