"""Section 2: speedup and efficiency against threads (Amdahl fit, Karp-Flatt).

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

from typing import Any

from ..figures import Plots
from ..fmt import ci_text, interval, isnum, not_measured, num, pct, table, times
from ..costmodel import amdahl_fit, karp_flatt
from ..runfolder import Run
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


def section_scaling(run: Run, plots: Plots) -> list[str]:
    """2. Speedup and efficiency against threads; Amdahl fit; Karp-Flatt."""
    out = ["## 2. Speedup and efficiency against threads", ""]
    serial = run.config("sweep", "serial", threads=1)
    sweep = [c for c in run.configs if c["kind"] == "sweep" and c["variant"] != "serial"]
    if not serial or not sweep:
        return out + [not_measured("a thread sweep with its serial baseline"), ""]
    cores = run.cores
    serial_tps = serial["tokens_per_s_median"]
    variants = [v for v in run.variants if any(c["variant"] == v for c in sweep)]
    derived, rows, fits = [], [], {}
    for v in variants:
        cs = sorted((c for c in sweep if c["variant"] == v), key=lambda c: c["threads"])
        pts = [(1, 1.0)] + [(c["threads"], c["speedup_vs_serial"]) for c in cs
                            if c["threads"] <= cores and isnum(c["speedup_vs_serial"])]
        fits[v] = amdahl_fit(pts)
        for c in cs:
            p = int(c["threads"])
            kf = karp_flatt(c["speedup_vs_serial"], min(p, cores))
            derived.append([v, p, c["tokens_per_s_median"], c["speedup_vs_serial"], c["parallel_efficiency"],
                            kf, 1 if c["oversubscribed"] else 0])
            busy, nw = run.busy_workers("sweep", v, p)
            rows.append([v, p, f"{busy} of {nw}" if nw is not None else "n/a",
                         pct(run.busiest_share("sweep", v, p), 0), num(c["tokens_per_s_median"]),
                         pct(c["spread"]) + (" ⚠" if c.get("noisy") is True else ""),
                         times(c["speedup_vs_serial"]), ci_text(interval(c, "speedup_vs_serial"), times),
                         pct(c["parallel_efficiency"], 0),
                         num(kf, 2), num(c.get("gflops")), pct(c.get("fraction_of_peak"), 1),
                         "yes" if c["oversubscribed"] else ""])
    table_path = plots.derive("scaling.csv", ["variant", "threads", "tokens_per_s", "speedup", "efficiency",
                                              "karp_flatt", "oversubscribed"], derived)
    # a serial fraction of 1 or more means no speedup at all: no fit to draw or state
    holds = {v: isnum(fits[v][0]) and fits[v][0] < 1 for v in variants}
    fit_str = " ".join(repr(fits[v][0]) if holds[v] else "NaN" for v in variants)
    rep_speedups = [r["tokens_per_s"] / serial_tps for r in run.runs_of("sweep") if isnum(r["tokens_per_s"])]
    ymax = max([float(cores)] + rep_speedups) * 1.5
    out.append(plots.add("scaling.gp", "scaling", runs="runs.csv", table=table_path, serial_tps=serial_tps,
                         cores=cores, variants=" ".join(variants), colours=run.colours(variants), fits=fit_str, ymax=ymax,
                         maxthreads=int(max(c["threads"] for c in sweep)),
                         oversub=any(c["oversubscribed"] for c in sweep)))
    out += ["", f"*Thread sweep ({int(serial['reps'])} repetitions per point, same batches for every "
            f"trainer) on {run.machine}. Small dots: repetitions; large: medians"
            + (f"; open, on the grey area: oversubscribed (threads > {cores} cores)"
               if any(c["oversubscribed"] for c in sweep) else f"; no point has more threads than the {cores} cores")
            + ". Medians come from `plots/scaling.csv`, a table the generator "
            f"derives from summary.json.*", ""]
    out += [f"Serial baseline: {num(serial_tps)} tokens/s (median of {int(serial['reps'])}, spread "
            f"{pct(serial['spread'])}). Efficiency is speedup / min(threads, cores); the Karp-Flatt "
            f"metric e = (1/S - 1/p)/(1 - 1/p) is computed with p = min(threads, cores), the processors "
            f"the threads actually had.", ""]
    peak1 = (run.context.get("peak") or {}).get("fma_gflops_1t")
    if isnum(peak1):
        out += [f"Against the machine's ceiling: the serial run does {num(serial.get('gflops'))} GFLOP/s of "
                f"model arithmetic, {pct(serial.get('fraction_of_peak'))} of one core's fp32 FMA peak "
                f"({num(peak1)} GFLOP/s, measured by `sphere-bench peak` in this run); 'of peak' below divides "
                f"by min(threads, cores) × that peak. `sphere-bench bench-core` breaks the single-thread "
                f"figure down kernel by kernel.", ""]
    out += [table(["trainer", "threads", "workers that computed", "busiest worker's batches", "tokens/s", "spread",
                   "speedup", "95 % interval", "efficiency", "Karp-Flatt e", "GFLOP/s", "of peak", "oversubscribed"], rows), ""]
    out += ["'Workers that computed' and 'busiest worker's batches' come from threads.csv (first repetition): "
            "the workers given at least one batch, and the share of all batches the busiest one computed. "
            "If every batch costs the same, 1 / that share bounds the speedup whatever the core count.", ""]
    out += starved_lines(run, sweep, variants)
    prose = []
    for v in variants:
        f, n = fits[v]
        cs = [c for c in sweep if c["variant"] == v and isnum(c["speedup_vs_serial"])]
        best = max(cs, key=lambda c: c["speedup_vs_serial"]) if cs else None
        at_cores = run.config("sweep", v, threads=cores)
        if isnum(f) and not holds[v]:
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
        prose.append(s)
    out += prose + [""]
    if variants and all(fits[v][1] <= 2 for v in variants):
        out += [f"With {cores} cores the Amdahl fit rests on 2 points (serial and {cores} threads), so f "
                f"is exactly the Karp-Flatt metric at p = {cores} and tests nothing about Amdahl's law; "
                f"a machine with more cores is needed for a real fit.", ""]
    if "flat" in variants:
        f2 = run.config("sweep", "flat", threads=2)
        if f2:
            out += [f"Flat at N threads has N-1 workers: at 2 threads one core computes while the control "
                    f"waits, which is why its speedup there is {times(f2['speedup_vs_serial'])} and its "
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
