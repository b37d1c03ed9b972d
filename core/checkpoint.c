/* checkpoint.c - reading and writing parameter/gradient files; see checkpoint.h.
 * Saving goes through safe_file.h (a temporary file renamed into place).
 * x86-64 and aarch64 Linux are little-endian, so the buffers are written as
 * they are in memory; the static assert keeps a big-endian build honest. */
#include "checkpoint.h"

#include <errno.h>
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
    int32_t header[CHECKPOINT_HEADER_INTS] = {CHECKPOINT_MAGIC, CHECKPOINT_VERSION, c->V, c->T, c->D, c->L, c->H, 0};
    size_t n = model_param_count(c);
    int ok = fwrite(header, sizeof header, 1, sf.f) == 1 && fwrite(buf, sizeof(float), n, sf.f) == n;
    return safe_file_commit(&sf, ok, err);
}

sb_status checkpoint_load(const char *path, ModelConfig *c, float **buf, sb_error *err) {
    *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return sb_fail(err, SB_EIO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    int32_t h[CHECKPOINT_HEADER_INTS];
    sb_status st = SB_OK;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = sb_fail(err, SB_EIO, "%s: not a regular file", path);
        goto done;
    }
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
    if (h[1] != CHECKPOINT_VERSION) {
        st = sb_fail(err, SB_EFORMAT, "%s: checkpoint version %d, this build reads version %d", path, h[1],
                     CHECKPOINT_VERSION);
        goto done;
    }
    if (h[7] != 0) {
        st = sb_fail(err, SB_EFORMAT, "%s: reserved header field is %d, expected 0", path, h[7]);
        goto done;
    }
    ModelConfig cfg = {h[2], h[3], h[4], h[5], h[6]};
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
    *c = cfg;
    *buf = p;
done:
    fclose(f);
    return st;
}
