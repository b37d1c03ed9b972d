/* tokenizer.h - word-level tokenizer and its vocabulary file.
 *
 * Words are maximal runs of non-whitespace, lower-cased (ASCII). Ids 0..4 are
 * the specials PAD, UNK, BOS, EOS, MASK; the V-5 most frequent words get ids
 * 5.. in order of decreasing count (ties broken by byte order of the word, so
 * the vocabulary is a function of the text alone); every other word is UNK.
 * When the text has fewer than V-5 distinct words the vocabulary is smaller
 * than V: the vocab size written is 5 + distinct words.
 *
 * The vocabulary file has one word per line; line i (0-based) is id i, the
 * specials spelled <pad> <unk> <bos> <eos> <mask>. */
#ifndef SB_TOKENIZER_H
#define SB_TOKENIZER_H

#include <stdint.h>

#include "error.h"

enum { TOKEN_PAD = 0, TOKEN_UNK = 1, TOKEN_BOS = 2, TOKEN_EOS = 3, TOKEN_MASK = 4, TOKEN_FIRST_WORD = 5 };

#define TOKENIZER_MIN_VOCAB 6
#define TOKENIZER_MAX_VOCAB (1 << 24)

typedef struct {
    uint32_t size;
    char **words; /* size strings, owned */
    uint32_t id;  /* the file's fingerprint (vocab_id.h): what a token file and a checkpoint record */
} Vocab;

typedef struct {
    uint64_t bytes;    /* bytes of text read */
    uint64_t tokens;   /* tokens written */
    uint64_t types;    /* distinct words in the text */
    uint64_t unknown;  /* tokens mapped to UNK */
    uint32_t vocab_size;
} TokenizeStats;

/* Tokenizes the text file at text_path into the token file out_path and the
 * vocabulary file out_path + ".vocab". An empty text (no words) is refused
 * with SB_EFORMAT. stats may be NULL. */
sb_status tokenize_file(const char *text_path, const char *out_path, uint32_t vocab_size,
                        TokenizeStats *stats, sb_error *err) SB_MUST_CHECK;

sb_status vocab_load(Vocab *v, const char *path, sb_error *err) SB_MUST_CHECK;
void vocab_free(Vocab *v);

/* Id of a word (already lower-cased or not: it is lower-cased here), UNK if absent. */
uint32_t vocab_lookup(const Vocab *v, const char *word);

#endif
