/* layers.h - the transformer's layers other than the matrix products.
 *
 * Forward/backward pairs in the llm.c convention: outputs first, then inputs,
 * then sizes. Backward functions add into parameter gradients (the gradient
 * buffer is zeroed once per batch) and into activation gradients where the
 * residual stream joins two paths; each says which. Every loop sums in one
 * fixed order, so results are bitwise deterministic. */
#ifndef SB_LAYERS_H
#define SB_LAYERS_H

#include <stddef.h>

/* out[b][t][:] = wte[inp[b][t]][:] + wpe[t][:] */
void encoder_forward(float *out, const int *inp, const float *wte, const float *wpe, int B, int T, int D);
/* dwte[inp] += dout, dwpe[t] += dout (both accumulate) */
void encoder_backward(float *dwte, float *dwpe, const float *dout, const int *inp, int B, int T, int D);

/* LayerNorm over the last axis (eps 1e-5, biased variance) of N rows of D;
 * mean and rstd are saved for backward. */
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                       const float *bias, int N, int D);
/* dinp += ..., dweight += ..., dbias += ... */
void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                        const float *weight, const float *mean, const float *rstd, int N, int D);
/* The plain references of the two above (core/layernorm.c). */
void layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int N, int D);
void layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int D);

/* Causal multi-head attention. inp is qkv[B][T][3D] (q, k, v); out[B][T][D];
 * att[B][H][T][T] keeps the softmax weights (row t uses columns 0..t).
 * scratch: attention_scratch_floats(T, D, H) floats, overwritten. */
void attention_forward(float *out, float *att, float *scratch, const float *inp, int B, int T, int D, int H);
/* dinp (dqkv) is overwritten; scratch as for forward. */
void attention_backward(float *dinp, float *scratch, const float *dout, const float *inp, const float *att,
                        int B, int T, int D, int H);
/* Floats of scratch the two above need for sequences of up to T tokens (at
 * least 2 T, what the backward reference needs). */
size_t attention_scratch_floats(int T, int D, int H);
/* The plain references (libm expf) of the two above (core/attention.c); the
 * backward reference uses 2 T floats of scratch. */
void attention_forward_ref(float *out, float *att, const float *inp, int B, int T, int D, int H);
void attention_backward_ref(float *dinp, float *scratch, const float *dout, const float *inp, const float *att,
                            int B, int T, int D, int H);

/* GELU, tanh approximation. gelu_backward overwrites dinp. The _ref
 * versions are the plain libm-based references the fast ones are tested
 * against (core/gelu.c). */
void gelu_forward(float *out, const float *inp, int n);
void gelu_backward(float *dinp, const float *inp, const float *dout, int n);
void gelu_forward_ref(float *out, const float *inp, int n);
void gelu_backward_ref(float *dinp, const float *inp, const float *dout, int n);

/* out = a + b */
void residual_forward(float *out, const float *a, const float *b, int n);

/* Softmax over V in place (logits become probabilities) for N rows; when
 * targets is non-NULL, losses[i] = -log p[i][targets[i]], computed from the
 * logits (log-sum-exp), so it never takes the log of an underflowed zero. */
void softmax_crossentropy_forward(float *probs, float *losses, const int *targets, int N, int V);
/* probs of N rows become d(mean loss)/d(logits) = (p - onehot) / n_mean, in
 * place, where the mean is over n_mean positions (N, or more when the rows
 * are one block of a larger batch). */
void softmax_crossentropy_backward(float *probs, const int *targets, int N, int V, int n_mean);
/* The plain references (libm expf, row sums in double) of the two above. */
void softmax_crossentropy_forward_ref(float *probs, float *losses, const int *targets, int N, int V);
void softmax_crossentropy_backward_ref(float *probs, const int *targets, int N, int V, int n_mean);

/* Rows of logits the fused classifier holds at once: CLASSIFIER_ROWS x V
 * floats of scratch (2.4 MB at V = 5005), a multiple of the matmul's 12-row
 * tile, so only a batch's last block can end in a partial tile. */
#define CLASSIFIER_ROWS 120
/* The tied classifier and its loss for training, forward and backward at
 * once (core/classifier.c): losses[N] = cross-entropy of softmax(lnf . wte^T)
 * at targets; dlnf[N][D] = d(mean loss)/d(lnf), overwritten; dwte[V][D] =
 * the classifier's share of d(mean loss)/d(wte), overwritten. logits is
 * min(N, CLASSIFIER_ROWS) x V floats of scratch, wte_packed
 * matmul_packed_floats(D, V) floats of scratch, mm_scratch the matmul's.
 * Bitwise the unfused chain (matmul_forward, softmax_crossentropy_forward
 * and _backward, matmul_backward) over all N rows. */
void classifier_forward_backward(float *dlnf, float *dwte, float *losses, float *logits, float *wte_packed,
                                 float *mm_scratch, const float *lnf, const float *wte, const int *targets, int N, int D,
                                 int V);
/* probs[N][V] = softmax(lnf . wte^T) for N rows, without a loss: sampling. */
void classifier_probs(float *probs, float *mm_scratch, const float *lnf, const float *wte, int N, int D, int V);

#endif
