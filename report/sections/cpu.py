"""Section 1: where the CPU time goes, thread by thread, in the full runs.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from ..fmt import isnum, mean, not_measured, num, ratio, share, table, times


# The original's promise: workers with 40x the root's CPU time (docs/DESIGN.md).
PROMISED_WORKER_TO_ROOT = 40.0


def promise_verdict(s_ratio, st, root):
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


def section_cpu_threads(run, plots):
    """1. Per-thread CPU by phase, the full runs (flat, sphere, and sharded where
    the run has it); control vs worker."""
    out = ["## 1. Where the CPU time goes, thread by thread", ""]
    full = {v: run.full_run(v) for v in ("flat", "sphere", "sharded")}
    if not (full["flat"] and full["sphere"]) or not run.threads:
        return out + [not_measured("full runs of both flat and sphere with per-thread records"), ""]
    trainers = [v for v in ("flat", "sphere", "sharded") if full[v]]
    nthreads, rep = full["flat"][0], full["flat"][1]
    for v in trainers[1:]:
        if full[v][0] != nthreads:
            out += [f"(flat ran at {full['flat'][0]} threads, {v} at {full[v][0]}; "
                    f"the figure shows {nthreads}.)", ""]
    out.append(plots.add("cpu_threads.gp", "cpu_threads", file="threads.csv", kind="full",
                         nthreads=nthreads, rep=rep, variants=" ".join(trainers)))
    out += ["", f"*Per-thread CPU seconds (`CLOCK_THREAD_CPUTIME_ID`) split by phase, full run over "
            f"every batch, {nthreads} threads, on {run.machine}; triangles mark control threads. "
            + ("Both panels share" if len(trainers) == 2 else "Every panel shares") + " one scale.*", ""]
    out.append(plots.add("cpu_controls.gp", "cpu_controls", file="threads.csv", kind="full",
                         nthreads=nthreads, rep=rep))
    out += ["", f"*The control threads alone, on their own scale: same run, on {run.machine}; the flat "
            f"control, then the sphere's root and level-1 controls.*", ""]

    rows = []
    stats = {}
    for v in trainers:
        t, rp, _ = full[v]
        th = [r for r in run.threads if r["kind"] == "full" and r["variant"] == v
              and r["threads"] == t and r["rep"] == rp]
        total = sum(r["cpu_s"] for r in th if isnum(r["cpu_s"]))
        groups = []
        if v == "flat":
            groups.append(("control", [r for r in th if r["role"] == "control"]))
        elif v == "sphere":
            groups.append(("root", [r for r in th if r["role"] == "control" and r["level"] == 0]))
            levels = sorted({int(r["level"]) for r in th if r["role"] == "control" and r["level"] > 0})
            for lv in levels:
                groups.append((f"level-{lv} controls", [r for r in th if r["role"] == "control" and r["level"] == lv]))
        workers = [r for r in th if r["role"] == "worker"]
        groups.append(("workers", workers))
        for label, g in groups:
            cpu = [r["cpu_s"] for r in g]
            s = sum(x for x in cpu if isnum(x))
            rows.append([v, label, len(g), num(mean(cpu)), num(max(cpu) if cpu else float("nan")),
                         num(s), share(ratio(s, total))])
        stats[v] = {
            "control": next((r for r in th if r["role"] == "control"), None),
            "worker_mean": mean(r["cpu_s"] for r in workers),
            "worker_rows": workers,
            "worker_max": max((r["cpu_s"] for r in workers), default=float("nan")),
            "idle_workers": sum(1 for r in workers if r["batches"] == 0),
            "workers": len(workers),
            "controls": sum(r["cpu_s"] for r in th if r["role"] == "control"),
            "n_controls": sum(1 for r in th if r["role"] == "control"),
            "busiest_l1": max((r for r in th if r["role"] == "control" and r["level"] == 1),
                              key=lambda r: r["cpu_s"], default=None),
            "total": total,
            "rows": th,
        }
    out += [table(["trainer", "threads", "count", "mean CPU (s)", "max CPU (s)", "total CPU (s)",
                   "share of threads' CPU"], rows, left=2), ""]

    f, s = stats["flat"], stats["sphere"]
    fc, sc = f["control"], s["control"]
    f_ratio = ratio(f["worker_mean"], fc["cpu_s"])
    s_ratio = ratio(s["worker_mean"], sc["cpu_s"])
    phase = lambda r: ", ".join(f"{p} {num(r[p + '_cpu_s'])} s" for p in
                                ("compute", "reduce", "optimizer", "dispatch", "wait"))
    out += [f"**Control against worker.** The flat control thread used {num(fc['cpu_s'])} s of CPU "
            f"({phase(fc)}); its {f['workers']} workers used {num(f['worker_mean'])} s each on average, "
            f"so a worker did {times(f_ratio)} the control thread's CPU work. "
            f"The sphere root used {num(sc['cpu_s'])} s ({phase(sc)}) and its {s['workers']} workers "
            f"{num(s['worker_mean'])} s each on average: mean worker / root = {times(s_ratio)}, against the "
            f"{PROMISED_WORKER_TO_ROOT:.0f}× the original design promised"
            + promise_verdict(s_ratio, s, sc)
            + f" The flat pool, with no hierarchy at all, already has its workers at {times(f_ratio)} its "
            f"control. The sphere's {s['n_controls']} control threads together used {num(s['controls'])} s, "
            f"against the flat control's {num(fc['cpu_s'])} s"
            + (f"; the busiest level-1 control (thread {int(s['busiest_l1']['thread'])}) alone used "
               f"{num(s['busiest_l1']['cpu_s'])} s, {num(s['busiest_l1']['reduce_cpu_s'])} s of it reducing "
               f"its workers' gradients: the tree moved the reduce from the root to the control of the sphere "
               f"that received the batches." if s["busiest_l1"] is not None else ".")
            + f" In total the sphere's controls used {times(ratio(s['controls'], fc['cpu_s']))} the flat "
            f"control's CPU time.", ""]
    if "sharded" in stats:
        out += [sharded_paragraph(stats["sharded"], fc), ""]
    lines = []
    for v in trainers:
        st = stats[v]
        imb = ratio(st["worker_max"], st["worker_mean"])
        lines.append(f"- {v}: busiest worker {num(st['worker_max'])} s = {times(imb)} the mean worker; "
                     + (f"{st['idle_workers']} of {st['workers']} workers computed no batch." if st["idle_workers"]
                      else f"every one of the {st['workers']} workers computed batches."))
    out += ["**Balance among workers.**", ""] + lines + [""]
    if s["idle_workers"] > 0:
        busy = s["workers"] - s["idle_workers"]
        ff, fsph = run.config("full", "flat"), run.config("full", "sphere")
        txt = (f"Under its default routing (symmetry) the sphere leaves {s['idle_workers']} of its "
               f"{s['workers']} workers without a single batch (section 4). ")
        if busy >= run.cores:
            txt += (f"The {busy} workers that did compute are still at least as many as the machine's "
                    f"{run.cores} cores, so here the starvation costs little throughput"
                    + (f" (sphere at {times(ratio(fsph['tokens_per_s_median'], ff['tokens_per_s_median']))} "
                       f"flat's tokens/s in this run)" if ff and fsph else "")
                    + f"; on a machine with a core per thread only {busy} of {nthreads} cores would work.")
        else:
            txt += (f"Only {busy} workers computed, fewer than the machine's {run.cores} cores, so the "
                    f"starvation leaves cores idle.")
        out += [txt, ""]
    return out


def sharded_paragraph(st, flat_control):
    """sharded has no control thread: the reduce and the update are spread over
    every thread. Set each thread's share beside the flat control's."""
    w = st["rows"]
    red = mean(r["reduce_cpu_s"] for r in w)
    opt = mean(r["optimizer_cpu_s"] for r in w)
    return (f"**No control at all.** The sharded trainer's {st['workers']} threads each computed batches, then "
            f"reduced and updated their own slice of the parameters: {num(red)} s of reduce and {num(opt)} s of "
            f"optimizer CPU per thread on average ({num(red * len(w))} s and {num(opt * len(w))} s in total), "
            f"against the flat control's {num(flat_control['reduce_cpu_s'])} s and "
            f"{num(flat_control['optimizer_cpu_s'])} s done by one thread.")
