/* attention.c - causal multi-head attention forward and backward; see layers.h.
 *
 * attention_forward_ref / attention_backward_ref are the plain loops with
 * libm's expf: the reference. The fast versions take one (batch, head) at a
 * time and run it as small matrix products over 16-lane vf16 vectors:
 *   - the head's keys (forward) or values (backward) are copied transposed
 *     into a local [hs][Tp] block (Tp = T rounded up to 16, zero-padded), so
 *     scores q . k_t2 (and datt = dout . v_t2) come out 16 keys at a time,
 *     4 rows x 32 keys per register tile; the other operands are copied into
 *     [T][hsp] rows (hsp = hs rounded up to 16, zero-padded), so no inner
 *     loop has a tail;
 *   - forward takes 8 query rows at a time: scores, softmax with vexp16
 *     (about 1.4 ulp from expf; columns past t set to 0), then out = A V from
 *     the same att rows while they are in cache;
 *   - backward takes 8 query rows at a time: datt, softmax backward, dq =
 *     dpre K, and dk += dpre^T q, dv += A^T dout into local [T][hsp]
 *     accumulators that are copied into dinp at the end of the head;
 *   - while one head computes, the next head's rows (short pieces of long
 *     qkv rows, and its att rows) are prefetched: hints only.
 * Every output element is one fixed-order sum: dot products over i in order,
 * sums over keys t2 or queries t in increasing order (plus exact zeros for
 * masked keys), softmax row sums in 16 lanes then vsum. Tiles and buffers
 * depend on the sizes only, never on pointer alignment, so the result is a
 * fixed function of the inputs and the sizes. The local blocks live in the
 * caller's scratch, attention_scratch_floats(T, D, H) floats (8 KB forward
 * and 20 KB backward for the bench preset; backward needs about 4 T hs
 * floats), which each workspace holds: no kernel allocates, none uses the
 * thread's stack for them (a thread with a small stack runs the kernels
 * too), and no shape or memory shortage sends a call to the reference.
 * tests/test_kernels_attention.c holds the fast versions to the references. */
#include "layers.h"
#include "vmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void attention_forward_ref(float *out, float *att, const float *inp, int B, int T, int D, int H) {
    int hs = D / H;
    float scale = 1.0f / sqrtf((float)hs);
    size_t C3 = 3 * (size_t)D;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const float *q = inp + ((size_t)b * T + t) * C3 + (size_t)h * hs;
                float *a = att + (((size_t)b * H + h) * T + t) * T;
                float maxv = -INFINITY;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = inp + ((size_t)b * T + t2) * C3 + D + (size_t)h * hs;
                    float s = 0.0f;
                    for (int i = 0; i < hs; i++) s += q[i] * k[i];
                    s *= scale;
                    a[t2] = s;
                    if (s > maxv) maxv = s;
                }
                float sum = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    a[t2] = expf(a[t2] - maxv);
                    sum += a[t2];
                }
                float inv = 1.0f / sum;
                for (int t2 = 0; t2 <= t; t2++) a[t2] *= inv;
                for (int t2 = t + 1; t2 < T; t2++) a[t2] = 0.0f;
                float *o = out + ((size_t)b * T + t) * D + (size_t)h * hs;
                for (int i = 0; i < hs; i++) o[i] = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = inp + ((size_t)b * T + t2) * C3 + 2 * (size_t)D + (size_t)h * hs;
                    float w = a[t2];
                    for (int i = 0; i < hs; i++) o[i] += w * v[i];
                }
            }
}

void attention_backward_ref(float *dinp, float *scratch, const float *dout, const float *inp, const float *att,
                            int B, int T, int D, int H) {
    int hs = D / H;
    float scale = 1.0f / sqrtf((float)hs);
    size_t C3 = 3 * (size_t)D;
    float *datt = scratch, *dpre = scratch + T;
    memset(dinp, 0, sizeof(float) * (size_t)B * T * C3);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const float *a = att + (((size_t)b * H + h) * T + t) * T;
                const float *d = dout + ((size_t)b * T + t) * D + (size_t)h * hs;
                const float *q = inp + ((size_t)b * T + t) * C3 + (size_t)h * hs;
                float *dq = dinp + ((size_t)b * T + t) * C3 + (size_t)h * hs;
                /* out = sum_t2 a[t2] v[t2]: gradients into a and into v */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = inp + ((size_t)b * T + t2) * C3 + 2 * (size_t)D + (size_t)h * hs;
                    float *dv = dinp + ((size_t)b * T + t2) * C3 + 2 * (size_t)D + (size_t)h * hs;
                    float s = 0.0f;
                    for (int i = 0; i < hs; i++) {
                        s += v[i] * d[i];
                        dv[i] += a[t2] * d[i];
                    }
                    datt[t2] = s;
                }
                /* softmax backward: dpre = a * (datt - <a, datt>) */
                float dot = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) dot += a[t2] * datt[t2];
                for (int t2 = 0; t2 <= t; t2++) dpre[t2] = a[t2] * (datt[t2] - dot) * scale;
                /* pre = q . k: gradients into q and k */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = inp + ((size_t)b * T + t2) * C3 + D + (size_t)h * hs;
                    float *dk = dinp + ((size_t)b * T + t2) * C3 + D + (size_t)h * hs;
                    float g = dpre[t2];
                    for (int i = 0; i < hs; i++) {
                        dq[i] += g * k[i];
                        dk[i] += g * q[i];
                    }
                }
            }
}

/* ---- the fast versions ---------------------------------------------------- */

static int pad16(int n) { return (n + VLEN - 1) / VLEN * VLEN; }

static size_t fwd_buf_floats(int T, int hs) { return (size_t)pad16(T) * hs + (size_t)T * pad16(hs); }

static size_t bwd_buf_floats(int T, int hs) {
    size_t Tp = (size_t)pad16(T), hsp = (size_t)pad16(hs);
    return Tp * hs + 3 * (size_t)T * hsp + 9 * Tp + 16 * hsp;
}

size_t attention_scratch_floats(int T, int D, int H) {
    int hs = D / H;
    size_t f = fwd_buf_floats(T, hs), b = bwd_buf_floats(T, hs), ref = 2 * (size_t)T;
    size_t n = f > b ? f : b;
    return n > ref ? n : ref;
}

/* Lanes 0..15, to build masks. */
SB_INLINE vi16 vlanes(void) { return (vi16){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}; }

/* v where the lane holds 1, else 0 (as a float bit pattern: m is -1 or 0). */
SB_INLINE vf16 vkeep(vf16 v, vi16 m) { return (vf16)((vi16)v & m); }

/* Store n (1..16) lanes; a full vector store when n is 16. */
SB_INLINE void vstore_n(float *p, vf16 v, int n) {
    if (n >= VLEN) VSTORE(p, v);
    else vstore_part(p, v, n);
}

/* dst[0..n) = src[0..n), then zeros up to npad. */
static void copy_pad(float *dst, const float *src, int n, int npad) {
    memcpy(dst, src, sizeof(float) * (size_t)n);
    memset(dst + n, 0, sizeof(float) * (size_t)(npad - n));
}

#if defined(__GNUC__) && !defined(__clang__)
/* m = m^T for a 16 x 16 block held as 16 row vectors: swap the off-diagonal
 * s x s blocks of every 2s x 2s block, s = 8, 4, 2, 1; each swap is one
 * two-source permutation per row. Pure data movement: no arithmetic. */
#define TR_LEVEL(S)                                                                                  \
    do {                                                                                             \
        vi16 ia, ib;                                                                                 \
        for (int c = 0; c < VLEN; c++) {                                                             \
            ia[c] = (c & (S)) ? VLEN + c - (S) : c;                                                  \
            ib[c] = (c & (S)) ? VLEN + c : c + (S);                                                  \
        }                                                                                            \
        for (int a = 0; a < VLEN; a++)                                                               \
            if (!(a & (S))) {                                                                        \
                vf16 x = m[a], y = m[a + (S)];                                                       \
                m[a] = __builtin_shuffle(x, y, ia);                                                  \
                m[a + (S)] = __builtin_shuffle(x, y, ib);                                            \
            }                                                                                        \
    } while (0)

static void transpose16(float *dst, size_t ds, const float *src, size_t ss) {
    vf16 m[VLEN];
    for (int r = 0; r < VLEN; r++) m[r] = VLOAD(src + (size_t)r * ss);
    TR_LEVEL(8);
    TR_LEVEL(4);
    TR_LEVEL(2);
    TR_LEVEL(1);
    for (int r = 0; r < VLEN; r++) VSTORE(dst + (size_t)r * ds, m[r]);
}
#define HAVE_TRANSPOSE16 1
#endif

/* yt[i][j] = y[j][i] for j < T, i < n (rows of y at stride ys); columns
 * T..Tp-1 zero. Whole 16 x 16 blocks go through registers. */
static void pack_transposed(float *yt, const float *y, size_t ys, int T, int n) {
    int Tp = pad16(T), j0 = 0;
    for (int i = 0; i < n; i++) memset(yt + (size_t)i * Tp + T, 0, sizeof(float) * (size_t)(Tp - T));
#ifdef HAVE_TRANSPOSE16
    for (; j0 + VLEN <= T; j0 += VLEN) {
        const float *yj = y + (size_t)j0 * ys;
        int i0 = 0;
        for (; i0 + VLEN <= n; i0 += VLEN) transpose16(yt + (size_t)i0 * Tp + j0, (size_t)Tp, yj + i0, ys);
        for (int j = j0; j < j0 + VLEN; j++)
            for (int i = i0; i < n; i++) yt[(size_t)i * Tp + j] = y[(size_t)j * ys + i];
    }
#endif
    for (int j = j0; j < T; j++) {
        const float *yj = y + (size_t)j * ys;
        for (int i = 0; i < n; i++) yt[(size_t)i * Tp + j] = yj[i];
    }
}

/* yp[j][0..hsp) = y[j][0..n), zero-padded to hsp = pad16(n), for j < rows. */
static void pack_rows(float *yp, const float *y, size_t ys, int rows, int n) {
    int hsp = pad16(n);
    for (int j = 0; j < rows; j++) copy_pad(yp + (size_t)j * hsp, y + (size_t)j * ys, n, hsp);
}

/* s[r][j] = scale * sum_{i<n} x[r][i] yt[i][j] for r < nr (<= 4), j < ncol,
 * s rows at stride lds; yt is [n][ldy] with ldy >= pad16(ncol). Columns
 * ncol..pad16(ncol)-1 of s may get values too, but none at or past lim. x[r] must
 * point at n readable floats for all four r (the caller repeats a row for
 * r >= nr; those results are dropped). Each s is the sum over i in order. */
static void scores4(float *s, size_t lds, int nr, const float *const x[4], const float *yt, int ldy, int n, int ncol,
                    int lim, float scale) {
    const vf16 vs = vsplat(scale);
    for (int j = 0; j < ncol; j += 2 * VLEN) {
        if (j + VLEN < ncol) {
            vf16 acc[4][2];
            for (int r = 0; r < 4; r++) acc[r][0] = acc[r][1] = vsplat(0.0f);
            const float *y = yt + j;
            for (int i = 0; i < n; i++, y += ldy) {
                vf16 y0 = VLOAD(y), y1 = VLOAD(y + VLEN);
                for (int r = 0; r < 4; r++) {
                    vf16 xr = vsplat(x[r][i]);
                    acc[r][0] += xr * y0;
                    acc[r][1] += xr * y1;
                }
            }
            for (int r = 0; r < 4; r++) {
                if (r >= nr) break;
                float *sr = s + (size_t)r * lds + j;
                VSTORE(sr, acc[r][0] * vs);
                vstore_n(sr + VLEN, acc[r][1] * vs, lim - j - VLEN);
            }
        } else {
            vf16 acc[4];
            for (int r = 0; r < 4; r++) acc[r] = vsplat(0.0f);
            const float *y = yt + j;
            for (int i = 0; i < n; i++, y += ldy) {
                vf16 y0 = VLOAD(y);
                for (int r = 0; r < 4; r++) acc[r] += vsplat(x[r][i]) * y0;
            }
            for (int r = 0; r < 4; r++) {
                if (r >= nr) break;
                vstore_n(s + (size_t)r * lds + j, acc[r] * vs, lim - j);
            }
        }
    }
}

/* One register tile of o = w y: o[r][c0 + 16 v] = sum_{j<len} w[r][j] y[j][c0 + 16 v]
 * for r < NR, v < NV (compile-time after inlining); w[r] rows of len floats,
 * y is [len][ldy]. Only rows r < nr and columns < ncols are stored, o rows at
 * stride ldo. */
SB_INLINE void wy_tile(float *o, size_t ldo, int nr, int ncols, const float *const *w, const float *y, int ldy,
                       int len, int c0, const int NR, const int NV) {
    vf16 acc[8][2];
    for (int r = 0; r < NR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = vsplat(0.0f);
    const float *yj = y + c0;
    for (int j = 0; j < len; j++, yj += ldy) {
        vf16 yv[2];
        for (int v = 0; v < NV; v++) yv[v] = VLOAD(yj + v * VLEN);
        for (int r = 0; r < NR; r++) {
            vf16 wr = vsplat(w[r][j]);
            for (int v = 0; v < NV; v++) acc[r][v] += wr * yv[v];
        }
    }
    for (int r = 0; r < NR && r < nr; r++)
        for (int v = 0; v < NV; v++) {
            int c = c0 + v * VLEN;
            if (c < ncols) vstore_n(o + (size_t)r * ldo + c, acc[r][v], ncols - c);
        }
}

/* o = w y for nr (<= 8) rows w[r] (8 readable row pointers) of len floats,
 * y = [len][hsp] zero-padded rows; ncols = hs real columns stored. */
static void wy_rows8(float *o, size_t ldo, int nr, int ncols, const float *const w[8], const float *y, int hsp,
                     int len) {
    if (hsp == VLEN) {
        wy_tile(o, ldo, nr, ncols, w, y, hsp, len, 0, 8, 1);
        return;
    }
    for (int half = 0; half < 2 && 4 * half < nr; half++) {
        float *oh = o + (size_t)(4 * half) * ldo;
        const float *const *wh = w + 4 * half;
        int c0 = 0;
        for (; c0 + 2 * VLEN <= hsp; c0 += 2 * VLEN) wy_tile(oh, ldo, nr - 4 * half, ncols, wh, y, hsp, len, c0, 4, 2);
        if (c0 < hsp) wy_tile(oh, ldo, nr - 4 * half, ncols, wh, y, hsp, len, c0, 4, 1);
    }
}

/* One column block of acc += w^T x: acc[j][c0 + 16 v] += w[r][j] x[r][c0 + 16 v]
 * for r = 0..7 in order, j < ncol, v < NV (compile-time after inlining);
 * x is [8][ldx], acc is [ncol][ldx]. */
SB_INLINE void wtx_block(float *acc, int ldx, const float *const *w, const float *x, int ncol, int c0, const int NV) {
    vf16 xv[8][2];
    for (int r = 0; r < 8; r++)
        for (int v = 0; v < NV; v++) xv[r][v] = VLOAD(x + (size_t)r * ldx + c0 + v * VLEN);
    for (int j = 0; j < ncol; j++) {
        vf16 wj[8];
        for (int r = 0; r < 8; r++) wj[r] = vsplat(w[r][j]);
        float *aj = acc + (size_t)j * ldx + c0;
        for (int v = 0; v < NV; v++) {
            vf16 y = VLOAD(aj + v * VLEN);
            for (int r = 0; r < 8; r++) y += wj[r] * xv[r][v];
            VSTORE(aj + v * VLEN, y);
        }
    }
}

/* acc[j][:] += sum_r w[r][j] x[r][:] over the 8 rows in order, j < ncol;
 * x is [8][hsp], acc [ncol][hsp]. */
static void wtx_add(float *acc, int hsp, const float *const w[8], const float *x, int ncol) {
    int c0 = 0;
    for (; c0 + 2 * VLEN <= hsp; c0 += 2 * VLEN) wtx_block(acc, hsp, w, x, ncol, c0, 2);
    if (c0 < hsp) wtx_block(acc, hsp, w, x, ncol, c0, 1);
}

/* Softmax of a[0..t] in place (a holds scaled scores there), zeros in
 * a[t+1..T-1]. */
static void softmax_row(float *a, int t, int T) {
    const int n = t + 1;
    const vi16 lanes = vlanes();
    vf16 m = vsplat(-INFINITY);
    int j = 0;
    for (; j + VLEN <= n; j += VLEN) m = vmaxv(m, VLOAD(a + j));
    if (j < n) {
        vf16 x = j + VLEN <= T ? VLOAD(a + j) : vload_part(a + j, T - j);
        vi16 in = lanes < n - j;
        m = vmaxv(m, (vf16)((in & (vi16)x) | (~in & (vi16)vsplat(-INFINITY))));
    }
    const vf16 mx = vsplat(vmax(m));
    vf16 sum = vsplat(0.0f);
    for (j = 0; j + VLEN <= n; j += VLEN) {
        vf16 e = vexp16(VLOAD(a + j) - mx);
        VSTORE(a + j, e);
        sum += e;
    }
    int tail = n - j; /* 0..15 keys left */
    vf16 etail = vsplat(0.0f);
    if (tail) {
        vf16 x = j + VLEN <= T ? VLOAD(a + j) : vload_part(a + j, T - j);
        etail = vkeep(vexp16(x - mx), lanes < tail);
        sum += etail;
    }
    const vf16 inv = vsplat(1.0f / vsum(sum));
    for (int i = 0; i < j; i += VLEN) VSTORE(a + i, VLOAD(a + i) * inv);
    if (tail) {
        int w = T - j < VLEN ? T - j : VLEN; /* the tail vector and the zeros after it */
        vstore_n(a + j, etail * inv, w);
        j += w;
    }
    if (j < T) memset(a + j, 0, sizeof(float) * (size_t)(T - j));
}

/* Asks the cache for rows t0..t0+n-1 (stride ys) of a slice of len floats:
 * the next head's operands, fetched while this head computes, since a head's
 * rows are short pieces of long qkv rows. Touches nothing; NULL: no-op. */
static void prefetch_rows(const float *p, size_t ys, int t0, int n, int len, int write) {
    if (!p) return;
    for (int t = t0; t < t0 + n; t++) {
        uintptr_t lo = (uintptr_t)(p + (size_t)t * ys), hi = lo + sizeof(float) * (size_t)len;
        for (uintptr_t line = lo & ~(uintptr_t)63; line < hi; line += 64) {
            if (write) __builtin_prefetch((const void *)line, 1);
            else __builtin_prefetch((const void *)line, 0);
        }
    }
}

static void attention_forward_head(float *out, float *att, const float *inp, const float *next, float *buf, int T,
                                   int D, int hs, float scale) {
    const size_t C3 = 3 * (size_t)D;
    const int Tp = pad16(T), hsp = pad16(hs);
    float *kt = buf;                     /* [hs][Tp] */
    float *vp = kt + (size_t)hs * Tp;    /* [T][hsp] */
    pack_transposed(kt, inp + D, C3, T, hs);
    pack_rows(vp, inp + 2 * (size_t)D, C3, T, hs);
    /* 8 query rows at a time, over keys 0..(last row of the tile): scores,
     * softmax, then out = A V from the same rows while they are in cache
     * (the zeros of att past each row's own t add nothing) */
    for (int t0 = 0; t0 < T; t0 += 8) {
        const int nr = T - t0 < 8 ? T - t0 : 8, ncol = t0 + nr;
        for (int part = 0; part < 3; part++)
            prefetch_rows(next ? next + (size_t)part * D : NULL, C3, t0, nr, hs, 0);
        for (int half = 0; half < 2 && 4 * half < nr; half++) {
            int r0 = 4 * half, nh = nr - r0 < 4 ? nr - r0 : 4;
            const float *q[4];
            for (int r = 0; r < 4; r++) q[r] = inp + (size_t)(t0 + r0 + (r < nh ? r : 0)) * C3;
            scores4(att + (size_t)(t0 + r0) * T, (size_t)T, nh, q, kt, Tp, hs, ncol, T, scale);
        }
        const float *w[8];
        for (int r = 0; r < 8; r++) {
            w[r] = att + (size_t)(t0 + (r < nr ? r : 0)) * T;
            if (r < nr) softmax_row(att + (size_t)(t0 + r) * T, t0 + r, T);
        }
        wy_rows8(out + (size_t)t0 * D, (size_t)D, nr, hs, w, vp, hsp, ncol);
    }
}

void attention_forward(float *out, float *att, float *scratch, const float *inp, int B, int T, int D, int H) {
    int hs = D / H;
    float scale = 1.0f / sqrtf((float)hs);
    size_t C3 = 3 * (size_t)D;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *head = inp + (size_t)b * T * C3 + (size_t)h * hs;
            const float *next = h + 1 < H ? head + hs : b + 1 < B ? inp + (size_t)(b + 1) * T * C3 : NULL;
            attention_forward_head(out + (size_t)b * T * D + (size_t)h * hs, att + ((size_t)b * H + h) * T * T, head,
                                   next, scratch, T, D, hs, scale);
        }
}

/* g[0..t] = a * (g - <a, g>) * scale, zeros in g[t+1..ncol-1]; a is the att
 * row (T floats, zeros past t), g a row of at least pad16(ncol) floats. */
static void softmax_backward_row(float *g, const float *a, int t, int T, int ncol, float scale) {
    const int n = t + 1;
    const vi16 lanes = vlanes();
    vf16 dot = vsplat(0.0f);
    int j = 0;
    for (; j + VLEN <= n; j += VLEN) dot += VLOAD(a + j) * VLOAD(g + j);
    int tail = n - j;
    vf16 at = vsplat(0.0f), gt = vsplat(0.0f);
    if (tail) {
        vi16 in = lanes < tail;
        at = vkeep(j + VLEN <= T ? VLOAD(a + j) : vload_part(a + j, T - j), in);
        gt = vkeep(VLOAD(g + j), in);
        dot += at * gt;
    }
    const vf16 d = vsplat(vsum(dot)), vs = vsplat(scale);
    for (int i = 0; i < j; i += VLEN) VSTORE(g + i, VLOAD(a + i) * (VLOAD(g + i) - d) * vs);
    if (tail) {
        VSTORE(g + j, vkeep(at * (gt - d) * vs, lanes < tail));
        j += VLEN;
    }
    for (; j < ncol; j += VLEN) VSTORE(g + j, vsplat(0.0f));
}

static void attention_backward_head(float *dinp, const float *dout, const float *inp, const float *att,
                                    float *next_dinp, const float *next_dout, const float *next_inp, float *buf,
                                    int T, int D, int hs, float scale) {
    const size_t C3 = 3 * (size_t)D;
    const int Tp = pad16(T), hsp = pad16(hs);
    float *vt = buf;                       /* [hs][Tp]: values, transposed */
    float *kp = vt + (size_t)hs * Tp;      /* [T][hsp]: keys */
    float *dk = kp + (size_t)T * hsp;      /* [T][hsp]: d keys */
    float *dv = dk + (size_t)T * hsp;      /* [T][hsp]: d values */
    float *g = dv + (size_t)T * hsp;       /* [8][Tp]: datt, then dpre, of 8 rows */
    float *zero = g + 8 * (size_t)Tp;      /* [Tp] zeros */
    float *qr = zero + Tp;                 /* [8][hsp]: the tile's queries */
    float *dr = qr + 8 * (size_t)hsp;      /* [8][hsp]: the tile's dout rows */
    pack_transposed(vt, inp + 2 * (size_t)D, C3, T, hs);
    pack_rows(kp, inp + D, C3, T, hs);
    memset(dk, 0, sizeof(float) * 2 * (size_t)T * hsp);
    memset(zero, 0, sizeof(float) * (size_t)Tp);

    for (int t0 = 0; t0 < T; t0 += 8) {
        const int nr = T - t0 < 8 ? T - t0 : 8, ncol = t0 + nr, ncolp = pad16(ncol);
        for (int part = 0; part < 3; part++) {
            prefetch_rows(next_inp ? next_inp + (size_t)part * D : NULL, C3, t0, nr, hs, 0);
            prefetch_rows(next_dinp ? next_dinp + (size_t)part * D : NULL, C3, t0, nr, hs, 1);
        }
        prefetch_rows(next_dout, (size_t)D, t0, nr, hs, 0);
        prefetch_rows(next_dinp ? att + (size_t)T * T : NULL, (size_t)T, t0, nr, T, 0); /* the next head's att */
        /* datt = dout V^T for the tile's rows, keys 0..ncol-1 */
        for (int half = 0; half < 2 && 4 * half < nr; half++) {
            int r0 = 4 * half, nh = nr - r0 < 4 ? nr - r0 : 4;
            const float *x[4];
            for (int r = 0; r < 4; r++) x[r] = dout + (size_t)(t0 + r0 + (r < nh ? r : 0)) * D;
            scores4(g + (size_t)r0 * Tp, (size_t)Tp, nh, x, vt, Tp, hs, ncol, Tp, 1.0f);
        }
        /* softmax backward; rows past T become zeros, as do their queries */
        const float *a[8], *w[8];
        for (int r = 0; r < 8; r++) {
            float *gr = g + (size_t)r * Tp;
            if (r < nr) {
                a[r] = att + (size_t)(t0 + r) * T;
                softmax_backward_row(gr, a[r], t0 + r, T, ncol, scale);
                pack_rows(qr + (size_t)r * hsp, inp + (size_t)(t0 + r) * C3, C3, 1, hs);
                pack_rows(dr + (size_t)r * hsp, dout + (size_t)(t0 + r) * D, (size_t)D, 1, hs);
            } else {
                a[r] = zero;
                memset(gr, 0, sizeof(float) * (size_t)ncolp);
                memset(qr + (size_t)r * hsp, 0, sizeof(float) * (size_t)hsp);
                memset(dr + (size_t)r * hsp, 0, sizeof(float) * (size_t)hsp);
            }
            w[r] = gr;
        }
        /* dq = dpre K */
        wy_rows8(dinp + (size_t)t0 * C3, C3, nr, hs, w, kp, hsp, ncol);
        /* dk[t2] += dpre[t][t2] q[t], dv[t2] += a[t][t2] dout[t], t in order */
        wtx_add(dk, hsp, w, qr, ncol);
        wtx_add(dv, hsp, a, dr, ncol);
    }
    for (int j = 0; j < T; j++) {
        float *row = dinp + (size_t)j * C3;
        copy_pad(row + D, dk + (size_t)j * hsp, hs, hs);
        copy_pad(row + 2 * (size_t)D, dv + (size_t)j * hsp, hs, hs);
    }
}

void attention_backward(float *dinp, float *scratch, const float *dout, const float *inp, const float *att,
                        int B, int T, int D, int H) {
    int hs = D / H;
    float scale = 1.0f / sqrtf((float)hs);
    size_t C3 = 3 * (size_t)D;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            size_t in = (size_t)b * T * C3 + (size_t)h * hs, o = (size_t)b * T * D + (size_t)h * hs;
            /* where the next head's rows start (none after the last) */
            int last = b + 1 == B && h + 1 == H;
            size_t in2 = h + 1 < H ? in + hs : (size_t)(b + 1) * T * C3, o2 = h + 1 < H ? o + hs : (size_t)(b + 1) * T * D;
            attention_backward_head(dinp + in, dout + o, inp + in, att + ((size_t)b * H + h) * T * T,
                                    last ? NULL : dinp + in2, last ? NULL : dout + o2, last ? NULL : inp + in2, scratch,
                                    T, D, hs, scale);
        }
}
