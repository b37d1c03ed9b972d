"""compare.py - two sphere-bench run folders, configuration by configuration.

Purpose: say whether run B is faster or slower than run A, and only when the
repetitions can tell. Two runs are comparable only when what defines their
work is the same: the model (preset and shape), the dataset, quick or full,
batches per step (the sweeps' and the full runs'), pinning and how controls
wait (DEFINING below, from context.json); runs that differ there are refused,
naming every difference, unless --allow-different asks to compare them anyway
(then each difference is printed as a warning first). For every configuration
(kind, trainer, route, threads, tokens per batch, and the batch shape B x T,
batches and batches per step where runs.csv has them) present in both
folders' runs.csv it prints the two median tokens/s, the ratio B / A with its
95% interval (a percentile bootstrap of the ratio of medians, each side
resampled with replacement, a fixed seed, as bench/stats.c does), the
Mann-Whitney U test's two-sided p-value, and a verdict read from the interval
alone: "faster" or "slower" when it excludes 1, otherwise "no difference
resolved at this number of repetitions"; a configuration with one repetition
on either side has no interval ("n/a") and no verdict. A last row gives the
geometric mean of the ratios over the configurations, with its own bootstrap
interval.

Both folders' runs.csv and context.json are read through report/validate.py:
a malformed row (a missing field, a tokens/s that is not a number above 0)
is refused naming the file, the line and the field.

--fail-above PCT exits 1 when some configuration is resolved slower (its
interval below 1) by more than PCT percent at the median, so it can guard a
CI. Exit status: 0 no such slowdown, 1 a resolved slowdown beyond PCT and
nothing else, 2 bad input (a missing or malformed folder or file, runs that
are not comparable, a bad option).

Usage: python3 -m report.compare RUN_A RUN_B [--fail-above PCT] [--allow-different]
       (make compare A=... B=...)
Python 3 standard library only (the U test's p-value is computed here: exact
without ties for small samples, else the normal approximation with tie and
continuity corrections, as SciPy's mannwhitneyu does).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
from typing import Optional, TextIO

from typing import Any

from .bootstrap import RESAMPLES, quantile, ratio_ci
from .validate import CONTEXT, KEY_TEXT, CsvSpec, ReportError, load_csv, load_json

SEED = 0x5EEDB007
UNRESOLVED = "no difference resolved at this number of repetitions"
KEY = ("kind", "variant", "route", "threads", "batch_tokens")
# runs.csv's columns that also define a configuration's work, where a folder has them
SHAPE = ("B", "T", "batches", "batches_per_step")
RUNS = CsvSpec(KEY + ("tokens_per_s",), KEY_TEXT, frozenset(), frozenset({"tokens_per_s"}),
               frozenset({"threads", "batch_tokens"}) | set(SHAPE))
# context.json's fields that define the runs' work: (block or None for the top level, field)
DEFINING = (("model", None), ("dataset", "bytes"), ("dataset", "tokens"), ("dataset", "vocab"),
            ("dataset", "seed"), ("options", "quick"), ("options", "batches_per_step"), ("options", "pin"),
            ("options", "wait"), ("options", "full_runs"))


class CompareError(ReportError):
    """Bad input: printed without a traceback, exit status 2."""


def load_runs(folder: str) -> list[dict[str, Any]]:
    """folder/runs.csv's rows, validated."""
    path = os.path.join(folder, "runs.csv")
    if not os.path.isdir(folder):
        raise CompareError(f"'{folder}' is not a folder (give a run folder under results/)")
    if not os.path.exists(path):
        raise CompareError(f"'{folder}' has no runs.csv: it is not a bench run folder")
    return load_csv(path, path, RUNS)


def group(rows: list[dict[str, Any]], cols: tuple[str, ...]) -> dict[tuple[Any, ...], list[float]]:
    """{configuration key: [tokens/s per repetition]}."""
    out: dict[tuple[Any, ...], list[float]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in cols), []).append(r["tokens_per_s"])
    return out


def load(folder: str) -> dict[tuple[Any, ...], list[float]]:
    """{configuration key: [tokens/s per repetition]} from folder/runs.csv (the key and the shape columns)."""
    rows = load_runs(folder)
    return group(rows, KEY + tuple(c for c in SHAPE if rows and c in rows[0]))


def context(folder: str) -> dict[str, Any]:
    """folder/context.json, validated ({} for a folder without one)."""
    p = os.path.join(folder, "context.json")
    return load_json(p, p, CONTEXT) if os.path.exists(p) else {}


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Every defining field whose value differs between two contexts, as `field: A ... , B ...`."""
    out = []
    for block, key in DEFINING:
        va, vb = a.get(block) or {}, b.get(block) or {}
        if key is None:
            for k in sorted(set(va) | set(vb)):
                if va.get(k) != vb.get(k):
                    out.append(f"{block}.{k}: {va.get(k)!r} in A, {vb.get(k)!r} in B")
        elif va.get(key) != vb.get(key):
            out.append(f"{block}.{key}: {va.get(key)!r} in A, {vb.get(key)!r} in B")
    return out


def geomean_ci(pairs: list[tuple[list[float], list[float]]], rng: random.Random) -> tuple[float, Optional[float], Optional[float]]:
    """Geometric mean of median(b)/median(a) over pairs, with a bootstrap interval
    (every configuration resampled within itself, each draw one geometric mean)."""
    g = math.exp(statistics.fmean(math.log(statistics.median(b) / statistics.median(a)) for a, b in pairs))
    if any(len(a) < 2 or len(b) < 2 for a, b in pairs):
        return g, None, None
    boot = []
    for _ in range(RESAMPLES):
        logs = [math.log(statistics.median(rng.choices(b, k=len(b))) / statistics.median(rng.choices(a, k=len(a))))
                for a, b in pairs]
        boot.append(math.exp(statistics.fmean(logs)))
    boot.sort()
    return g, quantile(boot, 0.025), quantile(boot, 0.975)


def verdict(lo: Optional[float], hi: Optional[float]) -> Optional[str]:
    if lo is None:
        return None
    return "faster" if lo > 1 else "slower" if hi < 1 else UNRESOLVED


def _exact_count(m: int, n: int, u: int) -> int:
    """Number of arrangements of m and n values (no ties) with U statistic <= u."""
    # f[i][j][k]: arrangements of i a's and j b's with U = k
    f = [[[0] * (m * n + 1) for _ in range(n + 1)] for _ in range(m + 1)]
    for j in range(n + 1):
        f[0][j][0] = 1
    for i in range(1, m + 1):
        f[i][0][0] = 1
        for j in range(1, n + 1):
            for k in range(m * n + 1):
                f[i][j][k] = f[i][j - 1][k] + (f[i - 1][j][k - j] if k >= j else 0)
    return sum(f[m][n][:u + 1])


def mann_whitney_p(a: list[float], b: list[float]) -> Optional[float]:
    """Two-sided p-value of the Mann-Whitney U test of a against b; None below 2 samples a side."""
    m, n = len(a), len(b)
    if m < 2 or n < 2:
        return None
    allv = sorted((v, g) for g, vs in ((0, a), (1, b)) for v in vs)
    i = 0
    rank_a, ties = 0.0, 0.0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        r = (i + 1 + j) / 2.0
        t = j - i
        ties += t ** 3 - t
        rank_a += r * sum(1 for k in range(i, j) if allv[k][1] == 0)
        i = j
    u1 = rank_a - m * (m + 1) / 2.0
    u = min(u1, m * n - u1)
    if ties == 0 and m <= 8 and n <= 8:
        total = math.comb(m + n, m)
        return min(1.0, 2.0 * _exact_count(m, n, int(u)) / total)
    mu = m * n / 2.0
    sigma = math.sqrt(m * n / 12.0 * ((m + n + 1) - ties / ((m + n) * (m + n - 1))))
    if sigma == 0:
        return 1.0
    z = (abs(u1 - mu) - 0.5) / sigma
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))


def fmt(x: Optional[float], digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def config_name(c: dict[str, Any]) -> str:
    """`sweep flat 2 threads 16 tokens`, then the shape columns the folders have (`2x8`, batches, per step)."""
    name = f"{c['kind']} {c['variant']}" + (f" {c['route']}" if c["route"] != "none" else "")
    name += f" {c['threads']:g} threads {c['batch_tokens']:g} tokens"
    if "B" in c and "T" in c:
        name += f" {c['B']:g}x{c['T']:g}"
    if "batches" in c:
        name += f" {c['batches']:g} batches"
    if "batches_per_step" in c:
        name += f" {c['batches_per_step']:g}/step"
    return name


def compare(a_dir: str, b_dir: str, fail_above: Optional[float] = None, out: Optional[TextIO] = None,
            allow_different: bool = False, err: Optional[TextIO] = None) -> int:
    """Prints the comparison to out (standard output), warnings to err (standard error); the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    rows_a, rows_b = load_runs(a_dir), load_runs(b_dir)
    diff = differences(context(a_dir), context(b_dir))
    if diff and not allow_different:
        raise CompareError(f"'{a_dir}' and '{b_dir}' are not runs of the same work, so their tokens/s do not "
                           f"compare: " + "; ".join(diff) + " (--allow-different compares them anyway)")
    for d in diff:
        err.write(f"compare: warning: the runs differ in {d}\n")
    cols = KEY + tuple(c for c in SHAPE if rows_a and rows_b and c in rows_a[0] and c in rows_b[0])
    a, b = group(rows_a, cols), group(rows_b, cols)
    common = [k for k in a if k in b]
    if not common:
        raise CompareError(f"'{a_dir}' and '{b_dir}' have no configuration in common")
    rng = random.Random(SEED)
    out.write(f"B = {b_dir} against A = {a_dir}: tokens/s, ratio B / A with its 95% interval\n")
    head = ["configuration", "reps A", "reps B", "median A", "median B", "B / A", "95% interval", "U test p",
            "verdict"]
    rows, failed = [], []
    for k in common:
        r, lo, hi = ratio_ci(a[k], b[k], rng)
        p = mann_whitney_p(a[k], b[k])
        v = verdict(lo, hi)
        name = config_name(dict(zip(cols, k)))
        rows.append([name, str(len(a[k])), str(len(b[k])), f"{statistics.median(a[k]):.0f}",
                     f"{statistics.median(b[k]):.0f}", fmt(r), "n/a" if lo is None else f"[{lo:.3f}, {hi:.3f}]",
                     fmt(p, 4), v or "n/a"])
        if fail_above is not None and v == "slower" and r < 1 - fail_above / 100.0:
            failed.append((name, r))
    g, glo, ghi = geomean_ci([(a[k], b[k]) for k in common], rng)
    rows.append(["geometric mean", "", "", "", "", fmt(g), "n/a" if glo is None else f"[{glo:.3f}, {ghi:.3f}]",
                 "", verdict(glo, ghi) or "n/a"])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 or i == len(cells) - 1 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    out.write(line(head) + "\n")
    for r in rows:
        out.write(line(r) + "\n")
    only = len(a) + len(b) - 2 * len(common)
    if only:
        out.write(f"({only} configuration(s) present in only one folder are not compared)\n")
    for name, r in failed:
        out.write(f"compare: {name} is slower by {100 * (1 - r):.1f} % (resolved), beyond --fail-above "
                  f"{fail_above:g} %\n")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Compare two sphere-bench run folders configuration by configuration.")
    ap.add_argument("a", help="run folder A (the baseline)")
    ap.add_argument("b", help="run folder B (compared with A)")
    ap.add_argument("--fail-above", type=float, metavar="PCT",
                    help="exit 1 when a configuration is resolved slower by more than PCT percent")
    ap.add_argument("--allow-different", action="store_true",
                    help="compare runs whose model, dataset or options differ, naming every difference")
    args = ap.parse_args(argv)  # a usage error exits 2
    if args.fail_above is not None and not (0 <= args.fail_above < 100):
        sys.stderr.write(f"compare: --fail-above {args.fail_above:g} is outside 0..100\n")
        return 2
    try:
        return compare(args.a, args.b, args.fail_above, allow_different=args.allow_different)
    except (ReportError, OSError) as e:
        sys.stderr.write(f"compare: {e}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
