"""bootstrap.py - a ratio of medians with its 95 % bootstrap interval.

Shared by compare.py (two run folders) and the report's timeline section
(what tracing costs): resample each side with replacement, take the ratio of
the medians, and read the 2.5 and 97.5 percentiles of RESAMPLES such ratios.
The caller passes a seeded random.Random, so the same samples always give the
same interval.
"""

from __future__ import annotations

import math
import random
import statistics
from typing import Optional, Sequence

RESAMPLES = 2000


def quantile(xs: Sequence[float], p: float) -> float:
    h = p * (len(xs) - 1)
    i = math.floor(h)
    return xs[-1] if i >= len(xs) - 1 else xs[i] + (h - i) * (xs[i + 1] - xs[i])


def ratio_ci(a: Sequence[float], b: Sequence[float], rng: random.Random) -> tuple[float, Optional[float], Optional[float]]:
    """median(b) / median(a) with its 95% interval; (ratio, None, None) below 2 samples a side."""
    r = statistics.median(b) / statistics.median(a)
    if len(a) < 2 or len(b) < 2:
        return r, None, None
    boot = sorted(statistics.median(rng.choices(b, k=len(b))) / statistics.median(rng.choices(a, k=len(a)))
                  for _ in range(RESAMPLES))
    return r, quantile(boot, 0.025), quantile(boot, 0.975)
