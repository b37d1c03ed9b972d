""""In short": the five-minute answer at the top, from the same numbers as the sections.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

from ..fmt import UNRESOLVED, interval, isnum, num, pct, ratio, ratio_verdict, span, times, verdict
from ..costmodel import find_crossovers
from .routing import route_groups, top_share
from ..runfolder import Run
from ..trainers import BASELINE, SERIAL
from ..warnings_file import warning_lines


def full_run_lines(run: Run) -> list[str]:
    """The full runs: flat's, then every other trainer's against it."""
    ff = run.config("full", BASELINE)
    if not ff:
        return []
    others = [(v, run.config("full", v)) for v in run.variants if v != BASELINE and run.config("full", v)]
    ttt = lambda c: c.get("time_to_target_s")
    what = "to the target loss" if all(isnum(ttt(c)) for c in [ff] + [c for _, c in others]) else "over every batch"
    out = [f"- Full run {what} at {int(ff['threads'])} threads: {BASELINE} {num(ff['tokens_per_s_median'])} "
           f"tokens/s" + (f" ({num(ttt(ff), 1)} s to target)" if isnum(ttt(ff)) else "") + "."]
    for v, c in others:
        out.append(f"- {v} ({run.describe(v)}) in the same full run: {num(c['tokens_per_s_median'])} tokens/s"
                   + (f" ({num(ttt(c), 1)} s to target)" if isnum(ttt(c)) else "") + " — "
                   + ratio_verdict(v, ratio(c["tokens_per_s_median"], ff["tokens_per_s_median"]),
                                   interval(c, "ratio_vs_flat"), BASELINE) + ".")
    for v in run.variants:
        c = run.config("sweep", v, threads=ff["threads"])
        if v != BASELINE and c:
            out.append(f"- Thread sweep at {int(ff['threads'])} threads ({int(c['reps'])} repetitions): "
                       + ratio_verdict(v, c["ratio_vs_flat"], interval(c, "ratio_vs_flat"), BASELINE) + ".")
    return out


def speedup_lines(run: Run) -> list[str]:
    sweep = [c for c in run.configs if c["kind"] == "sweep" and isnum(c["speedup_vs_serial"])
             and c["variant"] != SERIAL]
    out = []
    for v in run.variants:
        cs = [c for c in sweep if c["variant"] == v]
        if cs:
            b = max(cs, key=lambda c: c["speedup_vs_serial"])
            iv = interval(b, "speedup_vs_serial")
            out.append(f"- Best {v} speedup over serial: {times(b['speedup_vs_serial'])} at {int(b['threads'])} "
                       f"threads on {run.cores} cores (95 % interval "
                       + (f"{times(iv[0])}–{times(iv[1])})." if iv else "n/a)."))
    return out


def batch_lines(run: Run) -> list[str]:
    """Each trainer's ratio over flat at the largest and the smallest batch of the batch sweep."""
    out = []
    for v in run.variants:
        bs = [c for c in run.configs if c["kind"] == "batch" and c["variant"] == v and isnum(c["ratio_vs_flat"])]
        if v == BASELINE or not bs:
            continue
        lo = min(bs, key=lambda c: c["batch_tokens"])
        hi = max(bs, key=lambda c: c["batch_tokens"])
        crossings = find_crossovers(sorted((c["batch_tokens"], c["ratio_vs_flat"]) for c in bs))
        vs = [verdict(interval(c, "ratio_vs_flat")) for c in bs]
        out.append(f"- {v} / {BASELINE} throughput against tokens per batch: {times(hi['ratio_vs_flat'])} at "
                   f"{int(hi['batch_tokens'])} tokens, {times(lo['ratio_vs_flat'])} at {int(lo['batch_tokens'])}; "
                   + (f"the ratio crosses 1 near {num(crossings[0])} tokens per batch" if len(crossings) == 1
                      else "the ratio crosses 1 more than once: no single crossover" if crossings
                      else "no crossover in the measured range")
                   + (f", but at every size: {UNRESOLVED}." if all(x == UNRESOLVED for x in vs)
                      else "; these ratios have no interval, so no verdict." if all(x is None for x in vs)
                      else "."))
    return out


def routing_lines(run: Run) -> list[str]:
    """Each routing trainer's default policy, and every other policy against it."""
    out = []
    for v in run.routed():
        default = run.trainers[v].default_route
        base = run.config("route", v, route=default)
        others = [c for c in run.configs if c["kind"] == "route" and c["variant"] == v and c["route"] != default]
        if not (base and others):
            continue
        parts = []
        for c in others:
            g = route_groups(run, v, c["route"])
            parts.append(f"{c['route']} gave each group "
                         + (f"{span(int(min(g)), int(max(g)), str)} batches" if g else "its share") + "; "
                         + ratio_verdict(c["route"], ratio(c["tokens_per_s_median"], base["tokens_per_s_median"]),
                                         interval(c, "ratio_vs_symmetry"), default))
        out.append(f"- Routing ({v}): the {default} policy sent {pct(top_share(run, v, default), 0)} of the "
                   f"batches to one level-1 group; " + "; ".join(parts) + ".")
    return out


def machine_lines(run: Run) -> list[str]:
    out = []
    fr = run.full_run(BASELINE)
    if fr:
        r = fr[2]
        out.append(f"- The 60:1 figure: the whole process's CPU is {times(ratio(r['process_cpu_s'], r['mean_worker_cpu_s']))} "
                   f"a worker's, which is the misreading; by its own clock the {BASELINE} control thread used "
                   f"{num(r['control_cpu_s'])} s and a worker {num(r['mean_worker_cpu_s'])} s, "
                   f"{times(ratio(r['mean_worker_cpu_s'], r['control_cpu_s']))} the control's.")
    if run.cores and any(c["threads"] > run.cores for c in run.configs):
        out.append(f"- This machine has {run.cores} cores: every run above {run.cores} threads is time-shared "
                   f"(oversubscribed). These numbers show how the trainers behave there, not how they scale; "
                   f"the cost model (section 3) puts the {BASELINE} control's bottleneck out of reach on {run.cores} "
                   f"cores, so the question needs a machine with many cores.")
    return out


def section_summary(run: Run) -> list[str]:
    """The five-minute answer at the top, from the same numbers as the sections."""
    out = ["## In short", ""] + warning_lines(run)
    body = full_run_lines(run) + speedup_lines(run) + batch_lines(run) + routing_lines(run) + machine_lines(run)
    if not body:
        body = ["- This run has none of the full, sweep, routing or batch measurements the summary needs."]
    return out + body + [""]
