/* tokens.c - the token file: load, save, and the B x T windows cut from it.
 *
 * The file is a 24-byte little-endian header (magic, version, vocab size, the
 * vocabulary's fingerprint, the token count) followed by the ids as little-endian uint32
 * (format in tokens.h). Loading checks everything a trainer could later crash
 * on, before the trainer sees a single id: the exact size implied by the count,
 * the magic and version, and every id against the vocab size. Ids are read
 * with fread in large chunks straight into the destination array; on a
 * little-endian host (every machine this project targets) that array is the
 * file's bytes, on a big-endian one each id is byte-swapped after reading, so
 * the file is the same everywhere. Saving goes through safe_file.h (a
 * temporary file and rename()), so `path` holds either the old file or the
 * complete new one. */
#include "tokens.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "safe_file.h"

/* Ids per fread/fwrite call: 4 MiB, large enough that the syscall cost
 * vanishes and small enough to stay in the last-level cache. */
#define TOKENS_IO_CHUNK (1u << 20)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define TOKENS_HOST_BIG_ENDIAN 1
#else
#define TOKENS_HOST_BIG_ENDIAN 0
#endif

static uint32_t le32_get(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64_get(const unsigned char *p) {
    return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

static void le32_put(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void le64_put(unsigned char *p, uint64_t v) {
    le32_put(p, (uint32_t)v);
    le32_put(p + 4, (uint32_t)(v >> 32));
}

/* In-place conversion between file order (little-endian) and host order; a
 * no-op the compiler removes on little-endian hosts. */
static void ids_swap_to_host(uint32_t *ids, size_t n) {
#if TOKENS_HOST_BIG_ENDIAN
    for (size_t i = 0; i < n; i++) ids[i] = __builtin_bswap32(ids[i]);
#else
    (void)ids;
    (void)n;
#endif
}

/* What the 24-byte header says, in host order. */
typedef struct {
    uint32_t magic, version, vocab, reserved; /* reserved: the vocabulary's fingerprint in version 2 */
    uint64_t n;
} TokensHeader;

static const char *const redo = "regenerate it with `sphere-bench tokenize`";

/* Opens path as the token file to read, and its size in bytes. */
static sb_status open_sized(FILE **f, uint64_t *size, const char *path, sb_error *err) {
    sb_status st = safe_input_open(f, path, "token file", "check the path or run `sphere-bench tokenize` first", err);
    if (st) return st;
    struct stat sb;
    if (fstat(fileno(*f), &sb) == 0) return *size = (uint64_t)sb.st_size, SB_OK;
    st = sb_fail(err, SB_EIO, "cannot read token file %s: %s", path, strerror(errno));
    fclose(*f);
    *f = NULL;
    return st;
}

static sb_status read_header(TokensHeader *h, FILE *f, uint64_t size, const char *path, sb_error *err) {
    unsigned char b[TOKENS_HEADER_BYTES];
    if (size < TOKENS_HEADER_BYTES || fread(b, 1, sizeof b, f) != sizeof b)
        return sb_fail(err, SB_EFORMAT,
                       "token file %s is %llu bytes, shorter than the %d-byte header; it is empty or truncated, %s",
                       path, (unsigned long long)size, TOKENS_HEADER_BYTES, redo);
    *h = (TokensHeader){.magic = le32_get(b), .version = le32_get(b + 4), .vocab = le32_get(b + 8),
                        .reserved = le32_get(b + 12), .n = le64_get(b + 16)};
    return SB_OK;
}

/* The file's size must be exactly the header's count of ids after it
 * (computed without overflow for absurd counts). */
static sb_status check_size(const TokensHeader *h, uint64_t size, const char *path, sb_error *err) {
    uint64_t n = h->n;
    if (n > (UINT64_MAX - TOKENS_HEADER_BYTES) / 4)
        return sb_fail(err, SB_EFORMAT,
                       "token file %s declares %llu tokens, more than any file can hold (size %llu bytes); %s", path,
                       (unsigned long long)n, (unsigned long long)size, redo);
    uint64_t want = TOKENS_HEADER_BYTES + 4 * n;
    if (n > SIZE_MAX / sizeof(uint32_t) || want != size)
        return sb_fail(err, SB_EFORMAT,
                       "token file %s is %llu bytes but its header declares %llu tokens, so %llu bytes expected "
                       "(%s); %s",
                       path, (unsigned long long)size, (unsigned long long)n, (unsigned long long)want,
                       size < want ? "truncated" : "trailing bytes", redo);
    return SB_OK;
}

static sb_status check_header(const TokensHeader *h, uint64_t size, const char *path, sb_error *err) {
    if (h->magic != TOKENS_MAGIC)
        return sb_fail(err, SB_EFORMAT, "%s is not a token file: magic %u found, %u expected; %s", path, h->magic,
                       TOKENS_MAGIC, redo);
    if (h->version != 1 && h->version != TOKENS_VERSION)
        return sb_fail(err, SB_EFORMAT, "token file %s has version %u, this program reads versions 1 and %u; %s",
                       path, h->version, TOKENS_VERSION, redo);
    if (h->vocab == 0 || h->vocab > (uint32_t)INT32_MAX) /* windows hand ids out as int */
        return sb_fail(err, SB_EFORMAT, "token file %s declares vocab size %u, expected 1..%d; %s", path, h->vocab,
                       INT32_MAX, redo);
    if (h->version == 1 && h->reserved != 0) /* version 2 keeps the vocabulary's fingerprint there */
        return sb_fail(err, SB_EFORMAT,
                       "token file %s has %u in the reserved header field (offset 12), 0 expected; %s", path,
                       h->reserved, redo);
    if (h->n == 0) return sb_fail(err, SB_EFORMAT, "token file %s holds zero tokens; tokenize a non-empty text", path);
    return check_size(h, size, path, err);
}

/* The n ids after the header, in host order, into a new array. */
static sb_status read_ids(uint32_t **out, FILE *f, uint64_t n, const char *path, sb_error *err) {
    uint32_t *ids = *out = malloc((size_t)n * sizeof *ids);
    if (!ids)
        return sb_fail(err, SB_ENOMEM,
                       "cannot allocate %llu bytes for the ids of token file %s; free memory or use a smaller file",
                       (unsigned long long)(n * 4), path);
    for (uint64_t done = 0; done < n;) {
        size_t want = n - done < TOKENS_IO_CHUNK ? (size_t)(n - done) : TOKENS_IO_CHUNK;
        size_t got = fread(ids + done, sizeof *ids, want, f);
        if (got != want)
            return sb_fail(err, SB_EIO, "read error in token file %s at token %llu of %llu: %s; check the disk and retry",
                           path, (unsigned long long)(done + got), (unsigned long long)n,
                           ferror(f) && errno ? strerror(errno) : "file shrank while reading");
        ids_swap_to_host(ids + done, got);
        done += got;
    }
    return SB_OK;
}

/* Every id below the vocabulary: one branch-light pass for the largest, then the first bad one. */
static sb_status check_ids(const uint32_t *ids, uint64_t n, uint32_t vocab, const char *path, sb_error *err) {
    uint32_t max_id = 0;
    for (uint64_t i = 0; i < n; i++) max_id = ids[i] > max_id ? ids[i] : max_id;
    if (max_id < vocab) return SB_OK;
    uint64_t bad = 0;
    while (ids[bad] < vocab) bad++;
    return sb_fail(err, SB_EFORMAT,
                   "token file %s: token %llu (byte offset %llu) has id %u, not below the vocab size %u; the file is "
                   "corrupt, %s",
                   path, (unsigned long long)bad, (unsigned long long)(TOKENS_HEADER_BYTES + 4 * bad), ids[bad], vocab,
                   redo);
}

sb_status tokens_load(TokenFile *tf, const char *path, sb_error *err) {
    memset(tf, 0, sizeof *tf);
    FILE *f;
    uint64_t size = 0;
    TokensHeader h = {0};
    uint32_t *ids = NULL;
    sb_status st = open_sized(&f, &size, path, err);
    if (st) return st;
    if (!(st = read_header(&h, f, size, path, err)) && !(st = check_header(&h, size, path, err)))
        st = read_ids(&ids, f, h.n, path, err);
    fclose(f);
    if (!st) st = check_ids(ids, h.n, h.vocab, path, err);
    if (st) {
        free(ids);
        return st;
    }
    *tf = (TokenFile){.vocab_size = h.vocab, .vocab_id = h.reserved, .n_tokens = h.n, .ids = ids};
    return SB_OK;
}

sb_status tokens_save(const char *path, const uint32_t *ids, uint64_t n_tokens, uint32_t vocab_size,
                      uint32_t vocab_id, sb_error *err) {
    SafeFile sf;
    sb_status st = tokens_save_open(&sf, path, ids, n_tokens, vocab_size, vocab_id, err);
    if (st != SB_OK) return st;
    return safe_file_commit(&sf, 1, err);
}

sb_status tokens_save_open(SafeFile *sf, const char *path, const uint32_t *ids, uint64_t n_tokens,
                           uint32_t vocab_size, uint32_t vocab_id, sb_error *err) {
    sf->f = NULL;
    sf->tmp[0] = '\0';
    sf->slot = -1;
    if (vocab_size == 0 || vocab_size > (uint32_t)INT32_MAX)
        return sb_fail(err, SB_ECONFIG, "cannot write token file %s with vocab size %u; it must be 1..%d", path,
                       vocab_size, INT32_MAX);
    if (n_tokens == 0)
        return sb_fail(err, SB_ECONFIG, "refusing to write token file %s with zero tokens; tokenize a non-empty text", path);
    for (uint64_t i = 0; i < n_tokens; i++)
        if (ids[i] >= vocab_size)
            return sb_fail(err, SB_ERANGE, "cannot write token file %s: token %llu has id %u, not below the vocab size %u",
                           path, (unsigned long long)i, ids[i], vocab_size);

    sb_status st = safe_file_open(sf, path, "token file", err);
    if (st != SB_OK) return st;
    FILE *f = sf->f;
    unsigned char h[TOKENS_HEADER_BYTES];
    le32_put(h, TOKENS_MAGIC);
    le32_put(h + 4, TOKENS_VERSION);
    le32_put(h + 8, vocab_size);
    le32_put(h + 12, vocab_id);
    le64_put(h + 16, n_tokens);
    int ok = fwrite(h, 1, sizeof h, f) == sizeof h;
#if TOKENS_HOST_BIG_ENDIAN
    uint32_t *buf = malloc(TOKENS_IO_CHUNK * sizeof *buf);
    ok = ok && buf;
#endif
    for (uint64_t done = 0; ok && done < n_tokens;) {
        size_t want = n_tokens - done < TOKENS_IO_CHUNK ? (size_t)(n_tokens - done) : TOKENS_IO_CHUNK;
#if TOKENS_HOST_BIG_ENDIAN
        for (size_t i = 0; i < want; i++) buf[i] = __builtin_bswap32(ids[done + i]);
        ok = fwrite(buf, sizeof *buf, want, f) == want;
#else
        ok = fwrite(ids + done, sizeof *ids, want, f) == want;
#endif
        done += want;
    }
#if TOKENS_HOST_BIG_ENDIAN
    int write_errno = errno; /* safe_file_commit reports it */
    free(buf);
    errno = write_errno;
#endif
    if (ok && fflush(f) == 0 && !ferror(f)) return SB_OK;
    int e = errno;
    safe_file_abort(sf);
    return sb_fail(err, SB_EIO, "%s: cannot write the token file: %s; check free disk space and permissions", path,
                   e ? strerror(e) : "short write");
}

void tokens_free(TokenFile *tf) {
    if (!tf) return;
    free(tf->ids);
    memset(tf, 0, sizeof *tf);
}

uint64_t tokens_batch_count(const TokenFile *tf, int B, int T) {
    if (!tf || tf->n_tokens == 0 || B <= 0 || T <= 0) return 0;
    return (tf->n_tokens - 1) / ((uint64_t)B * (uint64_t)T);
}

sb_status tokens_window(int *inputs, int *targets, const TokenFile *tf, uint64_t offset, int B, int T, sb_error *err) {
    if (B <= 0 || T <= 0)
        return sb_fail(err, SB_ECONFIG, "batch shape B=%d T=%d is invalid; both must be positive", B, T);
    uint64_t len = (uint64_t)B * (uint64_t)T;
    /* The window needs tokens offset .. offset+len inclusive (the last target). */
    if (tf->n_tokens < len + 1 || offset > tf->n_tokens - len - 1)
        return sb_fail(err, SB_ERANGE,
                       "batch window at token offset %llu needs tokens up to %llu but the token file has %llu; "
                       "the last valid offset is %lld, use fewer batches or a larger file",
                       (unsigned long long)offset, (unsigned long long)(offset + len), (unsigned long long)tf->n_tokens,
                       tf->n_tokens >= len + 1 ? (long long)(tf->n_tokens - len - 1) : -1LL);
    const uint32_t *src = tf->ids + offset;
    for (uint64_t i = 0; i < len; i++) {
        inputs[i] = (int)src[i];
        targets[i] = (int)src[i + 1];
    }
    return SB_OK;
}
