/* classifier.c - the tied output layer and its loss, fused and cut into
 * blocks of rows; see layers.h.
 *
 * The classifier's logits are the largest tensor of a pass: B*T rows of V
 * floats (82 MB for the bench preset), far more than any cache. Written by
 * the product, read and rewritten by the softmax, again by its backward, and
 * read twice by the backward products, they made each thread stream about
 * half a gigabyte through memory per batch. Here one block of CLASSIFIER_ROWS
 * rows goes through the whole chain - logits, softmax and loss, dlogits,
 * dlnf and the block's share of dwte - while it is in cache, and the next
 * block reuses the same buffer. wte is packed into the matmul's panels once
 * per call, not once per block and product (matmul_pack_weight).
 *
 * The result is bitwise what the unfused chain over all rows gives: every
 * row's logits, softmax, loss and dlnf depend on that row alone, and
 * matmul_backward adds the blocks' dout^T . inp into dwte one row (one k) at
 * a time in increasing row order, which is the order a single call over all
 * rows uses (matmul.h). tests/test_classifier.c checks it against that
 * unfused chain. */
#include "layers.h"

#include <string.h>

#include "matmul.h"

void classifier_forward_backward(float *dlnf, float *dwte, float *losses, float *logits, float *wte_packed,
                                 float *mm_scratch, const float *lnf, const float *wte, const int *targets, int N, int D,
                                 int V) {
    memset(dwte, 0, sizeof(float) * (size_t)V * D);
    matmul_pack_weight(wte_packed, wte, D, V);
    for (int r0 = 0; r0 < N; r0 += CLASSIFIER_ROWS) {
        int rows = N - r0 < CLASSIFIER_ROWS ? N - r0 : CLASSIFIER_ROWS;
        const float *x = lnf + (size_t)r0 * D;
        matmul_forward_packed(logits, mm_scratch, x, wte_packed, NULL, rows, D, V);
        softmax_crossentropy_forward(logits, losses + r0, targets + r0, rows, V);
        softmax_crossentropy_backward(logits, targets + r0, rows, V, N);
        matmul_backward_packed(dlnf + (size_t)r0 * D, dwte, NULL, mm_scratch, logits, x, wte_packed, rows, D, V);
    }
}

void classifier_probs(float *probs, float *mm_scratch, const float *lnf, const float *wte, int N, int D, int V) {
    matmul_forward(probs, mm_scratch, lnf, wte, NULL, N, D, V);
    softmax_crossentropy_forward(probs, NULL, NULL, N, V);
}
