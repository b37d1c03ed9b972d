"""test_missing_baseline.py - a run folder without flat, the baseline of the ratios, still gives a report
that says what it lacks instead of failing (the reference run, with flat dropped from every file)."""

import shutil
import unittest

from report.build import build_report
from report.figures import Plots
from report.runfolder import Run
from report.tests.fixtures import copy_reference, drop_trainer


class WithoutFlat(unittest.TestCase):
    def test_sections_that_need_flat_say_so(self):
        folder = copy_reference()
        self.addCleanup(shutil.rmtree, folder, True)
        drop_trainer(folder, "flat")
        run = Run(folder)
        self.assertNotIn("flat", run.variants)
        text = build_report(run, Plots(run, False))
        for missing in ("full runs of flat and another trainer with per-thread records",
                        "the tokens-per-batch sweep (kind `batch`)", "a full run of the flat trainer"):
            self.assertIn(f"*Not measured in this run: {missing}.*", text)
        self.assertIn("- Best sphere speedup over serial:", text)  # what needs no flat is still there


if __name__ == "__main__":
    unittest.main()
