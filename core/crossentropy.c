/* crossentropy.c - softmax over the vocabulary and the cross-entropy loss; see layers.h. */
#include "layers.h"

#include <math.h>
#include <string.h>

void softmax_crossentropy_forward(float *probs, float *losses, const int *targets, int N, int V) {
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        float maxv = -INFINITY;
        for (int v = 0; v < V; v++)
            if (p[v] > maxv) maxv = p[v];
        float target_logit = targets ? p[targets[n]] : 0.0f;
        double sum = 0.0;
        for (int v = 0; v < V; v++) {
            p[v] = expf(p[v] - maxv);
            sum += p[v];
        }
        float inv = (float)(1.0 / sum);
        for (int v = 0; v < V; v++) p[v] *= inv;
        if (targets) losses[n] = (float)(log(sum) + maxv - target_logit);
    }
}

void softmax_crossentropy_backward(float *probs, const int *targets, int N, int V) {
    float inv_n = 1.0f / (float)N;
    for (int n = 0; n < N; n++) {
        float *p = probs + (size_t)n * V;
        p[targets[n]] -= 1.0f;
        for (int v = 0; v < V; v++) p[v] *= inv_n;
    }
}
