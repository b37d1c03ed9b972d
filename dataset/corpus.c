/* corpus.c - the synthetic English-like corpus, with an exactly known entropy rate.
 *
 * The text is a sample of a stationary-in-the-limit process chosen so that its
 * entropy rate can be computed exactly, which gives the report a floor for the
 * training loss:
 *
 *   - About 5000 word types are split into K word classes with English roles
 *     (determiners, nouns, verbs, ..., and a sentence end "." and a comma ","
 *     written as words of their own). Every word belongs to exactly one class,
 *     so a word reveals its class. Function classes hold real English words;
 *     open classes hold pronounceable synthetic words, all distinct.
 *   - The class sequence c_t is an order-2 Markov chain,
 *     P(c_t | c_{t-2}, c_{t-1}) = A[a][b][c] > 0, shaped by a rough English
 *     grammar and perturbed by the seed.
 *   - Within class c, the word of in-class rank k is emitted with probability
 *     E[c][k] proportional to (k+1)^-s (Zipf), independent of everything else.
 *
 * Entropy rate. Let w_t be the words and c_t = class(w_t). Because the class
 * is a function of the word, the past words fix the past classes, and
 *   P(w_t | w_{<t}) = A[c_{t-2}][c_{t-1}][c_t] * E[c_t][w_t],
 * so the word process is itself an order-2 Markov chain and its entropy rate
 * is the stationary expectation of -log of that probability:
 *   H = sum_{a,b} pi(a,b) * sum_c A[a][b][c] * ( -log A[a][b][c] + H(E[c]) )
 *     = sum_{a,b} pi(a,b) * [ H(A[a][b][.]) + sum_c A[a][b][c] H(E[c][.]) ],
 * where pi is the stationary distribution of the pair chain (a,b) -> (b,c),
 * unique because every A entry is positive (the pair chain is irreducible and
 * aperiodic). pi is found by power iteration in double until the L1 change of
 * an iteration is below 1e-14.
 *
 * Text form. Words are separated by single spaces; a newline replaces the
 * space after every CORPUS_SENTENCES_PER_LINE-th "."; the first word of a
 * sentence, proper nouns and "i" are capitalised. Line breaks and capitals
 * are functions of the current and previous token, so they carry no
 * information, and lower-casing + whitespace splitting (the tokenizer) maps
 * the text back to the process symbols one to one.
 *
 * Determinism. A seed and a size fix the bytes on every machine: all
 * randomness comes from rng.h, and no libm function is used anywhere (the
 * Zipf weights and the entropy use the small exp/log below, built from IEEE
 * + - * / only, evaluated identically as long as no a*b+c is fused into an
 * FMA: the Makefile builds this file with -ffp-contract=off, and the pragma
 * below says the same to clang). Sampling uses cumulative tables and
 * rng_double. */
#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json_file.h"
#include "../core/path.h"
#include "../core/rng.h"
#include "../core/safe_file.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define CORPUS_MIN_BYTES 1000
#define CORPUS_ZIPF_S 1.05
#define CORPUS_SENTENCES_PER_LINE 6
#define CORPUS_WORD_MAX 31               /* longest word, letters */
#define CORPUS_BUF_BYTES (8u << 20)      /* output buffer, flushed in 8 MiB writes */
#define CORPUS_PI_TOL 1e-14
#define CORPUS_PI_MAX_ITERS 1000000
#define CORPUS_LN2 0.69314718055994530942

/* Seed-derived streams, one per purpose, so e.g. the words of a seed do not
 * depend on how many grammar perturbations were drawn. */
#define STREAM_WORDS 0x776f726473ull
#define STREAM_GRAMMAR 0x6772616d6dull
#define STREAM_TEXT 0x74657874ull

/* ---------------------------------------------------------------------------
 * Word classes. */

enum {
    C_END, C_COMMA, C_DET, C_NOUN, C_PROPER, C_VERB_T, C_VERB_I, C_VERB_ED, C_VERB_ING, C_ADJ,
    C_ADV, C_PREP, C_PRON_S, C_PRON_O, C_CONJ, C_SUBORD, C_AUX, C_NEG, C_NUM, C_WH,
    K /* number of classes */
};

static const char *const w_end[] = {"."};
static const char *const w_comma[] = {","};
static const char *const w_det[] = {"the", "a", "this", "that", "his", "their", "its", "some", "every", "no",
                                    "an", "these", "those", "each", "my", "our", "your", "any", "another", "such"};
static const char *const w_prep[] = {"of", "in", "to", "for", "with", "on", "at", "by", "from",
                                     "into", "over", "about", "through", "under", "between", "after", "before", "without",
                                     "against", "during", "across", "toward", "upon", "within", "beyond", "behind", "among"};
static const char *const w_pron_s[] = {"he", "it", "they", "she", "we", "i", "you"};
static const char *const w_pron_o[] = {"him", "them", "her", "me", "us", "himself", "itself", "themselves", "herself"};
static const char *const w_conj[] = {"and", "but", "or", "so", "yet", "nor"};
static const char *const w_subord[] = {"because", "while", "when", "if", "although", "since",
                                       "unless", "whereas", "though", "until", "once", "as"};
static const char *const w_aux[] = {"is", "was", "will", "would", "can", "could", "has", "had", "are",
                                    "were", "may", "might", "must", "should", "does", "did", "have", "shall"};
static const char *const w_neg[] = {"not", "never"};
static const char *const w_num[] = {"one", "two", "three", "four", "five", "six", "seven", "eight",
                                    "nine", "ten", "twelve", "twenty", "hundred", "thousand", "million"};
static const char *const w_wh[] = {"which", "who", "where", "what", "how", "why", "whom", "whose"};

#define LIST(a) a, (int)(sizeof a / sizeof a[0])

/* A class is either a fixed list of real words (in frequency order) or
 * n_synth synthetic words of in-class rank k with length
 *   len_base + floor(log2(k+1))  (+-1 jitter for k >= 8),
 * suffix included, so frequent words are short, as in real languages. The
 * bases are calibrated so that the expected bytes per token (word plus one
 * separator, computed exactly from pi and E) is about 7.85: 73 MB of text is
 * then about 9.3 M tokens, the dataset the benchmark was specified with. */
typedef struct {
    const char *name;
    const char *const *fixed;
    int n_fixed;
    int n_synth;
    int len_base;
    const char *suffix;
    int capitalised; /* always written with a capital (proper nouns) */
} ClassSpec;

static const ClassSpec class_specs[K] = {
    [C_END] = {"end", LIST(w_end), 0, 0, NULL, 0},
    [C_COMMA] = {"comma", LIST(w_comma), 0, 0, NULL, 0},
    [C_DET] = {"det", LIST(w_det), 0, 0, NULL, 0},
    [C_NOUN] = {"noun", NULL, 0, 1724, 7, "", 0},
    [C_PROPER] = {"proper", NULL, 0, 300, 8, "", 1},
    [C_VERB_T] = {"verb_t", NULL, 0, 650, 7, "", 0},
    [C_VERB_I] = {"verb_i", NULL, 0, 350, 7, "", 0},
    [C_VERB_ED] = {"verb_ed", NULL, 0, 400, 8, "ed", 0},
    [C_VERB_ING] = {"verb_ing", NULL, 0, 300, 10, "ing", 0},
    [C_ADJ] = {"adj", NULL, 0, 850, 7, "", 0},
    [C_ADV] = {"adv", NULL, 0, 300, 8, "ly", 0},
    [C_PREP] = {"prep", LIST(w_prep), 0, 0, NULL, 0},
    [C_PRON_S] = {"pron_s", LIST(w_pron_s), 0, 0, NULL, 0},
    [C_PRON_O] = {"pron_o", LIST(w_pron_o), 0, 0, NULL, 0},
    [C_CONJ] = {"conj", LIST(w_conj), 0, 0, NULL, 0},
    [C_SUBORD] = {"subord", LIST(w_subord), 0, 0, NULL, 0},
    [C_AUX] = {"aux", LIST(w_aux), 0, 0, NULL, 0},
    [C_NEG] = {"neg", LIST(w_neg), 0, 0, NULL, 0},
    [C_NUM] = {"num", LIST(w_num), 0, 0, NULL, 0},
    [C_WH] = {"wh", LIST(w_wh), 0, 0, NULL, 0},
};

/* First-order skeleton of the grammar: weight of class c after class b
 * (rows sum to about 100). Zero means "not English-like", but every entry
 * still gets a small floor, so every class can follow every pair. */
static const unsigned char grammar[K][K] = {
    [C_END] = {[C_DET] = 30, [C_PRON_S] = 20, [C_PROPER] = 12, [C_SUBORD] = 6, [C_ADV] = 4, [C_NUM] = 3,
               [C_WH] = 3, [C_VERB_ING] = 3, [C_PREP] = 8, [C_CONJ] = 2, [C_NOUN] = 5, [C_ADJ] = 3},
    [C_COMMA] = {[C_CONJ] = 20, [C_SUBORD] = 10, [C_WH] = 12, [C_DET] = 12, [C_PRON_S] = 10, [C_PREP] = 8,
                 [C_ADV] = 6, [C_VERB_ING] = 6, [C_PROPER] = 4, [C_ADJ] = 3, [C_NOUN] = 3},
    [C_DET] = {[C_NOUN] = 55, [C_ADJ] = 30, [C_NUM] = 5, [C_ADV] = 3, [C_VERB_ING] = 3, [C_VERB_ED] = 3},
    [C_NOUN] = {[C_VERB_T] = 12, [C_VERB_I] = 8, [C_VERB_ED] = 10, [C_AUX] = 12, [C_PREP] = 20, [C_END] = 14,
                [C_COMMA] = 10, [C_CONJ] = 6, [C_WH] = 6, [C_NOUN] = 3, [C_ADV] = 2, [C_SUBORD] = 2},
    [C_PROPER] = {[C_VERB_T] = 14, [C_VERB_ED] = 12, [C_VERB_I] = 8, [C_AUX] = 12, [C_PREP] = 8, [C_END] = 12,
                  [C_COMMA] = 10, [C_CONJ] = 5, [C_WH] = 5, [C_PROPER] = 2},
    [C_VERB_T] = {[C_DET] = 35, [C_PRON_O] = 18, [C_PROPER] = 10, [C_NOUN] = 8, [C_ADJ] = 4, [C_NUM] = 4,
                  [C_ADV] = 5, [C_PREP] = 4, [C_SUBORD] = 2},
    [C_VERB_I] = {[C_PREP] = 30, [C_ADV] = 18, [C_END] = 20, [C_COMMA] = 10, [C_CONJ] = 8, [C_SUBORD] = 6},
    [C_VERB_ED] = {[C_DET] = 25, [C_PREP] = 22, [C_PRON_O] = 12, [C_PROPER] = 6, [C_ADV] = 8, [C_END] = 12,
                   [C_COMMA] = 6, [C_NOUN] = 4},
    [C_VERB_ING] = {[C_DET] = 25, [C_PREP] = 20, [C_NOUN] = 12, [C_PRON_O] = 10, [C_ADV] = 8, [C_END] = 10,
                    [C_COMMA] = 6},
    [C_ADJ] = {[C_NOUN] = 60, [C_ADJ] = 6, [C_COMMA] = 5, [C_CONJ] = 6, [C_END] = 8, [C_PREP] = 8},
    [C_ADV] = {[C_VERB_T] = 15, [C_VERB_I] = 12, [C_VERB_ED] = 12, [C_ADJ] = 15, [C_COMMA] = 10, [C_END] = 12,
               [C_ADV] = 2, [C_PREP] = 4, [C_DET] = 4},
    [C_PREP] = {[C_DET] = 45, [C_NOUN] = 12, [C_PROPER] = 12, [C_PRON_O] = 10, [C_ADJ] = 6, [C_NUM] = 5,
                [C_VERB_ING] = 8, [C_WH] = 2},
    [C_PRON_S] = {[C_AUX] = 30, [C_VERB_T] = 22, [C_VERB_ED] = 22, [C_VERB_I] = 12, [C_ADV] = 8, [C_NEG] = 1},
    [C_PRON_O] = {[C_END] = 22, [C_PREP] = 22, [C_COMMA] = 12, [C_CONJ] = 10, [C_ADV] = 8, [C_SUBORD] = 6,
                  [C_VERB_ING] = 3},
    [C_CONJ] = {[C_DET] = 20, [C_PRON_S] = 20, [C_PROPER] = 8, [C_ADJ] = 6, [C_VERB_T] = 8, [C_VERB_ED] = 6,
                [C_ADV] = 6, [C_NOUN] = 6, [C_NUM] = 2, [C_PREP] = 4},
    [C_SUBORD] = {[C_DET] = 25, [C_PRON_S] = 35, [C_PROPER] = 12, [C_NOUN] = 6, [C_NUM] = 3},
    [C_AUX] = {[C_NEG] = 12, [C_VERB_T] = 18, [C_VERB_I] = 10, [C_VERB_ED] = 14, [C_VERB_ING] = 14, [C_ADJ] = 14,
               [C_ADV] = 6, [C_DET] = 6},
    [C_NEG] = {[C_VERB_T] = 20, [C_VERB_I] = 12, [C_VERB_ED] = 12, [C_ADJ] = 12, [C_VERB_ING] = 8, [C_ADV] = 4},
    [C_NUM] = {[C_NOUN] = 65, [C_ADJ] = 15, [C_PREP] = 8, [C_END] = 4, [C_COMMA] = 3},
    [C_WH] = {[C_AUX] = 20, [C_PRON_S] = 18, [C_VERB_T] = 14, [C_VERB_ED] = 12, [C_DET] = 10, [C_VERB_I] = 6},
};

static int is_verb(int c) { return c == C_VERB_T || c == C_VERB_I || c == C_VERB_ED || c == C_VERB_ING; }

/* The order-2 part of the grammar: how the class two back changes the odds.
 * The main effect is subject vs object position of a noun phrase: a noun
 * after a verb or preposition ends a clause, a noun after a determiner at the
 * start of a clause wants a verb. */
static double order2_factor(int a, int b, int c) {
    int nounish = b == C_NOUN || b == C_PROPER || b == C_PRON_O;
    if (nounish && (is_verb(a) || a == C_PREP)) {
        if (c == C_END) return 2.0;
        if (c == C_PREP || c == C_COMMA) return 1.5;
        if (is_verb(c) || c == C_AUX) return 0.3;
    }
    if (nounish && (a == C_DET || a == C_ADJ || a == C_NUM || a == C_END || a == C_CONJ || a == C_SUBORD)) {
        if (is_verb(c) || c == C_AUX) return 1.8;
        if (c == C_END) return 0.3;
    }
    if (b == C_ADJ && (a == C_AUX || a == C_NEG)) { /* predicative: "is red ." */
        if (c == C_END) return 3.0;
        if (c == C_PREP || c == C_COMMA || c == C_CONJ) return 2.0;
        if (c == C_NOUN) return 0.3;
    }
    if (b == C_ADV && a == C_AUX && is_verb(c)) return 2.0;
    if (b == C_COMMA && a == C_COMMA && c == C_COMMA) return 0.1;
    if (b == C_END && a == C_END && c == C_END) return 0.1;
    return 1.0;
}

/* Every A entry is grammar * order2 * U(0.6, 1.4) + this floor (of a row
 * weight near 100), so no transition is impossible. */
#define CORPUS_A_FLOOR 0.05

/* ---------------------------------------------------------------------------
 * Deterministic exp and log from + - * / only, accurate to a few ulp, for
 * the Zipf weights and the entropies (libm may differ between machines). */

static double det_log(double x) { /* x > 0, normal */
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    int e = (int)((b >> 52) & 0x7ff) - 1023;
    b = (b & ((1ull << 52) - 1)) | (1023ull << 52);
    double m;
    memcpy(&m, &b, sizeof m); /* x = m * 2^e, m in [1, 2) */
    if (m > 1.4142135623730951) {
        m *= 0.5;
        e++;
    }
    /* log m = 2 atanh(t), t = (m-1)/(m+1), |t| < 0.172: 20 odd terms reach 1e-30. */
    double t = (m - 1.0) / (m + 1.0), t2 = t * t, term = t, sum = 0.0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= t2;
    }
    return 2.0 * sum + e * CORPUS_LN2;
}

static double det_exp(double y) { /* |y| < 700 */
    double nf = y / CORPUS_LN2;
    long n = (long)(nf < 0 ? nf - 0.5 : nf + 0.5);
    double r = y - (double)n * CORPUS_LN2, term = 1.0, sum = 1.0;
    for (int k = 1; k < 24; k++) { /* |r| <= 0.35: 23 terms reach 1e-25 */
        term *= r / k;
        sum += term;
    }
    uint64_t b = (uint64_t)(n + 1023) << 52;
    double scale;
    memcpy(&scale, &b, sizeof scale);
    return sum * scale;
}

/* ---------------------------------------------------------------------------
 * The grammar: words, their classes, A, E, and sampling tables. */

typedef struct {
    int n_words;                    /* all types, all classes */
    char (*word)[CORPUS_WORD_MAX + 1]; /* lower-case spelling */
    unsigned char *word_len;
    int class_first[K + 1];         /* words of class c are class_first[c] .. class_first[c+1]-1 */
    double A[K][K][K];              /* P(c | a, b) */
    double cumA[K][K][K];
    double *E;                      /* per word: P(word | its class) */
    double *cumE;
    double pi[K][K];                /* stationary pair distribution */
    int pi_iters;
    double entropy, unigram_entropy, bytes_per_token;
} Grammar;

static void grammar_free(Grammar *m) {
    free(m->word);
    free(m->word_len);
    free(m->E);
    free(m->cumE);
}

/* String set for the distinctness check: open addressing over word indices. */
static uint64_t str_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static int set_insert(int *slots, size_t n_slots, const Grammar *m, int idx) {
    size_t s = (size_t)str_hash(m->word[idx]) & (n_slots - 1);
    for (; slots[s] >= 0; s = (s + 1) & (n_slots - 1))
        if (strcmp(m->word[slots[s]], m->word[idx]) == 0) return 0;
    slots[s] = idx;
    return 1;
}

/* A pronounceable word of exactly `len` letters: alternating consonant and
 * vowel pieces, a piece shortened near the end so the length is exact. */
static void make_stem(char *out, int len, Rng *r) {
    static const char *const cons1 = "bcdfghklmnprstvwz";
    static const char *const cons2[] = {"br", "cr", "dr", "fr", "gr", "pr", "tr", "bl", "cl", "fl", "gl", "pl",
                                        "sl", "st", "sp", "sk", "sh", "ch", "th", "nd", "nt", "rd", "rt", "ll",
                                        "ss", "mp", "lt", "rn", "ng", "sc"};
    static const char *const vow1 = "aeiou";
    static const char *const vow2[] = {"ai", "ea", "ee", "ie", "oa", "ou", "oo", "io", "au", "ei"};
    int n = 0, consonant = rng_below(r, 5) != 0;
    while (n < len) {
        int rem = len - n;
        if (consonant) {
            if (rem >= 2 && n > 0 && rng_below(r, 4) == 0) {
                const char *p = cons2[rng_below(r, sizeof cons2 / sizeof cons2[0])];
                out[n++] = p[0];
                out[n++] = p[1];
            } else {
                out[n++] = cons1[rng_below(r, 17)];
            }
        } else {
            if (rem >= 2 && rng_below(r, 6) == 0) {
                const char *p = vow2[rng_below(r, sizeof vow2 / sizeof vow2[0])];
                out[n++] = p[0];
                out[n++] = p[1];
            } else {
                out[n++] = vow1[rng_below(r, 5)];
            }
        }
        consonant = !consonant;
    }
    out[n] = '\0';
}

static int floor_log2(uint32_t x) { return 31 - __builtin_clz(x); }

static int synth_len(const ClassSpec *cs, int k, Rng *r) {
    int len = cs->len_base + floor_log2((uint32_t)k + 1);
    if (k >= 8) len += (int)rng_below(r, 3) - 1;
    return len > CORPUS_WORD_MAX ? CORPUS_WORD_MAX : len;
}

static sb_status grammar_words(Grammar *m, uint64_t seed, sb_error *err) {
    int total = 0;
    for (int c = 0; c < K; c++) {
        m->class_first[c] = total;
        total += class_specs[c].n_fixed + class_specs[c].n_synth;
    }
    m->class_first[K] = total;
    m->n_words = total;
    m->word = calloc((size_t)total, sizeof *m->word);
    m->word_len = calloc((size_t)total, 1);
    m->E = calloc((size_t)total, sizeof *m->E);
    m->cumE = calloc((size_t)total, sizeof *m->cumE);
    size_t n_slots = 1;
    while (n_slots < 4 * (size_t)total) n_slots *= 2;
    int *slots = malloc(n_slots * sizeof *slots);
    if (!m->word || !m->word_len || !m->E || !m->cumE || !slots) {
        free(slots);
        return sb_fail(err, SB_ENOMEM, "out of memory building the corpus vocabulary (%d words)", total);
    }
    for (size_t i = 0; i < n_slots; i++) slots[i] = -1;

    /* Real words first, so no synthetic word can take their spelling. */
    for (int c = 0; c < K; c++)
        for (int k = 0; k < class_specs[c].n_fixed; k++) {
            int idx = m->class_first[c] + k;
            snprintf(m->word[idx], sizeof m->word[idx], "%s", class_specs[c].fixed[k]);
            set_insert(slots, n_slots, m, idx);
        }
    Rng r;
    rng_seed(&r, seed ^ STREAM_WORDS);
    for (int c = 0; c < K; c++) {
        const ClassSpec *cs = &class_specs[c];
        for (int k = 0; k < cs->n_synth; k++) {
            int idx = m->class_first[c] + cs->n_fixed + k;
            int len = synth_len(cs, k, &r);
            int suffix_len = (int)strlen(cs->suffix);
            for (int attempt = 0;; attempt++) {
                /* A long run of collisions means the length is too short for
                 * its class; one letter more always has room. */
                int stem = len - suffix_len + attempt / 64;
                if (stem + suffix_len > CORPUS_WORD_MAX) {
                    free(slots);
                    return sb_fail(err, SB_ECONFIG, "corpus: cannot make distinct words for class %s (internal)",
                                   cs->name);
                }
                make_stem(m->word[idx], stem, &r);
                strcat(m->word[idx], cs->suffix);
                if (set_insert(slots, n_slots, m, idx)) break;
            }
        }
    }
    free(slots);
    for (int i = 0; i < total; i++) m->word_len[i] = (unsigned char)strlen(m->word[i]);

    /* Zipf within each class: E[c][k] = (k+1)^-s / Z_c. */
    for (int c = 0; c < K; c++) {
        int lo = m->class_first[c], hi = m->class_first[c + 1];
        double z = 0.0;
        for (int i = lo; i < hi; i++) z += m->E[i] = det_exp(-CORPUS_ZIPF_S * det_log((double)(i - lo + 1)));
        double acc = 0.0;
        for (int i = lo; i < hi; i++) {
            m->E[i] /= z;
            acc += m->E[i];
            m->cumE[i] = acc;
        }
        m->cumE[hi - 1] = 1.0; /* rng_double < 1, so the last word always catches the rest */
    }
    return SB_OK;
}

static void grammar_classes(Grammar *m, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed ^ STREAM_GRAMMAR);
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            double w[K], z = 0.0;
            for (int c = 0; c < K; c++) {
                double u = rng_double(&r);
                w[c] = grammar[b][c] * order2_factor(a, b, c) * (0.6 + 0.8 * u) + CORPUS_A_FLOOR;
                z += w[c];
            }
            double acc = 0.0;
            for (int c = 0; c < K; c++) {
                m->A[a][b][c] = w[c] / z;
                acc += m->A[a][b][c];
                m->cumA[a][b][c] = acc;
            }
            m->cumA[a][b][K - 1] = 1.0;
        }
}

/* Stationary pair distribution, entropy rate (see the top of the file), the
 * stationary unigram entropy and the expected bytes per token (word + one
 * separator), all computed from A and E alone. */
static void grammar_stationary(Grammar *m) {
    double (*pi)[K] = m->pi, next[K][K];
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) pi[a][b] = 1.0 / (K * K);
    int it = 0;
    for (; it < CORPUS_PI_MAX_ITERS; it++) {
        memset(next, 0, sizeof next);
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                for (int c = 0; c < K; c++) next[b][c] += pi[a][b] * m->A[a][b][c];
        double z = 0.0, diff = 0.0;
        for (int b = 0; b < K; b++)
            for (int c = 0; c < K; c++) z += next[b][c];
        for (int b = 0; b < K; b++)
            for (int c = 0; c < K; c++) {
                next[b][c] /= z;
                double d = next[b][c] - pi[b][c];
                diff += d < 0 ? -d : d;
                pi[b][c] = next[b][c];
            }
        if (diff < CORPUS_PI_TOL) break;
    }
    m->pi_iters = it + 1;

    double hE[K], lenE[K], pc[K];
    for (int c = 0; c < K; c++) {
        hE[c] = 0.0;
        lenE[c] = 0.0;
        pc[c] = 0.0;
        for (int i = m->class_first[c]; i < m->class_first[c + 1]; i++) {
            hE[c] -= m->E[i] * det_log(m->E[i]);
            lenE[c] += m->E[i] * m->word_len[i];
        }
    }
    double h = 0.0;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            double row = 0.0;
            for (int c = 0; c < K; c++) row += m->A[a][b][c] * (hE[c] - det_log(m->A[a][b][c]));
            h += pi[a][b] * row;
            pc[b] += pi[a][b];
        }
    double h1 = 0.0, len = 0.0;
    for (int c = 0; c < K; c++) {
        h1 += pc[c] * (hE[c] - det_log(pc[c]));
        len += pc[c] * lenE[c];
    }
    m->entropy = h;
    m->unigram_entropy = h1;
    m->bytes_per_token = 1.0 + len;
}

static sb_status grammar_build(Grammar *m, uint64_t seed, sb_error *err) {
    memset(m, 0, sizeof *m);
    sb_status st = grammar_words(m, seed, err);
    if (st != SB_OK) {
        grammar_free(m);
        return st;
    }
    grammar_classes(m, seed);
    grammar_stationary(m);
    return SB_OK;
}

/* ---------------------------------------------------------------------------
 * Writing: the text through safe_file.h, then FILE.json through json_file.h. */

static int sample_class(const double *cum, Rng *r) {
    double u = rng_double(r);
    int c = 0;
    while (c < K - 1 && u >= cum[c]) c++;
    return c;
}

static int sample_word(const Grammar *m, int c, Rng *r) {
    double u = rng_double(r);
    int lo = m->class_first[c], hi = m->class_first[c + 1] - 1; /* first i with u < cumE[i] */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (u < m->cumE[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static sb_status write_json(const char *path, const CorpusStats *s, const Grammar *m, sb_error *err) {
    char jpath[SB_PATH_MAX];
    JsonFile jf;
    sb_status st = path_suffix(jpath, sizeof jpath, path, ".json", err);
    if (st || (st = json_file_open(&jf, jpath, "corpus JSON", 1, err))) return st;
    JsonWriter *w = &jf.w;
    json_object_begin(w);
    json_kv_uint(w, "bytes", s->bytes);
    json_kv_uint(w, "tokens", s->tokens);
    json_kv_uint(w, "types", s->types);
    json_kv_uint(w, "seed", s->seed);
    json_kv_double(w, "entropy_nats_per_token", s->entropy_nats);
    json_kv_string(w, "process", "order-2 class Markov chain, Zipf within class");
    json_kv_int(w, "classes", K);
    json_kv_int(w, "vocabulary", m->n_words);
    json_kv_double(w, "zipf_exponent", CORPUS_ZIPF_S);
    json_kv_double(w, "unigram_entropy_nats", m->unigram_entropy);
    json_kv_double(w, "expected_bytes_per_token", m->bytes_per_token);
    json_object_end(w);
    return json_file_commit(&jf, err);
}

sb_status corpus_write(const char *path, uint64_t target_bytes, uint64_t seed, CorpusStats *stats, sb_error *err) {
    if (target_bytes < CORPUS_MIN_BYTES)
        return sb_fail(err, SB_ECONFIG, "corpus size %llu bytes is too small; ask for at least %d bytes",
                       (unsigned long long)target_bytes, CORPUS_MIN_BYTES);
    /* The model is ~130 kB of tables: on the heap, so a caller's thread stack never matters. */
    Grammar *m = malloc(sizeof *m);
    if (!m) return sb_fail(err, SB_ENOMEM, "out of memory building the corpus model for %s", path);
    sb_status st = grammar_build(m, seed, err);
    if (st != SB_OK) {
        free(m);
        return st;
    }

    char *buf = malloc(CORPUS_BUF_BYTES);
    unsigned char *seen = calloc((size_t)m->n_words, 1);
    if (!buf || !seen) {
        st = sb_fail(err, SB_ENOMEM, "out of memory writing corpus %s", path);
        goto done;
    }
    SafeFile sf;
    st = safe_file_open(&sf, path, "corpus", err);
    if (st != SB_OK) goto done;
    FILE *f = sf.f;

    Rng r;
    rng_seed(&r, seed ^ STREAM_TEXT);
    /* The chain starts as if after two sentence ends: a text starts a sentence. */
    int a = C_END, b = C_END;
    uint64_t written = 0;  /* bytes so far, not counting the final newline */
    uint64_t tokens = 0, types = 0, sentences = 0;
    /* Tiny targets could end more than 1% short when the next word is long;
     * then a word that does not fit is redrawn (from the same state) instead
     * of ending the text, which biases only the last word or two of a file
     * of a few kB, and never a large one. */
    uint64_t slack = target_bytes / 100;
    size_t fill = 0;
    int ok = 1;
    for (;;) {
        int c = sample_class(m->cumA[a][b], &r);
        int w = sample_word(m, c, &r);
        uint64_t need = written + (tokens > 0) + m->word_len[w] + 1; /* separator, word, final newline */
        if (need > target_bytes) {
            if (written + 1 + slack >= target_bytes) break;
            continue;
        }
        if (fill + CORPUS_WORD_MAX + 2 > CORPUS_BUF_BYTES) {
            ok = fwrite(buf, 1, fill, f) == fill;
            fill = 0;
            if (!ok) break;
        }
        if (tokens > 0) buf[fill++] = (b == C_END && sentences % CORPUS_SENTENCES_PER_LINE == 0) ? '\n' : ' ';
        size_t start = fill;
        memcpy(buf + fill, m->word[w], m->word_len[w]);
        fill += m->word_len[w];
        int cap = class_specs[c].capitalised || tokens == 0 || b == C_END || (c == C_PRON_S && m->word_len[w] == 1);
        if (cap && buf[start] >= 'a' && buf[start] <= 'z') buf[start] = (char)(buf[start] - 32);
        written = need - 1;
        tokens++;
        if (!seen[w]) {
            seen[w] = 1;
            types++;
        }
        if (c == C_END) sentences++;
        a = b;
        b = c;
    }
    if (ok) {
        buf[fill++] = '\n';
        ok = fwrite(buf, 1, fill, f) == fill;
    }
    st = safe_file_commit(&sf, ok, err);
    if (st != SB_OK) goto done;

    CorpusStats s = {.bytes = written + 1, .tokens = tokens, .types = types, .seed = seed, .entropy_nats = m->entropy};
    st = write_json(path, &s, m, err);
    if (st == SB_OK && stats) *stats = s;
done:
    free(seen);
    free(buf);
    grammar_free(m);
    free(m);
    return st;
}
