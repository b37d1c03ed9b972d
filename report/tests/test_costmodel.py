"""test_costmodel.py - the models' arithmetic (report/costmodel.py): FLOPs per token, bandwidth,
Amdahl, Karp-Flatt, run-to-run noise and where a ratio crosses 1."""

import math
import types
import unittest

from report import costmodel


def run_with(context=None, configs=None):
    return types.SimpleNamespace(context=context or {}, configs=configs or [])


class FlopsAndBandwidth(unittest.TestCase):
    def test_flops_per_token_is_read_when_recorded(self):
        self.assertEqual(costmodel.model_flops_per_token({"flops_per_token": 123.0, "V": 1}), 123.0)

    def test_flops_per_token_formula_for_old_runs(self):
        # the reference run's bench model: V 5005, T 64, D 64, L 2 (REPORT.md prints 2,561,664)
        self.assertEqual(costmodel.model_flops_per_token({"V": 5005, "T": 64, "D": 64, "L": 2}), 2561664)
        self.assertTrue(math.isnan(costmodel.model_flops_per_token({"V": 5005})))

    def test_bandwidth_measured_or_assumed(self):
        self.assertEqual(costmodel.bw1_values(run_with({"peak": {"read_gbs_1t": 22.8}})), ((22.8,), True))
        self.assertEqual(costmodel.bw1_values(run_with({"peak": {"read_gbs_1t": None}})),
                         (costmodel.ASSUMED_BW1_GBS, False))
        self.assertEqual(costmodel.bw1_values(run_with({})), (costmodel.ASSUMED_BW1_GBS, False))


class Amdahl(unittest.TestCase):
    def test_fit_recovers_the_serial_fraction(self):
        f = 0.1
        pts = [(p, 1.0 / (f + (1 - f) / p)) for p in (1, 2, 4, 8, 16)]
        got, n = costmodel.amdahl_fit(pts)
        self.assertAlmostEqual(got, f, places=12)
        self.assertEqual(n, 5)

    def test_fit_of_serial_alone_is_undefined(self):
        self.assertTrue(math.isnan(costmodel.amdahl_fit([(1, 1.0)])[0]))

    def test_karp_flatt_equals_the_fit_on_two_points(self):
        s, p = 1.87, 2
        self.assertAlmostEqual(costmodel.karp_flatt(s, p), costmodel.amdahl_fit([(1, 1.0), (p, s)])[0])
        self.assertAlmostEqual(costmodel.karp_flatt(4.0, 4), 0.0)
        self.assertTrue(math.isnan(costmodel.karp_flatt(1.5, 1)))
        self.assertTrue(math.isnan(costmodel.karp_flatt(float("nan"), 4)))


class NoiseAndCrossovers(unittest.TestCase):
    def test_sweep_noise_is_the_median_spread_of_repeated_sweep_points(self):
        cs = [{"kind": "sweep", "reps": 9, "spread": x} for x in (0.1, 0.3, 0.2)]
        cs += [{"kind": "sweep", "reps": 1, "spread": 5.0}, {"kind": "batch", "reps": 9, "spread": 9.0}]
        self.assertAlmostEqual(costmodel.sweep_noise(run_with(configs=cs)), 0.2)

    def test_crossover_interpolates_in_log_tokens(self):
        # ratio 0.5 at 64 tokens, 1.5 at 256: halfway in log2 is 128
        self.assertEqual([round(x, 6) for x in costmodel.find_crossovers([(64, 0.5), (256, 1.5)])], [128.0])

    def test_no_crossing_and_several(self):
        self.assertEqual(costmodel.find_crossovers([(64, 0.9), (256, 0.95), (4096, 0.99)]), [])
        self.assertEqual(len(costmodel.find_crossovers([(64, 0.9), (256, 1.1), (4096, 0.9)])), 2)
        self.assertEqual(costmodel.find_crossovers([(64, float("nan")), (256, 1.1)]), [])


if __name__ == "__main__":
    unittest.main()
