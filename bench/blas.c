/* blas.c - loading a CBLAS at run time and calling its sgemm; see blas.h.
 *
 * Only cblas_sgemm is required. OpenBLAS's own functions (corename, config,
 * thread count) are looked up too, and recorded where present: the kernel
 * OpenBLAS picks depends on the CPU it detects, or on OPENBLAS_CORETYPE
 * where set (some machines set it, and OPENBLAS_L2_SIZE, to work around old
 * builds), so both variables are recorded as they were; neither is changed. */
#include "blas.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SB_BLAS_LIB
#define SB_BLAS_LIB "libopenblas.so.0"
#endif

/* CBLAS's enum values (cblas.h): row-major, no transpose, transpose. */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

static void copy_env(char *dst, size_t n, int *set, const char *var) {
    const char *v = getenv(var);
    *set = v != NULL;
    snprintf(dst, n, "%s", v ? v : "");
}

void blas_open(Blas *b) {
    memset(b, 0, sizeof *b);
    snprintf(b->library, sizeof b->library, "%s", SB_BLAS_LIB);
    copy_env(b->coretype_env, sizeof b->coretype_env, &b->coretype_set, "OPENBLAS_CORETYPE");
    copy_env(b->l2_size_env, sizeof b->l2_size_env, &b->l2_size_set, "OPENBLAS_L2_SIZE");
    b->handle = dlopen(b->library, RTLD_NOW | RTLD_LOCAL);
    if (!b->handle) {
        const char *e = dlerror();
        snprintf(b->error, sizeof b->error, "cannot load %.200s: %.200s", b->library, e ? e : "unknown error");
        return;
    }
    *(void **)&b->sgemm = dlsym(b->handle, "cblas_sgemm");
    if (!b->sgemm) {
        snprintf(b->error, sizeof b->error, "%.200s has no cblas_sgemm", b->library);
        blas_close(b);
        return;
    }
    void (*set_threads)(int) = NULL;
    int (*get_threads)(void) = NULL;
    char *(*corename)(void) = NULL, *(*config)(void) = NULL;
    *(void **)&set_threads = dlsym(b->handle, "openblas_set_num_threads");
    *(void **)&get_threads = dlsym(b->handle, "openblas_get_num_threads");
    *(void **)&corename = dlsym(b->handle, "openblas_get_corename");
    *(void **)&config = dlsym(b->handle, "openblas_get_config");
    if (set_threads) set_threads(1);
    if (get_threads) b->threads = get_threads();
    if (corename && corename()) snprintf(b->corename, sizeof b->corename, "%s", corename());
    if (config && config()) snprintf(b->config, sizeof b->config, "%s", config());
    if (config) { /* "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": its first two words */
        char w1[32] = "", w2[32] = "";
        sscanf(b->config, "%31s %31s", w1, w2);
        snprintf(b->name, sizeof b->name, "%s %s (%s)", w1, w2, b->corename[0] ? b->corename : "core unknown");
    } else {
        snprintf(b->name, sizeof b->name, "%.95s", b->library);
    }
    b->available = 1;
}

void blas_close(Blas *b) {
    if (b->handle) dlclose(b->handle);
    b->handle = NULL;
    b->sgemm = NULL;
}

void blas_gemm(const Blas *b, float *C, const float *A, int trans_a, const float *B, int trans_b, int M, int N, int K) {
    b->sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, M, N, K, 1.0f, A, trans_a ? M : K, B,
             trans_b ? K : N, 1.0f, C, N);
}

static void kv_env(JsonWriter *w, const char *key, int set, const char *v) {
    json_key(w, key);
    if (set)
        json_string(w, v);
    else
        json_null(w);
}

void blas_json(JsonWriter *w, const Blas *b) {
    json_object_begin(w);
    json_kv_bool(w, "available", b->available);
    json_kv_string(w, "library", b->library);
    json_key(w, "name");
    if (b->available)
        json_string(w, b->name);
    else
        json_null(w);
    kv_env(w, "corename", b->corename[0] != 0, b->corename);
    kv_env(w, "config", b->config[0] != 0, b->config);
    json_key(w, "threads");
    if (b->threads > 0)
        json_int(w, b->threads);
    else
        json_null(w);
    json_key(w, "env");
    json_object_begin(w);
    kv_env(w, "OPENBLAS_CORETYPE", b->coretype_set, b->coretype_env);
    kv_env(w, "OPENBLAS_L2_SIZE", b->l2_size_set, b->l2_size_env);
    json_object_end(w);
    kv_env(w, "error", !b->available, b->error);
    json_object_end(w);
}
