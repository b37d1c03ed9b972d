/* generate.c - the sampling loop; see generate.h. */
#include "generate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "sample.h"

static const char *word_of(const Vocab *v, int id) { return id < (int)v->size ? v->words[id] : "<unk>"; }

sb_status generate_text(FILE *f, const float *params, const ModelConfig *c, const Vocab *vocab, const char *prompt,
                        int n, float temperature, int top_k, uint64_t seed, sb_error *err) {
    if (vocab->size > (uint32_t)c->V)
        return sb_fail(err, SB_ECONFIG, "the vocabulary has %u words but the model only %d", vocab->size, c->V);
    size_t cap = strlen(prompt) / 2 + 2 + (size_t)n, len = 0;
    int *ctx = malloc(cap * sizeof(int));
    float *scratch = malloc((size_t)c->V * sizeof(float));
    Workspace ws = {0};
    sb_status st = SB_OK;
    if (!ctx || !scratch) {
        st = sb_fail(err, SB_ENOMEM, "out of memory for generation");
        goto out;
    }
    if ((st = workspace_init(&ws, c, 1, c->T, err))) goto out;
    char word[256];
    for (const char *p = prompt; *p;) {
        while (*p && isspace((unsigned char)*p)) p++;
        size_t w = 0;
        while (*p && !isspace((unsigned char)*p)) {
            if (w + 1 < sizeof word) word[w] = *p;
            w++, p++;
        }
        if (!w) break;
        /* the tokenizer's rule: a word longer than the vocabulary's longest
         * (255 bytes) is UNK, never its truncated prefix */
        word[w < sizeof word ? w : sizeof word - 1] = 0;
        ctx[len++] = w < sizeof word ? (int)vocab_lookup(vocab, word) : TOKEN_UNK;
    }
    if (len == 0) {
        st = sb_fail(err, SB_EARG, "the prompt has no words; give at least one");
        goto out;
    }
    Rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < len; i++) fprintf(f, "%s%s", i ? " " : "", word_of(vocab, ctx[i]));
    for (int k = 0; k < n; k++) {
        size_t t = len < (size_t)c->T ? len : (size_t)c->T;
        model_forward(&ws, params, ctx + len - t, NULL, 1, (int)t);
        int next = sample_token(ws.probs, scratch, c->V, temperature, top_k, &r);
        ctx[len++] = next;
        fprintf(f, " %s", word_of(vocab, next));
    }
    fprintf(f, "\n");
out:
    workspace_free(&ws);
    free(ctx);
    free(scratch);
    return st;
}
