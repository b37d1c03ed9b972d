/* corpus.h - the synthetic English-like corpus every benchmark trains on.
 *
 * `sphere-bench corpus` writes a deterministic text whose generating process
 * has an exactly computable entropy rate, so the report can draw the floor
 * the training loss may approach. Defaults: 73 MB, about 9.3 M word tokens,
 * about 5000 word types with Zipf-like frequencies. The statistics are written
 * beside the text as FILE.json. */
#ifndef SB_CORPUS_H
#define SB_CORPUS_H

#include <stdint.h>

#include "../core/error.h"

#define CORPUS_DEFAULT_BYTES 73000000ull
#define CORPUS_DEFAULT_SEED 1ull

typedef struct {
    uint64_t bytes;        /* bytes written to the text file */
    uint64_t tokens;       /* whitespace-separated words written */
    uint64_t types;        /* distinct words (after lower-casing) that occur */
    uint64_t seed;
    double entropy_nats;   /* entropy rate of the process, nats per token */
} CorpusStats;

/* Writes the corpus to path (and path + ".json"), target_bytes within 1%.
 * Refuses target_bytes below 1000 with SB_ECONFIG. stats may be NULL. */
sb_status corpus_write(const char *path, uint64_t target_bytes, uint64_t seed, CorpusStats *stats,
                       sb_error *err) SB_MUST_CHECK;

#endif
