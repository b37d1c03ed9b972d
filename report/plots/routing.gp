# routing.gp - routing balance: batches computed per level-1 group, per policy, per trainer.
#
# groups.csv, kind "route": each trainer that routes batches (one panel each,
# in the registry's order) at one thread count under each of its routing
# policies, one bar per level-1 group (the subtree of one of the root's
# level-1 controls) and policy, side by side.
# Variables (-e): file (groups.csv), variants (the routing trainers), and for
# the i-th of them policies_i (its policies, e.g. "symmetry round-robin
# steal"), nthreads_i, rep_i; plus common.gp's.
nv = words(variants)
if (!exists("height")) height = 500 * nv
load dir."/common.gp"

pc(i) = i == 1 ? "#d62728" : i == 2 ? "#1f77b4" : i == 3 ? "#2ca02c" : "#9467bd"
sel(v, p, t, r) = strcol("kind") eq "route" && strcol("variant") eq v && strcol("route") eq p \
                  && column("threads") == t && column("rep") == r

set style fill solid 1.0 noborder
set xtics 1 out
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set xlabel "level-1 group (the subtree of one level-1 control)"
set ylabel "batches computed"
set key top right
if (nv > 1) { set multiplot layout nv, 1 title sprintf("Routing balance — %s", machine) }
do for [k = 1:nv] {
    v = word(variants, k)
    policies = value(sprintf("policies_%d", k))
    t = value(sprintf("nthreads_%d", k))
    r = value(sprintf("rep_%d", k))
    np = words(policies)
    bw = 0.8 / np
    set boxwidth bw
    stats file using (sel(v, word(policies, 1), t, r) ? column("group") : NaN) nooutput
    set xrange [-0.6:STATS_max + 0.6]
    set title (nv > 1 ? sprintf("%s at %d threads", v, t) : \
               sprintf("Routing balance: batches per level-1 group, %s at %d threads — %s", v, t, machine))
    plot for [i=1:np] file using (column("group") + (i - (np + 1) / 2.0) * bw):(sel(v, word(policies, i), t, r) ? column("batches") : NaN) \
         with boxes fc rgb pc(i) title word(policies, i)
}
if (nv > 1) { unset multiplot }
