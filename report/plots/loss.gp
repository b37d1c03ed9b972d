# loss.gp - convergence: training loss against tokens seen, per trainer.
#
# loss.csv, kind "full": each trainer's full run (same batches, same steps),
# with the corpus's entropy rate (the lowest loss any model can reach on
# this synthetic corpus) drawn as a horizontal line.
# Variables (-e): file (loss.csv), variants (the trainers, in the registry's
# order), colours (theirs, same order), nthreads, rep, floor (nats per
# token), target (the full runs' target loss; NaN: none, not drawn), plus
# common.gp's.
load dir."/common.gp"
if (!exists("target")) target = NaN

col(v) = trainer_colour(v)
sel(v) = strcol("kind") eq "full" && strcol("variant") eq v && column("threads") == nthreads && column("rep") == rep

set xlabel "tokens seen (millions)"
set xrange [0:*]
set ylabel "training loss (nats per token)"
set key top right
set yrange [floor * 0.9:*]
# head room above the curves for the key
set offsets 0, 0, graph 0.3, 0
set title sprintf("Convergence: loss against tokens, full runs at %d threads — %s", nthreads, machine)
plot for [i=1:words(variants)] file using (column("tokens") / 1e6):(sel(word(variants, i)) ? column("loss") : NaN) \
         with lines lw (i == 1 ? 4 : 2) dt i lc rgb col(word(variants, i)) title word(variants, i), \
     floor with lines lw 2 dt 2 lc rgb "black" title sprintf("corpus entropy rate %.3f nats/token", floor), \
     (target == target ? target : NaN) with lines lw 1.5 dt 3 lc rgb "#555555" \
         title (target == target ? sprintf("target %.3f (time to target stops here)", target) : "")
