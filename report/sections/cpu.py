"""Section 1: where the CPU time goes, thread by thread, in the full runs.

Part of the report package (report/__init__.py); build.py assembles the sections.
Every trainer with a full run and per-thread records gets a panel, table rows
and a line; what is said of its threads comes from their roles and levels in
threads.csv (trainers.py's Shape): a trainer with one control is set beside
flat's control, a tree's root beside the promise the original design made for
it, a trainer with no control beside the work flat's one control does alone.
"""

from __future__ import annotations

from typing import Any

from ..figures import Plots
from ..fmt import isnum, mean, not_measured, num, ratio, share, table, times
from ..runfolder import Run
from ..trainers import BASELINE, Shape, shape_of

# The original's promise for its tree: workers with 40x the root's CPU time (docs/DESIGN.md).
PROMISED_WORKER_TO_ROOT = 40.0
PHASES = ("compute", "reduce", "optimizer", "dispatch", "wait")

Rows = list[dict[str, Any]]


def promise_verdict(s_ratio: float, st: dict[str, Any], root: dict[str, Any]) -> str:
    """' (met).' or ' (not met).' for the worker:root promise, saying when a met mean rests on a few
    busy workers while most computed nothing (then the median worker is the fairer reading)."""
    if not (isnum(s_ratio) and s_ratio >= PROMISED_WORKER_TO_ROOT):
        return " (not met)."
    cpu = sorted(r["cpu_s"] for r in st["worker_rows"] if isnum(r["cpu_s"]))
    busy = sum(1 for r in st["worker_rows"] if isnum(r["batches"]) and r["batches"] > 0)
    if not cpu or busy * 2 > len(cpu):
        return " (met)."
    med = cpu[len(cpu) // 2] if len(cpu) % 2 else 0.5 * (cpu[len(cpu) // 2 - 1] + cpu[len(cpu) // 2])
    above = sum(1 for x in cpu if x > st["worker_mean"])
    return (f" (met on the mean only: {above} workers above the mean carry it, while {len(cpu) - busy} of "
            f"{len(cpu)} computed no batch at all; the median worker used {num(med)} s, "
            f"{times(ratio(med, root['cpu_s']))} the root's, so the promise holds for a few workers, not for "
            f"the pool).")


def full_threads(run: Run, v: str) -> Rows:
    t, rp, _ = run.full_run(v)
    return [r for r in run.threads if r["kind"] == "full" and r["variant"] == v and r["threads"] == t
            and r["rep"] == rp]


def role_groups(th: Rows, shape: Shape) -> list[tuple[str, Rows]]:
    """(label, rows) per kind of thread: the root or control, each deeper level's controls, the workers."""
    groups = []
    for level in sorted(shape.controls):
        g = [r for r in th if r["role"] == "control" and int(r["level"]) == level]
        groups.append((shape.root_label() if level == 0 else f"level-{level} controls", g))
    return groups + [("workers", [r for r in th if r["role"] == "worker"])]


def thread_stats(th: Rows, shape: Shape) -> dict[str, Any]:
    workers = [r for r in th if r["role"] == "worker"]
    controls = [r for r in th if r["role"] == "control"]
    return {
        "shape": shape,
        "control": next((r for r in controls if int(r["level"]) == 0), None),
        "worker_mean": mean(r["cpu_s"] for r in workers),
        "worker_rows": workers,
        "worker_max": max((r["cpu_s"] for r in workers), default=float("nan")),
        "idle_workers": sum(1 for r in workers if r["batches"] == 0),
        "workers": len(workers),
        "controls": sum(r["cpu_s"] for r in controls),
        "n_controls": len(controls),
        "busiest_l1": max((r for r in controls if int(r["level"]) == 1), key=lambda r: r["cpu_s"], default=None),
        "total": sum(r["cpu_s"] for r in th if isnum(r["cpu_s"])),
        "rows": th,
    }


def group_rows(v: str, th: Rows, st: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for label, g in role_groups(th, st["shape"]):
        cpu = [r["cpu_s"] for r in g]
        s = sum(x for x in cpu if isnum(x))
        rows.append([v, label, len(g), num(mean(cpu)), num(max(cpu) if cpu else float("nan")),
                     num(s), share(ratio(s, st["total"]))])
    return rows


def phases(r: dict[str, Any]) -> str:
    return ", ".join(f"{p} {num(r[p + '_cpu_s'])} s" for p in PHASES)


def baseline_sentence(f: dict[str, Any]) -> str:
    fc = f["control"]
    return (f"The {BASELINE} control thread used {num(fc['cpu_s'])} s of CPU ({phases(fc)}); its {f['workers']} "
            f"workers used {num(f['worker_mean'])} s each on average, so a worker did "
            f"{times(ratio(f['worker_mean'], fc['cpu_s']))} the control thread's CPU work.")


def tree_sentences(v: str, s: dict[str, Any], f: dict[str, Any]) -> str:
    """A tree's root against its workers and the promise, and its controls against flat's one."""
    fc, sc = f["control"], s["control"]
    s_ratio = ratio(s["worker_mean"], sc["cpu_s"])
    l1 = s["busiest_l1"]
    return (f"The {v} root used {num(sc['cpu_s'])} s ({phases(sc)}) and its {s['workers']} workers "
            f"{num(s['worker_mean'])} s each on average: mean worker / root = {times(s_ratio)}, against the "
            f"{PROMISED_WORKER_TO_ROOT:.0f}× the original design promised for a tree of controls"
            + promise_verdict(s_ratio, s, sc)
            + f" The {BASELINE} pool, with no hierarchy at all, already has its workers at "
            f"{times(ratio(f['worker_mean'], fc['cpu_s']))} its control. The {v}'s {s['n_controls']} control "
            f"threads together used {num(s['controls'])} s, against the {BASELINE} control's {num(fc['cpu_s'])} s"
            + (f"; the busiest level-1 control (thread {int(l1['thread'])}) alone used {num(l1['cpu_s'])} s, "
               f"{num(l1['reduce_cpu_s'])} s of it reducing its workers' gradients: the tree moved the reduce "
               f"from the root to the level-1 control whose workers received the batches."
               if l1 is not None else ".")
            + f" In total the {v}'s controls used {times(ratio(s['controls'], fc['cpu_s']))} the {BASELINE} "
            f"control's CPU time.")


def one_control_sentence(v: str, s: dict[str, Any], f: dict[str, Any]) -> str:
    sc = s["control"]
    return (f"The {v} control thread used {num(sc['cpu_s'])} s ({phases(sc)}) and its {s['workers']} workers "
            f"{num(s['worker_mean'])} s each on average: mean worker / control = "
            f"{times(ratio(s['worker_mean'], sc['cpu_s']))}, against {BASELINE}'s "
            f"{times(ratio(f['worker_mean'], f['control']['cpu_s']))}.")


def no_control_paragraph(v: str, st: dict[str, Any], flat_control: dict[str, Any]) -> str:
    """A trainer with no control thread spreads the reduce and the update over every thread:
    set each thread's share beside the flat control's."""
    w = st["rows"]
    red = mean(r["reduce_cpu_s"] for r in w)
    opt = mean(r["optimizer_cpu_s"] for r in w)
    return (f"**No control at all.** The {v} trainer's {st['workers']} threads are all workers: besides "
            f"computing batches, each reduced and updated a share of the parameters: {num(red)} s of reduce and "
            f"{num(opt)} s of optimizer CPU per thread on average ({num(red * len(w))} s and "
            f"{num(opt * len(w))} s in total), against the {BASELINE} control's "
            f"{num(flat_control['reduce_cpu_s'])} s and {num(flat_control['optimizer_cpu_s'])} s done by one thread.")


def control_paragraphs(stats: dict[str, dict[str, Any]]) -> list[str]:
    f = stats[BASELINE]
    first = [baseline_sentence(f)]
    first += [(tree_sentences if s["shape"].is_tree else one_control_sentence)(v, s, f)
              for v, s in stats.items() if v != BASELINE and s["shape"].has_control]
    out = ["**Control against worker.** " + " ".join(first), ""]
    for v, s in stats.items():
        if not s["shape"].has_control:
            out += [no_control_paragraph(v, s, f["control"]), ""]
    return out


def balance_lines(stats: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for v, st in stats.items():
        imb = ratio(st["worker_max"], st["worker_mean"])
        lines.append(f"- {v}: busiest worker {num(st['worker_max'])} s = {times(imb)} the mean worker; "
                     + (f"{st['idle_workers']} of {st['workers']} workers computed no batch." if st["idle_workers"]
                        else f"every one of the {st['workers']} workers computed batches."))
    return ["**Balance among workers.**", ""] + lines + [""]


def starvation_paragraphs(run: Run, stats: dict[str, dict[str, Any]], nthreads: int) -> list[str]:
    """For each trainer that routes batches: how many of its workers its default routing left idle."""
    out = []
    ff = run.config("full", BASELINE)
    for v, s in stats.items():
        route = run.trainers[v].default_route
        if route is None or s["idle_workers"] == 0:
            continue
        busy = s["workers"] - s["idle_workers"]
        fv = run.config("full", v)
        txt = (f"Under its default routing ({route}) the {v} leaves {s['idle_workers']} of its "
               f"{s['workers']} workers without a single batch (section 4). ")
        if busy >= run.cores:
            txt += (f"The {busy} workers that did compute are still at least as many as the machine's "
                    f"{run.cores} cores, so here the starvation costs little throughput"
                    + (f" ({v} at {times(ratio(fv['tokens_per_s_median'], ff['tokens_per_s_median']))} "
                       f"{BASELINE}'s tokens/s in this run)" if ff and fv else "")
                    + f"; on a machine with a core per thread only {busy} of {nthreads} cores would work.")
        else:
            txt += (f"Only {busy} workers computed, fewer than the machine's {run.cores} cores, so the "
                    f"starvation leaves cores idle.")
        out += [txt, ""]
    return out


def controls_table(run: Run, plots: Plots, stats: dict[str, dict[str, Any]]) -> str:
    """plots/cpu_controls.csv: every control thread of every trainer, one box each, trainers apart."""
    rows, x = [], 0
    for v, s in stats.items():
        controls = sorted((r for r in s["rows"] if r["role"] == "control"), key=lambda r: r["thread"])
        for i, r in enumerate(controls):
            first = [v, s["shape"].root_label()] if i == 0 else ["-", "-"]
            rows.append([x, v, int(r["thread"])] + first + [r[p + "_cpu_s"] for p in PHASES])
            x += 1
        x += 1 if controls else 0
    return plots.derive("cpu_controls.csv", ["x", "variant", "thread", "name", "role"] + [p + "_cpu_s" for p in PHASES],
                        rows)


def controls_caption(stats: dict[str, dict[str, Any]]) -> str:
    parts = [f"the {v}'s root and level-{', level-'.join(str(lv) for lv in sorted(s['shape'].controls) if lv)} "
             f"controls" if s["shape"].is_tree else f"the {v} control"
             for v, s in stats.items() if s["shape"].has_control]
    return parts[0] + (", then " + ", then ".join(parts[1:]) if len(parts) > 1 else "")


def figures(run: Run, plots: Plots, stats: dict[str, dict[str, Any]], nthreads: int, rep: int) -> list[str]:
    trainers = list(stats)
    titles = {f"title_{i + 1}": f"{v}: {stats[v]['shape'].layout()}" for i, v in enumerate(trainers)}
    out = [plots.add("cpu_threads.gp", "cpu_threads", file="threads.csv", kind="full",
                     nthreads=nthreads, rep=rep, variants=" ".join(trainers), **titles)]
    out += ["", f"*Per-thread CPU seconds (`CLOCK_THREAD_CPUTIME_ID`) split by phase, full run over "
            f"every batch, {nthreads} threads, on {run.machine}; triangles mark control threads. "
            + ("Both panels share" if len(trainers) == 2 else "Every panel shares") + " one scale.*", ""]
    out.append(plots.add("cpu_controls.gp", "cpu_controls", table=controls_table(run, plots, stats),
                         nthreads=nthreads, variants=" ".join(v for v in trainers if stats[v]["shape"].has_control)))
    out += ["", f"*The control threads alone, on their own scale: same run, on {run.machine}; "
            f"{controls_caption(stats)}.*", ""]
    return out


def section_cpu_threads(run: Run, plots: Plots) -> list[str]:
    """1. Per-thread CPU by phase in every trainer's full run; control vs worker."""
    out = ["## 1. Where the CPU time goes, thread by thread", ""]
    trainers = [v for v in run.variants if run.full_run(v)]
    if BASELINE not in trainers or len(trainers) < 2 or not run.threads:
        return out + [not_measured(f"full runs of {BASELINE} and another trainer with per-thread records"), ""]
    nthreads, rep = run.full_run(BASELINE)[0], run.full_run(BASELINE)[1]
    for v in trainers[1:]:
        if run.full_run(v)[0] != nthreads:
            out += [f"({BASELINE} ran at {nthreads} threads, {v} at {run.full_run(v)[0]}; "
                    f"the figure shows {nthreads}.)", ""]
    ths = {v: full_threads(run, v) for v in trainers}
    stats = {v: thread_stats(ths[v], shape_of(ths[v])) for v in trainers}
    if stats[BASELINE]["control"] is None:
        return out + [not_measured(f"the {BASELINE} control thread's record"), ""]
    out += figures(run, plots, stats, nthreads, rep)
    rows = [row for v in trainers for row in group_rows(v, ths[v], stats[v])]
    out += [table(["trainer", "threads", "count", "mean CPU (s)", "max CPU (s)", "total CPU (s)",
                   "share of threads' CPU"], rows, left=2), ""]
    out += control_paragraphs(stats)
    out += balance_lines(stats)
    out += starvation_paragraphs(run, stats, nthreads)
    return out
