#!/usr/bin/env python3
"""report.py - turns one sphere-bench run folder into REPORT.md and its plots.

Purpose: the last step of the pipeline (dataset -> core -> trainers -> bench
-> results/ -> here). It reads a run folder as bench/results.h describes it
(context.json, runs.csv, threads.csv, groups.csv, loss.csv, summary.json and,
when present, samples.txt), has gnuplot draw the figures straight from the
CSVs (report/plots/*.gp, PNG and SVG into RUN/plots/), and writes a Markdown
report whose every number is read from the run and formatted here, never
typed by hand. Two figures need medians over repetitions that gnuplot cannot
form from the CSVs; for those this script writes small derived tables
(RUN/plots/scaling.csv and RUN/plots/batch.csv) from summary.json, and the
report says so.

The report is deterministic: the same run folder always gives the same bytes
(no clock is read; the date printed is the run's own). `--no-plots` skips
gnuplot, so `make report-check` can regenerate the text alone and compare.
Links to plots are relative to the repository root, where REPORT.md lives,
whatever --out says.

Usage: report.py [RUN] [--out FILE] [--no-plots]
  RUN defaults to the folder named in results/REFERENCE, else the newest
  folder under results/ holding a summary.json (quick runs only when there
  is nothing else).
Python 3 standard library only.
"""

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLOTS_DIR = os.path.join(REPO, "report", "plots")
RESULTS = os.path.join(REPO, "results")

# The original's promise: workers with 40x the root's CPU time (docs/DESIGN.md).
PROMISED_WORKER_TO_ROOT = 40.0
# Runs made before `sphere-bench peak` existed have no measured single-core
# bandwidth; for them the cost model is shown over this ASSUMED range (GB/s),
# labelled as such wherever it appears.
ASSUMED_BW1_GBS = (5.0, 10.0, 20.0, 40.0)


def bw1_values(run):
    """Single-core bandwidth values for the cost model, and whether they were measured.

    A run made with `sphere-bench peak` records its single-thread read bandwidth
    in context.json; older runs get the assumed range."""
    peak = run.context.get("peak") or {}
    bw = peak.get("read_gbs_1t")
    if isnum(bw) and bw > 0:
        return (float(bw),), True
    return ASSUMED_BW1_GBS, False
TEXT_COLUMNS = {"kind", "variant", "route", "role"}


class ReportError(Exception):
    """A problem with the input that the user must fix; printed without a traceback."""


# ---------------------------------------------------------------- formatting

def isnum(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def num(x, sig=3):
    """A number for prose and tables: `sig` significant digits, thousands
    separators from 10^sig up, "n/a" for missing or NaN."""
    if not isnum(x):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** sig:
        return f"{x:,.0f}"
    decimals = sig - 1 - math.floor(math.log10(abs(x)))
    decimals = max(decimals, 0)
    s = f"{x:.{decimals}f}"
    return s


def times(x, sig=3):
    return "n/a" if not isnum(x) else num(x, sig) + "×"


def span(lo, hi, fmt=num):
    """A range for prose: "lo–hi", or one value when both ends print alike."""
    a, b = fmt(lo), fmt(hi)
    return a if a == b else f"{a}–{b}"


def pct(x, digits=1):
    return "n/a" if not isnum(x) else f"{100.0 * x:.{digits}f} %"


def table(header, rows, left=1):
    """A Markdown table; the first `left` columns left-aligned, the rest right-aligned."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join([":---"] * left + ["---:"] * (len(header) - left)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def median(values):
    v = sorted(x for x in values if isnum(x))
    if not v:
        return float("nan")
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def mean(values):
    v = [x for x in values if isnum(x)]
    return sum(v) / len(v) if v else float("nan")


def share(x):
    """A share as a percentage with 3 significant digits (small shares stay visible)."""
    return "n/a" if not isnum(x) else num(100.0 * x) + " %"


def ratio(a, b):
    return a / b if isnum(a) and isnum(b) and b != 0 else float("nan")


# ---------------------------------------------------------------- the run folder

def read_csv(path):
    """Rows as dicts; numeric columns as floats (NaN kept as NaN)."""
    if not os.path.exists(path):
        return None
    rows = []
    with open(path, newline="") as f:
        for raw in csv.DictReader(f):
            row = {}
            for k, v in raw.items():
                if k is None:
                    continue
                if k in TEXT_COLUMNS or k.endswith("_status") or v is None:
                    row[k] = v
                else:
                    try:
                        row[k] = float(v)
                    except ValueError:
                        row[k] = v
            rows.append(row)
    return rows


class Run:
    """One run folder, loaded. Missing optional files become empty lists."""

    def __init__(self, path):
        self.path = os.path.realpath(path)
        self.name = os.path.basename(self.path)
        if not os.path.isdir(self.path):
            raise ReportError(f"run folder '{path}' does not exist (give RUN=results/<folder>; "
                              f"`ls results/` lists the runs)")
        for need in ("context.json", "summary.json", "runs.csv"):
            if not os.path.exists(os.path.join(self.path, need)):
                raise ReportError(f"'{path}' is not a complete bench run folder: {need} is missing "
                                  f"(a run folder is written by `make bench`)")
        try:
            with open(os.path.join(self.path, "context.json")) as f:
                self.context = json.load(f)
            with open(os.path.join(self.path, "summary.json")) as f:
                self.summary = json.load(f)
        except json.JSONDecodeError as e:
            raise ReportError(f"'{path}': cannot parse JSON: {e}")
        self.runs = read_csv(os.path.join(self.path, "runs.csv")) or []
        self.missing = [n for n in ("threads.csv", "groups.csv", "loss.csv")
                        if not os.path.exists(os.path.join(self.path, n))]
        self.threads = read_csv(os.path.join(self.path, "threads.csv")) or []
        self.groups = read_csv(os.path.join(self.path, "groups.csv")) or []
        self.loss = read_csv(os.path.join(self.path, "loss.csv")) or []
        self.core = None  # core.json: single-thread kernel timings (runs before bench-core have none)
        cp = os.path.join(self.path, "core.json")
        if os.path.exists(cp):
            try:
                with open(cp) as f:
                    self.core = json.load(f)
            except json.JSONDecodeError as e:
                raise ReportError(f"'{path}': cannot parse core.json: {e}")
        sp = os.path.join(self.path, "samples.txt")
        self.samples = open(sp, encoding="utf-8", errors="replace").read() if os.path.exists(sp) else None
        self.configs = [self._clean(c) for c in self.summary.get("configurations", [])]
        ctx = self.context
        self.cores = int(ctx.get("cores") or self.summary.get("cores") or 0)
        self.machine = f"{ctx.get('cpu_model', 'unknown CPU')}, {self.cores} cores (host {ctx.get('hostname', '?')})"
        # parallel trainers in the order the bench ran them
        self.variants = []
        for r in self.runs:
            if r["variant"] != "serial" and r["variant"] not in self.variants:
                self.variants.append(r["variant"])

    @staticmethod
    def _clean(c):
        return {k: (float("nan") if v is None else v) for k, v in c.items()}

    def config(self, kind, variant, threads=None, route=None, batch_tokens=None):
        for c in self.configs:
            if (c["kind"] == kind and c["variant"] == variant and (threads is None or c["threads"] == threads)
                    and (route is None or c["route"] == route)
                    and (batch_tokens is None or c["batch_tokens"] == batch_tokens)):
                return c
        return None

    def runs_of(self, kind, variant=None):
        return [r for r in self.runs if r["kind"] == kind and (variant is None or r["variant"] == variant)]

    def full_run(self, variant):
        """The first repetition of a trainer's full run: (threads, rep) or None."""
        rs = self.runs_of("full", variant)
        if not rs:
            return None
        r = min(rs, key=lambda r: r["rep"])
        return int(r["threads"]), int(r["rep"]), r

    def busy_workers(self, kind, variant, threads, route=None):
        """(workers that computed at least one batch, workers) in the first
        repetition of a configuration, from threads.csv; (None, None) if absent."""
        w = self.workers_of(kind, variant, threads, route)
        if not w:
            return None, None
        return sum(1 for r in w if isnum(r["batches"]) and r["batches"] > 0), len(w)

    def busiest_share(self, kind, variant, threads, route=None):
        """Share of all batches computed by the busiest worker (first repetition);
        1 / share bounds the speedup when a batch's cost is the same everywhere."""
        w = self.workers_of(kind, variant, threads, route)
        b = [r["batches"] for r in w if isnum(r["batches"])]
        return ratio(max(b), sum(b)) if b else float("nan")

    def workers_of(self, kind, variant, threads, route=None):
        th = [r for r in self.threads if r["kind"] == kind and r["variant"] == variant and r["threads"] == threads
              and (route is None or r["route"] == route)]
        if not th:
            return []
        first = min(r["rep"] for r in th)
        return [r for r in th if r["rep"] == first and r["role"] == "worker"]

    def link(self, name):
        """A plot's path relative to the repository root (where REPORT.md lives)."""
        return os.path.relpath(os.path.join(self.path, "plots", name), REPO).replace(os.sep, "/")


def default_run():
    """results/REFERENCE if present, else the newest complete run (non-quick first)."""
    ref = os.path.join(RESULTS, "REFERENCE")
    if os.path.exists(ref):
        with open(ref) as f:
            name = f.read().strip()
        if not name:
            raise ReportError("results/REFERENCE is empty; it should name one folder under results/")
        return os.path.join(RESULTS, name)
    if not os.path.isdir(RESULTS):
        raise ReportError("no results/ folder: run `make bench` first, or give RUN=path")
    runs = sorted(d for d in os.listdir(RESULTS)
                  if os.path.exists(os.path.join(RESULTS, d, "summary.json")))
    if not runs:
        raise ReportError("no run folder with a summary.json under results/: run `make bench` first")
    full = [d for d in runs if not d.endswith("-quick")]
    return os.path.join(RESULTS, (full or runs)[-1])


# ---------------------------------------------------------------- plotting

class Plots:
    """Collects gnuplot jobs; runs them (PNG and SVG) unless disabled."""

    def __init__(self, run, enabled):
        self.run = run
        self.enabled = enabled
        self.jobs = []      # (script, name, vars)
        self.derived = {}   # file name -> (header, rows)

    def add(self, script, name, **variables):
        self.jobs.append((script, name, variables))
        return self.figure(name)

    def figure(self, name):
        link = self.run.link(name + ".png")
        svg = self.run.link(name + ".svg")
        return f"![{name}]({link})\n\n[SVG]({svg})"

    def derive(self, fname, header, rows):
        self.derived[fname] = (header, rows)
        return "plots/" + fname

    @staticmethod
    def gp_value(v):
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        if isinstance(v, bool):
            return "1" if v else "0"
        if isinstance(v, int):
            return str(v)
        if not isnum(v):
            return "NaN"
        return repr(float(v))

    def render(self):
        if not self.enabled or not self.jobs:
            return
        if shutil.which("gnuplot") is None:
            raise ReportError("gnuplot is not installed (apt-get install -y gnuplot-nox), "
                              "or pass --no-plots for the text alone")
        out_dir = os.path.join(self.run.path, "plots")
        os.makedirs(out_dir, exist_ok=True)
        for fname, (header, rows) in self.derived.items():
            with open(os.path.join(out_dir, fname), "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                for r in rows:
                    w.writerow(["NaN" if isinstance(c, float) and not math.isfinite(c) else
                                (repr(c) if isinstance(c, float) else c) for c in r])
        for script, name, variables in self.jobs:
            for fmt in ("png", "svg"):
                v = dict(variables)
                v.update(fmt=fmt, out=f"plots/{name}.{fmt}", dir=PLOTS_DIR, machine=self.run.machine)
                assigns = "; ".join(f"{k}={self.gp_value(x)}" for k, x in v.items())
                p = subprocess.run(["gnuplot", "-e", assigns, os.path.join(PLOTS_DIR, script)],
                                   cwd=self.run.path, capture_output=True, text=True)
                if p.returncode != 0:
                    raise ReportError(f"gnuplot failed on {script} ({fmt}):\n{p.stderr.strip()}")
                if p.stderr.strip():
                    sys.stderr.write(f"report: gnuplot {script} ({fmt}): {p.stderr.strip()}\n")


# ---------------------------------------------------------------- model arithmetic

def model_flops_per_token(m):
    """Training FLOPs per token, as the run recorded it: context.json's model
    block carries flops_per_token, written by the program from core/model.c's
    model_flops_per_batch (3 x forward, forward = 2 x (matmul weights) +
    attention scores and mixing over the causal window (mean (T+1)/2))."""
    if "flops_per_token" in m:
        return m["flops_per_token"]
    # Only for a run folder written before the field existed (the committed
    # reference run): the same formula, restated here. Keep it equal to
    # model_flops_per_batch in core/model.c; new runs never reach this line.
    if not all(k in m for k in "VTDL"):
        return float("nan")
    V, T, D, L = m["V"], m["T"], m["D"], m["L"]
    forward = 2 * (12 * D * D * L + V * D) + 2 * 2 * ((T + 1) / 2) * D * L
    return 3 * forward


def not_measured(what):
    return f"*Not measured in this run: {what}.*"


# ---------------------------------------------------------------- sections

def section_cpu_threads(run, plots):
    """1. Per-thread CPU by phase, flat and sphere full runs; control vs worker."""
    out = ["## 1. Where the CPU time goes, thread by thread", ""]
    full = {v: run.full_run(v) for v in ("flat", "sphere")}
    if not all(full.values()) or not run.threads:
        return out + [not_measured("full runs of both flat and sphere with per-thread records"), ""]
    nthreads, rep = full["flat"][0], full["flat"][1]
    if full["sphere"][0] != nthreads:
        out += [f"(flat ran at {full['flat'][0]} threads, sphere at {full['sphere'][0]}; "
                f"the figure shows {nthreads}.)", ""]
    out.append(plots.add("cpu_threads.gp", "cpu_threads", file="threads.csv", kind="full",
                         nthreads=nthreads, rep=rep))
    out += ["", f"*Per-thread CPU seconds (`CLOCK_THREAD_CPUTIME_ID`) split by phase, full run over "
            f"every batch, {nthreads} threads, on {run.machine}; triangles mark control threads. Both panels "
            f"share one scale.*", ""]
    out.append(plots.add("cpu_controls.gp", "cpu_controls", file="threads.csv", kind="full",
                         nthreads=nthreads, rep=rep))
    out += ["", f"*The control threads alone, on their own scale: same run, on {run.machine}; the flat "
            f"control, then the sphere's root and level-1 controls.*", ""]

    rows = []
    stats = {}
    for v in ("flat", "sphere"):
        t, rp, _ = full[v]
        th = [r for r in run.threads if r["kind"] == "full" and r["variant"] == v
              and r["threads"] == t and r["rep"] == rp]
        total = sum(r["cpu_s"] for r in th if isnum(r["cpu_s"]))
        groups = []
        if v == "flat":
            groups.append(("control", [r for r in th if r["role"] == "control"]))
        else:
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
            "control": th[0] if th else None,
            "worker_mean": mean(r["cpu_s"] for r in workers),
            "worker_max": max((r["cpu_s"] for r in workers), default=float("nan")),
            "idle_workers": sum(1 for r in workers if r["batches"] == 0),
            "workers": len(workers),
            "controls": sum(r["cpu_s"] for r in th if r["role"] == "control"),
            "n_controls": sum(1 for r in th if r["role"] == "control"),
            "busiest_l1": max((r for r in th if r["role"] == "control" and r["level"] == 1),
                              key=lambda r: r["cpu_s"], default=None),
            "total": total,
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
            + (" (met)." if isnum(s_ratio) and s_ratio >= PROMISED_WORKER_TO_ROOT else " (not met).")
            + f" The flat pool, with no hierarchy at all, already has its workers at {times(f_ratio)} its "
            f"control. The sphere's {s['n_controls']} control threads together used {num(s['controls'])} s, "
            f"against the flat control's {num(fc['cpu_s'])} s"
            + (f"; the busiest level-1 control (thread {int(s['busiest_l1']['thread'])}) alone used "
               f"{num(s['busiest_l1']['cpu_s'])} s, {num(s['busiest_l1']['reduce_cpu_s'])} s of it reducing "
               f"its workers' gradients: the tree moved the reduce from the root to the control of the sphere "
               f"that received the batches." if s["busiest_l1"] is not None else ".")
            + f" In total the sphere's controls used {times(ratio(s['controls'], fc['cpu_s']))} the flat "
            f"control's CPU time.", ""]
    lines = []
    for v in ("flat", "sphere"):
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


def amdahl_fit(points):
    """Least squares of 1/S = f + (1-f)/p over (p, S): linear in f,
    1/S - 1/p = f (1 - 1/p). Returns (f, number of points used)."""
    sxy = sxx = 0.0
    for p, s in points:
        x, y = 1.0 - 1.0 / p, 1.0 / s - 1.0 / p
        sxy += x * y
        sxx += x * x
    return (sxy / sxx if sxx > 0 else float("nan")), len(points)


def karp_flatt(s, p):
    return (1.0 / s - 1.0 / p) / (1.0 - 1.0 / p) if isnum(s) and s > 0 and p > 1 else float("nan")


def section_scaling(run, plots):
    """2. Speedup and efficiency against threads; Amdahl fit; Karp-Flatt."""
    out = ["## 2. Speedup and efficiency against threads", ""]
    serial = run.config("sweep", "serial", threads=1)
    sweep = [c for c in run.configs if c["kind"] == "sweep" and c["variant"] != "serial"]
    if not serial or not sweep:
        return out + [not_measured("a thread sweep with its serial baseline"), ""]
    cores = run.cores
    serial_tps = serial["tokens_per_s_median"]
    variants = [v for v in run.variants if any(c["variant"] == v for c in sweep)]
    derived, rows, fits = [], [], {}
    for v in variants:
        cs = sorted((c for c in sweep if c["variant"] == v), key=lambda c: c["threads"])
        pts = [(1, 1.0)] + [(c["threads"], c["speedup_vs_serial"]) for c in cs
                            if c["threads"] <= cores and isnum(c["speedup_vs_serial"])]
        fits[v] = amdahl_fit(pts)
        for c in cs:
            p = int(c["threads"])
            kf = karp_flatt(c["speedup_vs_serial"], min(p, cores))
            derived.append([v, p, c["tokens_per_s_median"], c["speedup_vs_serial"], c["parallel_efficiency"],
                            kf, 1 if c["oversubscribed"] else 0])
            busy, nw = run.busy_workers("sweep", v, p)
            rows.append([v, p, f"{busy} of {nw}" if nw is not None else "n/a",
                         pct(run.busiest_share("sweep", v, p), 0), num(c["tokens_per_s_median"]),
                         pct(c["spread"]), times(c["speedup_vs_serial"]), pct(c["parallel_efficiency"], 0),
                         num(kf, 2), num(c.get("gflops")), pct(c.get("fraction_of_peak"), 1),
                         "yes" if c["oversubscribed"] else ""])
    table_path = plots.derive("scaling.csv", ["variant", "threads", "tokens_per_s", "speedup", "efficiency",
                                              "karp_flatt", "oversubscribed"], derived)
    fit_str = " ".join("NaN" if not isnum(fits[v][0]) else repr(fits[v][0]) for v in variants)
    rep_speedups = [r["tokens_per_s"] / serial_tps for r in run.runs_of("sweep") if isnum(r["tokens_per_s"])]
    ymax = max([float(cores)] + rep_speedups) * 1.5
    out.append(plots.add("scaling.gp", "scaling", runs="runs.csv", table=table_path, serial_tps=serial_tps,
                         cores=cores, variants=" ".join(variants), fits=fit_str, ymax=ymax,
                         maxthreads=int(max(c["threads"] for c in sweep))))
    out += ["", f"*Thread sweep ({int(serial['reps'])} repetitions per point, same batches for every "
            f"trainer) on {run.machine}. Small dots: repetitions; large: medians; open: oversubscribed "
            f"(threads > {cores} cores). Medians come from `plots/scaling.csv`, a table the generator "
            f"derives from summary.json.*", ""]
    out += [f"Serial baseline: {num(serial_tps)} tokens/s (median of {int(serial['reps'])}, spread "
            f"{pct(serial['spread'])}). Efficiency is speedup / min(threads, cores); the Karp-Flatt "
            f"metric e = (1/S - 1/p)/(1 - 1/p) is computed with p = min(threads, cores), the processors "
            f"the threads actually had.", ""]
    peak1 = (run.context.get("peak") or {}).get("fma_gflops_1t")
    if isnum(peak1):
        out += [f"Against the machine's ceiling: the serial run does {num(serial.get('gflops'))} GFLOP/s of "
                f"model arithmetic, {pct(serial.get('fraction_of_peak'))} of one core's fp32 FMA peak "
                f"({num(peak1)} GFLOP/s, measured by `sphere-bench peak` in this run); 'of peak' below divides "
                f"by min(threads, cores) × that peak. `sphere-bench bench-core` breaks the single-thread "
                f"figure down kernel by kernel.", ""]
    out += [table(["trainer", "threads", "workers that computed", "busiest worker's batches", "tokens/s", "spread",
                   "speedup", "efficiency", "Karp-Flatt e", "GFLOP/s", "of peak", "oversubscribed"], rows), ""]
    out += ["'Workers that computed' and 'busiest worker's batches' come from threads.csv (first repetition): "
            "the workers given at least one batch, and the share of all batches the busiest one computed. "
            "If every batch costs the same, 1 / that share bounds the speedup whatever the core count.", ""]
    starved = []
    for v in variants:
        for c in sorted((c for c in sweep if c["variant"] == v), key=lambda c: c["threads"]):
            sh = run.busiest_share("sweep", v, int(c["threads"]))
            busy, nw = run.busy_workers("sweep", v, int(c["threads"]))
            if isnum(sh) and nw and nw >= cores and 1 / sh < cores:
                starved.append((v, int(c["threads"]), sh, c["speedup_vs_serial"]))
    if starved:
        lst = "; ".join(f"{v} at {t} threads: busiest worker {pct(sh, 0)} of the batches, bound "
                        f"≈ {times(1 / sh)}, measured {times(sp)}" for v, t, sh, sp in starved)
        out += [f"Where one worker computed most of the batches although there were at least {cores} workers, "
                f"the speedup is held near 1 by the routing, not by the cost of control: {lst}. Under the "
                f"symmetry policy nearly every batch goes to one level-1 sphere (section 4), and with few "
                f"threads that sphere has one or two workers.", ""]
    prose = []
    for v in variants:
        f, n = fits[v]
        cs = [c for c in sweep if c["variant"] == v and isnum(c["speedup_vs_serial"])]
        best = max(cs, key=lambda c: c["speedup_vs_serial"]) if cs else None
        at_cores = run.config("sweep", v, threads=cores)
        s = (f"- **{v}**: Amdahl serial fraction f = {num(f, 2)} from {n} points (p ≤ {cores})"
             + (f", bound 1/f = {times(1 / f)}" if isnum(f) and f > 0 else "") + ". ")
        if best:
            s += (f"Best median speedup {times(best['speedup_vs_serial'])} at {int(best['threads'])} threads"
                  + (" (oversubscribed)" if best["oversubscribed"] else "") + ". ")
        if at_cores:
            s += f"At {cores} threads (one per core): {times(at_cores['speedup_vs_serial'])}."
        prose.append(s)
    out += prose + [""]
    if variants and all(fits[v][1] <= 2 for v in variants):
        out += [f"With {cores} cores the Amdahl fit rests on 2 points (serial and {cores} threads), so f "
                f"is exactly the Karp-Flatt metric at p = {cores} and tests nothing about Amdahl's law; "
                f"a machine with more cores is needed for a real fit.", ""]
    if "flat" in variants:
        f2 = run.config("sweep", "flat", threads=2)
        if f2:
            out += [f"Flat at N threads has N-1 workers: at 2 threads one core computes while the control "
                    f"waits, which is why its speedup there is {times(f2['speedup_vs_serial'])} and its "
                    f"Karp-Flatt value {num(karp_flatt(f2['speedup_vs_serial'], min(2, cores)), 2)} counts "
                    f"the idle control as \"serial fraction\".", ""]
    over = [c for c in sweep if c["oversubscribed"] and isnum(c["speedup_vs_serial"])]
    if over:
        hi = max(over, key=lambda c: c["speedup_vs_serial"])
        out += [f"Oversubscribed points (more threads than the {cores} cores) can still gain: the best, "
                f"{hi['variant']} at {int(hi['threads'])} threads, reached {times(hi['speedup_vs_serial'])}, "
                f"because with more workers than cores every core always has a worker to run while the "
                f"control thread sleeps; it is not evidence of scaling beyond {cores} processors.", ""]
    return out


def sweep_noise(run):
    """The thread sweep's median run-to-run spread of tokens/s: what counts as no difference."""
    return median(c["spread"] for c in run.configs if c["kind"] == "sweep" and c["reps"] > 1)


def find_crossovers(points):
    """Every tokens-per-batch where the sphere/flat ratio crosses 1, from
    (tokens, ratio) sorted by tokens, interpolated linearly in log(tokens)."""
    found = []
    for (x0, r0), (x1, r1) in zip(points, points[1:]):
        if isnum(r0) and isnum(r1) and (r0 - 1) * (r1 - 1) < 0:
            t = (1 - r0) / (r1 - r0)
            found.append(math.exp(math.log(x0) + t * (math.log(x1) - math.log(x0))))
    return found


def section_batch(run, plots):
    """3. sphere/flat against tokens per batch; measured crossover and the cost model."""
    out = ["## 3. Where the tree wins: tokens per batch", ""]
    flat = sorted((c for c in run.configs if c["kind"] == "batch" and c["variant"] == "flat"),
                  key=lambda c: c["batch_tokens"])
    sph = {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == "sphere"}
    ser = {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == "serial"}
    pairs = [(c["batch_tokens"], c, sph[c["batch_tokens"]]) for c in flat if c["batch_tokens"] in sph]
    m = run.context.get("model", {})

    # the cost model, computed even without a sweep: it is a property of the model and machine
    fpt = model_flops_per_token(m)
    base = run.config("sweep", "serial", threads=1)
    base_src = "the thread sweep's serial median"
    if base is None or base.get("batch_tokens") != m.get("B", 0) * m.get("T", 0):
        base = ser.get(m.get("B", 0) * m.get("T", 0)) or base
        base_src = "the batch sweep's serial run at the model's own batch size"
    F = fpt * base["tokens_per_s_median"] if base else float("nan")
    nthreads = int(pairs[0][1]["threads"]) if pairs else int(run.full_run("flat")[0]) if run.full_run("flat") else 64
    W = nthreads - 1
    bws, bw_measured = bw1_values(run)
    bw_label = "measured" if bw_measured else "ASSUMED"
    est = {bw: W * F / (1.5 * bw * 1e9) for bw in bws}
    est_cores = {bw: run.cores * F / (1.5 * bw * 1e9) for bw in bws}

    crossover = float("nan")
    if not pairs:
        out += [not_measured("the tokens-per-batch sweep (kind `batch`)"), ""]
    else:
        derived = [[bt, ser[bt]["tokens_per_s_median"] if bt in ser else float("nan"), f["tokens_per_s_median"],
                    s["tokens_per_s_median"], ratio(s["tokens_per_s_median"], f["tokens_per_s_median"])]
                   for bt, f, s in pairs]
        crossings = find_crossovers([(d[0], d[4]) for d in derived])
        crossover = crossings[0] if len(crossings) == 1 else float("nan")
        table_path = plots.derive("batch.csv", ["batch_tokens", "serial_tokens_per_s", "flat_tokens_per_s",
                                                "sphere_tokens_per_s", "sphere_over_flat"], derived)
        xs = [d[0] for d in derived] + ([min(est.values()), max(est.values())] if isnum(F) else [])
        out.append(plots.add("batch.gp", "batch", runs="runs.csv", table=table_path, nthreads=nthreads,
                             xlo=min(xs) / 1.4, xhi=max(xs) * 1.4,
                             mlo=derived[0][0] / 1.4, mhi=derived[-1][0] * 1.4,
                             ylo=min([0.8] + [d[4] - 0.05 for d in derived if isnum(d[4])]),
                             yhi=max([1.2] + [d[4] + 0.05 for d in derived if isnum(d[4])]) + 0.15,
                             noise=sweep_noise(run),
                             est_lo=min(est.values()), est_hi=max(est.values()),
                             bw_lo=min(bws), bw_hi=max(bws), bw_label=bw_label, crossover=crossover))
        reps = int(pairs[0][1]["reps"])
        out += ["", f"*The same tokens cut into more, smaller batches; flat and sphere at {nthreads} threads, "
                f"serial at 1, {reps} repetition(s) per size, on {run.machine}. The ratio comes from "
                f"`plots/batch.csv`, derived from summary.json. "
                + (f"The dash-dot line is the cost model's crossover for the single-core read bandwidth "
                   f"`sphere-bench peak` measured in this run, {num(bws[0])} GB/s.*"
                   if bw_measured else
                   f"The shaded band is the cost model's crossover for an ASSUMED single-core bandwidth of "
                   f"{num(min(bws))}–{num(max(bws))} GB/s: this run has no bandwidth measurement.*"), ""]
        rows = []
        for bt, f, s in pairs:
            se = ser.get(bt)
            rows.append([int(bt), num(se["tokens_per_s_median"]) if se else "n/a", num(f["tokens_per_s_median"]),
                         num(s["tokens_per_s_median"]), times(ratio(s["tokens_per_s_median"],
                                                                    f["tokens_per_s_median"])),
                         times(f["speedup_vs_serial"]), times(s["speedup_vs_serial"])])
        out += [table(["tokens per batch", "serial tokens/s", "flat tokens/s", "sphere tokens/s",
                       "sphere / flat", "flat speedup", "sphere speedup"], rows), ""]
        rs = [d[4] for d in derived if isnum(d[4])]
        noise = sweep_noise(run)
        within = isnum(noise) and rs and all(abs(r - 1) <= noise for r in rs)
        if isnum(crossover):
            lo_side = "faster" if derived[0][4] > 1 else "slower"
            out.append(f"**Measured crossover**: the ratio crosses 1 near {num(crossover)} tokens per batch "
                       f"(interpolated on a log scale); below it the sphere is {lo_side} than flat, above it "
                       f"the reverse.")
            if within:
                out.append(f"But every ratio here ({times(min(rs))}–{times(max(rs))}) lies within the "
                           f"thread sweep's median run-to-run spread ({pct(noise)}) of parity, and each size "
                           f"ran once: this crossing is not distinguishable from noise.")
        elif len(crossings) > 1:
            out.append(f"**No single crossover**: the ratio crosses 1 {len(crossings)} times (near "
                       + ", ".join(num(x) for x in crossings) + " tokens per batch), so it does not change sign once "
                       f"as batches shrink; its values range {times(min(rs))}–{times(max(rs))}.")
        elif rs and all(r < 1 for r in rs):
            out.append(f"**No crossover measured**: the sphere was slower than flat at every batch size, "
                       f"its ratio ranging {times(min(rs))}–{times(max(rs))}.")
        elif rs and all(r > 1 for r in rs):
            out.append(f"**No crossover measured**: the sphere was faster than flat at every batch size, "
                       f"its ratio ranging {times(min(rs))}–{times(max(rs))}.")
        if isnum(noise) and not (isnum(crossover) and within):
            reps = sorted({int(f["reps"]) for _, f, _ in pairs})
            out.append(f"For scale: the thread sweep's median run-to-run spread is {pct(noise)}; ratios "
                       f"within that distance of 1 are not a difference"
                       + (f", and each size here ran once, so a single ratio a little beyond it is weak "
                          f"evidence." if reps == [1] else "."))
        out.append("")

    out += ["**The cost model** (docs/DESIGN.md). Per step the flat control reads W gradients of P floats, "
            "about 4·P·W / BW₁ seconds at single-core bandwidth BW₁; each worker's batch costs about "
            "6·P·tokens / F seconds at per-core speed F. The control becomes the bottleneck when tokens "
            "per batch < W·F / (1.5·BW₁).", ""]
    if isnum(F):
        out += [f"- Model FLOPs per token (3 × forward, forward = 2·(12·D²·L + V·D) + 4·((T+1)/2)·D·L with "
                f"V={m['V']}, T={m['T']}, D={m['D']}, L={m['L']}): {num(fpt)}; parameters P = {num(m.get('params'))}, "
                f"so 6·P = {num(6 * m.get('params', float('nan')))}.",
                f"- F, estimated as FLOPs per token × {base_src} ({num(base['tokens_per_s_median'])} tokens/s): "
                f"{num(F / 1e9)} GFLOP/s per core.",
                (f"- W = {W} workers ({nthreads} threads). BW₁ = {num(bws[0])} GB/s, the single-thread read "
                 f"bandwidth `sphere-bench peak` measured at the start of this run:" if bw_measured else
                 f"- W = {W} workers ({nthreads} threads). This run has no bandwidth measurement (it predates "
                 f"`sphere-bench peak`), so the estimate is given for assumed values:"), ""]
        out += [table([f"BW₁ (GB/s, {bw_label})", f"crossover, W = {W} (tokens/batch)",
                       f"crossover, W = {run.cores} cores (tokens/batch)"],
                      [[num(bw), num(est[bw]), num(est_cores[bw])] for bw in bws]), ""]
        smallest = min(bt for bt, _, _ in pairs) if pairs else None
        top = est_cores[min(bws)]
        s = (f"The model assumes every worker has its own core. On this machine only {run.cores} threads "
             f"run at once, so the workers' combined rate is {run.cores}·F, not {W}·F, and the second column "
             f"is the estimate that applies here: at most {num(top)} tokens per batch"
             f"{'' if bw_measured else ' over the assumed range'}.")
        if smallest is not None and top < smallest:
            s += (f" That is below the smallest batch measured ({int(smallest)} tokens): the model predicts that "
                  f"the flat control's reduce never becomes the bottleneck on this machine, so a difference "
                  f"between the trainers here comes from something else (routing, scheduling, waking threads).")
        elif smallest is not None:
            s += f" The measured sweep reaches down to {int(smallest)} tokens per batch, inside that range."
        lo, hi = min(est.values()), max(est.values())
        s += (f" On a machine with a core for each of the {W} workers, the first column applies: a crossover "
              + (f"near {num(lo)} tokens per batch" if num(lo) == num(hi) else
                 f"between {num(lo)} and {num(hi)} tokens per batch")
              + (f", inside the swept range ({int(smallest)}–{int(max(bt for bt, _, _ in pairs))}), so a run "
                 f"there would test the model." if smallest is not None and lo <= max(bt for bt, _, _ in pairs)
                 and hi >= smallest else "."))
        out += [s, ""]
    else:
        out += ["*The estimate needs the model (context.json) and a serial run; not available here.*", ""]
    return out


def section_routing(run, plots):
    """4. Batches per level-1 sphere under each routing policy."""
    out = ["## 4. Routing balance", ""]
    rr = run.runs_of("route", "sphere")
    if not rr or not run.groups:
        return out + [not_measured("the routing runs (kind `route`)"), ""]
    policies = []
    for r in rr:
        if r["route"] not in policies:
            policies.append(r["route"])
    nthreads = int(rr[0]["threads"])
    rep = int(min(r["rep"] for r in rr))
    out.append(plots.add("routing.gp", "routing", file="groups.csv", policies=" ".join(policies),
                         nthreads=nthreads, rep=rep))
    out += ["", f"*Batches computed by each level-1 sphere (the 12 children of the root, one per symmetry "
            f"group), sphere at {nthreads} threads under each routing policy, on {run.machine}.*", ""]
    rows = []
    notes = []
    for p in policies:
        g = [x for x in run.groups if x["kind"] == "route" and x["route"] == p and x["threads"] == nthreads
             and x["rep"] == rep]
        b = [x["batches"] for x in g]
        tot = sum(b)
        c = run.config("route", "sphere", route=p)
        used = sum(1 for x in b if x > 0)
        top = max(g, key=lambda x: x["batches"]) if g else None
        rows.append([p, num(c["tokens_per_s_median"]) if c else "n/a",
                     times(c["ratio_vs_flat"]) if c else "n/a",
                     f"{used} of {len(b)}", span(int(min(b)), int(max(b)), str) if b else "n/a",
                     times(ratio(max(b), tot / len(b))) if b and tot else "n/a",
                     times(c["imbalance"]) if c else "n/a", pct(c["utilisation"], 0) if c else "n/a"])
        if top and tot:
            busy, nw = run.busy_workers("route", "sphere", nthreads, route=p)
            notes.append(f"- {p}: busiest sphere {int(top['group'])} with {int(top['batches'])} of {int(tot)} "
                         f"batches ({pct(top['batches'] / tot, 0)})"
                         + (f"; {busy} of {nw} workers computed at least one batch." if nw else "."))
    out += [table(["policy", "tokens/s", "vs flat", "spheres used", "batches per sphere", "busiest / mean sphere",
                   "worker imbalance (max/mean CPU)", "utilisation"], rows), ""]
    out += ["'vs flat' divides by flat's median in the thread sweep at the same thread count and batch count.",
            ""] + notes + [""]
    sym = run.config("route", "sphere", route="symmetry")
    others = [run.config("route", "sphere", route=p) for p in policies if p != "symmetry"]
    others = [c for c in others if c]
    if sym and others:
        best = max(others, key=lambda c: c["tokens_per_s_median"])
        g = [x["batches"] for x in run.groups if x["kind"] == "route" and x["route"] == "symmetry"
             and x["threads"] == nthreads and x["rep"] == rep]
        used = sum(1 for x in g if x > 0)
        busy, nw = run.busy_workers("route", "sphere", nthreads, route="symmetry")
        txt = (f"The original's symmetry policy sends each batch to the sphere of its dominant `id % 12` group; "
               f"the most frequent words dominate almost every batch, so only {used} of {len(g)} spheres "
               f"received batches. "
               + "".join(f"`{p}` used {sum(1 for x in route_groups(run, p) if x > 0)} of "
                         f"{len(route_groups(run, p))}. " for p in policies if p != "symmetry")
               + f"`{best['route']}` ran at "
               f"{times(ratio(best['tokens_per_s_median'], sym['tokens_per_s_median']))} the symmetry "
               f"policy's throughput")
        if busy is not None and busy >= run.cores:
            txt += (f": on this machine the balance cannot show in throughput, because even under symmetry "
                    f"{busy} workers had batches, enough to keep all {run.cores} cores busy. The worker "
                    f"imbalance column is what a machine with a core per thread would pay: under symmetry "
                    f"the busiest worker did {times(sym['imbalance'])} the mean worker's CPU work.")
        else:
            txt += "."
        out += [txt, ""]
    return out


def section_convergence(run, plots):
    """5. Loss against tokens for each full run, with the entropy floor; samples."""
    out = ["## 5. Convergence", ""]
    floor = run.context.get("dataset", {}).get("entropy_nats_per_token")
    variants = [v for v in run.variants if run.full_run(v)]
    curves = {}
    for v in variants:
        t, rp, _ = run.full_run(v)
        curves[v] = [r for r in run.loss if r["kind"] == "full" and r["variant"] == v
                     and r["threads"] == t and r["rep"] == rp]
    if not variants or not any(curves.values()):
        out += [not_measured("loss curves of full runs"), ""]
    else:
        nthreads = run.full_run(variants[0])[0]
        out.append(plots.add("loss.gp", "loss", file="loss.csv", variants=" ".join(variants),
                             nthreads=nthreads, rep=run.full_run(variants[0])[1],
                             floor=floor if isnum(floor) else float("nan")))
        out += ["", f"*Training loss per optimizer step against tokens seen, full runs at {nthreads} threads, "
                f"on {run.machine}; the dashed line is the corpus's entropy rate, the lowest loss any model "
                f"can reach.*", ""]
        rows = []
        for v in variants:
            c = curves[v]
            if not c:
                rows.append([v, "n/a", "n/a", "n/a", "n/a", "n/a"])
                continue
            rows.append([v, len(c), num(c[-1]["tokens"]), num(c[0]["loss"], 4), num(c[-1]["loss"], 4),
                         num(c[-1]["loss"] - floor, 3) if isnum(floor) else "n/a"])
        out += [table(["trainer", "steps", "tokens", "first loss", "final loss", "final - entropy floor (nats)"],
                      rows), ""]
        V = run.context.get("model", {}).get("V")
        if V:
            out.append(f"A model that knows nothing scores ln V = {num(math.log(V), 4)} nats (V = {V}); the "
                       f"corpus's entropy rate is {num(floor, 4)} nats per token.")
        if "flat" in curves and "sphere" in curves and curves["flat"] and curves["sphere"]:
            fl = {r["step"]: r["loss"] for r in curves["flat"]}
            diffs = [abs(r["loss"] - fl[r["step"]]) for r in curves["sphere"] if r["step"] in fl]
            if diffs:
                d = max(diffs)
                if d == 0:
                    out.append(f"Flat and sphere train the same model: their losses are identical (as written, "
                               f"6 decimals) at all {len(diffs)} common steps.")
                else:
                    out.append(f"Flat and sphere train the same model up to the order of float sums: over "
                               f"{len(diffs)} common steps their losses differ by at most {num(d, 2)} nats.")
        out.append("")
    out += ["**Text from the trained models** (`samples.txt`):", ""]
    if run.samples is None:
        out += ["*samples.txt is absent from this run folder (benches older than the one that samples its "
                "trained models did not write it): no generated text to show.*", ""]
    else:
        text = run.samples.rstrip("\n").replace("```", "'''")
        out += ["```text", text, "```", ""]
        blocks, cur = [], None
        for line in text.split("\n"):
            if line.startswith("#"):
                cur = [line.split(",")[0].lstrip("# ").strip(), []]
                blocks.append(cur)
            elif cur is not None:
                cur[1].append(line)
        if len(blocks) > 1:
            same = all(b[1] == blocks[0][1] for b in blocks[1:])
            names = [b[0] for b in blocks]
            out += [f"The models of {', '.join(names[:-1])} and {names[-1]} "
                    + ("generate the same text from the same prompts and seeds." if same
                       else "generate different text from the same prompts and seeds."), ""]
    return out


def section_sixty(run, plots):
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


COUNTER_EVENTS = ("cycles", "instructions", "cache-misses", "branch-misses", "task-clock",
                  "context-switches", "cpu-migrations", "page-faults")


def section_counters(run, plots):
    """7. Hardware/software counters per trainer and role, or why they are missing."""
    out = ["## 7. Counters", ""]
    ctrs = run.context.get("counters") or []
    if not ctrs:
        return out + ["*No counters were recorded in this run (bench run with --no-counters, or a bench "
                      "without counter support).*", ""]
    usable = [c["event"] for c in ctrs if c.get("usable")]
    unusable = [c for c in ctrs if not c.get("usable")]
    out += [f"Counters come from libpfm4 on each training thread, on {run.machine}. "
            + (f"Counted here: {', '.join(usable)}." if usable else "None could be counted here.")]
    if unusable:
        out += ["Not available on this machine (never estimated; written as NaN with status `unsupported`):", ""]
        out += [f"- `{c['event']}`: {c.get('why') or 'no reason recorded'}" for c in unusable]
    out.append("")
    full = [(v, run.full_run(v)) for v in run.variants if run.full_run(v)]
    if not full or not run.threads:
        return out + [not_measured("per-thread counter values of full runs"), ""]

    def total(rows, ev):
        vals = [r.get(ev) for r in rows if r.get(ev + "_status") in ("ok", "multiplexed")]
        return sum(vals) if vals and all(isnum(x) for x in vals) else float("nan")

    rows, multiplexed = [], 0
    for v, (t, rp, _) in full:
        th = [r for r in run.threads if r["kind"] == "full" and r["variant"] == v and r["threads"] == t
              and r["rep"] == rp]
        multiplexed += sum(1 for r in th for e in COUNTER_EVENTS if r.get(e + "_status") == "multiplexed")
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
    out += [f"Full runs, summed over the threads of each role (n/a: not counted here):", ""]
    out += [table(["trainer", "role", "threads", "IPC", "cache misses / 1k instr", "context switches / thread",
                   "CPU migrations / thread", "page faults", "task-clock (s)", "thread CPU clock (s)"], rows, left=2), ""]
    out += ["task-clock (kernel) and the thread CPU clock (`CLOCK_THREAD_CPUTIME_ID`) measure the same thing "
            "two ways; their agreement is a check on the per-thread clocks."]
    if multiplexed:
        out.append(f"{multiplexed} thread-event values were multiplexed (the counter shared its hardware slot) "
                   f"and are scaled by enabled/running time.")
    out.append("")
    return out


def section_core(run, plots):
    """8. The training core on one thread against the machine's measured ceilings (core.json)."""
    out = ["## 8. The core against the machine's ceiling", ""]
    presets = (run.core or {}).get("presets") or []
    peak = (run.core or {}).get("peak") or {}
    if not presets or not isnum(peak.get("fma_gflops_1t")):
        return out + [not_measured("single-thread kernel timings (core.json, written by `make bench` since "
                                   "`sphere-bench bench-core` exists)"), ""]
    p = presets[0]
    ks = [k for k in p.get("kernels", []) if isnum(k.get("seconds"))]
    derived = [[k["name"], 1 if k["bound"] == "memory" else 0, 100.0 * k["fraction"] if isnum(k.get("fraction"))
                else float("nan")] for k in ks]
    table_path = plots.derive("core.csv", ["kernel", "memory_bound", "percent_of_ceiling"], derived)
    out.append(plots.add("core.gp", "core", table=table_path, n=len(derived), preset=p["preset"],
                         peak=peak["fma_gflops_1t"], bw=peak.get("read_gbs_1t")))
    out += ["", f"*Each kernel of one training step of the `{p['preset']}` preset on one thread, at the step's "
            f"shapes (median of {p['reps']}), as a share of its ceiling: compute-bound kernels of the fp32 FMA "
            f"peak ({num(peak['fma_gflops_1t'])} GFLOP/s, {peak.get('vector_bits')}-bit vectors), memory-bound "
            f"ones of the read bandwidth ({num(peak.get('read_gbs_1t'))} GB/s), both measured by `sphere-bench "
            f"peak` in this run, on {run.machine}. A bar above 100 % is a kernel whose arrays stay in the "
            f"cache, where DRAM bandwidth is not its ceiling. Timed by `sphere-bench bench-core`; the numbers "
            f"are in `core.json`.*", ""]
    rows = []
    for k in ks:
        rows.append([f"`{k['name']}`", num(1e3 * k["seconds"]), pct(k.get("spread")), num(k.get("gflops")),
                     num(k.get("gbs")), pct(k.get("fraction")), "memory" if k["bound"] == "memory" else "compute"])
    out += [table(["kernel", "ms per call", "spread", "GFLOP/s", "GB/s", "of ceiling", "bound"], rows), ""]
    red = ("fits in the cache, so it gives no bandwidth figure" if p.get("reduce_in_cache")
           else f"reads at {pct(p.get('reduce_fraction_of_bandwidth'))} of the single-thread read bandwidth")
    out += [f"A whole step (forward, backward, AdamW) runs at {num(p.get('step_gflops'))} GFLOP/s, "
            f"{pct(p.get('step_fraction_of_peak'))} of one core's FMA peak; the matrix products at "
            f"{pct(p.get('matmul_fraction_of_peak'))}. The gradient sum of {p.get('reduce_buffers')} "
            f"gradient-sized buffers (the flat control's work per step) {red}. GB/s counts the least traffic "
            f"a kernel must move; a kernel whose arrays partly stay in cache can exceed the DRAM figure.", ""]
    return out


def section_context(run, plots):
    """8. Machine, build, dataset, model, repetitions and spread; what was not measured."""
    ctx = run.context
    m, d, o = ctx.get("model", {}), ctx.get("dataset", {}), ctx.get("options", {})
    out = ["## 9. Context", ""]
    rows = [
        ["machine", f"{ctx.get('cpu_model')}, {ctx.get('cores')} cores, {num(ctx.get('memory_gb'))} GB, "
                    f"host `{ctx.get('hostname')}`"],
        ["kernel", ctx.get("kernel")],
        ["compiler", f"gcc {ctx.get('compiler')}" if str(ctx.get('compiler', '')).strip()[:1].isdigit()
                     else ctx.get("compiler")],
        ["flags", f"`{ctx.get('cflags')}`"],
        ["git revision", f"`{ctx.get('git_revision')}`" + (" (built with uncommitted changes)"
                                                           if ctx.get("git_dirty") else "")],
        ["run date", ctx.get("date")],
        ["run folder", f"`{os.path.relpath(run.path, REPO)}`"],
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
    out += [table(["", ""], rows, left=2), ""]
    if o.get("quick"):
        out += ["**This is a quick run (`make bench QUICK=1`): it checks the path, it is not a measurement.**",
                ""]
    spread_rows = []
    for kind in ("full", "sweep", "route", "batch"):
        cs = [c for c in run.configs if c["kind"] == kind]
        if not cs:
            continue
        sp = [c["spread"] for c in cs if c["reps"] > 1]
        spread_rows.append([kind, len(cs), f"{int(min(c['reps'] for c in cs))}–{int(max(c['reps'] for c in cs))}",
                            pct(median(sp)) if sp else "one run each", pct(max(sp)) if sp else "n/a"])
    out += ["Spread of tokens/s, (max - min) / median over repetitions:", ""]
    out += [table(["kind", "configurations", "repetitions", "median spread", "largest spread"], spread_rows), ""]
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
    if not ctx.get("counters"):
        nm.append("counters: none recorded")
    if run.samples is None:
        nm.append("generated text: samples.txt is absent")
    for f in run.missing:
        nm.append(f"{f}: absent from the run folder")
    if run.cores and any(c["threads"] > run.cores for c in run.configs):
        nm.append(f"parallel speed beyond {run.cores} processors: runs with more threads than cores are "
                  f"time-shared, marked oversubscribed")
    out += ["**Not measured, and why:**", ""] + [f"- {x}" for x in nm] + [""]
    out += ["Derived tables: `plots/scaling.csv` and `plots/batch.csv` in the run folder hold medians copied "
            "from summary.json for the two figures that need them; every other figure is drawn by gnuplot "
            "from the bench's CSVs as written.", ""]
    return out


def route_groups(run, policy):
    """Batches per level-1 sphere under a routing policy, first repetition; [] if absent."""
    rows = [x for x in run.groups if x["kind"] == "route" and x["route"] == policy]
    if not rows:
        return []
    rep0 = min(x["rep"] for x in rows)
    return [x["batches"] for x in rows if x["rep"] == rep0]


def sym_top_share(run):
    """Share of the batches that the busiest level-1 sphere got under symmetry routing."""
    first = [x for x in run.groups if x["kind"] == "route" and x["route"] == "symmetry"]
    if not first:
        return float("nan")
    rep0 = min(x["rep"] for x in first)
    g = [x["batches"] for x in first if x["rep"] == rep0]
    return ratio(max(g), sum(g))


def section_summary(run):
    """The five-minute answer at the top, from the same numbers as the sections."""
    out = ["## In short", ""]
    ff, fs = run.config("full", "flat"), run.config("full", "sphere")
    noise = sweep_noise(run)
    if ff and fs:
        r = ratio(fs["tokens_per_s_median"], ff["tokens_per_s_median"])
        out.append(f"- Full run over every batch at {int(ff['threads'])} threads: flat {num(ff['tokens_per_s_median'])} "
                   f"tokens/s, sphere {num(fs['tokens_per_s_median'])} tokens/s — the sphere is "
                   f"{'faster' if r > 1 else 'slower'}, at {times(r)} flat's throughput"
                   + (f" ({'within' if abs(r - 1) <= noise else 'beyond'} the thread sweep's median "
                      f"run-to-run spread of {pct(noise)})." if isnum(noise) else "."))
    sweep = [c for c in run.configs if c["kind"] == "sweep" and isnum(c["speedup_vs_serial"])
             and c["variant"] != "serial"]
    for v in run.variants:
        cs = [c for c in sweep if c["variant"] == v]
        if cs:
            b = max(cs, key=lambda c: c["speedup_vs_serial"])
            out.append(f"- Best {v} speedup over serial: {times(b['speedup_vs_serial'])} at {int(b['threads'])} "
                       f"threads on {run.cores} cores.")
    bs = [c for c in run.configs if c["kind"] == "batch" and c["variant"] == "sphere" and isnum(c["ratio_vs_flat"])]
    if bs:
        lo = min(bs, key=lambda c: c["batch_tokens"])
        hi = max(bs, key=lambda c: c["batch_tokens"])
        crossings = find_crossovers(sorted((c["batch_tokens"], c["ratio_vs_flat"]) for c in bs))
        cross = crossings[0] if len(crossings) == 1 else float("nan")
        rs = [c["ratio_vs_flat"] for c in bs]
        within = isnum(noise) and all(abs(r - 1) <= noise for r in rs)
        out.append(f"- sphere / flat throughput against tokens per batch: {times(hi['ratio_vs_flat'])} at "
                   f"{int(hi['batch_tokens'])} tokens, {times(lo['ratio_vs_flat'])} at {int(lo['batch_tokens'])}; "
                   + (f"the ratio crosses 1 near {num(cross)} tokens per batch" if isnum(cross)
                      else "the ratio crosses 1 more than once: no single crossover"
                      if len(crossings) > 1
                      else "no crossover in the measured range")
                   + (", but every ratio is within the run-to-run spread of parity." if within else "."))
    sym, rr = run.config("route", "sphere", route="symmetry"), run.config("route", "sphere", route="round-robin")
    if sym and rr:
        g = route_groups(run, "round-robin")
        out.append(f"- Routing: the symmetry policy sent {pct(sym_top_share(run), 0)} of the batches to one "
                   f"level-1 sphere; round-robin gave each sphere "
                   + (f"{span(int(min(g)), int(max(g)), str)} batches" if g else "its share")
                   + f" and ran at {times(ratio(rr['tokens_per_s_median'], sym['tokens_per_s_median']))} "
                   f"symmetry's throughput.")
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
    if len(out) == 2:
        out.append("- This run has none of the full, sweep, routing or batch measurements the summary needs.")
    out.append("")
    return out


# ---------------------------------------------------------------- assembly

def build_report(run, plots):
    ctx = run.context
    lines = ["# sphere-bench report: flat pool vs kissing-sphere hierarchy", "",
             "<!-- Generated by report/report.py (`make report`); do not edit by hand: "
             "`make report-check` fails when this file differs from the generator's output. -->", "",
             f"Run `{run.name}` of {ctx.get('date')}, git `{ctx.get('git_revision')}`"
             + (" (uncommitted changes)" if ctx.get("git_dirty") else "")
             + f", on **{run.machine}**"
             + (" — a quick run, not a measurement" if ctx.get("options", {}).get("quick") else "") + ".", "",
             "Question: when many threads train one model data-parallel, does a recursive 12-ary "
             "\"kissing-sphere\" hierarchy of control threads beat a flat pool with one control thread? "
             "Both trainers run the same training core on the same batches; every number below is read "
             "from the run folder.", ""]
    lines += section_summary(run)
    for section in (section_cpu_threads, section_scaling, section_batch, section_routing,
                    section_convergence, section_sixty, section_counters, section_core, section_context):
        lines += section(run, plots)
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip("\n") + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description="Write REPORT.md and plots from a sphere-bench run folder.")
    ap.add_argument("run", nargs="?", help="run folder (default: results/REFERENCE, else the newest run)")
    ap.add_argument("--out", default=os.path.join(REPO, "REPORT.md"), help="report file (default REPORT.md)")
    ap.add_argument("--no-plots", action="store_true", help="write the text only; do not run gnuplot")
    a = ap.parse_args(argv)
    try:
        run = Run(a.run if a.run else default_run())
        plots = Plots(run, not a.no_plots)
        text = build_report(run, plots)
        plots.render()
        tmp = a.out + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, a.out)
    except ReportError as e:
        sys.stderr.write(f"report: {e}\n")
        return 2
    except OSError as e:
        sys.stderr.write(f"report: {e}\n")
        return 2
    print(f"report: {os.path.relpath(a.out)} from {os.path.relpath(run.path)}"
          + ("" if a.no_plots else f", plots in {os.path.relpath(os.path.join(run.path, 'plots'))}"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
