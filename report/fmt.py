"""fmt.py - how the report writes numbers, shares, ratios and tables.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional, Sequence

Interval = tuple[float, float]


def isnum(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def num(x: Any, sig: int = 3) -> str:
    """A number for prose and tables: `sig` significant digits, thousands
    separators from 10^sig up, "n/a" for missing or NaN."""
    if not isnum(x):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** sig:
        return f"{x:,.0f}"
    decimals = sig - 1 - math.floor(math.log10(abs(x)))
    decimals = max(decimals, 0)
    s = f"{x:.{decimals}f}"
    return s


def times(x: Any, sig: int = 3) -> str:
    return "n/a" if not isnum(x) else num(x, sig) + "×"


def span(lo: Any, hi: Any, fmt: Callable[[Any], str] = num) -> str:
    """A range for prose: "lo–hi", or one value when both ends print alike."""
    a, b = fmt(lo), fmt(hi)
    return a if a == b else f"{a}–{b}"


def pct(x: Any, digits: int = 1) -> str:
    return "n/a" if not isnum(x) else f"{100.0 * x:.{digits}f} %"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 1) -> str:
    """A Markdown table; the first `left` columns left-aligned, the rest right-aligned."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join([":---"] * left + ["---:"] * (len(header) - left)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def median(values: Iterable[Any]) -> float:
    v = sorted(x for x in values if isnum(x))
    if not v:
        return float("nan")
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def mean(values: Iterable[Any]) -> float:
    v = [x for x in values if isnum(x)]
    return sum(v) / len(v) if v else float("nan")


def share(x: Any) -> str:
    """A share as a percentage with 3 significant digits (small shares stay visible)."""
    return "n/a" if not isnum(x) else num(100.0 * x) + " %"


def ratio(a: Any, b: Any) -> float:
    return a / b if isnum(a) and isnum(b) and b != 0 else float("nan")


def not_measured(what: str) -> str:
    return f"*Not measured in this run: {what}.*"


# Verdicts come from a ratio's 95 % interval alone (bench/stats.h): faster or
# slower when it excludes 1, else unresolved; no interval (one repetition, or a
# run folder written before intervals existed), no verdict.
UNRESOLVED = "no difference resolved at this number of repetitions"


def interval(c: Optional[dict[str, Any]], field: str) -> Optional[Interval]:
    """The (lo, hi) 95 % interval summary.json gives a configuration's field, or None."""
    v = c.get(field + "_ci") if c else None
    return (v[0], v[1]) if isinstance(v, list) and len(v) == 2 and all(isnum(x) for x in v) else None


def ci_text(iv: Optional[Interval], f: Callable[[Any], str] = num) -> str:
    return "n/a" if iv is None else f"[{f(iv[0])}, {f(iv[1])}]"


def verdict(iv: Optional[Interval]) -> Optional[str]:
    if iv is None:
        return None
    return "faster" if iv[0] > 1 else "slower" if iv[1] < 1 else UNRESOLVED


def ratio_verdict(subject: str, r: float, iv: Optional[Interval], base: str) -> str:
    """A sentence fragment on a throughput ratio whose words come from its interval only."""
    v = verdict(iv)
    at = f"{times(r)} {base}'s throughput"
    if v is None:
        return (f"{subject} ran at {at}; no verdict: there is no interval (one repetition, or a run folder "
                f"written before intervals existed)")
    if v == UNRESOLVED:
        return f"{subject} ran at {at} (95 % interval {ci_text(iv, times)}): {UNRESOLVED}"
    return f"{subject} is {v}, at {at} (95 % interval {ci_text(iv, times)})"
