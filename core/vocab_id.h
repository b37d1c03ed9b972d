/* vocab_id.h - a vocabulary's fingerprint, so a token file and a checkpoint
 * can say which vocabulary their ids mean.
 *
 * Two corpora tokenized to the same size give ids of the same range that
 * mean different words: a model trained on one samples plausible wrong words
 * through the other's vocabulary. The fingerprint is FNV-1a (32 bits) of the
 * vocabulary file's bytes exactly as written (tokenize) or read (vocab_load),
 * recorded in the token file's header and, through ModelConfig, in every
 * checkpoint trained on it; readers refuse a mismatch. 0 means "not recorded"
 * (files from before it existed, which every reader still accepts), so a
 * fingerprint that comes out 0 is taken as 1. */
#ifndef SB_VOCAB_ID_H
#define SB_VOCAB_ID_H

#include <stddef.h>
#include <stdint.h>

#define VOCAB_ID_START 2166136261u /* FNV-1a's offset basis */

/* The fingerprint so far, h, continued over n more bytes. */
static inline uint32_t vocab_id_add(uint32_t h, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* The finished fingerprint: never 0, which means "not recorded". */
static inline uint32_t vocab_id_end(uint32_t h) { return h ? h : 1u; }

#endif
