/* trace_check.c - checks a Chrome Trace Event file the program wrote: strict
 * JSON (python3's json made strict, as in test_json_files.c) in the format
 * (every event has ph, ts, pid and tid, durations are non-negative, one named
 * track per thread, spans of a thread never overlap), compute spans and
 * dropped counts as expected, and, given the run's JSON, spans that add up to
 * its per-thread totals within 1%. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "trace_check.h"

/* Checks a trace file: argv[1] the trace, argv[2] the run JSON of the same
 * run or "-", argv[3] the batches expected as compute spans (-1: not
 * checked), argv[4] the
 * dropped spans expected ("any": some). Prints what is wrong, exits 1. */
static const char checker[] =
    "import json, sys\n"
    "def constant(name):\n"
    "    raise ValueError('not JSON: ' + name)\n"
    "def pairs(kv):\n"
    "    keys = [k for k, _ in kv]\n"
    "    if len(keys) != len(set(keys)):\n"
    "        raise ValueError('duplicate key')\n"
    "    return dict(kv)\n"
    "def load(p):\n"
    "    with open(p, encoding='utf-8') as f:\n"
    "        return json.load(f, parse_constant=constant, object_pairs_hook=pairs)\n"
    "t = load(sys.argv[1])\n"
    "ev = t['traceEvents']\n"
    "for e in ev:\n"
    "    for k in ('ph', 'ts', 'pid', 'tid'):\n"
    "        assert k in e, 'event without ' + k + ': ' + repr(e)\n"
    "    assert e['ts'] >= 0, repr(e)\n"
    "    if e['ph'] == 'X':\n"
    "        assert e['dur'] >= 0, 'negative duration: ' + repr(e)\n"
    "names = {e['tid']: e['args']['name'] for e in ev if e['ph'] == 'M' and e['name'] == 'thread_name'}\n"
    "assert len(names) == t['otherData']['threads'], names\n"
    "assert any(e['ph'] == 'M' and e['name'] == 'process_name' for e in ev)\n"
    "spans = {}\n"
    "for e in ev:\n"
    "    if e['ph'] == 'X':\n"
    "        spans.setdefault(e['tid'], []).append(e)\n"
    "for tid, s in spans.items():\n"
    "    assert tid in names, 'a track without a name: %d' % tid\n"
    "    s.sort(key=lambda e: e['ts'])\n"
    "    for a, b in zip(s, s[1:]):\n"
    "        assert a['ts'] + a['dur'] <= b['ts'] + 1e-3, 'overlap on thread %d: %r %r' % (tid, a, b)\n"
    "batches = sorted(e['args']['batch'] for s in spans.values() for e in s if e['name'] == 'compute')\n"
    "if int(sys.argv[3]) >= 0:\n"
    "    assert batches == list(range(int(sys.argv[3]))), 'compute spans: %r' % batches\n"
    "losses = [e for e in ev if e['ph'] == 'C' and e['name'] == 'loss']\n"
    "drop = t['otherData']['dropped_spans']\n"
    "if sys.argv[4] == 'any':\n"
    "    assert drop > 0 and sum(t['otherData']['dropped_by_thread']) == drop, t['otherData']\n"
    "    assert any(e['ph'] == 'i' and e['args']['dropped'] > 0 for e in ev)\n"
    "else:\n"
    "    assert drop == int(sys.argv[4]), t['otherData']\n"
    "    assert len(losses) == t['otherData']['steps'], len(losses)\n"
    "if sys.argv[2] != '-':\n"
    "    run = load(sys.argv[2])\n"
    "    for th in run['per_thread']:\n"
    "        got = {}\n"
    "        for e in spans.get(th['id'], []):\n"
    "            got[e['name']] = got.get(e['name'], 0.0) + e['dur'] * 1e-6\n"
    "        for p, v in got.items():\n"
    "            want = th[p + '_s']\n"
    "            assert abs(v - want) <= 0.01 * want + 1e-6, 'thread %d %s: spans %g s, total %g s' % (th['id'], p, v, want)\n"
    "        for k in th:\n"
    "            if k.endswith('_s') and not k.endswith('cpu_s') and k not in ('wall_s',) and th[k] > 1e-6:\n"
    "                assert k[:-2] in got, 'thread %d: no %s span' % (th['id'], k)\n";

/* Runs the checker; fails the test with its message unless it passes. */
void check_trace(const char *trace, const char *run, long batches, const char *dropped) {
    char script[TU_PATH_MAX], cmd[4 * TU_PATH_MAX];
    tu_path(script, "check_trace.py");
    tu_write_file(script, checker, strlen(checker));
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s' %ld %s 2>&1", script, trace, run ? run : "-", batches, dropped);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    if (pclose(p) != 0) fail_msg("%s fails the trace check: %s", trace, out);
}
