/* sample.h - choosing the next token from the model's probabilities.
 *
 * Temperature reshapes the distribution (p^(1/temperature), renormalised),
 * computed in log space with the likeliest word's log subtracted, so any
 * positive temperature works and a low one tends to the greedy choice;
 * top_k > 0 keeps only the k likeliest tokens. Special tokens (ids below
 * TOKEN_FIRST_WORD) are never produced: they are not words of the text. The
 * draw uses rng.h, so a seed fixes the generated text. */
#ifndef SB_SAMPLE_H
#define SB_SAMPLE_H

#include "rng.h"

/* scratch holds V floats. Returns the chosen id. */
int sample_token(const float *probs, float *scratch, int V, float temperature, int top_k, Rng *r);

#endif
