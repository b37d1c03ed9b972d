"""Section 6: how a "main thread does 60x the work" reading arises.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

from ..figures import Plots
from ..runfolder import Run
from ..fmt import not_measured, num, ratio, table, times


def section_sixty(run: Run, plots: Plots) -> list[str]:
    """6. The 60:1 figure: flat control CPU against the whole process's CPU."""
    out = ["## 6. The 60:1 figure explained", ""]
    fr = run.full_run("flat")
    if not fr:
        return out + [not_measured("a full run of the flat trainer"), ""]
    nthreads, rep, r = fr
    out.append(plots.add("sixty.gp", "sixty", file="runs.csv", nthreads=nthreads, rep=rep))
    out += ["", f"*Flat trainer, full run at {nthreads} threads on {run.machine}: CPU seconds of the control "
            f"thread (its own `CLOCK_THREAD_CPUTIME_ID`), of the mean worker, and of the whole process "
            f"(`getrusage`), log scale.*", ""]
    ctl, wrk, proc, thr = r["control_cpu_s"], r["mean_worker_cpu_s"], r["process_cpu_s"], r["threads_cpu_s"]
    out += [table(["quantity", "CPU (s)"],
                  [["flat control thread (own clock)", num(ctl)],
                   ["mean worker thread", num(wrk)],
                   ["all threads, summed", num(thr)],
                   ["whole process (getrusage)", num(proc)]]), ""]
    out += [f"Read as the main thread's, the process figure makes the main thread look "
            f"{times(ratio(proc, wrk))} busier than a worker: that is the original's \"main thread does 60x "
            f"the work\", and it is simply the number of busy threads ({int(r['workers'])} workers) showing "
            f"through, since the process total is every thread's CPU summed ({num(thr)} s over threads against {num(proc)} s for the "
            f"process). The control thread's own clock says the opposite: it used {num(ctl)} s, "
            f"{times(ratio(proc, ctl))} less than the process and {times(ratio(wrk, ctl))} less than the mean "
            f"worker.", ""]
    return out
