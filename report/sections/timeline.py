"""Section 9: timelines of every thread, from the bench's traces.

Part of the report package (report/__init__.py); build.py assembles the sections.

The bench writes the timeline of every full run and of one sweep
configuration per trainer as trace-KIND-TRAINER-THREADS.json (Chrome Trace
Event Format, bench/trace.h). This section reads them, keeps the first
TIMELINE_STEPS steps of each, and writes a derived table of spans (one row per
span: trainer, thread, start and end in ms, phase) that timeline.gp draws, one
panel per trainer on one time scale. Captions are computed from the spans.
It also reports what tracing costs: the bench's trace-off / trace-on runs.
"""

from __future__ import annotations

import os
import random
from typing import Any, Optional

from ..figures import Plots
from ..runfolder import Run
from ..trainers import SERIAL
from ..fmt import UNRESOLVED, ci_text, isnum, not_measured, num, pct, ratio, share, table, times, verdict
from ..bootstrap import ratio_ci
from ..validate import load_trace as validate_trace

TIMELINE_STEPS = 3
TRACE_COST_SEED = 0x7ACE  # the bootstrap of what tracing costs: the same runs give the same interval
PHASES = ("compute", "reduce", "optimizer", "dispatch", "wait")


def load_trace(run: Run, kind: str, variant: str, threads: float) -> Optional[dict[str, Any]]:
    """The trace's spans as {tid: [(start_ms, end_ms, phase, step, batch)]}, its thread names and
    otherData, or None when the run folder has no such trace."""
    path = os.path.join(run.path, f"trace-{kind}-{variant}-{int(threads)}.json")
    if not os.path.exists(path):
        return None
    t = validate_trace(path, os.path.join(run.path, os.path.basename(path)))
    spans, names = {}, {}
    for e in t["traceEvents"]:
        if e["ph"] == "X":
            a = e.get("args", {})
            spans.setdefault(e["tid"], []).append((e["ts"] / 1e3, (e["ts"] + e["dur"]) / 1e3, e["name"],
                                                   a.get("step", 0), a.get("batch")))
        elif e["ph"] == "M" and e["name"] == "thread_name":
            names[e["tid"]] = e["args"]["name"]
    for s in spans.values():
        s.sort()
    return {"spans": spans, "names": names, "other": t.get("otherData", {})}


def window_end(trace: dict[str, Any], steps: int) -> float:
    """End (ms) of the first `steps` steps: thread 0's last span of step <= steps (thread 0 ends every step)."""
    ends = [e for (_, e, _, st, _) in trace["spans"].get(0, []) if st <= steps]
    return max(ends) if ends else 0.0


def clip(spans: list[tuple], end: float) -> list[tuple]:
    return [(a, min(b, end), p, st, bt) for (a, b, p, st, bt) in spans if a < end]


def worker_stats(trace: dict[str, Any], end: float) -> tuple[float, float]:
    """Over [0, end): workers' share of time waiting, and the part of it after a worker's last batch
    of a step until its next batch (the wait at step ends). Workers: threads whose name says so."""
    total = wait = step_end = 0.0
    for tid, s in trace["spans"].items():
        if not trace["names"].get(tid, "").startswith("worker"):
            continue
        s = clip(s, end)
        if not s:
            continue
        total += s[-1][1] - s[0][0]
        wait += sum(b - a for (a, b, p, _, _) in s if p == "wait")
        last_compute = {}
        for i, (a, b, p, st, _) in enumerate(s):
            if p == "compute":
                last_compute[st] = i
        for st, i in last_compute.items():
            for (a, b, p, st2, _) in s[i + 1:]:
                if p == "compute":
                    break
                if p == "wait":
                    step_end += b - a
    return ratio(wait, total), ratio(step_end, total)


def timeline_figure(run: Run, plots: Plots, name: str, kind: str, pairs: list[tuple[str, int]],
                    title: str) -> tuple[Optional[str], list[dict[str, Any]]]:
    """Derived spans of each (variant, threads) trace over its first steps; the figure and the rows of
    the caption's table, or (None, []) when no trace is there."""
    traces = [(v, t, load_trace(run, kind, v, t)) for v, t in pairs]
    traces = [(v, t, tr) for v, t, tr in traces if tr]
    if not traces:
        return None, []
    rows, caption, xmax, nrows = [], [], 0.0, 0
    for v, t, tr in traces:
        end = window_end(tr, TIMELINE_STEPS)
        xmax = max(xmax, end)
        nrows = max(nrows, int(t))
        for tid, s in sorted(tr["spans"].items()):
            for (a, b, p, _, _) in clip(s, end):
                rows.append([v, tid, round(a, 6), round(b, 6), p])
        steps = max((st for (_, e, _, st, _) in tr["spans"].get(0, []) if e <= end), default=0)
        w, w_end = worker_stats(tr, end)
        caption.append({"variant": v, "threads": int(t), "steps": min(steps, TIMELINE_STEPS), "end": end,
                        "wait": w, "step_end": w_end, "dropped": int(tr["other"].get("dropped_spans", 0))})
    fname = plots.derive(f"{name}.csv", ["variant", "thread", "start_ms", "end_ms", "phase"], rows)
    fig = plots.add("timeline.gp", name, file=fname, variants=" ".join(v for v, _, _ in traces),
                    nthreads=nrows, xmax=xmax, title=title)
    return fig, caption


def overhead(run: Run) -> Optional[tuple]:
    """(trainer, threads, off, on, change, noise, reps) from the trace-off / trace-on configurations."""
    off = [c for c in run.configs if c["kind"] == "trace-off"]
    on = [c for c in run.configs if c["kind"] == "trace-on"]
    if not off or not on:
        return None
    a, b = off[0], on[0]
    change = ratio(b["tokens_per_s_median"], a["tokens_per_s_median"]) - 1.0
    noise = max(a["spread"], b["spread"]) if isnum(a["spread"]) and isnum(b["spread"]) else float("nan")
    return a["variant"], int(a["threads"]), a, b, change, noise, int(min(a["reps"], b["reps"]))


def traced_runs(run: Run, kind: str) -> list[dict[str, Any]]:
    """The runs of a kind whose trace the folder holds (serial's sweep trace aside)."""
    return [r for r in run.runs if r["kind"] == kind and (kind != "sweep" or r["variant"] != SERIAL)
            and os.path.exists(os.path.join(run.path, f"trace-{kind}-{r['variant']}-{int(r['threads'])}.json"))]


def kind_lines(run: Run, plots: Plots, kind: str, rs: list[dict[str, Any]], name: str, what: str) -> list[str]:
    """One kind's figure (every trainer traced at its largest thread count), caption and table."""
    if not rs:
        return [not_measured(f"a traced {what}"), ""]
    threads = max(int(r["threads"]) for r in rs)
    pairs = list(dict.fromkeys((r["variant"], threads) for r in rs if int(r["threads"]) == threads))
    fig, cap = timeline_figure(run, plots, name, kind, pairs,
                               f"First steps of each trainer's {what} at {threads} threads")
    measured = [c for c in cap if isnum(c["step_end"])]
    most = max(measured, key=lambda c: c["step_end"]) if measured else None
    least = min(measured, key=lambda c: c["step_end"]) if measured else None
    seen = (f" Over the steps shown, the workers of {most['variant']} spent {share(most['step_end'])} of "
            f"their time waiting after their step's last batch (for the step's reduction and update), the "
            f"most of the trainers shown; those of {least['variant']} {share(least['step_end'])}."
            if most and least and most is not least else "")
    header = ["trainer", "threads", "steps shown", "time shown (ms)", "worker time waiting",
              "worker time waiting at step ends", "spans dropped"]
    return [fig, "", f"*Timeline of each trainer's {what} at {threads} threads ({', '.join(v for v, _ in pairs)}) "
            f"on {run.machine}: x is milliseconds since the run's first thread began, one row per "
            f"thread.{seen}*", "",
            table(header, [[c["variant"], c["threads"], c["steps"], num(c["end"]), share(c["wait"]),
                            share(c["step_end"]), c["dropped"]] for c in cap]), ""]


def cost_lines(run: Run) -> list[str]:
    """What tracing costs: the trace-off / trace-on runs, their ratio and its bootstrap interval."""
    oh = overhead(run)
    if not oh:
        return [not_measured("what tracing costs (the `trace-off` and `trace-on` runs)"), ""]
    v, t, a, b, change, noise, reps = oh
    tps = lambda kind: [r["tokens_per_s"] for r in run.runs if r["kind"] == kind and isnum(r["tokens_per_s"])]
    r, lo, hi = ratio_ci(tps("trace-off"), tps("trace-on"), random.Random(TRACE_COST_SEED))
    iv = (lo, hi) if lo is not None else None
    return [f"**What tracing costs.** {v} at {t} threads, {reps} runs without and {reps} with tracing, "
            f"alternated: median {num(a['tokens_per_s_median'])} tokens/s untraced, "
            f"{num(b['tokens_per_s_median'])} traced, a change of {pct(change)}; traced / untraced = "
            f"{times(r)}, 95 % bootstrap interval {ci_text(iv, times)}: "
            + ({"faster": "tracing made the runs faster", "slower": "tracing made the runs **slower**"}.get(
                verdict(iv), UNRESOLVED if iv else "no interval (fewer than 2 runs a side)"))
            + f", on {run.machine}.", ""]


def section_timeline(run: Run, plots: Plots) -> list[str]:
    """9. Timelines of every thread (traces), and what tracing costs."""
    out = ["## 9. Timelines of every thread", ""]
    sweep, full = traced_runs(run, "sweep"), traced_runs(run, "full")
    if not sweep and not full:
        return out + [not_measured("timelines (the bench's `trace-*.json` files; this run predates traces)"), "",
                      not_measured("what tracing costs (the `trace-off` and `trace-on` runs)"), ""]
    out += [f"Every thread's phases as they happened, from the bench's traces (`trace-KIND-TRAINER-THREADS.json`, "
            f"Chrome Trace Event Format: open one in https://ui.perfetto.dev or chrome://tracing). Each figure "
            f"shows the first {TIMELINE_STEPS} steps of each trainer (all of a run that has fewer), one row per "
            f"thread in tree order (thread 0 on top), phases coloured as in section 1, the panels on one time "
            f"scale.", ""]
    out += kind_lines(run, plots, "sweep", sweep, "timeline_sweep", "sweep run")
    out += kind_lines(run, plots, "full", full, "timeline_full", "full run")
    return out + cost_lines(run)
