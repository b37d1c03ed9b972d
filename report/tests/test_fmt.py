"""test_fmt.py - how the report writes numbers, ranges, shares, tables and verdicts (report/fmt.py)."""

import math
import unittest

from report import fmt


class Numbers(unittest.TestCase):
    def test_significant_digits_and_separators(self):
        self.assertEqual(fmt.num(0.24707543), "0.247")
        self.assertEqual(fmt.num(2.77617), "2.78")
        self.assertEqual(fmt.num(51043.1149), "51,043")
        self.assertEqual(fmt.num(132.4), "132")
        self.assertEqual(fmt.num(0.00206, 3), "0.00206")
        self.assertEqual(fmt.num(1.0, 2), "1.0")
        self.assertEqual(fmt.num(0), "0")

    def test_missing_values_are_na(self):
        for x in (None, float("nan"), float("inf"), "12", True):
            self.assertEqual(fmt.num(x), "n/a", x)
        self.assertEqual(fmt.times(None), "n/a")
        self.assertEqual(fmt.pct(float("nan")), "n/a")
        self.assertEqual(fmt.share(None), "n/a")

    def test_times_pct_share(self):
        self.assertEqual(fmt.times(0.9938), "0.994×")
        self.assertEqual(fmt.pct(0.054), "5.4 %")
        self.assertEqual(fmt.pct(0.96, 0), "96 %")
        self.assertEqual(fmt.share(0.000768), "0.0768 %")

    def test_span_collapses_equal_ends(self):
        self.assertEqual(fmt.span(2, 2, str), "2")
        self.assertEqual(fmt.span(0, 23, str), "0–23")
        self.assertEqual(fmt.span(1.0001, 1.0002), "1.00")

    def test_median_mean_ratio_skip_nan(self):
        nan = float("nan")
        self.assertEqual(fmt.median([3, nan, 1, 2]), 2)
        self.assertEqual(fmt.median([4, 1, 2, 3]), 2.5)
        self.assertTrue(math.isnan(fmt.median([nan])))
        self.assertEqual(fmt.mean([1, nan, 3]), 2)
        self.assertTrue(math.isnan(fmt.ratio(1, 0)))
        self.assertEqual(fmt.ratio(3, 2), 1.5)


class Tables(unittest.TestCase):
    def test_alignment_row(self):
        t = fmt.table(["trainer", "role", "n"], [["flat", "control", 1]], left=2).split("\n")
        self.assertEqual(t[0], "| trainer | role | n |")
        self.assertEqual(t[1], "|:---|:---|---:|")
        self.assertEqual(t[2], "| flat | control | 1 |")


class Verdicts(unittest.TestCase):
    def test_interval_reads_two_finite_ends(self):
        self.assertEqual(fmt.interval({"r_ci": [0.9, 1.1]}, "r"), (0.9, 1.1))
        self.assertIsNone(fmt.interval({"r_ci": None}, "r"))
        self.assertIsNone(fmt.interval({"r_ci": [0.9, None]}, "r"))
        self.assertIsNone(fmt.interval(None, "r"))

    def test_verdict_from_interval_alone(self):
        self.assertEqual(fmt.verdict((1.01, 1.2)), "faster")
        self.assertEqual(fmt.verdict((0.8, 0.99)), "slower")
        self.assertEqual(fmt.verdict((0.9, 1.1)), fmt.UNRESOLVED)
        self.assertIsNone(fmt.verdict(None))

    def test_ratio_verdict_wording(self):
        self.assertIn("is faster, at 1.10× flat's throughput (95 % interval [1.05×, 1.15×])",
                      fmt.ratio_verdict("sphere", 1.1, (1.05, 1.15), "flat"))
        self.assertIn("no verdict", fmt.ratio_verdict("sphere", 1.1, None, "flat"))
        self.assertIn(fmt.UNRESOLVED, fmt.ratio_verdict("sphere", 1.0, (0.9, 1.1), "flat"))
        self.assertEqual(fmt.ci_text(None), "n/a")


if __name__ == "__main__":
    unittest.main()
