"""test_counters_section.py - the counters section never derives a per-thread figure from part of the threads.

The committed quick run folder's full run (report/tests/data/quick-run) is given four workers instead of
one, three of which could not open their counters (`failed:EMFILE`, as under a low descriptor limit):
the workers' task-clock, context switches, migrations and page faults must then be n/a, and the section
must say they were counted on 1 of 4 threads, instead of a sum over the one thread that counted (what
report/sections/counters.py printed before).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import tempfile
import unittest

from report.build import build_report
from report.figures import Plots
from report.runfolder import Run
from report.sections.counters import role_rows, total
from report.tests.test_validate import QUICK

SOFTWARE = ("task-clock", "context-switches", "cpu-migrations", "page-faults")


def worker(th: int, ok: bool) -> dict:
    r = {"role": "worker", "cpu_s": 1.0}
    for ev in SOFTWARE:
        r[ev], r[ev + "_status"] = (100.0, "ok") if ok else (float("nan"), "failed:EMFILE")
    return r


class PartOfTheThreads(unittest.TestCase):
    def test_total_is_nan_unless_every_thread_counted(self):
        rows = [worker(0, True), worker(1, False), worker(2, False)]
        self.assertTrue(math.isnan(total(rows, "task-clock")))
        self.assertEqual(total([worker(0, True), worker(1, True)], "task-clock"), 200.0)
        parts = []
        r = role_rows("flat", rows, list(SOFTWARE), parts)
        self.assertEqual(r[0][5], "n/a")  # context switches / thread: not 100 / 3
        self.assertEqual(parts, [("flat", "worker", ev, 1, 3) for ev in SOFTWARE])

    def test_section_says_k_of_n_and_averages_nothing(self):
        d = tempfile.mkdtemp(prefix="report-counters-")
        self.addCleanup(shutil.rmtree, d, True)
        folder = os.path.join(d, "run")
        shutil.copytree(QUICK, folder)
        p = os.path.join(folder, "threads.csv")
        with open(p, newline="") as f:
            rows = list(csv.reader(f))
        head = rows[0]
        full_worker = next(r for r in rows[1:] if r[0] == "full" and r[head.index("role")] == "worker")
        extra = []
        for tid in (2, 3, 4):
            r = list(full_worker)
            r[head.index("thread")] = str(tid)
            for ev in SOFTWARE:
                r[head.index(ev)], r[head.index(ev + "_status")], r[head.index(ev + "_running")] = \
                    "NaN", "failed:EMFILE", "NaN"
            extra.append(r)
        i = rows.index(full_worker)
        rows[i + 1:i + 1] = extra
        with open(p, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        run = Run(folder)
        text = build_report(run, Plots(run, False))
        section = text[text.index("## 7. Counters"):text.index("## 8.")]
        line = next(l for l in section.splitlines() if l.startswith("| flat | worker |"))
        self.assertEqual(line.split("|")[3].strip(), "4")
        for cell in line.split("|")[6:10]:  # switches, migrations per thread, faults, task-clock
            self.assertEqual(cell.strip(), "n/a", line)
        for ev in SOFTWARE:
            self.assertIn(f"flat workers `{ev}` on 1 of 4 threads", section)
        self.assertIn("failed:EMFILE", section)


if __name__ == "__main__":
    unittest.main()
