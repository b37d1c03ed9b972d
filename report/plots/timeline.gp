# timeline.gp - every thread's phases over time: one row per thread, one panel per trainer.
#
# Reads the derived table report/sections/timeline.py writes from the bench's
# traces (plots/timeline_*.csv: variant, thread, start_ms, end_ms, phase; one
# row per span of the first steps), and draws each span as a box on its
# thread's row, coloured by phase as in cpu_threads.gp. Every panel has the
# same x range (xmax, ms since the run's first thread began), so the trainers
# compare on one time scale; thread 0 is the top row.
# Variables (-e): file, variants ("flat sphere sharded"), nthreads, xmax, title, plus common.gp's.
nv = words(variants)
if (!exists("height")) height = 140 + nv * (nthreads > 16 ? 420 : 60 + 28 * nthreads)
if (!exists("width")) width = 1000
load dir."/common.gp"

sel(v, p) = strcol("variant") eq v && strcol("phase") eq p
box(v, p) = sel(v, p) ? column("thread") : NaN

set style fill solid 1.0 noborder
set xrange [0:xmax]
set yrange [nthreads - 0.5:-0.5]
set ylabel "thread"
set ytics out (nthreads > 16 ? 8 : 1)
set xtics out
set grid noytics
set lmargin 10
set rmargin 16
set key outside right top vertical Left reverse noopaque nobox

set multiplot layout nv, 1 title sprintf("%s — %s", title, machine)
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
