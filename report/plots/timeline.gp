# timeline.gp - every thread's phases over time: one row per thread, one panel per trainer.
#
# Reads the derived table report/sections/timeline.py writes from the bench's
# traces (plots/timeline_*.csv: variant, thread, start_ms, end_ms, phase; one
# row per span of the first steps), and draws each span as a box on its
# thread's row, coloured by phase as in cpu_threads.gp. Every panel has the
# same x range (xmax, ms since the run's first thread began), so the trainers
# compare on one time scale; thread 0 is the top row.
# Variables (-e): file, variants (the trainers, one panel each, in the registry's order), nthreads, xmax,
# title, plus common.gp's.
nv = words(variants)
if (!exists("height")) height = 165 + nv * (nthreads > 16 ? 500 : 100 + 32 * nthreads)
if (!exists("width")) width = 1000
load dir."/common.gp"

sel(v, p) = strcol("variant") eq v && strcol("phase") eq p
box(v, p) = sel(v, p) ? column("thread") : NaN

set style fill solid 1.0 noborder
set xrange [0:xmax]
set yrange [nthreads - 0.5:-0.5]
set ylabel "thread"
set ytics out 0, (nthreads > 16 ? 8 : 1)
set xtics out
set grid noytics
set key at screen 0.5, screen 1 - 32.0 / height center top horizontal maxrows 1 Left reverse noopaque nobox samplen 1.5 width 2

set multiplot layout nv, 1 title sprintf("%s — %s", title, machine) \
    margins 0.07, 0.98, 70.0 / height, 1 - 95.0 / height spacing 0, 100.0 / height
do for [i = 1:nv] {
    v = word(variants, i)
    set title v
    set xlabel (i == nv ? "time since the run began (ms)" : "")
    if (i == 1) { set key } else { unset key }
    plot file using (0.5 * (column("start_ms") + column("end_ms"))):(box(v, "compute")):\
                    (column("start_ms")):(column("end_ms")):(box(v, "compute") - 0.4):(box(v, "compute") + 0.4) \
              with boxxyerror fc rgb c_compute title "compute", \
         ""   using (0.5 * (column("start_ms") + column("end_ms"))):(box(v, "reduce")):\
                    (column("start_ms")):(column("end_ms")):(box(v, "reduce") - 0.4):(box(v, "reduce") + 0.4) \
              with boxxyerror fc rgb c_reduce title "reduce", \
         ""   using (0.5 * (column("start_ms") + column("end_ms"))):(box(v, "optimizer")):\
                    (column("start_ms")):(column("end_ms")):(box(v, "optimizer") - 0.4):(box(v, "optimizer") + 0.4) \
              with boxxyerror fc rgb c_optimizer title "optimizer", \
         ""   using (0.5 * (column("start_ms") + column("end_ms"))):(box(v, "dispatch")):\
                    (column("start_ms")):(column("end_ms")):(box(v, "dispatch") - 0.4):(box(v, "dispatch") + 0.4) \
              with boxxyerror fc rgb c_dispatch title "dispatch", \
         ""   using (0.5 * (column("start_ms") + column("end_ms"))):(box(v, "wait")):\
                    (column("start_ms")):(column("end_ms")):(box(v, "wait") - 0.4):(box(v, "wait") + 0.4) \
              with boxxyerror fc rgb c_wait title "wait"
}
unset multiplot
