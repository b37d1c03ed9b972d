/* blas.h - a CBLAS sgemm to time the core's matmul against (bench-core).
 *
 * The library is opened with dlopen when bench-core runs and closed after:
 * it is not linked into the program, so no trainer, test or MPI rank ever
 * loads it (or the thread pool OpenBLAS starts when it loads), and the build
 * does not need it. Which library: SB_BLAS_LIB, set by the Makefile's
 * BLAS_LIB (default libopenblas.so.0, Debian's libopenblas0; any library
 * with the CBLAS cblas_sgemm will do). It runs on one thread: OpenBLAS's
 * openblas_set_num_threads(1), where the library has it. */
#ifndef SB_BLAS_H
#define SB_BLAS_H

#include "../core/error.h"
#include "../core/json_write.h"

typedef void (*blas_sgemm_fn)(int order, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                              int lda, const float *B, int ldb, float beta, float *C, int ldc);

typedef struct {
    void *handle;
    blas_sgemm_fn sgemm;
    int available;          /* 0: not loaded; why in error */
    char error[512];
    char library[256];      /* the name dlopen was given */
    char name[96];          /* "OpenBLAS 0.3.21 (Zen)", or the library's name */
    char corename[64];      /* openblas_get_corename(), "" where not OpenBLAS */
    char config[256];       /* openblas_get_config(), "" where not OpenBLAS */
    int threads;            /* openblas_get_num_threads() after asking for 1; 0 where unknown */
    char coretype_env[64];  /* OPENBLAS_CORETYPE as set when it ran, "" if unset */
    char l2_size_env[64];   /* OPENBLAS_L2_SIZE as set, "" if unset */
    int coretype_set, l2_size_set;
} Blas;

/* Opens the library, finds cblas_sgemm and asks for one thread. Never
 * fails: where the library or the symbol is missing, b->available is 0 and
 * b->error says why (bench-core then reports BLAS figures as not measured). */
void blas_open(Blas *b);
void blas_close(Blas *b);

/* C[M][N] += op(A) . op(B), row-major and dense, as matmul_gemm (core/matmul.h). */
void blas_gemm(const Blas *b, float *C, const float *A, int trans_a, const float *B, int trans_b, int M, int N, int K);

/* {"available": ..., "library": ..., "name", "corename", "config", "threads",
 * "env": {"OPENBLAS_CORETYPE": str|null, "OPENBLAS_L2_SIZE": str|null}, "error"} */
void blas_json(JsonWriter *w, const Blas *b);

#endif
