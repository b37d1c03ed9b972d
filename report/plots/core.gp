# core.gp - the training core's kernels on one thread, each as a share of its
# ceiling: the FMA peak for compute-bound kernels, the read bandwidth for
# memory-bound ones (both measured by `sphere-bench peak` in the same run).
#
# plots/core.csv (derived by report/sections/core.py from core.json): kernel, memory_bound
# (0/1), percent_of_ceiling. Variables (-e): table, n, preset, peak (GFLOP/s),
# bw (GB/s), plus common.gp's.
height = 520
load dir."/common.gp"

set style fill solid 1.0 noborder
set boxwidth 0.7
set xrange [-0.7:n - 0.3]
set yrange [0:*]
set offsets 0, 0, graph 0.05, 0
set xtics rotate by 35 right scale 0 font ",11" noenhanced
set ylabel "share of the ceiling (%)"
# the key above the frame, so no bar (AdamW's can pass 300 %) runs under it
set key outside top center horizontal maxrows 1 font ",11"
set title sprintf("One %s-preset training step, kernel by kernel, on 1 thread — %s", preset, machine)
plot table using 0:(column("memory_bound") == 0 ? column("percent_of_ceiling") : NaN):xtic(strcol("kernel")) \
         with boxes fc rgb c_flat title sprintf("compute-bound: %% of FMA peak (%.0f GFLOP/s)", peak), \
     table using 0:(column("memory_bound") == 1 ? column("percent_of_ceiling") : NaN) \
         with boxes fc rgb c_compute title sprintf("memory-bound: %% of read bandwidth (%.1f GB/s)", bw), \
     100 with lines dt 2 lc rgb "#444444" title "ceiling"
