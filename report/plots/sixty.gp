# sixty.gp - the "60:1" figure explained, from the flat trainer's full run.
#
# runs.csv, kind "full", variant "flat": the control thread's own CPU time,
# the mean worker's, and the whole process's (getrusage), on a log scale,
# each bar labelled with its value. Reading the process's figure as the
# control thread's gives process/worker, about the thread count: the
# original's "main thread does 60x the work".
# Variables (-e): file (runs.csv), nthreads, rep, plus common.gp's.
load dir."/common.gp"

sel = 'strcol("kind") eq "full" && strcol("variant") eq "flat" && column("threads") == nthreads && column("rep") == rep'
set style fill solid 1.0 noborder
set boxwidth 0.6
set logscale y 10
set xrange [-0.6:2.6]
set yrange [*:*]
set offsets 0, 0, graph 0.15, 0
set xtics ("flat control thread\n(its own clock)" 0, "mean worker thread" 1, "whole process\n(getrusage)" 2) scale 0
set ylabel "CPU time (s, log scale)"
set key off
set bmargin 4.5
set title sprintf("The 60:1 figure: whose CPU time? flat, %d threads — %s", nthreads, machine)
plot file using (0):(@sel ? column("control_cpu_s") : NaN) with boxes fc rgb c_flat, \
     ""   using (1):(@sel ? column("mean_worker_cpu_s") : NaN) with boxes fc rgb c_compute, \
     ""   using (2):(@sel ? column("process_cpu_s") : NaN) with boxes fc rgb c_serial, \
     ""   using (0):(@sel ? column("control_cpu_s") : NaN):(sprintf("%.3g s", column("control_cpu_s"))) with labels offset 0, 1 font ",12", \
     ""   using (1):(@sel ? column("mean_worker_cpu_s") : NaN):(sprintf("%.3g s", column("mean_worker_cpu_s"))) with labels offset 0, 1 font ",12", \
     ""   using (2):(@sel ? column("process_cpu_s") : NaN):(sprintf("%.3g s\nprocess / worker = %.0f×\nprocess / control = %.0f×", column("process_cpu_s"), column("process_cpu_s") / column("mean_worker_cpu_s"), column("process_cpu_s") / column("control_cpu_s"))) with labels offset 0, 2.5 font ",12"
