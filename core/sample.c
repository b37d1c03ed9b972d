/* sample.c - temperature and top-k sampling; see sample.h. */
#include "sample.h"

#include <math.h>

#include "tokenizer.h"

int sample_token(const float *probs, float *scratch, int V, float temperature, int top_k, Rng *r) {
    double total = 0.0;
    for (int v = 0; v < V; v++) {
        double p = v < TOKEN_FIRST_WORD ? 0.0 : pow((double)probs[v], 1.0 / temperature);
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
