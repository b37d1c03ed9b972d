# cpu_threads.gp - where the CPU time goes: one stacked bar per thread.
#
# For each trainer's full run at one thread count, each thread's CPU seconds split into compute,
# reduce, optimizer, dispatch and wait (threads.csv, the *_cpu_s columns), one
# panel per trainer on the same y scale; control threads are marked with a
# triangle. Bars are drawn as
# overlapping boxes of cumulative sums (tallest first), which stacks them
# without a pre-processed table.
# Variables (-e): file (threads.csv), kind, nthreads, rep, variants (the
# trainers, one panel each, in the registry's order), title_1, title_2, ...
# (each panel's title, which says which thread is what, from threads.csv's
# roles and levels), plus common.gp's.
if (!exists("height")) height = 380 * words(variants)
load dir."/common.gp"

sel(v) = strcol("kind") eq kind && strcol("variant") eq v && column("threads") == nthreads && column("rep") == rep
c1 = 'column("compute_cpu_s")'
r1 = 'column("reduce_cpu_s")'
o1 = 'column("optimizer_cpu_s")'
d1 = 'column("dispatch_cpu_s")'
w1 = 'column("wait_cpu_s")'
tot(v) = sel(v) ? @c1 + @r1 + @o1 + @d1 + @w1 : NaN
ctl(v) = sel(v) && strcol("role") eq "control" ? @c1 + @r1 + @o1 + @d1 + @w1 : NaN

# one y scale for every panel: the largest thread of any trainer
ymax = 0
do for [v in variants] {
    stats file using (tot(v)) nooutput
    ymax = STATS_max * 1.08 > ymax ? STATS_max * 1.08 : ymax
}

set style fill solid 1.0 noborder
set boxwidth 0.8
set xrange [-1:nthreads]
set yrange [0:ymax]
set xtics 0, 4 out
set ylabel "thread CPU time (s)"
set lmargin 10
set rmargin 4
# the key above the top panel, clear of both frames
set key outside top center horizontal maxrows 1 noopaque nobox font ",11"

last = word(variants, words(variants))
i = 0
set multiplot layout words(variants), 1 title sprintf("Per-thread CPU time by phase, full run at %d threads — %s", nthreads, machine)
do for [v in variants] {
    i = i + 1
    name = sprintf("title_%d", i)
    set title (exists(name) ? value(name) : v)
    set xlabel (v eq last ? "thread index" : "")
    if (v eq word(variants, 1)) { set key } else { unset key }
    plot file using "thread":(tot(v)) with boxes fc rgb c_wait title "wait", \
         ""   using "thread":(sel(v) ? @c1 + @r1 + @o1 + @d1 : NaN) with boxes fc rgb c_dispatch title "dispatch", \
         ""   using "thread":(sel(v) ? @c1 + @r1 + @o1 : NaN) with boxes fc rgb c_optimizer title "optimizer", \
         ""   using "thread":(sel(v) ? @c1 + @r1 : NaN) with boxes fc rgb c_reduce title "reduce", \
         ""   using "thread":(sel(v) ? @c1 : NaN) with boxes fc rgb c_compute title "compute", \
         ""   using "thread":(ctl(v) + ymax * 0.025) with points pt 11 ps 1.2 lc rgb "black" title "control thread"
}
unset multiplot
