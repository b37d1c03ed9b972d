/* cmd_data.c - `corpus` and `tokenize`: making the data the trainers read. */
#include <stdio.h>
#include <string.h>

#include "../core/path.h"
#include "../core/safe_file.h"
#include "../core/tokenizer.h"
#include "../dataset/corpus.h"
#include "cli.h"
#include "commands.h"

int cmd_corpus(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--out", 0, "FILE: where to write the text (FILE.json gets its statistics)"},
        {"--bytes", 0, "N: size of the text (default 73000000)"},
        {"--seed", 0, "S: seed of the generating process (default 1)"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "corpus", "--out FILE [--bytes N] [--seed S]", specs, 0, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    const char *out;
    long long bytes = (long long)CORPUS_DEFAULT_BYTES, seed = (long long)CORPUS_DEFAULT_SEED;
    if (cli_require(&a, "--out", &out, &err) || cli_get_long(&a, "--bytes", 1000, 1LL << 40, &bytes, &err) ||
        cli_get_long(&a, "--seed", 0, 1LL << 62, &seed, &err))
        return cli_error("corpus", err.msg, 1);
    char json[SB_PATH_MAX];
    if (safe_output_check("--out", out, &err) || path_suffix(json, sizeof json, out, ".json", &err) ||
        safe_output_check("--out (its .json)", json, &err))
        return cli_error("corpus", err.msg, 1);
    const SafeRole roles[] = {{"--out", out, 1}, {"--out (its .json)", json, 1}};
    if (safe_files_distinct(roles, 2, &err)) return cli_error("corpus", err.msg, 1);
    OutputLock lock; /* the text and its statistics: one writer */
    if (output_lock_beside(&lock, "--out", out, &err)) return cli_error("corpus", err.msg, 0);
    CorpusStats st;
    sb_status failed = corpus_write(out, (uint64_t)bytes, (uint64_t)seed, &st, &err);
    output_lock_release(&lock);
    if (failed) return cli_error("corpus", err.msg, 0);
    printf("corpus %s: %llu bytes, %llu tokens, %llu types, entropy rate %.4f nats/token (seed %llu)\n", out,
           (unsigned long long)st.bytes, (unsigned long long)st.tokens, (unsigned long long)st.types,
           st.entropy_nats, (unsigned long long)st.seed);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    static const CliOptSpec specs[] = {
        {"--out", 0, "TOKENS: token file to write (TOKENS.vocab gets the vocabulary)"},
        {"--vocab", 0, "V: vocabulary size including the 5 specials (default 8192)"},
        {"--help", 1, "print this"},
        {NULL, 0, NULL},
    };
    CliArgs a;
    int rc = cli_parse_command(&a, "tokenize", "TEXT --out TOKENS [--vocab V]", specs, 1, argc, argv);
    if (rc >= 0) return rc;
    sb_error err;
    const char *out;
    long long vocab = 8192;
    if (cli_require(&a, "--out", &out, &err) ||
        cli_get_long(&a, "--vocab", TOKENIZER_MIN_VOCAB, TOKENIZER_MAX_VOCAB, &vocab, &err))
        return cli_error("tokenize", err.msg, 1);
    if (a.n_positional != 1) return cli_error("tokenize", "the text file to tokenize is required", 1);
    char vocab_out[SB_PATH_MAX];
    if (safe_output_check("--out", out, &err) || path_suffix(vocab_out, sizeof vocab_out, out, ".vocab", &err) ||
        safe_output_check("--out (its .vocab)", vocab_out, &err))
        return cli_error("tokenize", err.msg, 1);
    const SafeRole roles[] = {{"TEXT", a.positional[0], 0}, {"--out", out, 1}, {"--out (its .vocab)", vocab_out, 1}};
    if (safe_files_distinct(roles, 3, &err)) return cli_error("tokenize", err.msg, 1);
    OutputLock lock; /* the token file and its vocabulary: one writer, or they could come from two texts */
    if (output_lock_beside(&lock, "--out", out, &err)) return cli_error("tokenize", err.msg, 0);
    TokenizeStats st;
    sb_status failed = tokenize_file(a.positional[0], out, (uint32_t)vocab, &st, &err);
    output_lock_release(&lock);
    if (failed) return cli_error("tokenize", err.msg, 0);
    printf("tokenized %s: %llu bytes, %llu tokens, %llu types, vocabulary %u, %llu unknown (%.3f%%)\n",
           a.positional[0], (unsigned long long)st.bytes, (unsigned long long)st.tokens,
           (unsigned long long)st.types, st.vocab_size, (unsigned long long)st.unknown,
           st.tokens ? 100.0 * (double)st.unknown / (double)st.tokens : 0.0);
    return 0;
}
