/* generate.h - sampling text from a model: the check that training learned something.
 *
 * Each new token runs the model over the last T tokens of the context (no
 * cache: this is a check, not a server), then sample.h picks the next one.
 * Used by `sphere-bench generate` and by the bench, which writes a few lines
 * from the model its full runs trained. */
#ifndef SB_GENERATE_H
#define SB_GENERATE_H

#include <stdint.h>
#include <stdio.h>

#include "model_shape.h"
#include "error.h"
#include "tokenizer.h"

/* Writes the prompt's words and n sampled words to f, space-separated, with
 * a newline at the end. A prompt without words is refused (SB_EARG). */
sb_status generate_text(FILE *f, const float *params, const ModelConfig *c, const Vocab *vocab, const char *prompt,
                        int n, float temperature, int top_k, uint64_t seed, sb_error *err) SB_MUST_CHECK;

#endif
