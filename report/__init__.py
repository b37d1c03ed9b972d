"""report - turns one sphere-bench run folder into REPORT.md and its plots.

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
Links to plots are relative to the folder the report is written in. Without
--out the report goes into the run folder (RUN/REPORT.md, linking
`plots/...`, so the folder is complete on its own and opens correctly
wherever it is copied), except for the reference run: with no RUN given the
run named in results/REFERENCE is reported into the top-level REPORT.md,
the only way that file is written.

Layout: __main__.py is the command line, build.py assembles the report,
fmt.py formats numbers and tables, runfolder.py loads a run folder (and
trainers.py what it says of each trainer), figures.py runs gnuplot,
palette.py gives each trainer its colour, costmodel.py holds the models'
arithmetic, bootstrap.py the ratio-of-medians interval, compare.py compares
two run folders (`python3 -m report.compare`), and sections/ has one module
per report section. tests/ holds the package's unit tests
(`python3 -m unittest discover -s report/tests -t .`).

Usage: python3 -m report [RUN] [--out FILE] [--base DIR] [--no-plots]
  RUN defaults to the folder named in results/REFERENCE, else the newest
  folder under results/ holding a summary.json (quick runs only when there
  is nothing else).
Python 3 standard library only.
"""
