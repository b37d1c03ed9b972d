"""test_compare.py - report.compare refuses what is not comparable and never mistakes bad input for a slowdown.

Two copies of the committed quick run folder (report/tests/data/quick-run) are compared after one is changed:
another model, quick against full, another batch shape at the same tokens per batch, a zero or cut-off
tokens/s. Runs of different work are refused with exit 2 naming every difference (or, under
--allow-different, compared with a warning per difference); a malformed row is refused naming file, line
and field; and across every damage test_validate makes to runs.csv and context.json, compare exits 0 or 2,
never 1 (which means a resolved slowdown) and never with a traceback. tests/test_compare.c covers the
verdicts and --fail-above through the shell.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import traceback
import unittest

from report.compare import main as compare_main
from report.tests.test_validate import QUICK, edit_bytes, edit_csv, edit_json, mutations


def run_compare(*args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `python3 -m report.compare ARGS`; -1 and the traceback if one escapes."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = compare_main(list(args))
    except SystemExit as e:  # argparse's usage errors
        rc = e.code if isinstance(e.code, int) else 2
    except BaseException:  # noqa: BLE001 - what the user would see as a traceback
        return -1, out.getvalue(), traceback.format_exc()
    return rc, out.getvalue(), err.getvalue()


def set_in(block: str, key: str, value: object):
    return edit_json(lambda v: (v[block].__setitem__(key, value), v)[1])


def column(rows: list[list[str]], name: str) -> int:
    return rows[0].index(name)


def set_cell(name: str, value: str, row: int = 1):
    def f(rows):
        rows[row][column(rows, name)] = value
        return rows
    return f


class Compare(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="report-compare-")
        self.addCleanup(shutil.rmtree, self.d, True)
        self.a, self.b = os.path.join(self.d, "a"), os.path.join(self.d, "b")
        shutil.copytree(QUICK, self.a)
        shutil.copytree(QUICK, self.b)

    def test_alike_runs_compare(self):
        rc, out, err = run_compare(self.a, self.b)
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("sweep flat 2 threads 16 tokens 2x8 8 batches 63/step", out)

    def test_different_models_are_refused_naming_every_difference(self):
        set_in("model", "preset", "bench")(os.path.join(self.b, "context.json"))
        set_in("model", "D", 64)(os.path.join(self.b, "context.json"))
        set_in("options", "quick", False)(os.path.join(self.b, "context.json"))
        rc, out, err = run_compare(self.a, self.b)
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "")
        for d in ("model.D: 16 in A, 64 in B", "model.preset: 'tiny' in A, 'bench' in B",
                  "options.quick: True in A, False in B"):
            self.assertIn(d, err)
        rc, out, err = run_compare(self.a, self.b, "--allow-different")
        self.assertEqual(rc, 0, err)
        self.assertIn("compare: warning: the runs differ in model.D: 16 in A, 64 in B", err)
        self.assertIn("compare: warning: the runs differ in options.quick", err)
        self.assertIn("geometric mean", out)

    def test_batches_per_step_and_full_runs_define_the_work(self):
        set_in("options", "batches_per_step", 8)(os.path.join(self.b, "context.json"))
        rc, _, err = run_compare(self.a, self.b)
        self.assertEqual(rc, 2)
        self.assertIn("options.batches_per_step: 63 in A, 8 in B", err)

    def test_another_batch_shape_is_another_configuration(self):
        """B x T = 4 x 4 has the same 16 tokens per batch as 2 x 8, but is not the same work."""
        def reshape(rows):
            b, t = column(rows, "B"), column(rows, "T")
            for r in rows[1:]:
                r[b], r[t] = "4", "4"
            return rows
        edit_csv(reshape)(os.path.join(self.b, "runs.csv"))
        rc, out, err = run_compare(self.a, self.b)
        self.assertEqual(rc, 2)
        self.assertIn("have no configuration in common", err)
        def rebatch(rows):
            rows[1][column(rows, "batches")] = "7"
            return rows
        shutil.copy(os.path.join(self.a, "runs.csv"), os.path.join(self.b, "runs.csv"))
        edit_csv(rebatch)(os.path.join(self.b, "runs.csv"))
        rc, out, err = run_compare(self.a, self.b)
        self.assertEqual(rc, 0, err)
        self.assertIn("configuration(s) present in only one folder are not compared", out)

    def test_zero_or_cut_off_tokens_per_s_is_bad_input_not_a_slowdown(self):
        p = os.path.join(self.b, "runs.csv")
        for how, msg in ((edit_csv(set_cell("tokens_per_s", "0", 3)), "line 4, field 'tokens_per_s': 0 where a "
                                                                      "value above 0 is needed"),
                         (edit_csv(set_cell("tokens_per_s", "")), "line 2, field 'tokens_per_s': \"\" is not a "
                                                                 "number"),
                         (edit_bytes(lambda d: d[:d.rindex(b",", 0, d.rindex(b",", 0, len(d) - 40))]),
                          "field(s), the header has")):
            shutil.copy(os.path.join(self.a, "runs.csv"), p)
            how(p)
            rc, out, err = run_compare(self.a, self.b, "--fail-above", "5")
            self.assertEqual(rc, 2, err)
            self.assertIn(f"{p}: ", err)
            self.assertIn(msg, err)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run_compare(self.a)[0], 2)
        self.assertEqual(run_compare(self.a, self.b, "--fail-above", "nan")[0], 2)
        self.assertEqual(run_compare(self.a, self.b, "--fail-above", "x")[0], 2)

    def test_no_damage_exits_1_or_with_a_traceback(self):
        bad = []
        for name, what, how in mutations():
            if name not in ("runs.csv", "context.json"):
                continue
            shutil.rmtree(self.b)
            shutil.copytree(QUICK, self.b)
            how(os.path.join(self.b, name))
            rc, _, err = run_compare(self.a, self.b, "--fail-above", "1")
            if rc not in (0, 2) or (rc == 2 and "compare: " not in err):
                bad.append(f"{name} with {what}: exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        self.assertEqual(bad, [], "\n".join(bad))


if __name__ == "__main__":
    unittest.main()
