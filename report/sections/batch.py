"""Section 3: the trainers against tokens per batch, the measured crossovers; the cost model beside them.

Part of the report package (report/__init__.py); build.py assembles the sections.
section_batch runs in short stages: gather the sweep (every trainer's `batch`
configurations, plus the model's own batch size from the thread sweep), the
derived table and figure, its caption, the table, each trainer's crossover and
verdicts against flat; then batch_model.py adds the cost model. Every trainer
with `batch` runs gets its columns, curve and paragraph; flat is the
baseline of the ratios, serial of the speedups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..costmodel import find_crossovers, sweep_noise
from ..figures import Plots
from ..fmt import UNRESOLVED, ci_text, interval, isnum, not_measured, num, ratio, table, times, verdict
from ..runfolder import Run
from ..trainers import BASELINE, SERIAL
from .batch_model import CostInputs, cost_inputs, cost_model_lines

Config = dict[str, Any]


@dataclass
class Sweep:
    """The tokens-per-batch sweep: {trainer: {tokens per batch: configuration}} and what it compares."""
    by: dict[str, dict[float, Config]]
    others: list[str]                 # the trainers compared with flat, in registry order
    sizes: list[float]                # flat's sizes, ascending
    own: float = 0                    # the model's own batch (B x T)
    from_sweep: Optional[int] = None  # thread count whose sweep run stands in for the own size
    crossings: dict[str, list[float]] = field(default_factory=dict)

    def tps(self, v: str, bt: float) -> float:
        c = self.by[v].get(bt)
        return c["tokens_per_s_median"] if c else float("nan")

    def over_flat(self, v: str, bt: float) -> float:
        return ratio(self.tps(v, bt), self.tps(BASELINE, bt))

    def crossover(self, v: str) -> float:
        cs = self.crossings.get(v, [])
        return cs[0] if len(cs) == 1 else float("nan")


def gather(run: Run) -> Sweep:
    """Every trainer's batch configurations; the model's own size taken from the thread sweep's
    run at the same threads (same tokens per run, same repetitions), so the bench runs it once."""
    names = [SERIAL] + run.variants
    by = {v: {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == v}
          for v in names}
    m = run.context.get("model", {})
    sw = Sweep(by, [], [], m.get("B", 0) * m.get("T", 0))
    flat = by.get(BASELINE, {})
    if flat and sw.own and sw.own not in flat:
        t = int(next(iter(flat.values()))["threads"])
        fs = run.config("sweep", BASELINE, threads=t)
        if fs and fs["batch_tokens"] == sw.own and any(run.config("sweep", v, threads=t) for v in run.variants
                                                        if v != BASELINE and by[v]):
            sw.from_sweep = t
            for v in run.variants:
                c = run.config("sweep", v, threads=t)
                if c and by[v]:
                    by[v][sw.own] = c
            if run.config("sweep", SERIAL, threads=1):
                by[SERIAL][sw.own] = run.config("sweep", SERIAL, threads=1)
    sw.others = [v for v in run.variants if v != BASELINE and any(bt in by[v] for bt in flat)]
    sw.sizes = sorted(bt for bt in by.get(BASELINE, {}) if any(bt in by[v] for v in sw.others))
    sw.crossings = {v: find_crossovers([(bt, sw.over_flat(v, bt)) for bt in sw.sizes if bt in by[v]])
                    for v in sw.others}
    return sw


def derived_table(plots: Plots, sw: Sweep) -> str:
    """plots/batch.csv: each size's median tokens/s per trainer and each trainer's ratio over flat."""
    header = ["batch_tokens", f"{SERIAL}_tokens_per_s", f"{BASELINE}_tokens_per_s"]
    for v in sw.others:
        header += [f"{v}_tokens_per_s", f"{v}_over_{BASELINE}"]
    rows = []
    for bt in sw.sizes:
        row = [bt, sw.tps(SERIAL, bt), sw.tps(BASELINE, bt)]
        for v in sw.others:
            row += [sw.tps(v, bt), sw.over_flat(v, bt)]
        rows.append(row)
    return plots.derive("batch.csv", header, rows)


def figure(run: Run, plots: Plots, sw: Sweep, ci: CostInputs) -> str:
    ratios = [sw.over_flat(v, bt) for v in sw.others for bt in sw.sizes]
    xs = list(sw.sizes) + ([min(ci.est.values()), max(ci.est.values())] if isnum(ci.F) else [])
    drawn = [SERIAL, BASELINE] + sw.others
    return plots.add("batch.gp", "batch", runs="runs.csv", table=derived_table(plots, sw), nthreads=ci.nthreads,
                     xlo=min(xs) / 1.4, xhi=max(xs) * 1.4, mlo=sw.sizes[0] / 1.4, mhi=sw.sizes[-1] * 1.4,
                     trainers=" ".join(drawn), colours=run.colours(drawn),
                     ratios=" ".join(sw.others), ratio_colours=run.colours(sw.others),
                     ratio_title=" and ".join(f"{v} / {BASELINE}" for v in sw.others),
                     ylo=min([0.8] + [r - 0.05 for r in ratios if isnum(r)]),
                     yhi=max([1.2] + [r + 0.05 for r in ratios if isnum(r)]) + 0.15
                     + 0.05 * sum(1 for v in sw.others if isnum(sw.crossover(v))),  # a key row per crossover
                     noise=sweep_noise(run), est_lo=min(ci.est.values()), est_hi=max(ci.est.values()),
                     bw_lo=min(ci.bws), bw_hi=max(ci.bws), bw_label=ci.bw_label,
                     crossovers=" ".join(repr(sw.crossover(v)) if isnum(sw.crossover(v)) else "NaN"
                                         for v in sw.others),
                     workers=int(ci.W))


def names(vs: list[str]) -> str:
    return vs[0] if len(vs) == 1 else ", ".join(vs[:-1]) + " and " + vs[-1]


def caption(run: Run, sw: Sweep, ci: CostInputs) -> str:
    reps = int(sw.by[BASELINE][sw.sizes[0]]["reps"])
    W = int(ci.W)
    return (f"*The same tokens cut into more, smaller batches; {names([BASELINE] + sw.others)} at "
            f"{ci.nthreads} threads, {SERIAL} at 1, {reps} repetition(s) per size, on {run.machine}. The ratios "
            f"come from `plots/batch.csv`, derived from summary.json. "
            + (f"The {sw.own}-token point (the model's own batch) is the thread sweep's run at {sw.from_sweep} "
               f"threads, over the same tokens, so its repetitions are drawn only as the median. "
               if sw.from_sweep else "")
            + (f"The shaded band (labelled W = {W}) is the cost model's crossover for the {BASELINE} "
               f"control reading W = {W} workers' gradients per step at the single-core read bandwidth "
               f"`sphere-bench peak` measured in this run, {num(ci.bws[0])} GB/s: about "
               f"{num(min(ci.est.values()))} tokens per batch.*"
               if ci.bw_measured else
               f"The shaded band (labelled W = {W}) is the cost model's crossover for W = {W} "
               f"workers and an ASSUMED single-core bandwidth of "
               f"{num(min(ci.bws))}–{num(max(ci.bws))} GB/s: this run has no bandwidth measurement.*"))


def size_table(sw: Sweep) -> str:
    header = ["tokens per batch", f"{SERIAL} tokens/s", f"{BASELINE} tokens/s", f"{BASELINE} speedup"]
    for v in sw.others:
        header += [f"{v} tokens/s", f"{v} / {BASELINE}", "95 % interval", "verdict", f"{v} speedup"]
    rows = []
    for bt in sw.sizes:
        f = sw.by[BASELINE][bt]
        row = [int(bt), num(sw.tps(SERIAL, bt)), num(f["tokens_per_s_median"]), times(f["speedup_vs_serial"])]
        for v in sw.others:
            c = sw.by[v].get(bt)
            row += ([num(c["tokens_per_s_median"]), times(sw.over_flat(v, bt)),
                     ci_text(interval(c, "ratio_vs_flat"), times), verdict(interval(c, "ratio_vs_flat")) or "n/a",
                     times(c["speedup_vs_serial"])] if c else ["n/a"] * 5)
        rows.append(row)
    return table(header, rows)


def crossover_sentence(sw: Sweep, v: str) -> str:
    rs = [sw.over_flat(v, bt) for bt in sw.sizes if isnum(sw.over_flat(v, bt))]
    cs = sw.crossings[v]
    if len(cs) == 1:
        return (f"the median ratio crosses 1 near {num(cs[0])} tokens per batch (interpolated on a log "
                f"scale).")
    if len(cs) > 1:
        return (f"no single crossover: the median ratio crosses 1 {len(cs)} times (near "
                + ", ".join(num(x) for x in cs) + " tokens per batch), so it does not change sign once as "
                f"batches shrink; its values range {times(min(rs))}–{times(max(rs))}.")
    return (f"no crossover of the medians in the measured range: the ratio ranges {times(min(rs))}–"
            f"{times(max(rs))}." if rs else "no ratio measured.")


def verdict_sentence(sw: Sweep, v: str) -> str:
    vs = {int(bt): verdict(interval(sw.by[v][bt], "ratio_vs_flat")) for bt in sw.sizes if bt in sw.by[v]}
    resolved = {bt: x for bt, x in vs.items() if x in ("faster", "slower")}
    if all(x is None for x in vs.values()):
        return ("These ratios have no 95 % interval (one repetition per size, or a run folder written before "
                "intervals existed), so no size gives a verdict.")
    if not resolved:
        return f"At every size the ratio's 95 % interval contains 1: {UNRESOLVED}."
    return ("Resolved by the 95 % interval: " + "; ".join(
        f"{v} is {x} at {bt} tokens per batch" for bt, x in sorted(resolved.items()))
        + (f"; at the other sizes, {UNRESOLVED}." if len(resolved) < len(vs) else "."))


def sweep_lines(run: Run, plots: Plots, sw: Sweep, ci: CostInputs) -> list[str]:
    out = [figure(run, plots, sw, ci), "", caption(run, sw, ci), "", size_table(sw), ""]
    for v in sw.others:
        out += [f"**{v} / {BASELINE}**: {crossover_sentence(sw, v)} {verdict_sentence(sw, v)}", ""]
    return out


def section_batch(run: Run, plots: Plots) -> list[str]:
    """3. Every trainer against flat over tokens per batch; measured crossovers and the cost model."""
    out = ["## 3. Tokens per batch: does the tree win when batches are small?", ""]
    sw = gather(run)
    ci = cost_inputs(run, sw.by.get(SERIAL, {}), int(sw.by[BASELINE][sw.sizes[0]]["threads"]) if sw.sizes else None)
    if not sw.sizes:
        out += [not_measured("the tokens-per-batch sweep (kind `batch`)"), ""]
    else:
        out += sweep_lines(run, plots, sw, ci)
    return out + cost_model_lines(run, ci, sw.sizes)
