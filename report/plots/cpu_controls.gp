# cpu_controls.gp - the control threads alone, on their own scale.
#
# Companion to cpu_threads.gp: at the workers' scale the control threads'
# bars are too small to read, so this draws only the threads whose role is
# "control", every trainer's in the registry's order (a root first, then its
# level-1 and deeper controls), each split by phase (compute, reduce,
# optimizer, dispatch, wait CPU seconds), as cumulative boxes. It reads the
# derived table plots/cpu_controls.csv (report/sections/cpu.py writes it from
# threads.csv: x, variant, thread, name and role (a trainer's first control:
# its name and "control" or "root", the others "-"), then the phases' *_cpu_s
# columns); a trainer's first control is labelled with its name and role, the
# others with their thread index.
# Variables (-e): table, nthreads, variants (the trainers drawn), plus common.gp's.
load dir."/common.gp"

c1 = 'column("compute_cpu_s")'
r1 = 'column("reduce_cpu_s")'
o1 = 'column("optimizer_cpu_s")'
d1 = 'column("dispatch_cpu_s")'
w1 = 'column("wait_cpu_s")'
tick(name) = name eq "-" ? sprintf("%d", column("thread")) : name."\n".strcol("role")

set style fill solid 1.0 noborder
set boxwidth 0.75
set xrange [-1:*]
set yrange [0:*]
set offsets 0, 1, graph 0.1, 0
set xtics out
set xlabel "thread index (a tree's root, then its level-1 controls)" offset 0, -1
set bmargin 5.5
set ylabel "thread CPU time (s)"
set key top right
set title sprintf("Control threads only, by phase, full run at %d threads — %s", nthreads, machine)
plot table using "x":(@c1 + @r1 + @o1 + @d1 + @w1):xtic(tick(strcol("name"))) with boxes fc rgb c_wait title "wait", \
     ""    using "x":(@c1 + @r1 + @o1 + @d1) with boxes fc rgb c_dispatch title "dispatch", \
     ""    using "x":(@c1 + @r1 + @o1) with boxes fc rgb c_optimizer title "optimizer", \
     ""    using "x":(@c1 + @r1) with boxes fc rgb c_reduce title "reduce", \
     ""    using "x":(@c1) with boxes fc rgb c_compute title "compute"
