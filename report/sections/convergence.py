"""Section 5: the loss against tokens seen, and the corpus's entropy floor.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from __future__ import annotations

import math
from typing import Any

from ..figures import Plots
from ..fmt import isnum, not_measured, num, table
from ..runfolder import Run
from ..trainers import BASELINE


def time_to_target(run: Run, variants: list[str], curves: dict[str, list[dict[str, Any]]], floor: Any) -> list[str]:
    """Each trainer's time to the target loss beside its tokens/s (MLPerf-style), from runs.csv."""
    fulls = {v: run.full_run(v)[2] for v in variants}
    target = next((r.get("target_loss") for r in fulls.values() if isnum(r.get("target_loss"))), None)
    fr = run.context.get("options", {}).get("full_runs", {})
    if not isnum(target):
        return ["*The full runs of this folder had no target loss (a bench before time-to-target, or "
                "--target-margin 0): they trained over every batch at a constant rate.*", ""]
    rows = []
    for v in variants:
        r = fulls[v]
        c = curves[v]
        reached = isnum(r.get("time_to_target_s"))
        rows.append([v, num(r["tokens_per_s"]), len(c), num(r["tokens"]),
                     num(r["time_to_target_s"], 1) if reached else "not reached",
                     num(c[-1]["loss"], 4) if c else "n/a"])
    margin = target - floor if isnum(floor) else float("nan")
    out = [f"**Time to target.** The full runs train in steps of {fr.get('batches_per_step', '?')} batches with a "
           f"{fr.get('schedule', 'cosine')} schedule (peak rate "
           f"{num(fr.get('lr'))}, {fr.get('warmup_steps', '?')} warm-up steps, decay to "
           f"{num(fr.get('lr_floor'))} of the peak at the epoch's end, gradients clipped to global norm "
           f"{num(fr.get('clip_norm'))}) and stop at the first step whose mean loss is at or below the target, "
           f"{num(target, 4)} nats (the entropy floor + {num(margin, 2)}), or at the end of the epoch. Every "
           f"batch is seen once, so each step's loss is measured on text the model has not trained on. "
           f"Time to target is the run's wall time when it stopped there.", "",
           table(["trainer", "tokens/s", "steps", "tokens", "time to target (s)", "final loss"], rows), ""]
    return out


def same_model_lines(curves: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Each trainer's loss curve against flat's, step by step: identical, or how far apart."""
    fl = {r["step"]: r["loss"] for r in curves.get(BASELINE) or []}
    out = []
    for v, c in curves.items():
        diffs = [abs(r["loss"] - fl[r["step"]]) for r in c if r["step"] in fl]
        if v == BASELINE or not diffs:
            continue
        d = max(diffs)
        if d == 0:
            out.append(f"{BASELINE.capitalize()} and {v} train the same model: their losses are identical (as "
                       f"written, 6 decimals) at all {len(diffs)} common steps.")
        else:
            out.append(f"{BASELINE.capitalize()} and {v} train the same model up to the order of float sums: over "
                       f"{len(diffs)} common steps their losses differ by at most {num(d, 2)} nats.")
    return out


Curves = dict[str, list[dict[str, Any]]]


def curves_of(run: Run, variants: list[str]) -> Curves:
    """Each trainer's loss.csv rows of its full run's first repetition."""
    curves = {}
    for v in variants:
        t, rp, _ = run.full_run(v)
        curves[v] = [r for r in run.loss if r["kind"] == "full" and r["variant"] == v
                     and r["threads"] == t and r["rep"] == rp]
    return curves


def loss_figure(run: Run, plots: Plots, variants: list[str], floor: Any) -> list[str]:
    nthreads, rep, _ = run.full_run(variants[0])
    fig = plots.add("loss.gp", "loss", file="loss.csv", variants=" ".join(variants), colours=run.colours(variants),
                    nthreads=nthreads, rep=rep, floor=floor if isnum(floor) else float("nan"),
                    target=next((r["target_loss"] for r in run.runs_of("full") if isnum(r.get("target_loss"))),
                                float("nan")))
    return [fig, "", f"*Training loss per optimizer step against tokens seen, full runs at {nthreads} threads, "
            f"on {run.machine}; the dashed line is the corpus's entropy rate, the lowest loss any model "
            f"can reach, and the dotted one, where drawn, the full runs' target loss.*", ""]


def loss_table(curves: Curves, floor: Any) -> list[str]:
    rows = []
    for v, c in curves.items():
        rows.append([v, len(c), num(c[-1]["tokens"]), num(c[0]["loss"], 4), num(c[-1]["loss"], 4),
                     num(c[-1]["loss"] - floor, 3) if isnum(floor) else "n/a"] if c else [v] + ["n/a"] * 5)
    return [table(["trainer", "steps", "tokens", "first loss", "final loss", "final - entropy floor (nats)"],
                  rows), ""]


def floor_line(run: Run, floor: Any) -> list[str]:
    V = run.context.get("model", {}).get("V")
    return [f"A model that knows nothing scores ln V = {num(math.log(V), 4)} nats (V = {V}); the "
            f"corpus's entropy rate is {num(floor, 4)} nats per token."] if V else []


def sample_lines(run: Run) -> list[str]:
    """samples.txt as written, and whether the trainers' models generate the same text."""
    out = ["**Text from the trained models** (`samples.txt`):", ""]
    if run.samples is None:
        return out + ["*samples.txt is absent from this run folder (benches older than the one that samples its "
                      "trained models did not write it): no generated text to show.*", ""]
    text = run.samples.rstrip("\n").replace("```", "'''")
    out += ["```text", text, "```", ""]
    blocks, cur = [], None
    for line in text.split("\n"):
        if line.startswith("#"):
            cur = [line.split(",")[0].lstrip("# ").strip(), []]
            blocks.append(cur)
        elif cur is not None:
            cur[1].append(line)
    if len(blocks) > 1:
        same = all(b[1] == blocks[0][1] for b in blocks[1:])
        names = [b[0] for b in blocks]
        out += [f"The models of {', '.join(names[:-1])} and {names[-1]} "
                + ("generate the same text from the same prompts and seeds." if same
                   else "generate different text from the same prompts and seeds."), ""]
    return out


def section_convergence(run: Run, plots: Plots) -> list[str]:
    """5. Loss against tokens for each full run, with the entropy floor; samples."""
    out = ["## 5. Convergence", ""]
    floor = run.context.get("dataset", {}).get("entropy_nats_per_token")
    variants = [v for v in run.variants if run.full_run(v)]
    curves = curves_of(run, variants)
    if not variants or not any(curves.values()):
        out += [not_measured("loss curves of full runs"), ""]
    else:
        out += loss_figure(run, plots, variants, floor) + loss_table(curves, floor)
        out += time_to_target(run, variants, curves, floor)
        out += floor_line(run, floor) + same_model_lines(curves) + [""]
    return out + sample_lines(run)
