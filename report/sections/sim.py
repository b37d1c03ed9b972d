"""Section "Beyond this machine (simulated)": sphere-bench-mpi on SimGrid SMPI platforms.

Part of the report generator; report.py assembles the sections. Reads
RUN/sim/ as `make sim` (sim/sweep.py) writes it: sim.json (SimGrid version,
settings, this machine's measured costs and bandwidths, the platforms and
every run) and one `sphere-bench-mpi bench` folder per run. A run folder
without sim/sim.json gives no section. Every time here is simulated except
the column marked real; the simulated ones are labelled so in every table.
The alpha-beta prediction is sections/mpi.py's, with alpha and beta read
from the same platform's simulated 2-rank ping-pong, plus the compute the
ranks were charged (the busiest computing rank's batches per step).
"""

import json
import math
import os

from ..fmt import num, table
from ..runfolder import read_csv
from .mpi import _fit, predicted_step_s

CONFIGS = [("flat", 0), ("tree", 0), ("allreduce", 0), ("flat", 1), ("tree", 1)]


def _runs(base, d):
    rows = read_csv(os.path.join(base, d, "runs.csv")) or []
    return {(r["policy"], int(r["controls_compute"])): r for r in rows if int(r["rep"]) == 0}


def _pct(a, b):
    return f"{100 * (a - b) / b:+.1f} %" if b else "n/a"


def _validation(base, idx):
    out = []
    real = {int(k): v for k, v in idx.get("real", {}).items()}
    valid = {r["ranks"]: r for r in idx["runs"] if r["dir"].startswith("valid/")}
    rows = []
    for R in sorted(set(real) & set(valid)):
        a, b = _runs(base, real[R]["dir"]), _runs(base, valid[R]["dir"])
        for c in CONFIGS:
            if c in a and c in b:
                rows.append([f"{c[0]}{' (controls compute)' if c[1] else ''}", R, num(a[c]["wall_s"]),
                             num(b[c]["wall_s"]), _pct(b[c]["wall_s"], a[c]["wall_s"])])
    if rows:
        worst = max(abs(float(r[4].split()[0])) for r in rows if r[4] != "n/a")
        verdict = ("every configuration within 10 %" if worst <= 10 else
                   f"**not validated**: the worst configuration is {worst:.0f} % off (the criterion is 10 %). "
                   "A likely cause, not checked here: SMPI charges a rank its CPU time, while a real rank's wall time on a loaded 2-core machine "
                   "also holds the time it waited for a core (a control spinning in MPI takes one), so the "
                   "real runs here are slower than the simulated ones; the simulated figures below are a "
                   "model of an unloaded machine, not checked against one")
        out += ["Validation against real runs on this machine's loopback (Open MPI, full computation, the "
                "same batches, one repetition each), simulated on the node platform, also in full "
                f"computation: {verdict}.", "",
                table(["configuration", "ranks", "real wall s", "simulated wall s", "simulated vs real"], rows), ""]
    return out


def _exact(base, idx):
    ex = [r for r in idx["runs"] if r["dir"].startswith("exact/")]
    if not ex:
        return []
    r = ex[0]
    lat, bw = idx["exact"]["lat_s"], idx["exact"]["bw_Bps"]
    pp = read_csv(os.path.join(base, r["dir"], "pingpong.csv")) or []
    rows = [[int(p["bytes"]), num(p["one_way_s"]), num(2 * lat + p["bytes"] / bw),
             _pct(p["one_way_s"], 2 * lat + p["bytes"] / bw)] for p in pp if int(p["peer"]) == 1]
    out = [f"Exact alpha-beta platform (a star, {num(lat * 1e6)} us and {num(bw / 1e9)} GB/s a link, SimGrid's "
           f"factors at 1, zero compute charged, {r['ranks']} ranks): the simulated one-way time against "
           "2 lat + b / bw.", "", table(["bytes", "simulated one-way s", "alpha-beta s", "difference"], rows), ""]
    runs = _runs(base, r["dir"])
    ctx = json.load(open(os.path.join(base, r["dir"], "context.json")))
    g = ctx["model"]["gradient_bytes"]
    rows = []
    for pol in ("flat", "tree", "allreduce"):
        if (pol, 0) in runs:
            x = runs[(pol, 0)]
            pred = x["steps"] * predicted_step_s(pol, r["ranks"], ctx["fanout"], g, 2 * lat, 1 / bw)
            rows.append([pol, num(x["comm_s_root"]), num(pred), _pct(x["comm_s_root"], pred)])
    out += ["The same run's root time inside MPI per policy against the report's alpha-beta model "
            "(sections/mpi.py; alpha = 2 lat, beta = 1 / bw). Where they differ the model's term is the "
            "reason: tree's model counts the busiest path's hops one after another, and allreduce's is a "
            "ring's, not necessarily the algorithm SMPI's ompi selection picks.", "",
            table(["policy", "simulated root comm s", "alpha-beta s", "difference"], rows), ""]
    return out


def _platform(base, idx, kind):
    runs = sorted([r for r in idx["runs"] if r["dir"].startswith(kind + "/")], key=lambda r: r["ranks"])
    if not runs:
        return []
    params = runs[0]["params"]
    costs = idx["costs"]
    header = ["ranks"] + [f"{p}{' cc' if c else ''} tok/s" for p, c in CONFIGS] + \
             [f"{p} comm share" for p in ("flat", "tree", "allreduce")] + ["host s", "host GB"]
    rows, tps = [], {}
    fit = None
    for r in runs:
        x = _runs(base, r["dir"])
        if r["ranks"] == 2:
            fit = _fit(read_csv(os.path.join(base, r["dir"], "pingpong.csv")) or [])
        row = [r["ranks"]]
        for c in CONFIGS:
            row.append(num(x[c]["tokens_per_s"]) if c in x else "")
            if c in x:
                tps.setdefault(c, {})[r["ranks"]] = x[c]["tokens_per_s"]
        for p in ("flat", "tree", "allreduce"):
            c = x.get((p, 0))
            row.append(f"{100 * c['comm_s_root'] / c['wall_s']:.0f} %" if c and c["wall_s"] > 0 else "")
        row += [num(r["host_wall_s"]), num(r["anon_peak_gb"])]
        rows.append(row)
    out = [f"### Platform `{kind}` (simulated)", "",
           f"Parameters: {json.dumps(params, sort_keys=True)}. Timing mode: every batch charged "
           f"{num(costs['batch_s'])} s, every AdamW update {num(costs['adamw_s'])} s, every addition of two "
           f"gradients {num(costs['add_s'])} s, measured once on this machine's core at the start of the sweep. "
           "Tokens/s and comm share (root's time in MPI over the run's wall) are simulated; host s and GB are "
           "what simulating the run cost this machine.", "",
           table(header, rows), ""]
    out += _crossovers(tps, fit, runs, idx)
    return out


def _first_above(a, b):
    """The smallest R (of those both have) from which a's tokens/s stays above b's."""
    common = sorted(set(a) & set(b))
    for i, R in enumerate(common):
        if all(a[q] > b[q] for q in common[i:]) and R > 1:
            return R
    return None


def _model_tps(pol, R, fanout, g, alpha, beta, costs, B_T):
    """Tokens/s of the alpha-beta model with the charged compute: R batches a step over the computing ranks."""
    controls = 0 if pol == "allreduce" or R == 1 else (1 if pol == "flat" else math.ceil((R - 1) / fanout))
    per_rank = math.ceil(R / max(R - controls, 1))
    step = per_rank * costs["batch_s"] + predicted_step_s(pol, R, fanout, g, alpha, beta) + costs["adamw_s"]
    return R * B_T / step


def _crossovers(tps, fit, runs, idx):
    if not fit:
        return []
    alpha, beta, _ = fit
    ctx = json.load(open(os.path.join(idx["_base"], runs[0]["dir"], "context.json")))
    g, fanout = ctx["model"]["gradient_bytes"], ctx["fanout"]
    B_T = ctx["model"]["B"] * ctx["model"]["T"]
    Rs = [r["ranks"] for r in runs]
    model = {p: {R: _model_tps(p, R, fanout, g, alpha, beta, idx["costs"], B_T) for R in Rs}
             for p in ("flat", "tree", "allreduce")}
    rows = []
    for a, b in (("tree", "flat"), ("allreduce", "tree")):
        s = _first_above(tps.get((a, 0), {}), tps.get((b, 0), {}))
        m = _first_above(model[a], model[b])
        top = max(Rs)
        ta, tb = tps.get((a, 0), {}).get(top), tps.get((b, 0), {}).get(top)
        ratio = f"{100 * (ta / tb - 1):+.2f} %" if ta and tb else "n/a"
        rows.append([f"{a} overtakes {b}", s if s else f"not at R <= {top}", m if m else f"not at R <= {top}",
                     ratio])
    return ["Where one policy overtakes another (controls not computing): the smallest simulated rank count "
            "from which it keeps the higher tokens/s, beside the alpha-beta model's (alpha "
            f"{num(alpha)} s and beta {num(beta)} s/B from this platform's simulated ping-pong, the charged "
            "compute added; a tree's controls counted as ceil((R-1)/fanout)).", "",
            table(["crossover", "simulation (R)", "alpha-beta model (R)", f"margin at R = {max(Rs)} (simulated)"],
                  rows), "",
            "Tree equals flat up to fanout + 1 ranks (one control either way); a margin of a fraction of a "
            "percent is the simulated model's, deterministic, but small beside the charged compute.", ""]


def section_sim(run, plots):
    """Beyond this machine (simulated): validation, the exact check, each platform's sweep."""
    base = os.path.join(run.path, "sim")
    path = os.path.join(base, "sim.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        idx = json.load(f)
    idx["_base"] = base
    lines = ["## Beyond this machine (simulated)", "",
             f"sphere-bench-mpi run unmodified under {idx['simgrid']} (SMPI) on simulated platforms: every "
             "figure in this section is **simulated** unless its column says real. One rank is one simulated "
             "core (--threads 1); the policy's MPI_Allreduce takes SMPI's ompi selection (Open MPI's), other "
             "collectives (setup, gathering the accounting) SMPI's default. Above full computation the runs "
             "are in timing mode: the ranks share their buffers and are charged this machine's measured "
             "durations; the model's values there are meaningless and only the timing is reported. The "
             "node platform stands in for the threaded flat / sphere / sharded trainers at P cores "
             "(flat / tree / allreduce), ranks copying what threads share. "
             f"SimGrid settings: {' '.join(idx['smpi_args'])}; latency and bandwidth factors at 1 on node "
             f"and exact, SMPI's calibrated defaults on ib and 10gbe. The sweep took "
             f"{num(idx['sweep_wall_s'])} s on this machine.", ""]
    lines += _validation(base, idx)
    lines += _exact(base, idx)
    for kind in ("node", "ib", "10gbe"):
        lines += _platform(base, idx, kind)
    return lines
