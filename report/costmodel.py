"""costmodel.py - the arithmetic behind the report's models: FLOPs per token, the
single-core bandwidth, Amdahl and Karp-Flatt, run-to-run noise, and where a ratio crosses 1.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

from .fmt import isnum, median


# Runs made before `sphere-bench peak` existed have no measured single-core
# bandwidth; for them the cost model is shown over this ASSUMED range (GB/s),
# labelled as such wherever it appears.
ASSUMED_BW1_GBS = (5.0, 10.0, 20.0, 40.0)


def bw1_values(run: Any) -> tuple[tuple[float, ...], bool]:
    """Single-core bandwidth values for the cost model, and whether they were measured.

    A run made with `sphere-bench peak` records its single-thread read bandwidth
    in context.json; older runs get the assumed range."""
    peak = run.context.get("peak") or {}
    bw = peak.get("read_gbs_1t")
    if isnum(bw) and bw > 0:
        return (float(bw),), True
    return ASSUMED_BW1_GBS, False


def model_flops_per_token(m: dict[str, Any]) -> float:
    """Training FLOPs per token, as the run recorded it: context.json's model
    block carries flops_per_token, written by the program from core/model.c's
    model_flops_per_batch (3 x forward, forward = 2 x (matmul weights) +
    attention scores and mixing over the causal window (mean (T+1)/2))."""
    if "flops_per_token" in m:  # null: the program could not compute it
        return float("nan") if m["flops_per_token"] is None else m["flops_per_token"]
    # Only for a run folder written before the field existed (the committed
    # reference run): the same formula, restated here. Keep it equal to
    # model_flops_per_batch in core/model.c; new runs never reach this line.
    if not all(k in m for k in "VTDL"):
        return float("nan")
    V, T, D, L = m["V"], m["T"], m["D"], m["L"]
    forward = 2 * (12 * D * D * L + V * D) + 2 * 2 * ((T + 1) / 2) * D * L
    return 3 * forward


def amdahl_fit(points: Iterable[tuple[float, float]]) -> tuple[float, int]:
    """Least squares of 1/S = f + (1-f)/p over (p, S): linear in f,
    1/S - 1/p = f (1 - 1/p). Returns (f, number of points used)."""
    sxy = sxx = 0.0
    for p, s in points:
        x, y = 1.0 - 1.0 / p, 1.0 / s - 1.0 / p
        sxy += x * y
        sxx += x * x
    return (sxy / sxx if sxx > 0 else float("nan")), len(points)


def karp_flatt(s: float, p: float) -> float:
    return (1.0 / s - 1.0 / p) / (1.0 - 1.0 / p) if isnum(s) and s > 0 and p > 1 else float("nan")


def sweep_noise(run: Any) -> float:
    """The thread sweep's median run-to-run spread of tokens/s: what counts as no difference."""
    return median(c["spread"] for c in run.configs if c["kind"] == "sweep" and c["reps"] > 1)


def find_crossovers(points: Sequence[tuple[float, float]]) -> list[float]:
    """Every tokens-per-batch where a trainer's ratio over flat crosses 1, from
    (tokens, ratio) sorted by tokens, interpolated linearly in log(tokens)."""
    found = []
    for (x0, r0), (x1, r1) in zip(points, points[1:]):
        if isnum(r0) and isnum(r1) and (r0 - 1) * (r1 - 1) < 0:
            t = (1 - r0) / (r1 - r0)
            found.append(math.exp(math.log(x0) + t * (math.log(x1) - math.log(x0))))
    return found
