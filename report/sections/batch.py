"""Section 3: the trainers against tokens per batch, the measured crossover and the cost model.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from ..fmt import UNRESOLVED, ci_text, interval, isnum, not_measured, num, ratio, table, times, verdict
from ..costmodel import bw1_values, find_crossovers, model_flops_per_token, sweep_noise


def section_batch(run, plots):
    """3. sphere/flat against tokens per batch; measured crossover and the cost model."""
    out = ["## 3. Tokens per batch: does the tree win when batches are small?", ""]
    flat = sorted((c for c in run.configs if c["kind"] == "batch" and c["variant"] == "flat"),
                  key=lambda c: c["batch_tokens"])
    sph = {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == "sphere"}
    ser = {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == "serial"}
    shd = {c["batch_tokens"]: c for c in run.configs if c["kind"] == "batch" and c["variant"] == "sharded"}
    m = run.context.get("model", {})
    # the model's own batch size is the thread sweep's run at the same threads
    # (same tokens per run, same repetitions), so the bench does not run it twice
    own, from_sweep = m.get("B", 0) * m.get("T", 0), None
    if flat and own and all(c["batch_tokens"] != own for c in flat):
        t = int(flat[0]["threads"])
        sw = {v: run.config("sweep", v, threads=t) for v in ("flat", "sphere", "sharded")}
        if sw["flat"] and sw["sphere"] and sw["flat"]["batch_tokens"] == own:
            from_sweep = t
            flat = sorted(flat + [sw["flat"]], key=lambda c: c["batch_tokens"])
            sph[own] = sw["sphere"]
            if sw["sharded"]:
                shd[own] = sw["sharded"]
            if run.config("sweep", "serial", threads=1):
                ser[own] = run.config("sweep", "serial", threads=1)
    pairs = [(c["batch_tokens"], c, sph[c["batch_tokens"]]) for c in flat if c["batch_tokens"] in sph]

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
        nan = float("nan")
        derived = [[bt, ser[bt]["tokens_per_s_median"] if bt in ser else nan, f["tokens_per_s_median"],
                    s["tokens_per_s_median"], ratio(s["tokens_per_s_median"], f["tokens_per_s_median"]),
                    shd[bt]["tokens_per_s_median"] if bt in shd else nan,
                    ratio(shd[bt]["tokens_per_s_median"], f["tokens_per_s_median"]) if bt in shd else nan]
                   for bt, f, s in pairs]
        sharded = any(bt in shd for bt, _, _ in pairs)
        ratios = [d[4] for d in derived] + ([d[6] for d in derived] if sharded else [])
        crossings = find_crossovers([(d[0], d[4]) for d in derived])
        crossover = crossings[0] if len(crossings) == 1 else float("nan")
        table_path = plots.derive("batch.csv", ["batch_tokens", "serial_tokens_per_s", "flat_tokens_per_s",
                                                "sphere_tokens_per_s", "sphere_over_flat", "sharded_tokens_per_s",
                                                "sharded_over_flat"], derived)
        xs = [d[0] for d in derived] + ([min(est.values()), max(est.values())] if isnum(F) else [])
        out.append(plots.add("batch.gp", "batch", runs="runs.csv", table=table_path, nthreads=nthreads,
                             xlo=min(xs) / 1.4, xhi=max(xs) * 1.4,
                             mlo=derived[0][0] / 1.4, mhi=derived[-1][0] * 1.4,
                             trainers="serial flat sphere" + (" sharded" if sharded else ""),
                             ylo=min([0.8] + [r - 0.05 for r in ratios if isnum(r)]),
                             yhi=max([1.2] + [r + 0.05 for r in ratios if isnum(r)]) + 0.15,
                             noise=sweep_noise(run),
                             est_lo=min(est.values()), est_hi=max(est.values()),
                             bw_lo=min(bws), bw_hi=max(bws), bw_label=bw_label, crossover=crossover,
                             workers=int(W)))
        reps = int(pairs[0][1]["reps"])
        out += ["", f"*The same tokens cut into more, smaller batches; "
                + ("flat, sphere and sharded" if sharded else "flat and sphere") + f" at {nthreads} threads, "
                f"serial at 1, {reps} repetition(s) per size, on {run.machine}. The ratio comes from "
                f"`plots/batch.csv`, derived from summary.json. "
                + (f"The {own}-token point (the model's own batch) is the thread sweep's run at {from_sweep} "
                   f"threads, over the same tokens, so its repetitions are drawn only as the median. "
                   if from_sweep else "")
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
            se, sh = ser.get(bt), shd.get(bt)
            row = [int(bt), num(se["tokens_per_s_median"]) if se else "n/a", num(f["tokens_per_s_median"]),
                   num(s["tokens_per_s_median"]), times(ratio(s["tokens_per_s_median"], f["tokens_per_s_median"])),
                   ci_text(interval(s, "ratio_vs_flat"), times), verdict(interval(s, "ratio_vs_flat")) or "n/a",
                   times(f["speedup_vs_serial"]), times(s["speedup_vs_serial"])]
            if sharded:
                row += [num(sh["tokens_per_s_median"]) if sh else "n/a",
                        times(ratio(sh["tokens_per_s_median"], f["tokens_per_s_median"])) if sh else "n/a",
                        ci_text(interval(sh, "ratio_vs_flat"), times) if sh else "n/a",
                        (verdict(interval(sh, "ratio_vs_flat")) or "n/a") if sh else "n/a",
                        times(sh["speedup_vs_serial"]) if sh else "n/a"]
            rows.append(row)
        out += [table(["tokens per batch", "serial tokens/s", "flat tokens/s", "sphere tokens/s",
                       "sphere / flat", "95 % interval", "verdict", "flat speedup", "sphere speedup"]
                      + (["sharded tokens/s", "sharded / flat", "95 % interval", "verdict", "sharded speedup"]
                         if sharded else []), rows), ""]
        rs = [d[4] for d in derived if isnum(d[4])]
        vs = {int(bt): verdict(interval(sp, "ratio_vs_flat")) for bt, _, sp in pairs}
        if isnum(crossover):
            out.append(f"**Crossover of the medians**: the median ratio crosses 1 near {num(crossover)} tokens per "
                       f"batch (interpolated on a log scale).")
        elif len(crossings) > 1:
            out.append(f"**No single crossover**: the median ratio crosses 1 {len(crossings)} times (near "
                       + ", ".join(num(x) for x in crossings) + " tokens per batch), so it does not change sign once "
                       f"as batches shrink; its values range {times(min(rs))}–{times(max(rs))}.")
        elif rs:
            out.append(f"**No crossover of the medians** in the measured range: the ratio ranges "
                       f"{times(min(rs))}–{times(max(rs))}.")
        resolved = {bt: v for bt, v in vs.items() if v in ("faster", "slower")}
        if all(v is None for v in vs.values()):
            out.append("These ratios have no 95 % interval (one repetition per size, or a run folder written "
                       "before intervals existed), so no size gives a verdict.")
        elif not resolved:
            out.append(f"At every size the ratio's 95 % interval contains 1: {UNRESOLVED}.")
        else:
            out.append("Resolved by the 95 % interval: " + "; ".join(
                f"the sphere is {v} at {bt} tokens per batch" for bt, v in sorted(resolved.items()))
                + (f"; at the other sizes, {UNRESOLVED}." if len(resolved) < len(vs) else "."))
        if sharded:
            hv = {int(bt): verdict(interval(shd[bt], "ratio_vs_flat")) for bt, _, _ in pairs if bt in shd}
            hres = {bt: v for bt, v in hv.items() if v in ("faster", "slower")}
            out.append("sharded against flat, by the same rule: "
                       + ("; ".join(f"{v} at {bt} tokens per batch" for bt, v in sorted(hres.items()))
                          + (f"; at the other sizes, {UNRESOLVED}." if len(hres) < len(hv) else ".")
                          if hres else
                          "no size gives a verdict (no interval)." if all(v is None for v in hv.values()) else
                          f"at every size the interval contains 1: {UNRESOLVED}."))
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
        out += trainer_crossovers(run, F, W, bws[0] if bw_measured else float("nan"))
    else:
        out += ["*The estimate needs the model (context.json) and a serial run; not available here.*", ""]
    return out


def trainer_crossovers(run, F, W, bw1):
    """The cost model's term for each trainer: what is read to reduce a step's W
    gradients, by whom, and the tokens per batch below which that read takes
    longer than the step's compute."""
    bw_all = (run.context.get("peak") or {}).get("read_gbs_all")
    out = ["**Each trainer's reduce in the same model.** Per step W gradients of P floats (4·P·W bytes) are "
           "read; what differs is who reads them:", "",
           "- flat: the control thread reads all of them at single-core bandwidth BW₁ (above).",
           "- sphere: with batches spread evenly, the root reads at most 12 sums while each level-1 control reads "
           "about W/12 gradients, all at once, so the busiest control reads max(12, W/12) buffers: the "
           "control side falls behind when tokens per batch < max(12, W/12)·F / (1.5·BW₁). Symmetry routing, "
           "which sends most batches to one level-1 control (section 4), brings back flat's W.",
           "- sharded: no control; every thread reads its 1/W slice of every gradient, so the same 4·P·W bytes "
           "are read at the machine's whole bandwidth BW_all, in parallel with nothing else to wait for: the "
           "reduce takes longer than the compute when tokens per batch < W·F / (1.5·BW_all).", ""]
    if not (isnum(bw1) and isnum(bw_all) and isnum(F)):
        return out + ["*The crossovers need the single-core and all-core read bandwidths `sphere-bench peak` "
                      "measures; this run has no such measurement.*", ""]
    c = run.cores
    fan = max(12.0, W / 12.0)
    rows = [["flat", "1 thread, W buffers", num(W * F / (1.5 * bw1 * 1e9)), num(c * F / (1.5 * bw1 * 1e9))],
            ["sphere (even routing)", f"busiest control, max(12, W/12) = {num(fan)} buffers",
             num(fan * F / (1.5 * bw1 * 1e9)), num(fan * c * F / (1.5 * W * bw1 * 1e9))],
            ["sharded", "every thread, 1/W of W buffers", num(W * F / (1.5 * bw_all * 1e9)),
             num(c * F / (1.5 * bw_all * 1e9))]]
    out += [table(["trainer", "who reads", f"crossover, W = {W} cores (tokens/batch)",
                   f"crossover, {c} cores (tokens/batch)"], rows, left=2), ""]
    out += [f"BW₁ = {num(bw1)} GB/s and BW_all = {num(bw_all)} GB/s, both measured by `sphere-bench peak` in this "
            f"run. With {c} cores the workers' combined rate is {c}·F, which is why the last column scales the "
            f"compute side by {c}/W for sphere and replaces W by {c} for flat and sharded. BW_all is this "
            f"machine's; a machine with a core per worker has more, so sharded's figure in the W column is an "
            f"upper bound.", ""]
    return out
