"""figures.py - the gnuplot jobs a report asks for, and the derived tables some of them read.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from typing import Any

from .atomic import write_atomic
from .fmt import isnum
from .runfolder import REPO, ReportError


PLOTS_DIR = os.path.join(REPO, "report", "plots")


class Plots:
    """Collects gnuplot jobs; runs them (PNG and SVG) unless disabled."""

    def __init__(self, run: Any, enabled: bool):
        self.run = run
        self.enabled = enabled
        self.jobs: list[tuple[str, str, dict[str, Any]]] = []  # (script, name, vars)
        self.derived: dict[str, tuple[list[str], list[list[Any]]]] = {}  # file name -> (header, rows)

    def add(self, script: str, name: str, **variables: Any) -> str:
        self.jobs.append((script, name, variables))
        return self.figure(name)

    def figure(self, name: str) -> str:
        link = self.run.link(name + ".png")
        svg = self.run.link(name + ".svg")
        return f"![{name}]({link})\n\n[SVG]({svg})"

    def derive(self, fname: str, header: list[str], rows: list[list[Any]]) -> str:
        self.derived[fname] = (header, rows)
        return "plots/" + fname

    @staticmethod
    def gp_value(v: Any) -> str:
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        if isinstance(v, bool):
            return "1" if v else "0"
        if isinstance(v, int):
            return str(v)
        if not isnum(v):
            return "NaN"
        return repr(float(v))

    def render(self) -> None:
        if not self.enabled or not self.jobs:
            return
        if shutil.which("gnuplot") is None:
            raise ReportError("gnuplot is not installed (apt-get install -y gnuplot-nox), "
                              "or pass --no-plots for the text alone")
        out_dir = os.path.join(self.run.path, "plots")
        os.makedirs(out_dir, exist_ok=True)
        for fname, (header, rows) in self.derived.items():
            def fill(f, header=header, rows=rows) -> None:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
                for r in rows:
                    w.writerow(["NaN" if isinstance(c, float) and not math.isfinite(c) else
                                (repr(c) if isinstance(c, float) else c) for c in r])
            write_atomic(os.path.join(out_dir, fname), fill)
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
