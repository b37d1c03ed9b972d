"""fixtures.py - run folders for the report's tests: the committed reference run, copied, and grown.

copy_reference() copies results/REFERENCE's folder (the bench's files only:
no plots, no REPORT.md) into a temporary folder; add_trainer() then makes
every file of the copy also hold a new trainer, a duplicate of an existing
one under another name: its rows of runs.csv, threads.csv, groups.csv and
loss.csv, its configurations of summary.json, its traces, its block of
samples.txt and its noise warnings, each appended after the file's own. The
registry's order is then the old trainers, then the new one, as if its line
came last in variants/variant.c. drop_trainer() does the opposite.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile

from report.runfolder import REPO

BENCH_FILES = ("context.json", "summary.json", "runs.csv", "threads.csv", "groups.csv", "loss.csv",
               "core.json", "samples.txt", "warnings.json")


def reference_path() -> str:
    with open(os.path.join(REPO, "results", "REFERENCE")) as f:
        return os.path.join(REPO, "results", f.read().strip())


def copy_reference() -> str:
    """A temporary copy of the reference run's bench files (the caller removes it)."""
    src, dst = reference_path(), tempfile.mkdtemp(prefix="report-test-")
    for name in os.listdir(src):
        if name in BENCH_FILES or name.startswith("trace-"):
            shutil.copy(os.path.join(src, name), dst)
    if os.path.isdir(os.path.join(src, "mpi")):
        shutil.copytree(os.path.join(src, "mpi"), os.path.join(dst, "mpi"))
    return dst


def _grow_csv(path: str, src: str, new: str) -> None:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    col = rows[0].index("variant")
    extra = [r[:col] + [new] + r[col + 1:] for r in rows[1:] if r[col] == src]
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows + extra)


def _grow_summary(path: str, src: str, new: str) -> None:
    with open(path) as f:
        s = json.load(f)
    s["configurations"] += [dict(c, variant=new) for c in s["configurations"] if c["variant"] == src]
    with open(path, "w") as f:
        json.dump(s, f)


def _grow_traces(folder: str, src: str, new: str) -> None:
    for name in os.listdir(folder):
        m = re.fullmatch(rf"trace-([a-z-]+)-{re.escape(src)}-(\d+)\.json", name)
        if m:
            shutil.copy(os.path.join(folder, name), os.path.join(folder, f"trace-{m[1]}-{new}-{m[2]}.json"))


def _grow_samples(path: str, src: str, new: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    blocks = re.split(r"(?m)^(?=# )", text)
    extra = [f"# {new}" + b[len(f"# {src}"):] for b in blocks if b.startswith(f"# {src},")]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "".join(extra))


def _grow_warnings(path: str, src: str, new: str) -> None:
    with open(path) as f:
        w = json.load(f)
    pat = re.compile(rf"\b{re.escape(src)}\b")
    w["warnings"] += [{k: (pat.sub(new, v) if isinstance(v, str) else v) for k, v in x.items()}
                      for x in w["warnings"] if pat.search(x.get("figure", ""))]
    with open(path, "w") as f:
        json.dump(w, f)


def add_trainer(folder: str, src: str, new: str) -> None:
    """Every file of the run folder also holds trainer `new`, a copy of trainer `src`."""
    for name in ("runs.csv", "threads.csv", "groups.csv", "loss.csv"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            _grow_csv(p, src, new)
    _grow_summary(os.path.join(folder, "summary.json"), src, new)
    _grow_traces(folder, src, new)
    for name, grow in (("samples.txt", _grow_samples), ("warnings.json", _grow_warnings)):
        if os.path.exists(os.path.join(folder, name)):
            grow(os.path.join(folder, name), src, new)


def drop_trainer(folder: str, name: str) -> None:
    """Every file of the run folder forgets trainer `name`, as a bench that did not run it."""
    for f in ("runs.csv", "threads.csv", "groups.csv", "loss.csv"):
        p = os.path.join(folder, f)
        with open(p, newline="") as fh:
            rows = list(csv.reader(fh))
        col = rows[0].index("variant")
        with open(p, "w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([rows[0]] + [r for r in rows[1:] if r[col] != name])
    p = os.path.join(folder, "summary.json")
    with open(p) as f:
        s = json.load(f)
    s["configurations"] = [c for c in s["configurations"] if c["variant"] != name]
    with open(p, "w") as f:
        json.dump(s, f)
    for f in os.listdir(folder):
        if f.startswith("trace-") and f"-{name}-" in f:
            os.remove(os.path.join(folder, f))


def set_registry(folder: str, trainers: list[dict]) -> None:
    """context.json gets the registry's list of trainers, as the bench writes it since it has one."""
    p = os.path.join(folder, "context.json")
    with open(p) as f:
        ctx = json.load(f)
    ctx["trainers"] = trainers
    with open(p, "w") as f:
        json.dump(ctx, f)
