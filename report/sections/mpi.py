"""Section "Across processes": the MPI policies (flat, tree, allreduce) and their cost model.

Part of the report package (report/__init__.py); build.py assembles the sections. Reads
RUN/mpi/np-R/ folders as `make bench-mpi` writes them (sphere-bench-mpi
bench: context.json, pingpong.csv, runs.csv, ranks.csv, threads.csv); a run
folder without mpi/ gives no section at all, so older runs' reports are
unchanged. The cost model is alpha-beta: a hop of m bytes costs
alpha + m * beta, with alpha the one-way latency of the smallest ping-pong
message and beta fitted between the smallest and the largest (one
gradient). Per step, with G the gradient's bytes and h = alpha + G beta:
flat's root receives up to R-1 sums and sends R-1 parameter copies, 2 (R-1) h;
tree's busiest path crosses each level once, 2 (c0 + c1) h with c0 the root's
children and c1 the most children of a level-1 control; a ring allreduce
costs 2 (R-1) alpha + 2 (R-1)/R G beta. The measured comm is the root's time
inside MPI, which also holds its wait for ranks still computing.
"""

from __future__ import annotations

import math
import os
from typing import Any

from ..figures import Plots
from ..runfolder import Run
from ..fmt import median, num, table
from ..validate import MPI_CSV, ReportError, load_csv, load_mpi_context

# What every np-R folder of one section must share: a table mixing them would compare unlike runs.
DEFINING = ("model", "threads_per_rank", "batches", "fanout", "reps")


def _fit(pingpong):
    """(alpha, beta) from the rows of every peer: medians per size."""
    sizes = sorted({r["bytes"] for r in pingpong})
    if len(sizes) < 2:
        return None
    t = {s: median([r["one_way_s"] for r in pingpong if r["bytes"] == s]) for s in sizes}
    lo, hi = sizes[0], sizes[-1]
    alpha = t[lo]
    beta = max(t[hi] - t[lo], 0.0) / (hi - lo)
    return alpha, beta, t


def _tree_hops(ranks, fanout):
    if ranks <= 1:
        return 0
    c0 = min(fanout, ranks - 1)
    rest = ranks - 1 - c0
    return c0 + (math.ceil(rest / c0) if rest > 0 else 0)


def predicted_step_s(policy: str, ranks: int, fanout: int, grad_bytes: float, alpha: float, beta: float) -> float:
    h = alpha + grad_bytes * beta
    if ranks <= 1:
        return 0.0
    if policy == "flat":
        return 2 * (ranks - 1) * h
    if policy == "tree":
        return 2 * _tree_hops(ranks, fanout) * h
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * grad_bytes * beta


def _load(folder, shown):
    """One np-R folder, every file validated (validate.py); None without a context.json."""
    ctx_path = os.path.join(folder, "context.json")
    if not os.path.exists(ctx_path):
        return None
    d = {"context": load_mpi_context(ctx_path, os.path.join(shown, "context.json")), "folder": shown}
    for name in ("pingpong", "runs", "ranks"):
        p = os.path.join(folder, name + ".csv")
        d[name] = load_csv(p, os.path.join(shown, name + ".csv"), MPI_CSV[name + ".csv"]) if os.path.exists(p) else []
    return d


def check_alike(sweeps: list[dict[str, Any]]) -> None:
    """Refuses np-R folders of different models, threads per rank, batches, fan-outs or repetitions:
    one header and one table would present them as one experiment."""
    first = sweeps[0]
    for d in sweeps[1:]:
        diff = [k for k in DEFINING if d["context"].get(k) != first["context"].get(k)]
        if diff:
            what = "; ".join(f"{k}: {first['context'].get(k)} in {first['folder']}, {d['context'].get(k)} in "
                             f"{d['folder']}" for k in diff)
            raise ReportError(f"the MPI folders differ in what defines their runs ({what}): one report section "
                              f"holds one experiment; run `make bench-mpi` again into an empty mpi/ folder")


def load_sweeps(run: Run) -> list[dict[str, Any]]:
    """RUN/mpi/np-R/ folders, loaded, by rank count; [] when the run has none."""
    base = os.path.join(run.path, "mpi")
    if not os.path.isdir(base):
        return []
    sweeps = []
    for name in sorted(os.listdir(base)):
        if name.startswith("np-"):
            d = _load(os.path.join(base, name), os.path.join(run.path, "mpi", name))
            if d:
                sweeps.append(d)
    if sweeps:
        check_alike(sweeps)
    return sorted(sweeps, key=lambda d: d["context"]["ranks"])


def intro_lines(sweeps: list[dict[str, Any]]) -> list[str]:
    ctx0 = sweeps[0]["context"]
    mpi = ctx0.get("mpi", {})
    m = ctx0.get("model", {})
    return [f"`sphere-bench-mpi` on {str(mpi.get('library')).split(',')[0]} (MPI {mpi.get('standard')}), "
            f"{ctx0.get('threads_per_rank')} thread(s) per rank, model of {num(m.get('params'))} parameters "
            f"(a gradient is {num(m.get('gradient_bytes'))} bytes), {ctx0.get('batches')} batches, "
            f"{ctx0.get('reps')} repetition(s) of every configuration, interleaved. Hosts: "
            + ", ".join(sorted(set(h for d in sweeps for h in d["context"].get("mpi", {}).get("hosts", []))))
            + ".", ""]


def pingpong_lines(sweeps: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    rows = []
    for d in sweeps:
        fit = _fit(d["pingpong"])
        if fit:
            alpha, beta, t = fit
            rows.append([d["context"].get("ranks"), num(alpha * 1e6), num(1 / beta / 1e9) if beta > 0 else "n/a"]
                        + [num(t[s] * 1e6) for s in sorted(t)])
    if rows:
        sizes = sorted({r["bytes"] for d in sweeps for r in d["pingpong"]})
        out += ["Ping-pong between rank 0 and every other rank (one-way time, median over peers), and the "
                "alpha-beta fit the cost model uses:", "",
                table(["ranks", "alpha (us)", "1/beta (GB/s)"] + [f"{int(s)} B (us)" for s in sizes], rows), ""]
    return out


def policy_lines(sweeps: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    rows = []
    for d in sweeps:
        ctx = d["context"]
        R, F, G = ctx.get("ranks"), ctx.get("fanout", 12), ctx.get("model", {}).get("gradient_bytes", 0)
        fit = _fit(d["pingpong"])
        configs = []
        for r in d["runs"]:
            key = (r["policy"], int(r["controls_compute"]))
            if key not in configs:
                configs.append(key)
        for pol, cc in configs:
            rs = [r for r in d["runs"] if r["policy"] == pol and int(r["controls_compute"]) == cc]
            steps = median([r["steps"] for r in rs])
            comm = median([r["comm_s_root"] for r in rs])
            pred = 0.0 if R <= 1 else (predicted_step_s(pol, R, F, G, fit[0], fit[1]) * steps if fit else float("nan"))
            rows.append([R, pol + (" (controls compute)" if cc else ""), num(median([r["tokens_per_s"] for r in rs])),
                         num(median([r["wall_s"] for r in rs])), num(comm), num(pred) if math.isfinite(pred) else "n/a",
                         num(median([r["bytes_total"] for r in rs]) / 1e6)])
    out += ["The policies on the same batches (medians over repetitions): measured time of rank 0 inside MPI "
            "beside the alpha-beta prediction of its transfers. The measured time also holds rank 0's wait "
            "for ranks still computing, so it is at least the prediction when the model holds.", "",
            table(["ranks", "policy", "tokens/s", "wall (s)", "rank 0 comm (s)", "predicted (s)", "sent (MB)"],
                  rows, left=2), ""]
    return out


def section_mpi(run: Run, plots: Plots) -> list[str]:
    """Across processes: ping-pong, the three policies, the cost model beside the measured comm time."""
    sweeps = load_sweeps(run)
    if not sweeps:
        return []
    return ["## Across processes (MPI)", ""] + intro_lines(sweeps) + pingpong_lines(sweeps) + policy_lines(sweeps)
