"""Section 3: the trainers against tokens per batch, the measured crossover and the cost model.

Part of the report generator; report.py assembles the sections.
"""

from fmt import isnum, not_measured, num, pct, ratio, table, times
from costmodel import bw1_values, find_crossovers, model_flops_per_token, sweep_noise


def section_batch(run, plots):
    """3. sphere/flat against tokens per batch; measured crossover and the cost model."""
    out = ["## 3. Where the tree wins: tokens per batch", ""]
    flat = sorted((c for c in run.configs if c["kind"] == "batch" and c["variant"] == "flat"),
                  key=lambda c: c["batch_tokens"])
    sph = {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == "sphere"}
    ser = {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == "serial"}
    pairs = [(c["batch_tokens"], c, sph[c["batch_tokens"]]) for c in flat if c["batch_tokens"] in sph]
    m = run.context.get("model", {})

    # the cost model, computed even without a sweep: it is a property of the model and machine
    fpt = model_flops_per_token(m)
    base = run.config("sweep", "serial", threads=1)
    base_src = "the thread sweep's serial median"
    if base is None or base.get("batch_tokens") != m.get("B", 0) * m.get("T", 0):
        base = ser.get(m.get("B", 0) * m.get("T", 0)) or base
        base_src = "the batch sweep's serial run at the model's own batch size"
    F = fpt * base["tokens_per_s_median"] if base else float("nan")
    nthreads = int(pairs[0][1]["threads"]) if pairs else int(run.full_run("flat")[0]) if run.full_run("flat") else 64
    W = nthreads - 1
    bws, bw_measured = bw1_values(run)
    bw_label = "measured" if bw_measured else "ASSUMED"
    est = {bw: W * F / (1.5 * bw * 1e9) for bw in bws}
    est_cores = {bw: run.cores * F / (1.5 * bw * 1e9) for bw in bws}

    crossover = float("nan")
    if not pairs:
        out += [not_measured("the tokens-per-batch sweep (kind `batch`)"), ""]
    else:
        derived = [[bt, ser[bt]["tokens_per_s_median"] if bt in ser else float("nan"), f["tokens_per_s_median"],
                    s["tokens_per_s_median"], ratio(s["tokens_per_s_median"], f["tokens_per_s_median"])]
                   for bt, f, s in pairs]
        crossings = find_crossovers([(d[0], d[4]) for d in derived])
        crossover = crossings[0] if len(crossings) == 1 else float("nan")
        table_path = plots.derive("batch.csv", ["batch_tokens", "serial_tokens_per_s", "flat_tokens_per_s",
                                                "sphere_tokens_per_s", "sphere_over_flat"], derived)
        xs = [d[0] for d in derived] + ([min(est.values()), max(est.values())] if isnum(F) else [])
        out.append(plots.add("batch.gp", "batch", runs="runs.csv", table=table_path, nthreads=nthreads,
                             xlo=min(xs) / 1.4, xhi=max(xs) * 1.4,
                             mlo=derived[0][0] / 1.4, mhi=derived[-1][0] * 1.4,
                             ylo=min([0.8] + [d[4] - 0.05 for d in derived if isnum(d[4])]),
                             yhi=max([1.2] + [d[4] + 0.05 for d in derived if isnum(d[4])]) + 0.15,
                             noise=sweep_noise(run),
                             est_lo=min(est.values()), est_hi=max(est.values()),
                             bw_lo=min(bws), bw_hi=max(bws), bw_label=bw_label, crossover=crossover,
                             workers=int(W)))
        reps = int(pairs[0][1]["reps"])
        out += ["", f"*The same tokens cut into more, smaller batches; flat and sphere at {nthreads} threads, "
                f"serial at 1, {reps} repetition(s) per size, on {run.machine}. The ratio comes from "
                f"`plots/batch.csv`, derived from summary.json. "
                + (f"The shaded band (labelled W = {int(W)}) is the cost model's crossover for the flat "
                   f"control reading W = {int(W)} workers' gradients per step at the single-core read bandwidth "
                   f"`sphere-bench peak` measured in this run, {num(bws[0])} GB/s: about "
                   f"{num(min(est.values()))} tokens per batch.*"
                   if bw_measured else
                   f"The shaded band (labelled W = {int(W)}) is the cost model's crossover for W = {int(W)} "
                   f"workers and an ASSUMED single-core bandwidth of "
                   f"{num(min(bws))}–{num(max(bws))} GB/s: this run has no bandwidth measurement.*"), ""]
        rows = []
        for bt, f, s in pairs:
            se = ser.get(bt)
            rows.append([int(bt), num(se["tokens_per_s_median"]) if se else "n/a", num(f["tokens_per_s_median"]),
                         num(s["tokens_per_s_median"]), times(ratio(s["tokens_per_s_median"],
                                                                    f["tokens_per_s_median"])),
                         times(f["speedup_vs_serial"]), times(s["speedup_vs_serial"])])
        out += [table(["tokens per batch", "serial tokens/s", "flat tokens/s", "sphere tokens/s",
                       "sphere / flat", "flat speedup", "sphere speedup"], rows), ""]
        rs = [d[4] for d in derived if isnum(d[4])]
        noise = sweep_noise(run)
        within = isnum(noise) and rs and all(abs(r - 1) <= noise for r in rs)
        if isnum(crossover):
            lo_side = "faster" if derived[0][4] > 1 else "slower"
            out.append(f"**Measured crossover**: the ratio crosses 1 near {num(crossover)} tokens per batch "
                       f"(interpolated on a log scale); below it the sphere is {lo_side} than flat, above it "
                       f"the reverse.")
            if within:
                out.append(f"But every ratio here ({times(min(rs))}–{times(max(rs))}) lies within the "
                           f"thread sweep's median run-to-run spread ({pct(noise)}) of parity, and each size "
                           f"ran once: this crossing is not distinguishable from noise.")
        elif len(crossings) > 1:
            out.append(f"**No single crossover**: the ratio crosses 1 {len(crossings)} times (near "
                       + ", ".join(num(x) for x in crossings) + " tokens per batch), so it does not change sign once "
                       f"as batches shrink; its values range {times(min(rs))}–{times(max(rs))}.")
        elif rs and all(r < 1 for r in rs):
            out.append(f"**No crossover measured**: the sphere was slower than flat at every batch size, "
                       f"its ratio ranging {times(min(rs))}–{times(max(rs))}.")
        elif rs and all(r > 1 for r in rs):
            out.append(f"**No crossover measured**: the sphere was faster than flat at every batch size, "
                       f"its ratio ranging {times(min(rs))}–{times(max(rs))}.")
        if isnum(noise) and not (isnum(crossover) and within):
            reps = sorted({int(f["reps"]) for _, f, _ in pairs})
            out.append(f"For scale: the thread sweep's median run-to-run spread is {pct(noise)}; ratios "
                       f"within that distance of 1 are not a difference"
                       + (f", and each size here ran once, so a single ratio a little beyond it is weak "
                          f"evidence." if reps == [1] else "."))
        out.append("")

    out += ["**The cost model** (docs/DESIGN.md). Per step the flat control reads W gradients of P floats, "
            "about 4·P·W / BW₁ seconds at single-core bandwidth BW₁; each worker's batch costs about "
            "6·P·tokens / F seconds at per-core speed F. The control becomes the bottleneck when tokens "
            "per batch < W·F / (1.5·BW₁).", ""]
    if isnum(F):
        out += [f"- Model FLOPs per token (3 × forward, forward = 2·(12·D²·L + V·D) + 4·((T+1)/2)·D·L with "
                f"V={m['V']}, T={m['T']}, D={m['D']}, L={m['L']}): {num(fpt)}; parameters P = {num(m.get('params'))}, "
                f"so 6·P = {num(6 * m.get('params', float('nan')))}.",
                f"- F, estimated as FLOPs per token × {base_src} ({num(base['tokens_per_s_median'])} tokens/s): "
                f"{num(F / 1e9)} GFLOP/s per core.",
                (f"- W = {W} workers ({nthreads} threads). BW₁ = {num(bws[0])} GB/s, the single-thread read "
                 f"bandwidth `sphere-bench peak` measured at the start of this run:" if bw_measured else
                 f"- W = {W} workers ({nthreads} threads). This run has no bandwidth measurement (it predates "
                 f"`sphere-bench peak`), so the estimate is given for assumed values:"), ""]
        out += [table([f"BW₁ (GB/s, {bw_label})", f"crossover, W = {W} (tokens/batch)",
                       f"crossover, W = {run.cores} cores (tokens/batch)"],
                      [[num(bw), num(est[bw]), num(est_cores[bw])] for bw in bws]), ""]
        smallest = min(bt for bt, _, _ in pairs) if pairs else None
        top = est_cores[min(bws)]
        s = (f"The model assumes every worker has its own core. On this machine only {run.cores} threads "
             f"run at once, so the workers' combined rate is {run.cores}·F, not {W}·F, and the second column "
             f"is the estimate that applies here: at most {num(top)} tokens per batch"
             f"{'' if bw_measured else ' over the assumed range'}.")
        if smallest is not None and top < smallest:
            s += (f" That is below the smallest batch measured ({int(smallest)} tokens): the model predicts that "
                  f"the flat control's reduce never becomes the bottleneck on this machine, so a difference "
                  f"between the trainers here comes from something else (routing, scheduling, waking threads).")
        elif smallest is not None:
            s += f" The measured sweep reaches down to {int(smallest)} tokens per batch, inside that range."
        lo, hi = min(est.values()), max(est.values())
        s += (f" On a machine with a core for each of the {W} workers, the first column applies: a crossover "
              + (f"near {num(lo)} tokens per batch" if num(lo) == num(hi) else
                 f"between {num(lo)} and {num(hi)} tokens per batch")
              + (f", inside the swept range ({int(smallest)}–{int(max(bt for bt, _, _ in pairs))}), so a run "
                 f"there would test the model." if smallest is not None and lo <= max(bt for bt, _, _ in pairs)
                 and hi >= smallest else "."))
        out += [s, ""]
    else:
        out += ["*The estimate needs the model (context.json) and a serial run; not available here.*", ""]
    return out
