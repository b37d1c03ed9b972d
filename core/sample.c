/* sample.c - temperature and top-k sampling; see sample.h. */
#include "sample.h"

#include <math.h>

#include "tokenizer.h"

int sample_token(const float *probs, float *scratch, int V, float temperature, int top_k, Rng *r) {
    /* Log space: w = exp((log p - log p_max) / T), so the likeliest word
     * weighs 1 whatever the temperature and nothing underflows to an all-zero
     * distribution; as T falls this tends to the greedy choice. */
    double max_log = -INFINITY, total = 0.0;
    for (int v = TOKEN_FIRST_WORD; v < V; v++)
        if (probs[v] > 0.0f && log((double)probs[v]) > max_log) max_log = log((double)probs[v]);
    for (int v = 0; v < V; v++) {
        double p = v < TOKEN_FIRST_WORD || !(probs[v] > 0.0f) || max_log == -INFINITY
                       ? 0.0
                       : exp((log((double)probs[v]) - max_log) / (double)temperature);
        scratch[v] = (float)p;
    }
    if (top_k > 0 && top_k < V) {
        /* The k-th largest weight by repeated selection of the maximum below
         * the previous one: O(k V), fine for the k people use. */
        float cut = INFINITY;
        int kept = 0;
        while (kept < top_k) {
            float best = -1.0f;
            for (int v = 0; v < V; v++)
                if (scratch[v] < cut && scratch[v] > best) best = scratch[v];
            if (best <= 0.0f) break;
            for (int v = 0; v < V; v++)
                if (scratch[v] == best) kept++;
            cut = best;
        }
        for (int v = 0; v < V; v++)
            if (scratch[v] < cut) scratch[v] = 0.0f;
    }
    for (int v = 0; v < V; v++) total += scratch[v];
    if (total <= 0.0) return TOKEN_UNK;
    double u = rng_double(r) * total, acc = 0.0;
    int last = TOKEN_UNK;
    for (int v = 0; v < V; v++) {
        if (scratch[v] <= 0.0f) continue;
        acc += scratch[v];
        last = v;
        if (u < acc) return v;
    }
    return last;
}
