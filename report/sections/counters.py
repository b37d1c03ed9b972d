"""Section 7: the performance counters, where the machine counts them.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

from typing import Any

from ..figures import Plots
from ..runfolder import Run
from ..fmt import isnum, not_measured, num, ratio, table


COUNTER_EVENTS = ("cycles", "instructions", "cache-misses", "branch-misses", "task-clock",
                  "context-switches", "cpu-migrations", "page-faults")


def total(rows: list[dict[str, Any]], ev: str) -> float:
    """An event summed over threads, when every one of them counted it (ok or multiplexed)."""
    vals = [r.get(ev) for r in rows if r.get(ev + "_status") in ("ok", "multiplexed")]
    return sum(vals) if vals and all(isnum(x) for x in vals) else float("nan")


def intro_lines(run: Run, ctrs: list[dict[str, Any]]) -> list[str]:
    usable = [c["event"] for c in ctrs if c.get("usable")]
    unusable = [c for c in ctrs if not c.get("usable")]
    out = [f"Counters come from libpfm4 on each training thread, on {run.machine}. "
           + (f"Counted here: {', '.join(usable)}." if usable else "None could be counted here.")]
    if unusable:
        out += ["Not available on this machine (never estimated; written as NaN with status `unsupported`):", ""]
        out += [f"- `{c['event']}`: {c.get('why') or 'no reason recorded'}" for c in unusable]
    return out + [""]


def role_rows(v: str, th: list[dict[str, Any]]) -> list[list[Any]]:
    """A trainer's threads of each role, summed: IPC, misses, switches, migrations, faults, clocks."""
    rows = []
    for role in ("control", "worker"):
        g = [r for r in th if r["role"] == role]
        if not g:
            continue
        ins, cyc, cm = total(g, "instructions"), total(g, "cycles"), total(g, "cache-misses")
        tc = total(g, "task-clock")
        cpu = sum(r["cpu_s"] for r in g if isnum(r["cpu_s"]))
        rows.append([v, role, len(g), num(ratio(ins, cyc), 2), num(1000 * ratio(cm, ins), 3),
                     num(ratio(total(g, "context-switches"), len(g))),
                     num(ratio(total(g, "cpu-migrations"), len(g))),
                     num(total(g, "page-faults")),
                     num(tc / 1e9) if isnum(tc) else "n/a", num(cpu)])
    return rows


def section_counters(run: Run, plots: Plots) -> list[str]:
    """7. Hardware/software counters per trainer and role, or why they are missing."""
    out = ["## 7. Counters", ""]
    ctrs = run.context.get("counters") or []
    if not ctrs:
        return out + ["*No counters were recorded in this run (bench run with --no-counters, or a bench "
                      "without counter support).*", ""]
    out += intro_lines(run, ctrs)
    full = [(v, run.full_run(v)) for v in run.variants if run.full_run(v)]
    if not full or not run.threads:
        return out + [not_measured("per-thread counter values of full runs"), ""]
    rows, multiplexed = [], 0
    for v, (t, rp, _) in full:
        th = [r for r in run.threads if r["kind"] == "full" and r["variant"] == v and r["threads"] == t
              and r["rep"] == rp]
        multiplexed += sum(1 for r in th for e in COUNTER_EVENTS if r.get(e + "_status") == "multiplexed")
        rows += role_rows(v, th)
    out += ["Full runs, summed over the threads of each role (n/a: not counted here):", ""]
    out += [table(["trainer", "role", "threads", "IPC", "cache misses / 1k instr", "context switches / thread",
                   "CPU migrations / thread", "page faults", "task-clock (s)", "thread CPU clock (s)"], rows, left=2), ""]
    out += ["task-clock (kernel) and the thread CPU clock (`CLOCK_THREAD_CPUTIME_ID`) measure the same thing "
            "two ways; their agreement is a check on the per-thread clocks."]
    if multiplexed:
        out.append(f"{multiplexed} thread-event values were multiplexed (the counter shared its hardware slot) "
                   f"and are scaled by enabled/running time.")
    return out + [""]
