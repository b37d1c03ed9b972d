/* checkpoint.h - the parameter and gradient file.
 *
 * Eight little-endian int32: magic 20261124, version 2, V, T, D, L, H, and
 * the fingerprint of the vocabulary it was trained on (vocab_id.h; 0: not
 * recorded); version 1 files (0 there) are still read;
 * then model_param_count() little-endian float32 in docs/DESIGN.md's order. The
 * same format holds parameters (a checkpoint) or gradients (`grad`'s output):
 * both are buffers of the parameter layout. */
#ifndef SB_CHECKPOINT_H
#define SB_CHECKPOINT_H

#include "model_shape.h"
#include "error.h"

#define CHECKPOINT_MAGIC 20261124
#define CHECKPOINT_VERSION 2
#define CHECKPOINT_HEADER_INTS 8

/* Writes through a temporary file and a rename, so a failed save never
 * replaces a good file with a half-written one. */
sb_status checkpoint_save(const char *path, const ModelConfig *c, const float *buf, sb_error *err) SB_MUST_CHECK;

/* Refuses a model trained on another vocabulary than the one (fingerprint
 * vocab_id, from a token file or a vocabulary file called source) it is used
 * with; a fingerprint not recorded (0) on either side passes. */
sb_status checkpoint_vocab_check(const char *path, const ModelConfig *c, uint32_t vocab_id, const char *source,
                                 sb_error *err) SB_MUST_CHECK;

/* Reads and validates the header (magic, version, a sane shape, a file size
 * that matches it exactly), then allocates *buf (caller frees) and refuses a
 * value that is not finite (checkpoint_check_finite). The file must be a
 * regular one; a FIFO is refused without blocking. */
sb_status checkpoint_load(const char *path, ModelConfig *c, float **buf, sb_error *err) SB_MUST_CHECK;

/* Fails naming the first value of buf (a buffer of the parameter layout)
 * that is NaN or infinite: its tensor, layer and index. path names the file
 * (or the run) in the message. */
sb_status checkpoint_check_finite(const char *path, const ModelConfig *c, const float *buf, sb_error *err)
    SB_MUST_CHECK;

#endif
