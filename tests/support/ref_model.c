/* Reference model in double precision: the forward pass of docs/DESIGN.md's GPT-style model, one
 * sequence at a time, with plain loops and no cleverness, so that a reader can check it line by
 * line against the spec. It exists only to judge the fast float32 model in core/; speed is not a
 * goal, and it shares no code with core/. See ref_model.h for the API. */
#include "ref_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-layer tensors in docs/DESIGN.md order, with their sizes as multiples of D*D and D.
 * Keeping the layout in one table means count and offsets cannot disagree. */
static const struct {
    const char *name;
    size_t dd, d; /* size = dd*D*D + d*D */
} layer_tensors[] = {
    {"ln1_w", 0, 1},    {"ln1_b", 0, 1},    {"qkv_w", 3, 0},    {"qkv_b", 0, 3},
    {"proj_w", 1, 0},   {"proj_b", 0, 1},   {"ln2_w", 0, 1},    {"ln2_b", 0, 1},
    {"fc_w", 4, 0},     {"fc_b", 0, 4},     {"fcproj_w", 4, 0}, {"fcproj_b", 0, 1},
};
enum { N_LAYER_TENSORS = sizeof layer_tensors / sizeof layer_tensors[0] };

static size_t layer_size(size_t D) {
    size_t n = 0;
    for (int k = 0; k < N_LAYER_TENSORS; k++) n += layer_tensors[k].dd * D * D + layer_tensors[k].d * D;
    return n;
}

size_t ref_param_count(RefConfig c) {
    size_t D = (size_t)c.D;
    return ((size_t)c.V + (size_t)c.maxT) * D + (size_t)c.L * layer_size(D) + 2 * D;
}

size_t ref_param_offset(RefConfig c, const char *name, int layer, size_t *size) {
    size_t D = (size_t)c.D, s = 0, off = (size_t)-1;
    size_t layers_start = ((size_t)c.V + (size_t)c.maxT) * D;
    size_t lnf_start = layers_start + (size_t)c.L * layer_size(D);
    if (strcmp(name, "wte") == 0) { off = 0; s = (size_t)c.V * D; }
    else if (strcmp(name, "wpe") == 0) { off = (size_t)c.V * D; s = (size_t)c.maxT * D; }
    else if (strcmp(name, "lnf_w") == 0) { off = lnf_start; s = D; }
    else if (strcmp(name, "lnf_b") == 0) { off = lnf_start + D; s = D; }
    else if (layer >= 0 && layer < c.L) {
        size_t o = layers_start + (size_t)layer * layer_size(D);
        for (int k = 0; k < N_LAYER_TENSORS; k++) {
            size_t sk = layer_tensors[k].dd * D * D + layer_tensors[k].d * D;
            if (strcmp(name, layer_tensors[k].name) == 0) { off = o; s = sk; break; }
            o += sk;
        }
    }
    if (size) *size = (off == (size_t)-1) ? 0 : s;
    return off;
}

/* LayerNorm over n features: (x - mean) / sqrt(biased var + 1e-5) * w + b. */
static void layernorm(double *out, const double *x, const double *w, const double *b, int n) {
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= n;
    double inv = 1.0 / sqrt(var + 1e-5);
    for (int i = 0; i < n; i++) out[i] = (x[i] - mean) * inv * w[i] + b[i];
}

/* y = x . W^T + b with W stored [nout][nin]; b may be NULL (the tied logits have no bias). */
static void linear(double *y, const double *x, const double *W, const double *b, int nin, int nout) {
    for (int o = 0; o < nout; o++) {
        double s = b ? b[o] : 0.0;
        for (int i = 0; i < nin; i++) s += x[i] * W[(size_t)o * nin + i];
        y[o] = s;
    }
}

static double gelu(double x) {
    const double pi = 3.14159265358979323846;
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}

static int config_ok(RefConfig c, int B, int T) {
    return c.V > 0 && c.maxT > 0 && c.D > 0 && c.L >= 0 && c.H > 0 && c.D % c.H == 0 &&
           B > 0 && T > 0 && T <= c.maxT;
}

int ref_model_position_losses(RefConfig c, const double *params, const int *inputs,
                              const int *targets, int B, int T, double *losses) {
    if (!config_ok(c, B, T)) return -1;
    for (int i = 0; i < B * T; i++)
        if (inputs[i] < 0 || inputs[i] >= c.V || targets[i] < 0 || targets[i] >= c.V) return -1;

    const int V = c.V, D = c.D, H = c.H, hs = D / H;
    const double *wte = params + ref_param_offset(c, "wte", 0, NULL);
    const double *wpe = params + ref_param_offset(c, "wpe", 0, NULL);
    /* Scratch for one sequence; every position's activations are kept because attention
     * at t reads k and v of all earlier positions. */
    double *x = malloc(sizeof(double) * (size_t)T * D);
    double *ln = malloc(sizeof(double) * (size_t)T * D);
    double *qkv = malloc(sizeof(double) * (size_t)T * 3 * D);
    double *att = malloc(sizeof(double) * (size_t)T * D);
    double *tmp = malloc(sizeof(double) * (size_t)4 * D);
    double *hid = malloc(sizeof(double) * (size_t)4 * D);
    double *p = malloc(sizeof(double) * (size_t)(T > V ? T : V));
    if (!x || !ln || !qkv || !att || !tmp || !hid || !p) {
        free(x); free(ln); free(qkv); free(att); free(tmp); free(hid); free(p);
        return -1;
    }

    for (int b = 0; b < B; b++) {
        const int *in = inputs + (size_t)b * T, *tg = targets + (size_t)b * T;
        for (int t = 0; t < T; t++)
            for (int d = 0; d < D; d++)
                x[t * D + d] = wte[(size_t)in[t] * D + d] + wpe[(size_t)t * D + d];

        for (int l = 0; l < c.L; l++) {
#define P(name) (params + ref_param_offset(c, name, l, NULL))
            /* Attention: q, k, v are consecutive D-wide slices of qkv; head h owns features
             * h*hs .. (h+1)*hs-1 of each; position t sees positions 0..t only. */
            for (int t = 0; t < T; t++) {
                layernorm(ln + t * D, x + t * D, P("ln1_w"), P("ln1_b"), D);
                linear(qkv + (size_t)t * 3 * D, ln + t * D, P("qkv_w"), P("qkv_b"), D, 3 * D);
            }
            for (int t = 0; t < T; t++) {
                for (int h = 0; h < H; h++) {
                    const double *q = qkv + (size_t)t * 3 * D + h * hs;
                    double mx = -INFINITY, sum = 0;
                    for (int s = 0; s <= t; s++) {
                        const double *k = qkv + (size_t)s * 3 * D + D + h * hs;
                        double dot = 0;
                        for (int j = 0; j < hs; j++) dot += q[j] * k[j];
                        p[s] = dot / sqrt((double)hs);
                        if (p[s] > mx) mx = p[s];
                    }
                    for (int s = 0; s <= t; s++) { p[s] = exp(p[s] - mx); sum += p[s]; }
                    for (int j = 0; j < hs; j++) {
                        double acc = 0;
                        for (int s = 0; s <= t; s++) acc += p[s] / sum * qkv[(size_t)s * 3 * D + 2 * D + h * hs + j];
                        att[t * D + h * hs + j] = acc;
                    }
                }
            }
            for (int t = 0; t < T; t++) {
                linear(tmp, att + t * D, P("proj_w"), P("proj_b"), D, D);
                for (int d = 0; d < D; d++) x[t * D + d] += tmp[d];
            }
            /* MLP, one position at a time: x += fcproj(gelu(fc(ln2(x)))). */
            for (int t = 0; t < T; t++) {
                layernorm(ln + t * D, x + t * D, P("ln2_w"), P("ln2_b"), D);
                linear(hid, ln + t * D, P("fc_w"), P("fc_b"), D, 4 * D);
                for (int i = 0; i < 4 * D; i++) hid[i] = gelu(hid[i]);
                linear(tmp, hid, P("fcproj_w"), P("fcproj_b"), 4 * D, D);
                for (int d = 0; d < D; d++) x[t * D + d] += tmp[d];
            }
#undef P
        }

        /* Final LayerNorm, tied logits (wte rows, no bias), stable log-softmax. */
        for (int t = 0; t < T; t++) {
            layernorm(ln + t * D, x + t * D, params + ref_param_offset(c, "lnf_w", 0, NULL),
                      params + ref_param_offset(c, "lnf_b", 0, NULL), D);
            linear(p, ln + t * D, wte, NULL, D, V);
            double mx = -INFINITY, sum = 0;
            for (int v = 0; v < V; v++) if (p[v] > mx) mx = p[v];
            for (int v = 0; v < V; v++) sum += exp(p[v] - mx);
            losses[(size_t)b * T + t] = mx + log(sum) - p[tg[t]];
        }
    }
    free(x); free(ln); free(qkv); free(att); free(tmp); free(hid); free(p);
    return 0;
}

double ref_model_loss(RefConfig c, const double *params, const int *inputs, const int *targets,
                      int B, int T) {
    if (!config_ok(c, B, T)) return NAN;
    double *losses = malloc(sizeof(double) * (size_t)B * T);
    if (!losses) return NAN;
    double mean = NAN;
    if (ref_model_position_losses(c, params, inputs, targets, B, T, losses) == 0) {
        double sum = 0;
        for (int i = 0; i < B * T; i++) sum += losses[i];
        mean = sum / (B * T);
    }
    free(losses);
    return mean;
}

double ref_model_fd_grad(RefConfig c, double *params, size_t i, double h, const int *inputs,
                         const int *targets, int B, int T) {
    const double saved = params[i];
    params[i] = saved + h;
    double up = ref_model_loss(c, params, inputs, targets, B, T);
    params[i] = saved - h;
    double down = ref_model_loss(c, params, inputs, targets, B, T);
    params[i] = saved;
    return (up - down) / (2 * h);
}
