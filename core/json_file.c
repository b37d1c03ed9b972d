/* json_file.c - a JSON file through a temporary; see json_file.h. */
#include "json_file.h"

sb_status json_file_open(JsonFile *jf, const char *path, const char *what, int wrap, sb_error *err) {
    sb_status st = safe_file_open(&jf->sf, path, what, err);
    if (st) return st;
    json_init(&jf->w, jf->sf.f, path, wrap);
    return SB_OK;
}

sb_status json_file_commit(JsonFile *jf, sb_error *err) {
    sb_status st = json_finish(&jf->w, err);
    if (st) {
        safe_file_abort(&jf->sf);
        return st;
    }
    return safe_file_commit(&jf->sf, 1, err);
}
