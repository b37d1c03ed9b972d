/* cache.c - checking and regenerating the bench's dataset; see cache.h. */
#include "cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/json_read.h"
#include "../core/path.h"
#include "../core/tokenizer.h"

/* The whole of a small file, NUL-terminated; NULL when it cannot be read or
 * is larger than any statistics file (it is then not one). */
static char *read_small_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    int whole = buf && !ferror(f) && n < 65536;
    fclose(f);
    if (!whole) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* 0 when the cached files match; otherwise fills why. */
static int cache_valid(DatasetInfo *info, TokenFile *tf, uint64_t bytes, uint64_t seed, uint32_t vocab) {
    char json_path[SB_PATH_MAX];
    sb_error e;
    if (path_suffix(json_path, sizeof json_path, info->text_path, ".json", &e)) {
        snprintf(info->why, sizeof info->why, "%s", e.msg);
        return -1;
    }
    char *json = read_small_file(json_path);
    if (!json) {
        snprintf(info->why, sizeof info->why, "%s is missing or unreadable", json_path);
        return -1;
    }
    JsonFlat *stats = malloc(sizeof *stats); /* 20 kB: on the heap, whichever thread asks */
    double jb, jt, js, jh, jty;
    int bad = !stats ? (sb_fail(&e, SB_ENOMEM, "out of memory reading %s", json_path), 1)
                     : json_flat_parse(stats, json, json_path, &e) ||
                           json_flat_number(stats, "bytes", &jb, json_path, &e) ||
                           json_flat_number(stats, "tokens", &jt, json_path, &e) ||
                           json_flat_number(stats, "seed", &js, json_path, &e) ||
                           json_flat_number(stats, "entropy_nats_per_token", &jh, json_path, &e) ||
                           json_flat_number(stats, "types", &jty, json_path, &e);
    free(stats);
    free(json);
    if (bad) {
        snprintf(info->why, sizeof info->why, "the corpus statistics do not read: %s", e.msg);
        return -1;
    }
    if (!(jb >= 0 && jt >= 0 && js >= 0 && jty >= 0 && js < 18446744073709551616.0)) { /* null reads as NaN */
        snprintf(info->why, sizeof info->why, "%s holds a count that is null, negative or too large", json_path);
        return -1;
    }
    if ((uint64_t)js != seed || (jb < 0.99 * (double)bytes || jb > 1.01 * (double)bytes)) {
        snprintf(info->why, sizeof info->why, "the cached corpus was made with other parameters (%.0f bytes, seed %.0f)",
                 jb, js);
        return -1;
    }
    struct stat st;
    if (stat(info->text_path, &st) != 0 || (double)st.st_size != jb) {
        snprintf(info->why, sizeof info->why, "%s is missing or not the size its JSON records", info->text_path);
        return -1;
    }
    if (tokens_load(tf, info->tokens_path, &e)) {
        snprintf(info->why, sizeof info->why, "%s", e.msg);
        return -1;
    }
    uint32_t want_vocab = jty + 5 < vocab ? (uint32_t)jty + 5 : vocab;
    if ((double)tf->n_tokens != jt || tf->vocab_size != want_vocab) {
        snprintf(info->why, sizeof info->why, "%s has %llu tokens and vocabulary %u; the corpus needs %.0f and %u",
                 info->tokens_path, (unsigned long long)tf->n_tokens, tf->vocab_size, jt, want_vocab);
        tokens_free(tf);
        return -1;
    }
    info->corpus.bytes = (uint64_t)jb;
    info->corpus.tokens = (uint64_t)jt;
    info->corpus.types = (uint64_t)jty;
    info->corpus.seed = (uint64_t)js;
    info->corpus.entropy_nats = jh;
    return 0;
}

sb_status dataset_ensure(DatasetInfo *info, TokenFile *tf, const char *dir, uint64_t bytes, uint64_t seed,
                         uint32_t vocab, sb_error *err) {
    memset(info, 0, sizeof *info);
    memset(tf, 0, sizeof *tf);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sb_fail(err, SB_EIO, "%s: cannot create the dataset folder: %s", dir, strerror(errno));
    sb_status st = path_join(info->text_path, sizeof info->text_path, dir, "corpus.txt", err);
    if (st || (st = path_join(info->tokens_path, sizeof info->tokens_path, dir, "corpus.tok", err))) return st;
    if (cache_valid(info, tf, bytes, seed, vocab) == 0) return SB_OK;
    fprintf(stderr, "bench: making the dataset in %s (%s)\n", dir, info->why);
    info->regenerated = 1;
    st = corpus_write(info->text_path, bytes, seed, &info->corpus, err);
    if (st) return st;
    TokenizeStats ts;
    if ((st = tokenize_file(info->text_path, info->tokens_path, vocab, &ts, err))) return st;
    if ((st = tokens_load(tf, info->tokens_path, err))) return st;
    fprintf(stderr, "bench: dataset: %llu bytes, %llu tokens, %llu types, vocabulary %u\n",
            (unsigned long long)info->corpus.bytes, (unsigned long long)tf->n_tokens,
            (unsigned long long)info->corpus.types, tf->vocab_size);
    return SB_OK;
}
