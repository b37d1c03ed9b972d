"""report - turns one sphere-bench run folder into REPORT.md and its plots.

Purpose: the last step of the pipeline (dataset -> core -> trainers -> bench
-> results/ -> here). It reads a run folder as bench/results.h describes it
(context.json, runs.csv, threads.csv, groups.csv, loss.csv, summary.json and,
when present, samples.txt), has gnuplot draw the figures straight from the
CSVs (report/plots/*.gp, PNG and SVG into RUN/plots/), and writes a Markdown
report whose every number is read from the run and formatted here, never
typed by hand. Figures that need what gnuplot cannot form from the bench's
files (medians over repetitions, spans of traces, every trainer's control
threads) read small derived tables the sections write into RUN/plots/, and
the report names them. The trainers, their order and what is said of their
threads come from the run folder (trainers.py): no file here names a trainer
but flat, the baseline of the ratios, and serial, that of the speedups.

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
trainers.py what it says of each trainer) through validate.py, which reads
every file strictly and refuses a bad one naming file, line and field, figures.py runs gnuplot,
palette.py gives each trainer its colour, costmodel.py holds the models'
arithmetic, bootstrap.py the ratio-of-medians interval, compare.py compares
two run folders (`python3 -m report.compare`), and sections/ has one module
per report section. tests/ holds the package's unit tests
(`python3 -m unittest discover -s report/tests -t .`) and deps.sh what
`make report` needs (gnuplot, SciPy).

Usage: python3 -m report [RUN] [--out FILE] [--base DIR] [--no-plots]
  RUN defaults to the folder named in results/REFERENCE, else the newest
  folder under results/ holding a summary.json (quick runs only when there
  is nothing else).
Python 3 standard library only.
"""
