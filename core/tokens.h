/* tokens.h - the token file and the batches cut from it.
 *
 * A token file is what `sphere-bench tokenize` writes and every trainer reads:
 *   uint32 magic 20261125, uint32 version 2, uint32 vocab size, uint32 the
 *   vocabulary's fingerprint (vocab_id.h; 0: not recorded), uint64 token
 *   count n, then n uint32 token ids, all little-endian. Version 1 files
 *   (the fingerprint field 0) are still read.
 * Loading validates everything a later crash could come from: magic, version,
 * a size that matches the count exactly (truncated or padded files are
 * refused), and every id below the vocab size.
 *
 * Batch k of a run is the B x T window starting at token k*B*T; its targets
 * are the same window shifted by one token, so a file of n tokens holds
 * (n-1) / (B*T) whole batches. */
#ifndef SB_TOKENS_H
#define SB_TOKENS_H

#include <stdint.h>

#include "error.h"
#include "safe_file.h"

#define TOKENS_MAGIC 20261125u
#define TOKENS_VERSION 2u
#define TOKENS_HEADER_BYTES 24

typedef struct {
    uint32_t vocab_size;
    uint32_t vocab_id; /* the vocabulary's fingerprint (vocab_id.h); 0: not recorded */
    uint64_t n_tokens;
    uint32_t *ids; /* n_tokens ids, owned */
} TokenFile;

/* Reads and validates a token file. On failure *tf is left empty. */
sb_status tokens_load(TokenFile *tf, const char *path, sb_error *err) SB_MUST_CHECK;

/* Writes ids as a token file. Writes to a temporary name and renames, so a
 * failed write never leaves a half file under `path`. */
sb_status tokens_save(const char *path, const uint32_t *ids, uint64_t n_tokens, uint32_t vocab_size,
                      uint32_t vocab_id, sb_error *err) SB_MUST_CHECK;

/* The same, left open: every byte written to sf's temporary, nothing
 * renamed, so the caller commits it together with other files
 * (safe_file_commit_all) or aborts it. On failure nothing is left on disk. */
sb_status tokens_save_open(SafeFile *sf, const char *path, const uint32_t *ids, uint64_t n_tokens,
                           uint32_t vocab_size, uint32_t vocab_id, sb_error *err) SB_MUST_CHECK;

void tokens_free(TokenFile *tf);

/* How many whole B x T batches (with their shifted targets) the file holds. */
uint64_t tokens_batch_count(const TokenFile *tf, int B, int T);

/* Copies the B*T inputs starting at token `offset` and the B*T targets
 * starting at offset+1. Fails with SB_ERANGE (naming the offset and the file
 * size) when the window does not fit. */
sb_status tokens_window(int *inputs, int *targets, const TokenFile *tf, uint64_t offset, int B, int T,
                        sb_error *err) SB_MUST_CHECK;

#endif
