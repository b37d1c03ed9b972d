"""fmt.py - how the report writes numbers, shares, ratios and tables.

Part of the report generator; report.py assembles the sections.
"""

import math


def isnum(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def num(x, sig=3):
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


def times(x, sig=3):
    return "n/a" if not isnum(x) else num(x, sig) + "×"


def span(lo, hi, fmt=num):
    """A range for prose: "lo–hi", or one value when both ends print alike."""
    a, b = fmt(lo), fmt(hi)
    return a if a == b else f"{a}–{b}"


def pct(x, digits=1):
    return "n/a" if not isnum(x) else f"{100.0 * x:.{digits}f} %"


def table(header, rows, left=1):
    """A Markdown table; the first `left` columns left-aligned, the rest right-aligned."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join([":---"] * left + ["---:"] * (len(header) - left)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def median(values):
    v = sorted(x for x in values if isnum(x))
    if not v:
        return float("nan")
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def mean(values):
    v = [x for x in values if isnum(x)]
    return sum(v) / len(v) if v else float("nan")


def share(x):
    """A share as a percentage with 3 significant digits (small shares stay visible)."""
    return "n/a" if not isnum(x) else num(100.0 * x) + " %"


def ratio(a, b):
    return a / b if isnum(a) and isnum(b) and b != 0 else float("nan")


def not_measured(what):
    return f"*Not measured in this run: {what}.*"
