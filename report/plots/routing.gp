# routing.gp - routing balance: batches computed per level-1 sphere, per policy.
#
# groups.csv, kind "route": the sphere trainer at one thread count under each
# routing policy, one bar per level-1 sphere (0..11) and policy, side by side.
# Variables (-e): file (groups.csv), policies ("symmetry round-robin steal"),
# nthreads, rep, plus common.gp's.
load dir."/common.gp"

pc(i) = i == 1 ? "#d62728" : i == 2 ? "#1f77b4" : i == 3 ? "#2ca02c" : "#9467bd"
np = words(policies)
bw = 0.8 / np
sel(p) = strcol("kind") eq "route" && strcol("route") eq p && column("threads") == nthreads && column("rep") == rep

set style fill solid 1.0 noborder
set boxwidth bw
set xrange [-0.6:11.6]
set xtics 0, 1, 11 out
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set xlabel "level-1 sphere (symmetry group, token id mod 12)"
set ylabel "batches computed"
set key top right
set title sprintf("Routing balance: batches per level-1 sphere, sphere at %d threads — %s", nthreads, machine)
plot for [i=1:np] file using (column("group") + (i - (np + 1) / 2.0) * bw):(sel(word(policies, i)) ? column("batches") : NaN) \
     with boxes fc rgb pc(i) title word(policies, i)
