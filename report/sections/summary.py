""""In short": the five-minute answer at the top, from the same numbers as the sections.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from ..fmt import UNRESOLVED, interval, isnum, num, pct, ratio, ratio_verdict, span, times, verdict
from ..costmodel import find_crossovers
from .routing import route_groups, sym_top_share
from ..warnings_file import warning_lines


def section_summary(run):
    """The five-minute answer at the top, from the same numbers as the sections."""
    out = ["## In short", ""]
    ff, fs = run.config("full", "flat"), run.config("full", "sphere")
    if ff and fs:
        r = ratio(fs["tokens_per_s_median"], ff["tokens_per_s_median"])
        ttt = {v: c.get("time_to_target_s") for v, c in (("flat", ff), ("sphere", fs))}
        what = ("to the target loss" if all(isnum(t) for t in ttt.values()) else "over every batch")
        out.append(f"- Full run {what} at {int(ff['threads'])} threads: flat {num(ff['tokens_per_s_median'])} "
                   f"tokens/s" + (f" ({num(ttt['flat'], 1)} s to target)" if isnum(ttt["flat"]) else "")
                   + f", sphere {num(fs['tokens_per_s_median'])} tokens/s"
                   + (f" ({num(ttt['sphere'], 1)} s to target)" if isnum(ttt["sphere"]) else "") + " — "
                   + ratio_verdict("the sphere", r, interval(fs, "ratio_vs_flat"), "flat") + ".")
        fh = run.config("full", "sharded")
        if fh:
            th = fh.get("time_to_target_s")
            out.append(f"- The sharded trainer (no control thread; each thread reduces and updates a slice) in the "
                       f"same full run: {num(fh['tokens_per_s_median'])} tokens/s"
                       + (f" ({num(th, 1)} s to target)" if isnum(th) else "") + " — "
                       + ratio_verdict("sharded", ratio(fh["tokens_per_s_median"], ff["tokens_per_s_median"]),
                                       interval(fh, "ratio_vs_flat"), "flat") + ".")
        for v in run.variants:
            c = run.config("sweep", v, threads=ff["threads"])
            if v != "flat" and c:
                out.append(f"- Thread sweep at {int(ff['threads'])} threads ({int(c['reps'])} repetitions): "
                           + ratio_verdict(v, c["ratio_vs_flat"], interval(c, "ratio_vs_flat"), "flat") + ".")
    sweep = [c for c in run.configs if c["kind"] == "sweep" and isnum(c["speedup_vs_serial"])
             and c["variant"] != "serial"]
    for v in run.variants:
        cs = [c for c in sweep if c["variant"] == v]
        if cs:
            b = max(cs, key=lambda c: c["speedup_vs_serial"])
            iv = interval(b, "speedup_vs_serial")
            out.append(f"- Best {v} speedup over serial: {times(b['speedup_vs_serial'])} at {int(b['threads'])} "
                       f"threads on {run.cores} cores (95 % interval "
                       + (f"{times(iv[0])}–{times(iv[1])})." if iv else "n/a)."))
    bs = [c for c in run.configs if c["kind"] == "batch" and c["variant"] == "sphere" and isnum(c["ratio_vs_flat"])]
    if bs:
        lo = min(bs, key=lambda c: c["batch_tokens"])
        hi = max(bs, key=lambda c: c["batch_tokens"])
        crossings = find_crossovers(sorted((c["batch_tokens"], c["ratio_vs_flat"]) for c in bs))
        cross = crossings[0] if len(crossings) == 1 else float("nan")
        vs = [verdict(interval(c, "ratio_vs_flat")) for c in bs]
        out.append(f"- sphere / flat throughput against tokens per batch: {times(hi['ratio_vs_flat'])} at "
                   f"{int(hi['batch_tokens'])} tokens, {times(lo['ratio_vs_flat'])} at {int(lo['batch_tokens'])}; "
                   + (f"the ratio crosses 1 near {num(cross)} tokens per batch" if isnum(cross)
                      else "the ratio crosses 1 more than once: no single crossover"
                      if len(crossings) > 1
                      else "no crossover in the measured range")
                   + (f", but at every size: {UNRESOLVED}." if all(v == UNRESOLVED for v in vs)
                      else "; these ratios have no interval, so no verdict." if all(v is None for v in vs)
                      else "."))
    sym, rr = run.config("route", "sphere", route="symmetry"), run.config("route", "sphere", route="round-robin")
    if sym and rr:
        g = route_groups(run, "round-robin")
        out.append(f"- Routing: the symmetry policy sent {pct(sym_top_share(run), 0)} of the batches to one "
                   f"level-1 sphere; round-robin gave each sphere "
                   + (f"{span(int(min(g)), int(max(g)), str)} batches" if g else "its share")
                   + "; " + ratio_verdict("round-robin", ratio(rr['tokens_per_s_median'], sym['tokens_per_s_median']),
                                          interval(rr, "ratio_vs_symmetry"), "symmetry") + ".")
    fr = run.full_run("flat")
    if fr:
        r = fr[2]
        out.append(f"- The 60:1 figure: the whole process's CPU is {times(ratio(r['process_cpu_s'], r['mean_worker_cpu_s']))} "
                   f"a worker's, which is the misreading; by its own clock the flat control thread used "
                   f"{num(r['control_cpu_s'])} s and a worker {num(r['mean_worker_cpu_s'])} s, "
                   f"{times(ratio(r['mean_worker_cpu_s'], r['control_cpu_s']))} the control's.")
    if run.cores and any(c["threads"] > run.cores for c in run.configs):
        out.append(f"- This machine has {run.cores} cores: every run above {run.cores} threads is time-shared "
                   f"(oversubscribed). These numbers show how the trainers behave there, not how they scale; "
                   f"the cost model (section 3) puts the flat control's bottleneck out of reach on {run.cores} "
                   f"cores, so the question needs a machine with many cores.")
    out[2:2] = warning_lines(run)
    if len(out) == 2:
        out.append("- This run has none of the full, sweep, routing or batch measurements the summary needs.")
    out.append("")
    return out
