# cpu_controls.gp - the control threads alone, on their own scale.
#
# Companion to cpu_threads.gp: at the workers' scale the control threads'
# bars are too small to read, so this draws only the threads whose role is
# "control" (threads.csv), the flat control first, then the sphere's root
# and its level-1 (and deeper) controls, each split by phase (compute,
# reduce, optimizer, dispatch, wait CPU seconds), as cumulative boxes.
# Variables (-e): file (threads.csv), kind, nthreads, rep, plus common.gp's.
load dir."/common.gp"

sel(v) = strcol("kind") eq kind && strcol("variant") eq v && column("threads") == nthreads \
         && column("rep") == rep && strcol("role") eq "control"
xpos(v) = !sel(v) ? NaN : v eq "flat" ? 0 : 2 + column("thread")
c1 = 'column("compute_cpu_s")'
r1 = 'column("reduce_cpu_s")'
o1 = 'column("optimizer_cpu_s")'
d1 = 'column("dispatch_cpu_s")'
w1 = 'column("wait_cpu_s")'

set style fill solid 1.0 noborder
set boxwidth 0.75
set xrange [-1:*]
set yrange [0:*]
set offsets 0, 1, graph 0.1, 0
set xtics ("flat\ncontrol" 0, "sphere\nroot" 2) out
stats file using (xpos("sphere")) nooutput
do for [i=1:int(STATS_max) - 2] { set xtics add (sprintf("%d", i) (2 + i)) }
set xlabel "thread index (sphere: the root, then the level-1 controls, one per symmetry group)" offset 0, -1
set bmargin 5.5
set ylabel "thread CPU time (s)"
set key top right
set title sprintf("Control threads only, by phase, full run at %d threads — %s", nthreads, machine)
plot for [v in "flat sphere"] file using (xpos(v)):(sel(v) ? @c1 + @r1 + @o1 + @d1 + @w1 : NaN) with boxes fc rgb c_wait title (v eq "flat" ? "wait" : ""), \
     for [v in "flat sphere"] "" using (xpos(v)):(sel(v) ? @c1 + @r1 + @o1 + @d1 : NaN) with boxes fc rgb c_dispatch title (v eq "flat" ? "dispatch" : ""), \
     for [v in "flat sphere"] "" using (xpos(v)):(sel(v) ? @c1 + @r1 + @o1 : NaN) with boxes fc rgb c_optimizer title (v eq "flat" ? "optimizer" : ""), \
     for [v in "flat sphere"] "" using (xpos(v)):(sel(v) ? @c1 + @r1 : NaN) with boxes fc rgb c_reduce title (v eq "flat" ? "reduce" : ""), \
     for [v in "flat sphere"] "" using (xpos(v)):(sel(v) ? @c1 : NaN) with boxes fc rgb c_compute title (v eq "flat" ? "compute" : "")
