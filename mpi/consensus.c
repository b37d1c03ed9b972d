/* consensus.c - every rank checks that it runs rank 0's job; see consensus.h. */
#include "consensus.h"

#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/model.h"
#include "agree.h"

void mpi_fact(MpiFacts *f, const char *name, const char *fmt, ...) {
    if (f->n >= MPI_FACTS_MAX) return;
    snprintf(f->name[f->n], MPI_FACT_NAME, "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->value[f->n], MPI_FACT_VALUE, fmt, ap);
    va_end(ap);
    f->n++;
}

void mpi_facts_command(MpiFacts *f, int argc, char **argv) {
    int help = 0;
    for (int i = 2; i < argc; i++) help |= strcmp(argv[i], "--help") == 0;
    mpi_fact(f, "the command", "%s", argc < 2 ? "(none)" : argv[1]);
    mpi_fact(f, "--help", "%s", help ? "given" : "not given");
}

static uint64_t ids_checksum(const TokenFile *tf) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bits, over the ids' little-endian bytes */
    for (uint64_t i = 0; i < tf->n_tokens; i++)
        for (int b = 0; b < 4; b++) h = (h ^ ((tf->ids[i] >> (8 * b)) & 0xffu)) * 1099511628211ull;
    return h;
}

void mpi_facts_setup(MpiFacts *f, const MpiSetup *s) {
    const ModelConfig *m = &s->model;
    struct stat fs = {0};
    long long bytes = stat(s->data_path, &fs) == 0 ? (long long)fs.st_size : -1;
    mpi_fact(f, "the model (--model and the vocabulary)", "V=%d T=%d D=%d L=%d H=%d B=%d, %zu parameters", m->V, m->T,
             m->D, m->L, m->H, s->B, model_param_count(m));
    mpi_fact(f, "the token file's header (--data)", "vocabulary %u, %llu tokens", s->tf.vocab_size,
             (unsigned long long)s->tf.n_tokens);
    mpi_fact(f, "the token file's size (--data)", "%lld bytes", bytes);
    mpi_fact(f, "the token file's checksum (--data)", "%016llx", (unsigned long long)ids_checksum(&s->tf));
    mpi_fact(f, "--threads", "%d", s->threads);
    mpi_fact(f, "--fanout", "%d", s->fanout);
    mpi_fact(f, "--batches", "%lld", s->batches);
    mpi_fact(f, "--first-batch", "%lld", s->first);
    mpi_fact(f, "--batches-per-step", "%lld", s->bps);
    mpi_fact(f, "--seed", "%lld", s->seed);
    mpi_fact(f, "--lr", "%.9g", (double)s->adamw.lr);
    mpi_fact(f, "--weight-decay", "%.9g", (double)s->adamw.weight_decay);
    mpi_fact(f, "AdamW's betas and eps", "%.9g %.9g %.9g", (double)s->adamw.beta1, (double)s->adamw.beta2,
             (double)s->adamw.eps);
    mpi_fact(f, "--wait", "%s", s->wait == WAIT_SPIN ? "spin" : "block");
}

/* This rank's facts against rank 0's: the first that differs, in err. */
static sb_status compare(const MpiFacts *mine, const MpiFacts *root, sb_error *err) {
    int n = mine->n > root->n ? mine->n : root->n;
    for (int i = 0; i < n; i++) {
        const char *name = i < mine->n ? mine->name[i] : root->name[i];
        const char *here = i < mine->n ? mine->value[i] : "(nothing)";
        const char *there = i < root->n ? root->value[i] : "(nothing)";
        if ((i < mine->n && i < root->n && strcmp(mine->name[i], root->name[i])) || strcmp(here, there))
            return sb_fail(err, SB_EARG,
                           "%s differs from rank 0's: %s here, %s on rank 0; every rank must run the same command "
                           "with the same options and the same data",
                           name, here, there);
    }
    return SB_OK;
}

sb_status mpi_consensus(sb_status st, const MpiFacts *f, sb_error *err) {
    if ((st = mpi_agree(st, err))) return st;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MpiFacts root = rank == 0 ? *f : (MpiFacts){0}; /* rank 0's list, received here */
    MPI_Bcast(&root, (int)sizeof root, MPI_BYTE, 0, MPI_COMM_WORLD);
    return mpi_agree(rank == 0 ? SB_OK : compare(f, &root, err), err);
}
