/* cache.h - the bench's corpus and token file, made once and checked every time.
 *
 * `make bench` keeps the 73 MB corpus and its token file under a git-ignored
 * folder. Before every bench they are checked against the corpus's JSON,
 * read strictly by core/json_read.h (its byte count, token count and seed,
 * and the token file's own header validation); anything missing, truncated, corrupt or made with other
 * parameters is regenerated, with a line saying why. A dataset is never
 * used on trust. */
#ifndef SB_DATASET_CACHE_H
#define SB_DATASET_CACHE_H

#include <stdint.h>

#include "../core/error.h"
#include "../core/path.h"
#include "../core/tokens.h"
#include "corpus.h"

typedef struct {
    char text_path[SB_PATH_MAX], tokens_path[SB_PATH_MAX];
    CorpusStats corpus;   /* as read back from the corpus JSON */
    int regenerated;      /* 1 when this call made the files */
    char why[SB_PATH_MAX + 512]; /* why they were regenerated: a message naming one path */
} DatasetInfo;

/* Makes sure dir/corpus.txt (bytes, seed) and dir/corpus.tok (vocab) exist
 * and agree, regenerating them if not, and loads the tokens into *tf. */
sb_status dataset_ensure(DatasetInfo *info, TokenFile *tf, const char *dir, uint64_t bytes, uint64_t seed,
                         uint32_t vocab, sb_error *err) SB_MUST_CHECK;

#endif
