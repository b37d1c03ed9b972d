# common.gp - terminal, fonts and colours shared by every sphere-bench plot.
#
# Each plot script loads this first. The report (report/figures.py) passes, with -e:
#   fmt     "png" or "svg"       out  output file
#   width, height  pixels (optional; 900 x 500 unless the script sets them before loading)
#   machine  the machine's name, put in every title
# The CSVs are read as written by the bench: comma-separated, one header line,
# columns referred to by name; NaN values are skipped by gnuplot.
if (!exists("width"))  width = 900
if (!exists("height")) height = 500
if (!exists("machine")) machine = "unknown machine"
if (fmt eq "svg") {
    set terminal svg size width, height dynamic enhanced font "Sans,12" background rgb "white"
} else {
    set terminal pngcairo size width, height enhanced font "Sans,12" background rgb "white"
}
set output out
set datafile separator ","
set datafile columnheaders
set key opaque box lc rgb "#bbbbbb"
set grid lc rgb "#dddddd" lt 1
set border lc rgb "#444444"
set tics nomirror
# The trainers' colours come from report/palette.py, passed as a list beside
# the trainers' names (variants="flat sphere", colours="#1f77b4 #d62728"), so a
# trainer has the same colour in every figure and no script names one to pick
# it: trainer_colour(v) finds v's position. serial and flat, the baselines,
# keep these two (the 60:1 and core figures use them for their bars).
c_serial = "#555555"
c_flat   = "#1f77b4"
if (!exists("variants")) variants = ""
if (!exists("colours")) colours = ""
trainer_at(v, i) = i > words(variants) ? 0 : word(variants, i) eq v ? i : trainer_at(v, i + 1)
trainer_colour(v) = v eq "serial" ? c_serial : trainer_at(v, 1) > 0 ? word(colours, trainer_at(v, 1)) : "#7f7f7f"
# phases
c_compute = "#2ca02c"; c_reduce = "#ff7f0e"; c_optimizer = "#9467bd"; c_dispatch = "#8c564b"; c_wait = "#bcbd22"
