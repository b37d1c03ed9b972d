# batch.gp - where the tree wins: throughput against tokens per batch.
#
# The tokens-per-batch sweep (runs.csv, kind "batch"): the same tokens cut into
# more, smaller batches, the parallel trainers at one thread count, serial at 1.
# Left: tokens/s of each trainer, every repetition read straight from
# runs.csv as a point, the medians (plots/batch.csv) joined by lines. Right:
# each trainer's ratio of median tokens/s over flat's (derived table
# plots/batch.csv, written by report/sections/batch.py from summary.json:
# columns TRAINER_tokens_per_s and TRAINER_over_flat), with 1 = parity, each
# measured crossover, and the cost model's estimate of the crossover shaded:
# for the single-core read bandwidth `sphere-bench peak` measured in the run,
# or, for older runs, an ASSUMED range.
# Variables (-e): runs (runs.csv), table (plots/batch.csv), trainers (the
# trainers drawn, serial first, in the registry's order), colours (their
# colours, same order), ratios (the trainers compared with flat), ratio_colours,
# ratio_title, crossovers (each compared trainer's measured crossover, tokens,
# same order; NaN: none), nthreads, mlo, mhi (x range of the sizes measured),
# xlo, xhi (x range of the ratio panel: the sizes measured and the estimate),
# ylo, yhi (y range of the ratio panel), noise (median run-to-run spread of the
# thread sweep, drawn as a band around parity; NaN: none), est_lo, est_hi
# (estimated crossover, tokens, for the assumed bandwidth range; NaN: none),
# bw_lo, bw_hi (that range, GB/s; equal when measured), bw_label ("measured"
# or "ASSUMED"), workers (W, the workers whose gradients the flat control
# reads per step, which the estimate is for), plus common.gp's.
if (!exists("height")) height = 540
load dir."/common.gp"

col(i) = word(colours, i)
bt(v) = strcol("kind") eq "batch" && strcol("variant") eq v
nr = words(ratios)
cross(i) = real(word(crossovers, i))
pts = "7 5 9 11 13 15"

set logscale x 2
set xtics ("16" 16, "64" 64, "256" 256, "1024" 1024, "4096" 4096, "16384" 16384)
set mxtics default

set xlabel "tokens per batch (B × T)"
set multiplot layout 1, 2 title sprintf("Tokens-per-batch sweep, %d threads — %s", nthreads, machine)

set title "throughput"
set xrange [mlo:mhi]
set ylabel "tokens/s"
set yrange [0:*]
set key bottom right font ",11"
plot for [i=1:words(trainers)] runs using "batch_tokens":(bt(word(trainers, i)) ? column("tokens_per_s") : NaN) \
         with points pt 7 ps 1.2 lc rgb col(i) notitle, \
     for [i=1:words(trainers)] table using "batch_tokens":(column(word(trainers, i)."_tokens_per_s")) \
         with lines lw 2 lc rgb col(i) title (word(trainers, i) eq "serial" ? "serial (1 thread)" : word(trainers, i))

set title ratio_title
set xrange [xlo:xhi]
set ylabel "tokens/s ÷ flat tokens/s"
set yrange [ylo:yhi]
set key top right opaque font ",11" box lc rgb "#bbbbbb" width -4
if (noise == noise) {
    set object 4 rect from graph 0, first 1 - noise to graph 1, first 1 + noise fc rgb "#e4e4e4" fs solid 1.0 noborder behind
}
if (est_lo == est_lo && est_lo == est_hi) {
    # one measured bandwidth: one estimate, drawn as a broad band labelled with its W
    set arrow 5 from est_lo, graph 0 to est_lo, graph 1 nohead lw 8 lc rgb "#fde0c5" back
    set label 6 sprintf("W = %d", workers) at est_lo, graph 0.04 left offset 0.8, 0 font ",10" tc rgb "#b35900"
}
if (est_lo == est_lo && est_lo != est_hi) {
    set object 2 rect from est_lo, graph 0 to est_hi, graph 1 fc rgb "#fde0c5" fs solid 1.0 noborder behind
    set label 6 sprintf("W = %d", workers) at est_hi, graph 0.04 left offset 0.5, 0 font ",10" tc rgb "#b35900"
}
do for [i=1:nr] {
    if (cross(i) == cross(i)) {
        set arrow (10 + i) from cross(i), graph 0 to cross(i), graph 1 nohead lw 2 dt 4 lc rgb word(ratio_colours, i) back
    }
}
plot 1 with lines lw 1.5 dt 2 lc rgb "black" title "parity", \
     keyentry with boxes fs solid 1.0 fc rgb "#e4e4e4" \
         title (noise == noise ? sprintf("±%.1f%% run-to-run spread", 100 * noise) : ""), \
     for [i=1:nr] table using "batch_tokens":(column(word(ratios, i)."_over_flat")) with linespoints \
         pt int(word(pts, (i - 1) % 6 + 1)) ps 1.3 lw 2 lc rgb word(ratio_colours, i) title word(ratios, i)." / flat", \
     keyentry with boxes fs solid 1.0 fc rgb "#fde0c5" \
         title (est_lo != est_lo ? "" : bw_lo == bw_hi ? \
                sprintf("model, W = %d, BW_1 %.1f GB/s%s", workers, bw_lo, bw_label eq "ASSUMED" ? " ASSUMED" : "") : \
                sprintf("model, W = %d, BW_1 %g–%g GB/s%s", workers, bw_lo, bw_hi, \
                        bw_label eq "ASSUMED" ? " ASSUMED" : "")), \
     for [i=1:nr] keyentry with lines lw 2 dt 4 lc rgb word(ratio_colours, i) \
         title (cross(i) == cross(i) ? sprintf("%s = flat at ≈ %.0f tokens", word(ratios, i), cross(i)) : "")
unset multiplot
