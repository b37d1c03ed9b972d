/* checkpoint.c - reading and writing parameter/gradient files; see checkpoint.h.
 * Saving goes through safe_file.h (a temporary file renamed into place).
 * x86-64 and aarch64 Linux are little-endian, so the buffers are written as
 * they are in memory; the static assert keeps a big-endian build honest. */
#include "checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "safe_file.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "file formats assume a little-endian host");

sb_status checkpoint_save(const char *path, const ModelConfig *c, const float *buf, sb_error *err) {
    SafeFile sf;
    sb_status st = safe_file_open(&sf, path, "checkpoint", err);
    if (st != SB_OK) return st;
    int32_t header[CHECKPOINT_HEADER_INTS] = {CHECKPOINT_MAGIC, CHECKPOINT_VERSION, c->V, c->T, c->D, c->L, c->H,
                                              (int32_t)c->vocab_id};
    size_t n = model_param_count(c);
    int ok = fwrite(header, sizeof header, 1, sf.f) == 1 && fwrite(buf, sizeof(float), n, sf.f) == n;
    return safe_file_commit(&sf, ok, err);
}

/* Where flat index i of the parameter layout falls: tensor name (with its
 * layer) and the index inside that tensor. */
static void tensor_of(char *name, size_t cap, size_t *in, const ModelConfig *c, size_t i) {
    size_t V = (size_t)c->V, T = (size_t)c->T, D = (size_t)c->D;
    static const char *const layer_names[12] = {"ln1_w", "ln1_b", "qkv_w", "qkv_b", "proj_w", "proj_b",
                                                "ln2_w", "ln2_b", "fc_w", "fc_b", "fcproj_w", "fcproj_b"};
    const size_t layer_sizes[12] = {D, D, 3 * D * D, 3 * D, D * D, D, D, D, 4 * D * D, 4 * D, 4 * D * D, D};
    if (i < V * D) {
        snprintf(name, cap, "wte");
        *in = i;
        return;
    }
    i -= V * D;
    if (i < T * D) {
        snprintf(name, cap, "wpe");
        *in = i;
        return;
    }
    i -= T * D;
    for (int l = 0; l < c->L; l++)
        for (int k = 0; k < 12; k++) {
            if (i < layer_sizes[k]) {
                snprintf(name, cap, "layer %d %s", l, layer_names[k]);
                *in = i;
                return;
            }
            i -= layer_sizes[k];
        }
    snprintf(name, cap, i < D ? "lnf_w" : "lnf_b");
    *in = i < D ? i : i - D;
}

sb_status checkpoint_check_finite(const char *path, const ModelConfig *c, const float *buf, sb_error *err) {
    size_t n = model_param_count(c);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(buf[i])) {
            char name[64];
            size_t in;
            tensor_of(name, sizeof name, &in, c, i);
            return sb_fail(err, SB_EFORMAT, "%s: %s[%zu] (value %zu of %zu) is %g; the model diverged or the file is corrupt",
                           path, name, in, i, n, (double)buf[i]);
        }
    return SB_OK;
}

sb_status checkpoint_vocab_check(const char *path, const ModelConfig *c, uint32_t vocab_id, const char *source,
                                 sb_error *err) {
    if (!c->vocab_id || !vocab_id || c->vocab_id == vocab_id) return SB_OK;
    return sb_fail(err, SB_ECONFIG,
                   "%s was trained on another vocabulary than %s's (fingerprints %08x and %08x): its ids would "
                   "mean other words; use the token file and vocabulary it was trained with",
                   path, source, (unsigned)c->vocab_id, (unsigned)vocab_id);
}

sb_status checkpoint_load(const char *path, ModelConfig *c, float **buf, sb_error *err) {
    *buf = NULL;
    FILE *f;
    sb_status st = safe_input_open(&f, path, "checkpoint", NULL, err);
    if (st != SB_OK) return st;
    int32_t h[CHECKPOINT_HEADER_INTS];
    if (fread(h, sizeof h, 1, f) != 1) {
        st = sb_fail(err, SB_EFORMAT, "%s: too short for a checkpoint header (%d bytes needed)", path,
                     (int)sizeof h);
        goto done;
    }
    if (h[0] != CHECKPOINT_MAGIC) {
        st = sb_fail(err, SB_EFORMAT, "%s: not a sphere-bench checkpoint (magic %d, expected %d)", path, h[0],
                     CHECKPOINT_MAGIC);
        goto done;
    }
    if (h[1] != 1 && h[1] != CHECKPOINT_VERSION) {
        st = sb_fail(err, SB_EFORMAT, "%s: checkpoint version %d, this build reads versions 1 and %d", path, h[1],
                     CHECKPOINT_VERSION);
        goto done;
    }
    if (h[1] == 1 && h[7] != 0) { /* version 2 keeps the vocabulary's fingerprint there */
        st = sb_fail(err, SB_EFORMAT, "%s: reserved header field is %d, expected 0", path, h[7]);
        goto done;
    }
    ModelConfig cfg = {.V = h[2], .T = h[3], .D = h[4], .L = h[5], .H = h[6], .vocab_id = (uint32_t)h[7]};
    sb_error cerr;
    if (model_config_check(&cfg, &cerr)) {
        st = sb_fail(err, SB_EFORMAT, "%s: header describes an impossible model: %s", path, cerr.msg);
        goto done;
    }
    size_t n = model_param_count(&cfg);
    if (fseek(f, 0, SEEK_END) != 0) {
        st = sb_fail(err, SB_EIO, "%s: cannot seek: %s", path, strerror(errno));
        goto done;
    }
    long size = ftell(f);
    long want = (long)(sizeof h + n * sizeof(float));
    if (size != want) {
        st = sb_fail(err, SB_EFORMAT, "%s: %s: %ld bytes, a V=%d T=%d D=%d L=%d H=%d model needs %ld", path,
                     size < want ? "truncated" : "trailing bytes", size, cfg.V, cfg.T, cfg.D, cfg.L, cfg.H, want);
        goto done;
    }
    fseek(f, (long)sizeof h, SEEK_SET);
    float *p = malloc(n * sizeof(float));
    if (!p) {
        st = sb_fail(err, SB_ENOMEM, "%s: cannot allocate %zu parameters", path, n);
        goto done;
    }
    if (fread(p, sizeof(float), n, f) != n) {
        free(p);
        st = sb_fail(err, SB_EIO, "%s: read failed", path);
        goto done;
    }
    if ((st = checkpoint_check_finite(path, &cfg, p, err))) {
        free(p);
        goto done;
    }
    *c = cfg;
    *buf = p;
done:
    fclose(f);
    return st;
}
