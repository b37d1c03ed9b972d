"""test_bootstrap.py - the ratio of medians and its 95 % percentile-bootstrap interval (report/bootstrap.py)."""

import random
import unittest

from report import bootstrap


class Quantile(unittest.TestCase):
    def test_linear_interpolation_between_order_statistics(self):
        xs = [0.0, 10.0, 20.0, 30.0]
        self.assertEqual(bootstrap.quantile(xs, 0.0), 0.0)
        self.assertEqual(bootstrap.quantile(xs, 1.0), 30.0)
        self.assertAlmostEqual(bootstrap.quantile(xs, 0.5), 15.0)
        self.assertAlmostEqual(bootstrap.quantile(xs, 0.25), 7.5)


class RatioCI(unittest.TestCase):
    A = [100.0, 102.0, 98.0, 101.0, 99.0, 100.5, 99.5]
    B = [110.0, 112.0, 108.0, 111.0, 109.0, 110.5, 109.5]

    def test_ratio_is_median_b_over_median_a(self):
        r, lo, hi = bootstrap.ratio_ci(self.A, self.B, random.Random(1))
        self.assertAlmostEqual(r, 1.1)
        self.assertLess(lo, r)
        self.assertGreater(hi, r)
        self.assertGreater(lo, 1.0)  # clearly faster: the interval excludes 1

    def test_same_seed_same_interval(self):
        a = bootstrap.ratio_ci(self.A, self.B, random.Random(7))
        b = bootstrap.ratio_ci(self.A, self.B, random.Random(7))
        self.assertEqual(a, b)

    def test_overlapping_samples_contain_one(self):
        _, lo, hi = bootstrap.ratio_ci(self.A, [x + 0.5 for x in reversed(self.A)], random.Random(3))
        self.assertLess(lo, 1.0)
        self.assertGreater(hi, 1.0)

    def test_one_sample_a_side_has_no_interval(self):
        self.assertEqual(bootstrap.ratio_ci([100.0], self.B, random.Random(1))[1:], (None, None))
        self.assertEqual(bootstrap.ratio_ci(self.A, [90.0], random.Random(1))[1:], (None, None))


if __name__ == "__main__":
    unittest.main()
