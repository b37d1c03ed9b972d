/* results.c - the run folder's files, in their order; see results.h. */
#include "results.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/path.h"
#include "gbench_json.h"

double results_median(double *v, int n) { return stats_median(v, n); }

const char *results_run_id(const BenchOptions *o) { return o->run_id ? o->run_id : ""; }

sb_status results_open_csv(CsvFile *cf, const char *dir, const char *name, const char *what, sb_error *err) {
    sb_status st = path_join(cf->path, sizeof cf->path, dir, name, err);
    if (st || (st = safe_file_open(&cf->sf, cf->path, what, err))) return st;
    csv_init(&cf->w, cf->sf.f);
    return SB_OK;
}

sb_status results_open_json(JsonFile *jf, char *path, const char *dir, const char *name, const char *what,
                            sb_error *err) {
    sb_status st = path_join(path, SB_PATH_MAX, dir, name, err);
    return st ? st : json_file_open(jf, path, what, 2, err);
}

sb_status results_write(const char *dir, const MachineInfo *m, const BenchOptions *o, const BenchSetup *b,
                        const DatasetInfo *d, const PeakResult *peak, const RunRecord *runs, int n,
                        const SummaryRow *rows, int n_rows, sb_error *err) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sb_fail(err, SB_EIO, "%s: cannot create the results folder: %s", dir, strerror(errno));
    sb_status st;
    /* the CSVs and the summaries first, context.json (what finished) last */
    const char *id = results_run_id(o);
    if ((st = runs_csv_write(dir, runs, n, o, m->cores, err)) ||
        (st = threads_csv_write(dir, runs, n, b->counters, id, err)) ||
        (st = groups_csv_write(dir, runs, n, id, err)) || (st = loss_csv_write(dir, runs, n, id, err)) ||
        (st = summary_json_write(dir, rows, n_rows, m, id, err)) ||
        (st = gbench_json_write(dir, m, id, runs, n, rows, n_rows, err)) ||
        (st = context_json_write(dir, m, o, b, d, peak, runs, n, err)))
        return st;
    return SB_OK;
}
