"""Section 10: the machine, the build, the options, and what was not measured.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

from typing import Any

from ..figures import Plots
from ..runfolder import Run
from ..fmt import median, num, pct, table
from ..costmodel import bw1_values
from ..warnings_file import load_warnings, warning_lines


def machine_rows(run: Run) -> list[list[Any]]:
    """The machine, the build, the options: one table row each."""
    ctx = run.context
    m, d, o = ctx.get("model", {}), ctx.get("dataset", {}), ctx.get("options", {})
    rows: list[list[Any]] = [
        ["machine", f"{ctx.get('cpu_model')}, {ctx.get('cores')} cores, {num(ctx.get('memory_gb'))} GB, "
                    f"host `{ctx.get('hostname')}`"],
        ["kernel", ctx.get("kernel")],
        ["compiler", f"gcc {ctx.get('compiler')}" if str(ctx.get('compiler', '')).strip()[:1].isdigit()
                     else ctx.get("compiler")],
        ["flags", f"`{ctx.get('cflags')}`"],
        ["git revision", f"`{ctx.get('git_revision')}`" + (" (built with uncommitted changes)"
                                                           if ctx.get("git_dirty") else "")],
        ["run date", ctx.get("date")],
        ["trainers", ", ".join(run.trainers)],
        ["run folder", f"`{run.shown_path()}`" + (f" (`{run.name}`)" if run.shown_path() == "." else "")],
        ["model", f"preset `{m.get('preset')}`: V={m.get('V')}, T={m.get('T')}, D={m.get('D')}, L={m.get('L')}, "
                  f"H={m.get('H')}, B={m.get('B')}, {num(m.get('params'))} parameters"],
        ["dataset", f"`{d.get('text')}`, {num(d.get('bytes'))} bytes, {num(d.get('tokens'))} tokens, "
                    f"{num(d.get('types'))} word types, seed {d.get('seed')}, vocabulary {d.get('vocab')}, "
                    f"entropy rate {num(d.get('entropy_nats_per_token'), 4)} nats/token"],
        ["training", f"{o.get('batches_per_step')} batches per AdamW step, lr {o.get('lr')}, init seed "
                     f"{o.get('init_seed')}, control threads {o.get('wait')} while waiting"],
        ["repetitions", f"{o.get('reps')} per sweep point, {o.get('full_reps')} per full run"],
        ["pinning", "threads pinned (thread i to core i mod cores)" if o.get("pin")
         else "not pinned (the scheduler places threads)"],
    ]
    if "load_before" in ctx:
        caches = ", ".join(f"L{c.get('level')} {c.get('type', '').lower()} {num(c.get('size_kb'))} KB"
                           for c in ctx.get("caches") or [])
        rows += [["CPU frequency", f"{num(ctx.get('cpu_mhz'))} MHz ({ctx.get('cpu_mhz_source') or 'not exposed'}), "
                                   f"governor {ctx.get('governor') or 'none exposed'}"],
                 ["caches", caches or "not exposed"],
                 ["load average (1, 5, 15 min)", "before " + ", ".join(num(x) for x in ctx.get("load_before") or [])
                  + "; after " + ", ".join(num(x) for x in ctx.get("load_after") or [])],
                 ["command", "`" + " ".join(ctx.get("argv") or []) + "`"]]
    return rows


def spread_lines(run: Run) -> list[str]:
    spread_rows = []
    for kind in ("full", "sweep", "route", "batch"):
        cs = [c for c in run.configs if c["kind"] == kind]
        if not cs:
            continue
        sp = [c["spread"] for c in cs if c["reps"] > 1]
        spread_rows.append([kind, len(cs), f"{int(min(c['reps'] for c in cs))}–{int(max(c['reps'] for c in cs))}",
                            pct(median(sp)) if sp else "one run each", pct(max(sp)) if sp else "n/a"])
    return ["Spread of tokens/s, (max - min) / median over repetitions:", "",
            table(["kind", "configurations", "repetitions", "median spread", "largest spread"], spread_rows), ""]


def not_measured_lines(run: Run) -> list[str]:
    """What this run could not measure, and why."""
    ctx = run.context
    nm = []
    kinds = {c["kind"] for c in run.configs}
    for kind, what in (("full", "full-epoch runs"), ("sweep", "thread sweep"), ("route", "routing runs"),
                       ("batch", "tokens-per-batch sweep")):
        if kind not in kinds:
            nm.append(f"the {what} (kind `{kind}`): not part of this run")
    if not bw1_values(run)[1]:
        nm.append("single-core memory bandwidth BW₁: this run predates `sphere-bench peak`, so the cost model in "
                  "section 3 uses an assumed range")
    unusable = [c["event"] for c in ctx.get("counters") or [] if not c.get("usable")]
    if unusable:
        nm.append(f"{', '.join(unusable)}: the machine offers no such counters (section 7)")
    if load_warnings(run) is None:
        nm.append("noise guards (load, frequency, peak spread): this run predates them (no warnings.json)")
    if not ctx.get("counters"):
        nm.append("counters: none recorded")
    if run.samples is None:
        nm.append("generated text: samples.txt is absent")
    for f in run.missing:
        nm.append(f"{f}: absent from the run folder")
    if run.cores and any(c["threads"] > run.cores for c in run.configs):
        nm.append(f"parallel speed beyond {run.cores} processors: runs with more threads than cores are "
                  f"time-shared, marked oversubscribed")
    return ["**Not measured, and why:**", ""] + [f"- {x}" for x in nm] + [""]


def derived_lines(plots: Plots) -> list[str]:
    if not plots.derived:
        return []
    return ["Derived tables: " + ", ".join(f"`plots/{n}`" for n in plots.derived) + " in the run folder "
            "hold what the figures that need them cannot read from the bench's files as written (medians "
            "copied from summary.json, spans from the traces, rows gathered from threads.csv and core.json); "
            "every other figure is drawn by gnuplot from the bench's CSVs as written.", ""]


def section_context(run: Run, plots: Plots) -> list[str]:
    """10. Machine, build, dataset, model, repetitions and spread; what was not measured."""
    out = ["## 10. Context", "", table(["", ""], machine_rows(run), left=2), ""]
    out += warning_lines(run)
    if run.context.get("options", {}).get("quick"):
        out += ["**This is a quick run (`make bench QUICK=1`): it checks the path, it is not a measurement.**",
                ""]
    return out + spread_lines(run) + not_measured_lines(run) + derived_lines(plots)
