"""Section 2: speedup and efficiency against threads (Amdahl fit, Karp-Flatt).

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

from typing import Any

from ..figures import Plots
from ..fmt import ci_text, interval, isnum, not_measured, num, pct, table, times
from ..costmodel import amdahl_fit, karp_flatt
from ..runfolder import Run
from ..trainers import BASELINE, SERIAL
from .routing import top_share


def starved_lines(run: Run, sweep: list[dict[str, Any]], variants: list[str]) -> list[str]:
    """Sweep points where one worker computed most batches although there were workers for every core."""
    cores, starved = run.cores, []
    for v in variants:
        for c in sorted((c for c in sweep if c["variant"] == v), key=lambda c: c["threads"]):
            sh = run.busiest_share("sweep", v, int(c["threads"]))
            busy, nw = run.busy_workers("sweep", v, int(c["threads"]))
            if isnum(sh) and nw and nw >= cores and 1 / sh < cores:
                starved.append((v, int(c["threads"]), sh, c["speedup_vs_serial"]))
    if not starved:
        return []
    lst = "; ".join(f"{v} at {t} threads: busiest worker {pct(sh, 0)} of the batches, bound "
                    f"≈ {times(1 / sh)}, measured {times(sp)}" for v, t, sh, sp in starved)
    routed = [v for v in dict.fromkeys(v for v, _, _, _ in starved) if run.trainers[v].default_route]
    why = " ".join(f"Under {v}'s default policy ({run.trainers[v].default_route}) nearly every batch goes to one "
                   f"level-1 group (section 4), and with few threads that group has one or two workers."
                   for v in routed if top_share(run, v, run.trainers[v].default_route) > 0.5)
    return [f"Where one worker computed most of the batches although there were at least {cores} workers, "
            f"the speedup is held near 1 by the routing, not by the cost of control: {lst}." + (" " + why if why else ""),
            ""]


Fit = tuple[float, int]


def fits_of(run: Run, sweep: list[dict[str, Any]], variants: list[str]) -> dict[str, Fit]:
    """Each trainer's Amdahl fit over its sweep points with p <= cores (and serial's (1, 1))."""
    fits = {}
    for v in variants:
        pts = [(1, 1.0)] + [(c["threads"], c["speedup_vs_serial"]) for c in sweep if c["variant"] == v
                            and c["threads"] <= run.cores and isnum(c["speedup_vs_serial"])]
        fits[v] = amdahl_fit(pts)
    return fits


def holds(fit: Fit) -> bool:
    """A serial fraction of 1 or more means no speedup at all: no fit to draw or state."""
    return isnum(fit[0]) and fit[0] < 1


def by_threads(sweep: list[dict[str, Any]], v: str) -> list[dict[str, Any]]:
    return sorted((c for c in sweep if c["variant"] == v), key=lambda c: c["threads"])


def point_row(run: Run, v: str, c: dict[str, Any]) -> list[Any]:
    p = int(c["threads"])
    busy, nw = run.busy_workers("sweep", v, p)
    return [v, p, f"{busy} of {nw}" if nw is not None else "n/a",
            pct(run.busiest_share("sweep", v, p), 0), num(c["tokens_per_s_median"]),
            pct(c["spread"]) + (" ⚠" if c.get("noisy") is True else ""),
            times(c["speedup_vs_serial"]), ci_text(interval(c, "speedup_vs_serial"), times),
            pct(c["parallel_efficiency"], 0),
            num(karp_flatt(c["speedup_vs_serial"], min(p, run.cores)), 2), num(c.get("gflops")),
            pct(c.get("fraction_of_peak"), 1), "yes" if c["oversubscribed"] else ""]


def figure(run: Run, plots: Plots, serial: dict[str, Any], sweep: list[dict[str, Any]], variants: list[str],
           fits: dict[str, Fit]) -> list[str]:
    derived = [[v, int(c["threads"]), c["tokens_per_s_median"], c["speedup_vs_serial"], c["parallel_efficiency"],
                karp_flatt(c["speedup_vs_serial"], min(int(c["threads"]), run.cores)), 1 if c["oversubscribed"] else 0]
               for v in variants for c in by_threads(sweep, v)]
    table_path = plots.derive("scaling.csv", ["variant", "threads", "tokens_per_s", "speedup", "efficiency",
                                              "karp_flatt", "oversubscribed"], derived)
    serial_tps = serial["tokens_per_s_median"]
    rep_speedups = [r["tokens_per_s"] / serial_tps for r in run.runs_of("sweep") if isnum(r["tokens_per_s"])]
    oversub = any(c["oversubscribed"] for c in sweep)
    fig = plots.add("scaling.gp", "scaling", runs="runs.csv", table=table_path, serial_tps=serial_tps,
                    cores=run.cores, variants=" ".join(variants), colours=run.colours(variants),
                    fits=" ".join(repr(fits[v][0]) if holds(fits[v]) else "NaN" for v in variants),
                    ymax=max([float(run.cores)] + rep_speedups) * 1.5,
                    maxthreads=int(max(c["threads"] for c in sweep)), oversub=oversub)
    return [fig, "", f"*Thread sweep ({int(serial['reps'])} repetitions per point, same batches for every "
            f"trainer) on {run.machine}. Small dots: repetitions; large: medians"
            + (f"; open, on the grey area: oversubscribed (threads > {run.cores} cores)"
               if oversub else f"; no point has more threads than the {run.cores} cores")
            + ". Medians come from `plots/scaling.csv`, a table the generator "
            "derives from summary.json.*", ""]


def baseline_lines(run: Run, serial: dict[str, Any]) -> list[str]:
    out = [f"Serial baseline: {num(serial['tokens_per_s_median'])} tokens/s (median of {int(serial['reps'])}, "
           f"spread {pct(serial['spread'])}). Efficiency is speedup / min(threads, cores); the Karp-Flatt "
           f"metric e = (1/S - 1/p)/(1 - 1/p) is computed with p = min(threads, cores), the processors "
           f"the threads actually had.", ""]
    peak1 = (run.context.get("peak") or {}).get("fma_gflops_1t")
    if isnum(peak1):
        out += [f"Against the machine's ceiling: the serial run does {num(serial.get('gflops'))} GFLOP/s of "
                f"model arithmetic, {pct(serial.get('fraction_of_peak'))} of one core's fp32 FMA peak "
                f"({num(peak1)} GFLOP/s, measured by `sphere-bench peak` in this run); 'of peak' below divides "
                f"by min(threads, cores) × that peak. `sphere-bench bench-core` breaks the single-thread "
                f"figure down kernel by kernel.", ""]
    return out


def points_table(run: Run, sweep: list[dict[str, Any]], variants: list[str]) -> list[str]:
    rows = [point_row(run, v, c) for v in variants for c in by_threads(sweep, v)]
    return [table(["trainer", "threads", "workers that computed", "busiest worker's batches", "tokens/s", "spread",
                   "speedup", "95 % interval", "efficiency", "Karp-Flatt e", "GFLOP/s", "of peak",
                   "oversubscribed"], rows), "",
            "'Workers that computed' and 'busiest worker's batches' come from threads.csv (first repetition): "
            "the workers given at least one batch, and the share of all batches the busiest one computed. "
            "If every batch costs the same, 1 / that share bounds the speedup whatever the core count.", ""]


def fit_line(run: Run, sweep: list[dict[str, Any]], v: str, fit: Fit) -> str:
    f, n, cores = fit[0], fit[1], run.cores
    cs = [c for c in sweep if c["variant"] == v and isnum(c["speedup_vs_serial"])]
    best = max(cs, key=lambda c: c["speedup_vs_serial"]) if cs else None
    at_cores = run.config("sweep", v, threads=cores)
    if isnum(f) and not holds(fit):
        s = (f"- **{v}**: no Amdahl fit (the fit's serial fraction f = {num(f, 2)} from {n} points "
             f"(p ≤ {cores}) is not below 1: these runs were no faster than serial). ")
    else:
        s = (f"- **{v}**: Amdahl serial fraction f = {num(f, 2)} from {n} points (p ≤ {cores})"
             + (f", bound 1/f = {times(1 / f)}" if isnum(f) and f > 0 else "") + ". ")
    if best:
        s += (f"Best median speedup {times(best['speedup_vs_serial'])} at {int(best['threads'])} threads"
              + (" (oversubscribed)" if best["oversubscribed"] else "") + ". ")
    if at_cores:
        s += f"At {cores} threads (one per core): {times(at_cores['speedup_vs_serial'])}."
    return s


def reading_lines(run: Run, sweep: list[dict[str, Any]], variants: list[str], fits: dict[str, Fit]) -> list[str]:
    """What the fits rest on, flat's idle control at 2 threads, and the oversubscribed points."""
    cores, out = run.cores, []
    if variants and all(fits[v][1] <= 2 for v in variants):
        out += [f"With {cores} cores the Amdahl fit rests on 2 points (serial and {cores} threads), so f "
                f"is exactly the Karp-Flatt metric at p = {cores} and tests nothing about Amdahl's law; "
                f"a machine with more cores is needed for a real fit.", ""]
    f2 = run.config("sweep", BASELINE, threads=2) if BASELINE in variants else None
    if f2:
        out += [f"{BASELINE.capitalize()} at N threads has N-1 workers: at 2 threads one core computes while the "
                f"control waits, which is why its speedup there is {times(f2['speedup_vs_serial'])} and its "
                f"Karp-Flatt value {num(karp_flatt(f2['speedup_vs_serial'], min(2, cores)), 2)} counts "
                f"the idle control as \"serial fraction\".", ""]
    over = [c for c in sweep if c["oversubscribed"] and isnum(c["speedup_vs_serial"])]
    if over:
        hi = max(over, key=lambda c: c["speedup_vs_serial"])
        out += [f"Oversubscribed points (more threads than the {cores} cores) can still gain: the best, "
                f"{hi['variant']} at {int(hi['threads'])} threads, reached {times(hi['speedup_vs_serial'])}, "
                f"because with more workers than cores every core always has a worker to run while the "
                f"control thread sleeps; it is not evidence of scaling beyond {cores} processors.", ""]
    return out


def section_scaling(run: Run, plots: Plots) -> list[str]:
    """2. Speedup and efficiency against threads; Amdahl fit; Karp-Flatt."""
    out = ["## 2. Speedup and efficiency against threads", ""]
    serial = run.config("sweep", SERIAL, threads=1)
    sweep = [c for c in run.configs if c["kind"] == "sweep" and c["variant"] != SERIAL]
    if not serial or not sweep:
        return out + [not_measured("a thread sweep with its serial baseline"), ""]
    variants = [v for v in run.variants if any(c["variant"] == v for c in sweep)]
    fits = fits_of(run, sweep, variants)
    out += figure(run, plots, serial, sweep, variants, fits)
    out += baseline_lines(run, serial)
    out += points_table(run, sweep, variants)
    out += starved_lines(run, sweep, variants)
    out += [fit_line(run, sweep, v, fits[v]) for v in variants] + [""]
    return out + reading_lines(run, sweep, variants, fits)
