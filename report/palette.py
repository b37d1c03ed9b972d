"""palette.py - each trainer's colour, the same in every figure, assigned by the registry's order.

Part of the report package (report/__init__.py). The two baselines keep the
colours they always had (serial grey, flat blue); every other trainer takes
the next colour of TRAINER_COLOURS in the order the run folder lists the
trainers (trainers.py), so a new trainer gets a colour with no change here.
Figures receive the colours as a list beside the trainers' names
(`colours="#1f77b4 #d62728"` with `variants="flat sphere"`) and pick by
position: no gnuplot script names a trainer to choose its colour.
"""

from __future__ import annotations

from .trainers import BASELINE, SERIAL

BASELINE_COLOURS = {SERIAL: "#555555", BASELINE: "#1f77b4"}
TRAINER_COLOURS = ("#d62728", "#17becf", "#2ca02c", "#9467bd", "#e377c2", "#bcbd22", "#8c564b", "#ff7f0e")


def colour_map(names: list[str]) -> dict[str, str]:
    """{trainer: colour} for the trainers in registry order."""
    out, k = {}, 0
    for n in names:
        if n in BASELINE_COLOURS:
            out[n] = BASELINE_COLOURS[n]
        else:
            out[n] = TRAINER_COLOURS[k % len(TRAINER_COLOURS)]
            k += 1
    return out


def colours(mapping: dict[str, str], names: list[str]) -> str:
    """The gnuplot word list of the named trainers' colours, in the same order."""
    return " ".join(mapping[n] for n in names)
