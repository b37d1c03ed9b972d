"""Section 7: the performance counters, where the machine counts them.

Part of the report package (report/__init__.py); build.py assembles the sections.
A figure summed or averaged over a role's threads is given only when every one
of those threads counted the event (status ok or multiplexed): a thread whose
open failed (`failed:EMFILE`, ...) would otherwise turn a sum over part of the
threads into a "per thread" figure. Such an event is n/a and the section says
on how many of how many threads it was counted.
"""

from __future__ import annotations

from typing import Any

from ..figures import Plots
from ..runfolder import Run
from ..fmt import isnum, not_measured, num, ratio, table


COUNTER_EVENTS = ("cycles", "instructions", "cache-misses", "branch-misses", "task-clock",
                  "context-switches", "cpu-migrations", "page-faults")


COUNTED = ("ok", "multiplexed")


def counted(rows: list[dict[str, Any]], ev: str) -> int:
    """How many of the threads counted the event (status ok or multiplexed, with a value)."""
    return sum(1 for r in rows if r.get(ev + "_status") in COUNTED and isnum(r.get(ev)))


def total(rows: list[dict[str, Any]], ev: str) -> float:
    """An event summed over threads, only when every one of them counted it; else NaN (never a sum over
    part of the threads)."""
    if not rows or counted(rows, ev) != len(rows):
        return float("nan")
    return sum(r[ev] for r in rows)


def partial_lines(parts: list[tuple[str, str, str, int, int]]) -> list[str]:
    """What was counted on only part of a role's threads: (trainer, role, event, k, n) each."""
    if not parts:
        return []
    return ["⚠ Counted on only part of the threads, so left out above (n/a; threads.csv's status columns say "
            "why each thread did not count, e.g. `failed:EMFILE`, too few file descriptors): "
            + "; ".join(f"{v} {role}s `{ev}` on {k} of {n} threads" for v, role, ev, k, n in parts) + ".", ""]


def intro_lines(run: Run, ctrs: list[dict[str, Any]]) -> list[str]:
    usable = [c["event"] for c in ctrs if c.get("usable")]
    unusable = [c for c in ctrs if not c.get("usable")]
    out = [f"Counters come from libpfm4 on each training thread, on {run.machine}. "
           + (f"Counted here: {', '.join(usable)}." if usable else "None could be counted here.")]
    if unusable:
        out += ["Not available on this machine (never estimated; written as NaN with status `unsupported`):", ""]
        out += [f"- `{c['event']}`: {c.get('why') or 'no reason recorded'}" for c in unusable]
    return out + [""]


def role_rows(v: str, th: list[dict[str, Any]], usable: list[str],
              parts: list[tuple[str, str, str, int, int]]) -> list[list[Any]]:
    """A trainer's threads of each role, summed: IPC, misses, switches, migrations, faults, clocks. Each
    usable event counted on only some of a role's threads is added to parts as (trainer, role, event, k, n)."""
    rows = []
    for role in ("control", "worker"):
        g = [r for r in th if r["role"] == role]
        if not g:
            continue
        for ev in usable:
            k = counted(g, ev)
            if k != len(g) and any(ev + "_status" in r for r in g):
                parts.append((v, role, ev, k, len(g)))
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
    rows, multiplexed, parts = [], 0, []
    usable = [c["event"] for c in ctrs if c.get("usable")]
    for v, (t, rp, _) in full:
        th = [r for r in run.threads if r["kind"] == "full" and r["variant"] == v and r["threads"] == t
              and r["rep"] == rp]
        multiplexed += sum(1 for r in th for e in COUNTER_EVENTS if r.get(e + "_status") == "multiplexed")
        rows += role_rows(v, th, usable, parts)
    out += ["Full runs, summed over the threads of each role (n/a: not counted here):", ""]
    out += [table(["trainer", "role", "threads", "IPC", "cache misses / 1k instr", "context switches / thread",
                   "CPU migrations / thread", "page faults", "task-clock (s)", "thread CPU clock (s)"], rows, left=2), ""]
    out += partial_lines(parts)
    out += ["task-clock (kernel) and the thread CPU clock (`CLOCK_THREAD_CPUTIME_ID`) measure the same thing "
            "two ways; their agreement is a check on the per-thread clocks."]
    if multiplexed:
        out.append(f"{multiplexed} thread-event values were multiplexed (the counter shared its hardware slot) "
                   f"and are scaled by enabled/running time.")
    return out + [""]
