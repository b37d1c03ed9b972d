"""runfolder.py - one bench run folder, loaded: context, summary, the CSVs, core.json, samples.

Part of the report package (report/__init__.py); build.py assembles the sections.
A Run also knows the folder's trainers (trainers.py: registry order, summary,
routes, the shape of their threads) and gives each its colour (palette.py).
"""

from __future__ import annotations

import os
from typing import Any, Optional

from .fmt import isnum, ratio
from .palette import colour_map, colours
from .trainers import SERIAL, Shape, Trainer, load_trainers, shape_of
from .validate import BENCH_CSV, CsvSpec, ReportError, load_csv, read_text, run_file


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


RESULTS = os.path.join(REPO, "results")


def read_csv(path: str, spec: Optional[CsvSpec] = None) -> Optional[list[dict[str, Any]]]:
    """Rows as dicts, validated (validate.py; the spec of the bench's file of that name unless given);
    numeric columns as floats (NaN kept as NaN); None when the file is absent."""
    if not os.path.exists(path):
        return None
    return load_csv(path, path, spec or BENCH_CSV[os.path.basename(path)])


def samples_run_id(text: Optional[str]) -> Optional[str]:
    """The run id on samples.txt's first line ("# run_id ID"), or None."""
    first = (text or "").split("\n", 1)[0]
    return first[len("# run_id "):].strip() or None if first.startswith("# run_id ") else None


class Run:
    """One run folder, loaded. Missing optional files become empty lists."""

    def __init__(self, path: str):
        self.path = os.path.realpath(path)
        self.name = os.path.basename(self.path)
        self.run_id = None
        self.report_dir = self.path  # where the report is written; links are relative to it (__main__.py sets it)
        if not os.path.isdir(self.path):
            raise ReportError(f"run folder '{path}' does not exist (give RUN=results/<folder>; "
                              f"`ls results/` lists the runs)")
        for need in ("context.json", "summary.json", "runs.csv"):
            if not os.path.exists(os.path.join(self.path, need)):
                raise ReportError(f"'{path}' is not a complete bench run folder: {need} is missing "
                                  f"(a run folder is written by `make bench`)")
        # every file through validate.py: a bad one is refused naming file, line and field
        self.context = run_file(self.path, "context.json", path)
        self.summary = run_file(self.path, "summary.json", path)
        self.runs = run_file(self.path, "runs.csv", path)
        self.missing = [n for n in ("threads.csv", "groups.csv", "loss.csv")
                        if not os.path.exists(os.path.join(self.path, n))]
        self.threads = run_file(self.path, "threads.csv", path) or []
        self.groups = run_file(self.path, "groups.csv", path) or []
        self.loss = run_file(self.path, "loss.csv", path) or []
        # core.json: single-thread kernel timings (runs before bench-core have none)
        self.core = run_file(self.path, "core.json", path)
        self.samples: Optional[str] = run_file(self.path, "samples.txt", path)
        warnings_file = run_file(self.path, "warnings.json", path)
        self.warnings: Optional[list[dict[str, Any]]] = (warnings_file or {}).get("warnings")
        self._check_one_run(path, {"core.json": (self.core or {}).get("run_id"),
                                   "warnings.json": (warnings_file or {}).get("run_id"),
                                   "samples.txt": samples_run_id(self.samples)})
        self.configs = [self._clean(c) for c in self.summary.get("configurations", [])]
        ctx = self.context
        self.cores = int(ctx.get("cores") or self.summary.get("cores") or 0)
        self.machine = f"{ctx.get('cpu_model', 'unknown CPU')}, {self.cores} cores (host {ctx.get('hostname', '?')})"
        # every trainer of the runs in registry order; the parallel ones (all but serial) as variants
        self.trainers: dict[str, Trainer] = load_trainers(self.context, self.runs)
        self.variants: list[str] = [v for v in self.trainers if v != SERIAL]
        self.colour_of: dict[str, str] = colour_map(list(self.trainers))

    def colours(self, names: list[str]) -> str:
        """The named trainers' colours as a gnuplot word list, in the same order (palette.py)."""
        return colours(self.colour_of, names)

    def routed(self) -> list[str]:
        """The trainers that have `route` runs (those that take routing policies), in registry order."""
        return [v for v in self.variants if self.runs_of("route", v)]

    def first_threads(self, kind: str, variant: str, threads: Optional[float] = None,
                      route: Optional[str] = None) -> list[dict[str, Any]]:
        """threads.csv's rows of a configuration's first repetition (every role)."""
        th = [r for r in self.threads if r["kind"] == kind and r["variant"] == variant
              and (threads is None or r["threads"] == threads) and (route is None or r["route"] == route)]
        if not th:
            return []
        t = th[0]["threads"] if threads is None else threads
        first = min(r["rep"] for r in th if r["threads"] == t)
        return [r for r in th if r["rep"] == first and r["threads"] == t]

    def shape(self, variant: str) -> Shape:
        """The shape of a trainer's threads: in its full run when there is one, else in its
        largest thread-sweep run (threads.csv's roles and levels)."""
        rows = self.first_threads("full", variant)
        if not rows:
            sweep = [r["threads"] for r in self.threads if r["kind"] == "sweep" and r["variant"] == variant]
            rows = self.first_threads("sweep", variant, max(sweep)) if sweep else []
        return shape_of(rows)

    def describe(self, variant: str) -> str:
        """One line on what a trainer is: the registry's summary when context.json carries it,
        else how many threads of each kind threads.csv shows."""
        t = self.trainers.get(variant)
        if t is not None and t.summary:
            return t.summary
        s = self.shape(variant)
        return s.counts() if s.threads else "no per-thread record"

    def _check_one_run(self, path: str, carried: dict[str, Optional[str]]) -> None:
        """Refuses a folder whose files come from different runs: every file the bench
        writes carries its run id (context.json and summary.json a "run_id" key, each
        CSV a run_id column; core.json and warnings.json a "run_id" key and samples.txt a
        first line "# run_id ID" since the bench's 2026-12-04 revision, so those are
        checked where they carry one), and all must be the same one. A folder written
        before run ids existed carries none anywhere and is read as it is."""
        ids = {"context.json": {self.context.get("run_id")}, "summary.json": {self.summary.get("run_id")}}
        ids.update({name: {rid} for name, rid in carried.items() if rid is not None})
        for name, rows in (("runs.csv", self.runs), ("threads.csv", self.threads), ("groups.csv", self.groups),
                           ("loss.csv", self.loss)):
            if name not in self.missing and rows:
                ids[name] = {r.get("run_id") for r in rows}
        seen = set().union(*ids.values()) - {None}
        if not seen:
            return
        if len(seen) > 1 or any(None in v for v in ids.values()):
            detail = "; ".join(f"{n}: {', '.join(sorted(str(i) for i in v))}" for n, v in ids.items())
            raise ReportError(f"'{path}' mixes files of different runs ({detail}): a run folder must hold one "
                              f"bench's files; run the bench again into an empty folder")
        self.run_id = seen.pop()

    @property
    def complete(self) -> bool:
        """False for a bench stopped before its last run (context.json says so)."""
        return self.context.get("complete", True) is not False

    @staticmethod
    def _clean(c: dict[str, Any]) -> dict[str, Any]:
        return {k: (float("nan") if v is None else v) for k, v in c.items()}

    def config(self, kind: str, variant: str, threads: Optional[float] = None, route: Optional[str] = None,
               batch_tokens: Optional[float] = None) -> Optional[dict[str, Any]]:
        for c in self.configs:
            if (c["kind"] == kind and c["variant"] == variant and (threads is None or c["threads"] == threads)
                    and (route is None or c["route"] == route)
                    and (batch_tokens is None or c["batch_tokens"] == batch_tokens)):
                return c
        return None

    def runs_of(self, kind: str, variant: Optional[str] = None) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["kind"] == kind and (variant is None or r["variant"] == variant)]

    def full_run(self, variant: str) -> Optional[tuple[int, int, dict[str, Any]]]:
        """The first repetition of a trainer's full run: (threads, rep) or None."""
        rs = self.runs_of("full", variant)
        if not rs:
            return None
        r = min(rs, key=lambda r: r["rep"])
        return int(r["threads"]), int(r["rep"]), r

    def busy_workers(self, kind: str, variant: str, threads: float,
                     route: Optional[str] = None) -> tuple[Optional[int], Optional[int]]:
        """(workers that computed at least one batch, workers) in the first
        repetition of a configuration, from threads.csv; (None, None) if absent."""
        w = self.workers_of(kind, variant, threads, route)
        if not w:
            return None, None
        return sum(1 for r in w if isnum(r["batches"]) and r["batches"] > 0), len(w)

    def busiest_share(self, kind: str, variant: str, threads: float, route: Optional[str] = None) -> float:
        """Share of all batches computed by the busiest worker (first repetition);
        1 / share bounds the speedup when a batch's cost is the same everywhere."""
        w = self.workers_of(kind, variant, threads, route)
        b = [r["batches"] for r in w if isnum(r["batches"])]
        return ratio(max(b), sum(b)) if b else float("nan")

    def workers_of(self, kind: str, variant: str, threads: float,
                   route: Optional[str] = None) -> list[dict[str, Any]]:
        th = [r for r in self.threads if r["kind"] == kind and r["variant"] == variant and r["threads"] == threads
              and (route is None or r["route"] == route)]
        if not th:
            return []
        first = min(r["rep"] for r in th)
        return [r for r in th if r["rep"] == first and r["role"] == "worker"]

    def link(self, name: str) -> str:
        """A plot's path relative to the folder the report is written in: `plots/NAME`
        for RUN/REPORT.md, so the folder opens correctly wherever it is copied."""
        return os.path.relpath(os.path.join(self.path, "plots", name), self.report_dir).replace(os.sep, "/")

    def shown_path(self) -> str:
        """The run folder as the report names it: relative to the report's folder, `.` inside it."""
        return os.path.relpath(self.path, self.report_dir).replace(os.sep, "/")


def default_run() -> str:
    """results/REFERENCE if present, else the newest complete run (non-quick first)."""
    ref = os.path.join(RESULTS, "REFERENCE")
    if os.path.exists(ref):
        name = read_text(ref).strip()
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
