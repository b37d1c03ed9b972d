"""Section 3, second half: the cost model of the reduce beside the measured tokens-per-batch sweep.

Part of the report package (report/__init__.py); sections/batch.py calls it.
Per step W gradients of P floats are read to reduce them (docs/DESIGN.md,
"The cost model"); who reads them is read from each trainer's threads
(trainers.py's Shape): one control reads all W at single-core bandwidth, a
tree's busiest control max(k, W/k) buffers with k level-1 controls, and a
trainer with no control spreads the read over every thread at the machine's
whole bandwidth. The estimate is computed even without a sweep: it is a
property of the model and the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..costmodel import bw1_values, model_flops_per_token
from ..fmt import isnum, num, pct, ratio, table
from ..runfolder import Run
from ..trainers import BASELINE, Shape
from .routing import route_groups


@dataclass
class CostInputs:
    m: dict[str, Any]        # the model block of context.json
    fpt: float               # FLOPs per token
    base: Any                # the serial configuration F is measured from (or None)
    base_src: str
    F: float                 # per-core speed, FLOP/s
    nthreads: int
    W: int                   # workers of flat's control at nthreads
    bws: tuple[float, ...]   # single-core bandwidths, GB/s
    bw_measured: bool
    est: dict[float, float]        # crossover at W workers, per bandwidth
    est_cores: dict[float, float]  # crossover at the machine's cores, per bandwidth

    @property
    def bw_label(self) -> str:
        return "measured" if self.bw_measured else "ASSUMED"


def cost_inputs(run: Run, serial_by_size: dict[float, Any], nthreads: Any) -> CostInputs:
    m = run.context.get("model", {})
    own = m.get("B", 0) * m.get("T", 0)
    fpt = model_flops_per_token(m)
    base = run.config("sweep", "serial", threads=1)
    base_src = "the thread sweep's serial median"
    if base is None or base.get("batch_tokens") != own:
        base = serial_by_size.get(own) or base
        base_src = "the batch sweep's serial run at the model's own batch size"
    F = fpt * base["tokens_per_s_median"] if base else float("nan")
    if nthreads is None:
        nthreads = int(run.full_run(BASELINE)[0]) if run.full_run(BASELINE) else 64
    W = nthreads - 1
    bws, measured = bw1_values(run)
    return CostInputs(m, fpt, base, base_src, F, nthreads, W, bws, measured,
                      {bw: W * F / (1.5 * bw * 1e9) for bw in bws},
                      {bw: run.cores * F / (1.5 * bw * 1e9) for bw in bws})


def inputs_lines(run: Run, ci: CostInputs) -> list[str]:
    m, W = ci.m, ci.W
    return [f"- Model FLOPs per token (3 × forward, forward = 2·(12·D²·L + V·D) + 4·((T+1)/2)·D·L with "
            f"V={m['V']}, T={m['T']}, D={m['D']}, L={m['L']}): {num(ci.fpt)}; parameters P = {num(m.get('params'))}, "
            f"so 6·P = {num(6 * m.get('params', float('nan')))}.",
            f"- F, estimated as FLOPs per token × {ci.base_src} ({num(ci.base['tokens_per_s_median'])} tokens/s): "
            f"{num(ci.F / 1e9)} GFLOP/s per core.",
            (f"- W = {W} workers ({ci.nthreads} threads). BW₁ = {num(ci.bws[0])} GB/s, the single-thread read "
             f"bandwidth `sphere-bench peak` measured at the start of this run:" if ci.bw_measured else
             f"- W = {W} workers ({ci.nthreads} threads). This run has no bandwidth measurement (it predates "
             f"`sphere-bench peak`), so the estimate is given for assumed values:"), "",
            table([f"BW₁ (GB/s, {ci.bw_label})", f"crossover, W = {W} (tokens/batch)",
                   f"crossover, W = {run.cores} cores (tokens/batch)"],
                  [[num(bw), num(ci.est[bw]), num(ci.est_cores[bw])] for bw in ci.bws]), ""]


def machine_paragraph(run: Run, ci: CostInputs, sizes: list[float]) -> str:
    """Which column applies on this machine, and whether the sweep reaches the estimate."""
    W = ci.W
    smallest = min(sizes) if sizes else None
    top = ci.est_cores[min(ci.bws)]
    s = (f"The model assumes every worker has its own core. On this machine only {run.cores} threads "
         f"run at once, so the workers' combined rate is {run.cores}·F, not {W}·F, and the second column "
         f"is the estimate that applies here: at most {num(top)} tokens per batch"
         f"{'' if ci.bw_measured else ' over the assumed range'}.")
    if smallest is not None and top < smallest:
        s += (f" That is below the smallest batch measured ({int(smallest)} tokens): the model predicts that "
              f"the {BASELINE} control's reduce never becomes the bottleneck on this machine, so a difference "
              f"between the trainers here comes from something else (routing, scheduling, waking threads).")
    elif smallest is not None:
        s += f" The measured sweep reaches down to {int(smallest)} tokens per batch, inside that range."
    lo, hi = min(ci.est.values()), max(ci.est.values())
    inside = smallest is not None and lo <= max(sizes) and hi >= smallest
    return (s + f" On a machine with a core for each of the {W} workers, the first column applies: a crossover "
            + (f"near {num(lo)} tokens per batch" if num(lo) == num(hi) else
               f"between {num(lo)} and {num(hi)} tokens per batch")
            + (f", inside the swept range ({int(smallest)}–{int(max(sizes))}), so a run there would test the "
               f"model." if inside else "."))


def cost_model_lines(run: Run, ci: CostInputs, sizes: list[float]) -> list[str]:
    out = [f"**The cost model** (docs/DESIGN.md). Per step the {BASELINE} control reads W gradients of P floats, "
           "about 4·P·W / BW₁ seconds at single-core bandwidth BW₁; each worker's batch costs about "
           "6·P·tokens / F seconds at per-core speed F. The control becomes the bottleneck when tokens "
           "per batch < W·F / (1.5·BW₁).", ""]
    if not isnum(ci.F):
        return out + ["*The estimate needs the model (context.json) and a serial run; not available here.*", ""]
    out += inputs_lines(run, ci)
    out += [machine_paragraph(run, ci, sizes), ""]
    return out + trainer_crossovers(run, ci.F, ci.W, ci.bws[0] if ci.bw_measured else float("nan"))


def routed_note(run: Run, v: str) -> str:
    """When a trainer's default routing sent most batches to one level-1 control (section 4)."""
    route = run.trainers[v].default_route
    g = route_groups(run, v, route) if route else []
    top = ratio(max(g), sum(g)) if g and sum(g) else float("nan")
    if not (isnum(top) and top > 0.5):
        return ""
    return (f" Its default routing ({route}), which sent {pct(top, 0)} of the batches to one level-1 control "
            f"(section 4), brings back {BASELINE}'s W.")


def who_reads(run: Run, v: str, shape: Shape) -> str:
    """The bullet on who reads a step's gradients in trainer v, from the shape of its threads."""
    if shape.is_tree:
        k = shape.fanout()
        return (f"- {v}: with batches spread evenly, the root reads at most {k} sums while each level-1 control "
                f"reads about W/{k} gradients, all at once, so the busiest control reads max({k}, W/{k}) buffers: "
                f"the control side falls behind when tokens per batch < max({k}, W/{k})·F / (1.5·BW₁)."
                + routed_note(run, v))
    if shape.has_control:
        return (f"- {v}: the control thread reads all of them at single-core bandwidth BW₁"
                + (" (above)." if v == BASELINE else "."))
    return (f"- {v}: no control; every thread reads its 1/W slice of every gradient, so the same 4·P·W bytes "
            "are read at the machine's whole bandwidth BW_all, in parallel with nothing else to wait for: the "
            "reduce takes longer than the compute when tokens per batch < W·F / (1.5·BW_all).")


def crossover_row(run: Run, v: str, shape: Shape, F: float, W: int, bw1: float, bw_all: float) -> list[str]:
    c = run.cores
    label = v + (" (even routing)" if run.trainers[v].routes else "")
    if shape.is_tree:
        k = shape.fanout()
        fan = max(float(k), W / k)
        return [label, f"busiest control, max({k}, W/{k}) = {num(fan)} buffers",
                num(fan * F / (1.5 * bw1 * 1e9)), num(fan * c * F / (1.5 * W * bw1 * 1e9))]
    if shape.has_control:
        return [label, "1 thread, W buffers", num(W * F / (1.5 * bw1 * 1e9)), num(c * F / (1.5 * bw1 * 1e9))]
    return [label, "every thread, 1/W of W buffers", num(W * F / (1.5 * bw_all * 1e9)),
            num(c * F / (1.5 * bw_all * 1e9))]


def trainer_crossovers(run: Run, F: float, W: int, bw1: float) -> list[str]:
    """The cost model's term for each trainer: what is read to reduce a step's W
    gradients, by whom, and the tokens per batch below which that read takes
    longer than the step's compute."""
    bw_all = (run.context.get("peak") or {}).get("read_gbs_all")
    shapes = {v: run.shape(v) for v in run.variants}
    shapes = {v: s for v, s in shapes.items() if s.threads}
    out = ["**Each trainer's reduce in the same model.** Per step W gradients of P floats (4·P·W bytes) are "
           "read; what differs is who reads them:", ""] + [who_reads(run, v, s) for v, s in shapes.items()] + [""]
    if not (isnum(bw1) and isnum(bw_all) and isnum(F)):
        return out + ["*The crossovers need the single-core and all-core read bandwidths `sphere-bench peak` "
                      "measures; this run has no such measurement.*", ""]
    c = run.cores
    rows = [crossover_row(run, v, s, F, W, bw1, bw_all) for v, s in shapes.items()]
    out += [table(["trainer", "who reads", f"crossover, W = {W} cores (tokens/batch)",
                   f"crossover, {c} cores (tokens/batch)"], rows, left=2), ""]
    trees = [v for v, s in shapes.items() if s.is_tree]
    flat_like = [v for v, s in shapes.items() if not s.is_tree]
    peers = [v for v, s in shapes.items() if not s.has_control]
    out += [f"BW₁ = {num(bw1)} GB/s and BW_all = {num(bw_all)} GB/s, both measured by `sphere-bench peak` in this "
            f"run. With {c} cores the workers' combined rate is {c}·F, which is why the last column scales the "
            f"compute side by {c}/W" + (f" for {' and '.join(trees)}" if trees else "")
            + (f" and replaces W by {c} for {' and '.join(flat_like)}" if flat_like else "") + "."
            + (f" BW_all is this machine's; a machine with a core per worker has more, so "
               f"{' and '.join(v + chr(39) + 's' for v in peers)} figure{'s' if len(peers) > 1 else ''} in the W "
               f"column {'are upper bounds' if len(peers) > 1 else 'is an upper bound'}." if peers else ""), ""]
    return out
