# scaling.gp - speedup and parallel efficiency against threads, per trainer.
#
# Left: speedup over the serial trainer (median tokens/s of serial at 1 thread
# = 1), each repetition as a small point read straight from runs.csv, the
# medians joined by a line (from the derived table plots/scaling.csv, which
# report/sections/scaling.py writes from summary.json), the ideal (linear up to the core count,
# flat beyond it: more threads than cores add no processors) and each
# trainer's Amdahl fit 1/(f + (1-f)/p), drawn over the points it was fitted
# to (p <= cores). Right: parallel
# efficiency, speedup / min(threads, cores). Open symbols and the grey area:
# oversubscribed, threads > cores (drawn only when some point is). The keys
# sit below the panels, outside the plot areas, so no key covers a point; the
# canvas grows with the left key's rows (two per trainer, ideal and serial).
# Variables (-e): runs (runs.csv), table (plots/scaling.csv), serial_tps,
# cores, variants (the trainers, in the registry's order), colours (theirs,
# same order), fits (Amdahl f per variant, same order,
# "NaN" when there is none), maxthreads, ymax (top of the speedup axis),
# oversub (1 when a sweep point has more threads than cores), plus common.gp's.
keyrows = 2 + 2 * words(variants)
if (!exists("height")) height = 560 + 17 * keyrows
load dir."/common.gp"
keytop = (17.0 * keyrows + 14) / height  # screen fraction the keys take at the bottom

col(v) = trainer_colour(v)
pmin(p) = p < cores ? p : cores
amdahl(p, f) = 1.0 / (f + (1.0 - f) / pmin(p))
sw(v) = strcol("kind") eq "sweep" && strcol("variant") eq v
med(v, over) = strcol("variant") eq v && column("oversubscribed") == over

set logscale x 2
set xrange [0.8:maxthreads * 1.25]
set xlabel "threads"
if (!exists("oversub")) oversub = 1
if (oversub) {
    set object 1 rect from cores * sqrt(2), graph 0 to graph 1, graph 1 fc rgb "#f0f0f0" fs solid 1.0 noborder behind
    set label 1 "oversubscribed\n(threads > cores)" at graph 0.97, graph 0.08 right font ",11" tc rgb "#777777"
}

set bmargin at screen keytop + 80.0 / height  # above the keys: the tics and the x label
set multiplot layout 1, 2 title sprintf("Thread sweep against serial — %s", machine)

set title "speedup over serial"
set ylabel "speedup (serial tokens/s = 1)"
set yrange [0:ymax]
set key at screen 0.28, screen keytop center top font ",11"
plot (x >= 1 ? pmin(x) : NaN) with lines lw 2 dt 2 lc rgb "black" title sprintf("ideal on %d cores", cores), \
     for [i=1:words(variants)] (word(fits, i) eq "NaN" || x < 1 || x > cores ? NaN : amdahl(x, real(word(fits, i)))) \
         with lines lw 2 dt 3 lc rgb col(word(variants, i)) \
         title (word(fits, i) eq "NaN" ? "" : sprintf("Amdahl fit %s, f = %.2f", word(variants, i), real(word(fits, i)))), \
     for [v in variants] runs using "threads":(sw(v) ? column("tokens_per_s") / serial_tps : NaN) \
         with points pt 7 ps 0.5 lc rgb col(v) notitle, \
     for [v in variants] table using "threads":(strcol("variant") eq v ? column("speedup") : NaN) \
         with lines lw 2 lc rgb col(v) notitle, \
     for [v in variants] table using "threads":(med(v, 0) ? column("speedup") : NaN) \
         with points pt 7 ps 1.4 lc rgb col(v) title v, \
     for [v in variants] table using "threads":(med(v, 1) ? column("speedup") : NaN) \
         with points pt 6 ps 1.4 lw 2 lc rgb col(v) notitle, \
     runs using "threads":(sw("serial") ? column("tokens_per_s") / serial_tps : NaN) \
         with points pt 13 ps 1.5 lc rgb c_serial title "serial"

set title "parallel efficiency"
set ylabel "efficiency = speedup / min(threads, cores)"
set yrange [0:1.25]
set key at screen 0.78, screen keytop center top font ",11"
unset label 1
if (oversub) { set label 1 "oversubscribed" at graph 0.97, graph 0.05 right font ",11" tc rgb "#777777" }
plot 1 with lines lw 2 dt 2 lc rgb "black" title "ideal", \
     for [v in variants] table using "threads":(strcol("variant") eq v ? column("efficiency") : NaN) \
         with lines lw 2 lc rgb col(v) notitle, \
     for [v in variants] table using "threads":(med(v, 0) ? column("efficiency") : NaN) \
         with points pt 7 ps 1.4 lc rgb col(v) title v, \
     for [v in variants] table using "threads":(med(v, 1) ? column("efficiency") : NaN) \
         with points pt 6 ps 1.4 lw 2 lc rgb col(v) notitle
unset multiplot
