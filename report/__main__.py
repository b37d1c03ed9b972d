"""__main__.py - the command line: `python3 -m report [RUN] [--out FILE] [--base DIR] [--no-plots]`.

Part of the report package (report/__init__.py describes it): loads the run
folder, has build.py write the text and figures.py the plots, and writes the
report through a temporary renamed into place. Exit status 0, or 2 on a
problem with the input (printed without a traceback).
"""

import argparse
import os
import sys

from .atomic import write_atomic
from .build import build_report
from .figures import Plots
from .runfolder import REPO, ReportError, Run, default_run


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Write REPORT.md and plots from a sphere-bench run folder.")
    ap.add_argument("run", nargs="?", help="run folder (default: results/REFERENCE, else the newest run)")
    ap.add_argument("--out", help="report file (default: RUN/REPORT.md; with no RUN, the reference run's "
                    "top-level REPORT.md)")
    ap.add_argument("--base", help="write links relative to this folder (default: the report file's folder)")
    ap.add_argument("--no-plots", action="store_true", help="write the text only; do not run gnuplot")
    a = ap.parse_args(argv)
    try:
        run = Run(a.run if a.run else default_run())
        if not a.out:
            reference = not a.run and os.path.exists(os.path.join(REPO, "results", "REFERENCE"))
            a.out = os.path.join(REPO, "REPORT.md") if reference else os.path.join(run.path, "REPORT.md")
        run.report_dir = os.path.abspath(a.base) if a.base else os.path.dirname(os.path.abspath(a.out))
        plots = Plots(run, not a.no_plots)
        text = build_report(run, plots)
        plots.render()
        write_atomic(a.out, lambda f: f.write(text))
    except (ReportError, OSError) as e:
        sys.stderr.write(f"report: {e}\n")
        return 2
    print(f"report: {os.path.relpath(a.out)} from {os.path.relpath(run.path)}"
          + ("" if a.no_plots else f", plots in {os.path.relpath(os.path.join(run.path, 'plots'))}"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
