/* tokenizer.c - word-level tokenizer: text file -> token file + vocabulary file.
 *
 * One pass over the text, read in 1 MiB chunks, splits it into maximal runs of
 * non-whitespace, lower-cases them (ASCII), and interns each word in an
 * open-addressing hash table that keeps its count; the pass also records the
 * stream of word (type) indices, so the text is read only once. The types are
 * then ranked by (count descending, bytes ascending), which makes the
 * vocabulary a function of the text alone, and the stream is rewritten in
 * place into token ids. The 73 MB corpus (9.3 M words, 5000 types) takes well
 * under a second.
 *
 * Words longer than TOKENIZER_MAX_WORD bytes are not truncated (two long words
 * sharing a prefix would silently become one): they are mapped to UNK, counted
 * in stats->unknown, and left out of the vocabulary and of stats->types. Such
 * words are not language (hashes, base64, URLs), and a vocabulary line of
 * kilobytes helps no model.
 *
 * vocab_lookup scans the vocabulary (O(V) per call): the Vocab struct has no
 * index, and lookups are for tests and tools, not for bulk tokenization. */
#include "tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safe_file.h"
#include "tokens.h"
#include "vocab_id.h"

#define TOKENIZER_MAX_WORD 255
#define TOKENIZER_READ_CHUNK (1u << 20)
#define TYPE_TOO_LONG UINT32_MAX

static const char *const special_words[TOKEN_FIRST_WORD] = {"<pad>", "<unk>", "<bos>", "<eos>", "<mask>"};

/* What separates words: the whitespace of isspace() in the C locale (so the
 * hot loop does not depend on the process locale) and NUL, which no line of
 * a vocabulary can hold. The one rule both tokenize_file and vocab_load
 * apply: a word is a run of 1..TOKENIZER_MAX_WORD bytes that are not
 * separators, lower-cased. */
static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || c == '\0'; }

static unsigned char ascii_lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c; }

/* ---------------------------------------------------------------------------
 * Word table: open addressing with linear probing over a power-of-two slot
 * array; slots hold type index + 1 (0 = empty). Word bytes live in one pool. */

typedef struct {
    uint64_t hash;
    uint64_t count;
    size_t off; /* into pool */
    uint32_t len;
} WordType;

typedef struct {
    uint32_t *slots;
    size_t n_slots; /* power of two */
    WordType *types;
    size_t n_types, cap_types;
    char *pool;
    size_t pool_len, pool_cap;
} WordTable;

static uint64_t word_hash(const unsigned char *w, size_t len) {
    /* FNV-1a, then a final mix so the low bits used for the slot are good. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ w[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void table_free(WordTable *t) {
    free(t->slots);
    free(t->types);
    free(t->pool);
    memset(t, 0, sizeof *t);
}

static int table_init(WordTable *t, size_t n_slots) {
    memset(t, 0, sizeof *t);
    t->n_slots = n_slots;
    t->slots = calloc(n_slots, sizeof *t->slots);
    return t->slots != NULL;
}

static int table_grow(WordTable *t) {
    size_t n = t->n_slots * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots) return 0;
    for (size_t i = 0; i < t->n_types; i++) {
        size_t s = (size_t)t->types[i].hash & (n - 1);
        while (slots[s]) s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->n_slots = n;
    return 1;
}

/* Returns the type index of word w (adding it with count 0 if new), or -1 when out of memory. */
static int64_t table_intern(WordTable *t, const unsigned char *w, uint32_t len, uint64_t h) {
    size_t mask = t->n_slots - 1, s = (size_t)h & mask;
    for (uint32_t idx; (idx = t->slots[s]) != 0; s = (s + 1) & mask) {
        const WordType *wt = &t->types[idx - 1];
        if (wt->hash == h && wt->len == len && memcmp(t->pool + wt->off, w, len) == 0) return idx - 1;
    }
    if (t->n_types >= UINT32_MAX - 1) return -1;
    if (t->n_types == t->cap_types) {
        size_t cap = t->cap_types ? 2 * t->cap_types : 1024;
        WordType *types = realloc(t->types, cap * sizeof *types);
        if (!types) return -1;
        t->types = types;
        t->cap_types = cap;
    }
    if (t->pool_len + len > t->pool_cap) {
        size_t cap = t->pool_cap ? 2 * t->pool_cap : 1 << 16;
        while (cap < t->pool_len + len) cap *= 2;
        char *pool = realloc(t->pool, cap);
        if (!pool) return -1;
        t->pool = pool;
        t->pool_cap = cap;
    }
    memcpy(t->pool + t->pool_len, w, len);
    size_t idx = t->n_types++;
    t->types[idx] = (WordType){.hash = h, .count = 0, .off = t->pool_len, .len = len};
    t->pool_len += len;
    t->slots[s] = (uint32_t)(idx + 1);
    if (2 * t->n_types > t->n_slots && !table_grow(t)) return -1;
    return (int64_t)idx;
}

/* ---------------------------------------------------------------------------
 * Ranking. */

typedef struct {
    const char *word;
    uint32_t len;
    uint32_t type;
    uint64_t count;
} RankEntry;

static int rank_cmp(const void *pa, const void *pb) {
    const RankEntry *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    uint32_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->word, b->word, m);
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* ---------------------------------------------------------------------------
 * Vocabulary file: one word per line, written through safe_file.h. */

/* One line of the vocabulary: the word and its newline, written and added
 * to the fingerprint. */
static int vocab_line(FILE *f, uint32_t *id, const char *word, size_t len) {
    *id = vocab_id_add(vocab_id_add(*id, word, len), "\n", 1);
    return fwrite(word, 1, len, f) == len && fputc('\n', f) != EOF;
}

/* Writes the vocabulary into sf's temporary, left open for the caller to
 * commit with the token file, and its fingerprint into *id; on failure
 * nothing is left on disk. */
static sb_status vocab_write(SafeFile *sf, uint32_t *id, const char *path, const WordTable *t,
                             const RankEntry *ranked, uint32_t n_words, sb_error *err) {
    sb_status st = safe_file_open(sf, path, "vocabulary", err);
    if (st != SB_OK) return st;
    FILE *f = sf->f;
    int ok = 1;
    uint32_t h = VOCAB_ID_START;
    for (int i = 0; i < TOKEN_FIRST_WORD && ok; i++) ok = vocab_line(f, &h, special_words[i], strlen(special_words[i]));
    for (uint32_t i = 0; i < n_words && ok; i++) {
        const WordType *wt = &t->types[ranked[i].type];
        ok = vocab_line(f, &h, t->pool + wt->off, wt->len);
    }
    *id = vocab_id_end(h);
    if (ok && fflush(f) == 0 && !ferror(f)) return SB_OK;
    int e = errno;
    safe_file_abort(sf);
    return sb_fail(err, SB_EIO, "%s: cannot write the vocabulary: %s; check free disk space and permissions", path,
                   e ? strerror(e) : "short write");
}

/* ---------------------------------------------------------------------------
 * tokenize_file. */

typedef struct {
    uint32_t *v;
    size_t n, cap;
} IdStream;

static int stream_push(IdStream *s, uint32_t x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1 << 16;
        uint32_t *v = realloc(s->v, cap * sizeof *v);
        if (!v) return 0;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return 1;
}

/* One tokenization, stage by stage: the text's word types and its stream of
 * type indices, the types ranked, the vocabulary's words chosen from them, the
 * stream rewritten into token ids. */
typedef struct {
    const char *text_path;
    WordTable t;
    IdStream ids;          /* type indices (TYPE_TOO_LONG for a word too long), then token ids */
    RankEntry *ranked;     /* [t.n_types] by rank; its first n_words are the vocabulary's words */
    uint32_t n_words;
    uint64_t bytes, too_long, unknown;
} Tokenization;

/* Ends the current word (its true length wlen, its first bytes in word):
 * interned and counted, or marked too long; pushed on the stream. 0: out of memory. */
static int close_word(Tokenization *z, const unsigned char *word, uint64_t wlen) {
    uint32_t type = TYPE_TOO_LONG;
    if (wlen <= TOKENIZER_MAX_WORD) {
        int64_t idx = table_intern(&z->t, word, (uint32_t)wlen, word_hash(word, (size_t)wlen));
        if (idx < 0) return 0;
        z->t.types[idx].count++;
        type = (uint32_t)idx;
    } else {
        z->too_long++;
    }
    return stream_push(&z->ids, type);
}

/* The one pass over the text, chunk by chunk; refuses a text with no usable word. */
static sb_status read_words(Tokenization *z, FILE *f, unsigned char *chunk, sb_error *err) {
    /* The current word is built here across chunk boundaries; only its first
     * TOKENIZER_MAX_WORD bytes are kept, its true length is `wlen`. */
    unsigned char word[TOKENIZER_MAX_WORD];
    uint64_t wlen = 0;
    int oom = 0;
    for (int eof = 0; !eof && !oom;) {
        size_t got = fread(chunk, 1, TOKENIZER_READ_CHUNK, f);
        /* got == 0 at end of file: run the loop once more with a virtual
         * space so the last word is closed like any other. */
        eof = got == 0;
        for (size_t i = 0; i < (eof ? 1 : got) && !oom; i++) {
            unsigned char c = eof ? ' ' : chunk[i];
            if (!is_space(c)) {
                if (wlen < TOKENIZER_MAX_WORD) word[wlen] = ascii_lower(c);
                wlen++;
            } else if (wlen) {
                oom = !close_word(z, word, wlen);
                wlen = 0;
            }
        }
        z->bytes += got;
    }
    if (ferror(f))
        return sb_fail(err, SB_EIO, "read error in text file %s after %llu bytes: %s; check the disk and retry",
                       z->text_path, (unsigned long long)z->bytes, strerror(errno));
    if (oom)
        return sb_fail(err, SB_ENOMEM, "out of memory tokenizing %s after %llu bytes (%zu words, %zu types)",
                       z->text_path, (unsigned long long)z->bytes, z->ids.n, z->t.n_types);
    if (z->ids.n == 0)
        return sb_fail(err, SB_EFORMAT, "text file %s has no words (%llu bytes, all whitespace); give it some text",
                       z->text_path, (unsigned long long)z->bytes);
    if (z->t.n_types == 0)
        return sb_fail(err, SB_EFORMAT,
                       "text file %s has no words of at most %d bytes (%llu longer ones); it is not word-level text",
                       z->text_path, TOKENIZER_MAX_WORD, (unsigned long long)z->too_long);
    return SB_OK;
}

static sb_status rank_types(Tokenization *z, sb_error *err) {
    WordTable *t = &z->t;
    if (!(z->ranked = malloc(t->n_types * sizeof *z->ranked)))
        return sb_fail(err, SB_ENOMEM, "out of memory ranking %zu word types of %s", t->n_types, z->text_path);
    for (size_t i = 0; i < t->n_types; i++)
        z->ranked[i] = (RankEntry){.word = t->pool + t->types[i].off, .len = t->types[i].len, .type = (uint32_t)i,
                                   .count = t->types[i].count};
    qsort(z->ranked, t->n_types, sizeof *z->ranked, rank_cmp);
    return SB_OK;
}

/* The vocabulary's words, the vocab_size - 5 best ranked. WordType.count
 * becomes the type -> token id map; ranked[0..n_words) the words. A word
 * spelled like a special ("<unk>") is UNK: a vocabulary cannot hold it twice. */
static sb_status choose_words(Tokenization *z, uint32_t vocab_size, sb_error *err) {
    uint32_t max_words = vocab_size - TOKEN_FIRST_WORD;
    z->n_words = 0;
    for (size_t r = 0; r < z->t.n_types; r++) {
        WordType *wt = &z->t.types[z->ranked[r].type];
        int special = 0;
        for (int k = 0; k < TOKEN_FIRST_WORD; k++)
            special |= wt->len == strlen(special_words[k]) && memcmp(z->t.pool + wt->off, special_words[k], wt->len) == 0;
        if (special || z->n_words == max_words) {
            wt->count = TOKEN_UNK;
            continue;
        }
        wt->count = TOKEN_FIRST_WORD + z->n_words;
        z->ranked[z->n_words++] = z->ranked[r];
    }
    if (z->n_words == 0)
        return sb_fail(err, SB_EFORMAT, "text file %s has no words but the specials' spellings (<unk>, ...)",
                       z->text_path);
    return SB_OK;
}

/* The stream of types, in place, into token ids; counts the unknown ones. */
static void types_to_ids(Tokenization *z) {
    for (size_t i = 0; i < z->ids.n; i++) {
        uint32_t id = z->ids.v[i] == TYPE_TOO_LONG ? TOKEN_UNK : (uint32_t)z->t.types[z->ids.v[i]].count;
        z->unknown += id == TOKEN_UNK;
        z->ids.v[i] = id;
    }
}

/* Both files are written in full, then renamed into place together: the old
 * pair or the new pair, never one of each. */
static sb_status write_pair(const Tokenization *z, const char *out_path, sb_error *err) {
    size_t vp_len = strlen(out_path) + sizeof ".vocab";
    char *vocab_path = malloc(vp_len);
    if (!vocab_path) return sb_fail(err, SB_ENOMEM, "out of memory naming the vocabulary file for %s", out_path);
    snprintf(vocab_path, vp_len, "%s.vocab", out_path);
    SafeFile pair[2];
    uint32_t id = 0;
    sb_status st = vocab_write(&pair[0], &id, vocab_path, &z->t, z->ranked, z->n_words, err);
    if (!st && (st = tokens_save_open(&pair[1], out_path, z->ids.v, z->ids.n, TOKEN_FIRST_WORD + z->n_words, id, err)))
        safe_file_abort(&pair[0]);
    if (!st) st = safe_file_commit_all(pair, 2, 1, err);
    free(vocab_path);
    return st;
}

sb_status tokenize_file(const char *text_path, const char *out_path, uint32_t vocab_size, TokenizeStats *stats,
                        sb_error *err) {
    if (vocab_size < TOKENIZER_MIN_VOCAB || vocab_size > TOKENIZER_MAX_VOCAB)
        return sb_fail(err, SB_ECONFIG, "vocab size %u is out of range: it must be between %d and %d (5 specials + words)",
                       vocab_size, TOKENIZER_MIN_VOCAB, TOKENIZER_MAX_VOCAB);
    FILE *f;
    sb_status st = safe_input_open(&f, text_path, "text file", "check the path (`sphere-bench corpus` writes one)", err);
    if (st) return st;
    Tokenization z = {.text_path = text_path};
    unsigned char *chunk = malloc(TOKENIZER_READ_CHUNK);
    if (!chunk || !table_init(&z.t, 1 << 14))
        st = sb_fail(err, SB_ENOMEM, "out of memory starting to tokenize %s", text_path);
    else
        st = read_words(&z, f, chunk, err);
    fclose(f);
    free(chunk);
    if (!st && !(st = rank_types(&z, err)) && !(st = choose_words(&z, vocab_size, err))) {
        types_to_ids(&z);
        st = write_pair(&z, out_path, err);
    }
    if (!st && stats)
        *stats = (TokenizeStats){.bytes = z.bytes, .tokens = z.ids.n, .types = z.t.n_types, .unknown = z.unknown,
                                 .vocab_size = TOKEN_FIRST_WORD + z.n_words};
    free(z.ranked);
    free(z.ids.v);
    table_free(&z.t);
    return st;
}

/* ---------------------------------------------------------------------------
 * Loading a vocabulary. */

void vocab_free(Vocab *v) {
    if (!v) return;
    if (v->words)
        for (uint32_t i = 0; i < v->size; i++) free(v->words[i]);
    free(v->words);
    v->words = NULL;
    v->size = 0;
}

sb_status vocab_load(Vocab *v, const char *path, sb_error *err) {
    memset(v, 0, sizeof *v);
    FILE *f;
    sb_status st = safe_input_open(&f, path, "vocabulary", "it is written by `sphere-bench tokenize` as OUT.vocab", err);
    if (st != SB_OK) return st;
    char *line = NULL;
    size_t line_cap = 0, cap = 0;
    WordTable seen; /* to refuse duplicate lines, which would make ids ambiguous */
    if (!table_init(&seen, 1 << 10)) {
        fclose(f);
        return sb_fail(err, SB_ENOMEM, "out of memory loading vocabulary %s", path);
    }
    ssize_t len;
    uint32_t h = VOCAB_ID_START; /* of the file's bytes, newlines included, as tokenize wrote them */
    while ((len = getline(&line, &line_cap, f)) >= 0) {
        uint32_t i = v->size;
        h = vocab_id_add(h, line, (size_t)len);
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (i >= TOKENIZER_MAX_VOCAB) {
            st = sb_fail(err, SB_EFORMAT, "vocabulary %s has more than %d lines; it is not a vocabulary file", path,
                         TOKENIZER_MAX_VOCAB);
            break;
        }
        if (i < TOKEN_FIRST_WORD && strcmp(line, special_words[i]) != 0) {
            st = sb_fail(err, SB_EFORMAT, "vocabulary %s line %u is \"%.40s\", expected the special %s (lines 0..4 are "
                         "<pad> <unk> <bos> <eos> <mask>); regenerate it with `sphere-bench tokenize`",
                         path, i, line, special_words[i]);
            break;
        }
        if (len == 0) {
            st = sb_fail(err, SB_EFORMAT, "vocabulary %s line %u is empty; every line must hold one word", path, i);
            break;
        }
        if (len > TOKENIZER_MAX_WORD) {
            st = sb_fail(err, SB_EFORMAT, "vocabulary %s line %u is %zd bytes; a word has at most %d", path, i, len,
                         TOKENIZER_MAX_WORD);
            break;
        }
        for (ssize_t k = 0; k < len && st == SB_OK; k++) {
            unsigned char c = (unsigned char)line[k];
            if (is_space(c))
                st = sb_fail(err, SB_EFORMAT,
                             "vocabulary %s line %u contains whitespace or NUL at byte %zd; words cannot (a Windows line "
                             "ending?)",
                             path, i, k);
            else if (c >= 'A' && c <= 'Z')
                st = sb_fail(err, SB_EFORMAT,
                             "vocabulary %s line %u (\"%.40s\") has upper-case letters; the tokenizer lower-cases words",
                             path, i, line);
        }
        if (st != SB_OK) break;
        size_t before = seen.n_types;
        int64_t idx = table_intern(&seen, (const unsigned char *)line, (uint32_t)len,
                                   word_hash((const unsigned char *)line, (size_t)len));
        if (idx < 0) {
            st = sb_fail(err, SB_ENOMEM, "out of memory loading vocabulary %s at line %u", path, i);
            break;
        }
        if (seen.n_types == before) {
            st = sb_fail(err, SB_EFORMAT, "vocabulary %s line %u repeats \"%.40s\" from line %lld; ids would be ambiguous",
                         path, i, line, (long long)idx);
            break;
        }
        if (v->size == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            char **w = realloc(v->words, ncap * sizeof *w);
            if (!w) {
                st = sb_fail(err, SB_ENOMEM, "out of memory loading vocabulary %s at line %u", path, i);
                break;
            }
            v->words = w;
            cap = ncap;
        }
        v->words[i] = strdup(line);
        if (!v->words[i]) {
            st = sb_fail(err, SB_ENOMEM, "out of memory loading vocabulary %s at line %u", path, i);
            break;
        }
        v->size++;
    }
    if (st == SB_OK && ferror(f))
        st = sb_fail(err, SB_EIO, "read error in vocabulary %s after %u lines: %s", path, v->size, strerror(errno));
    if (st == SB_OK && v->size == 0)
        st = sb_fail(err, SB_EFORMAT, "vocabulary %s is empty; regenerate it with `sphere-bench tokenize`", path);
    if (st == SB_OK && v->size < TOKENIZER_MIN_VOCAB)
        st = sb_fail(err, SB_EFORMAT,
                     "vocabulary %s has %u lines, fewer than the 5 specials plus one word; regenerate it with "
                     "`sphere-bench tokenize`",
                     path, v->size);
    free(line);
    table_free(&seen);
    fclose(f);
    if (st != SB_OK) vocab_free(v);
    else v->id = vocab_id_end(h);
    return st;
}

uint32_t vocab_lookup(const Vocab *v, const char *word) {
    if (!v || !word) return TOKEN_UNK;
    for (uint32_t i = 0; i < v->size; i++) {
        const unsigned char *a = (const unsigned char *)v->words[i], *b = (const unsigned char *)word;
        while (*a && *a == ascii_lower(*b)) a++, b++;
        if (*a == '\0' && *b == '\0') return i;
    }
    return TOKEN_UNK;
}
