"""Section 4: each routing trainer's policies and how evenly each spreads the batches.

Part of the report package (report/__init__.py); build.py assembles the sections.
Every trainer with `route` runs (those whose registry entry names routing
policies, today the sphere) gets a panel of the figure, its rows of the table
and its notes; groups.csv gives the batches each level-1 control's subtree
computed. A policy is compared with the trainer's default one (its first, as
summary.json's ratio_vs_symmetry is) and with flat's thread-sweep median.
"""

from __future__ import annotations

from typing import Any, Optional

from ..figures import Plots
from ..fmt import ci_text, interval, not_measured, num, pct, ratio, span, table, times
from ..runfolder import Run

# What a policy does, where its name alone does not say (docs/DESIGN.md, the sphere).
ROUTE_NOTES = {"symmetry": "sends each batch to the level-1 control of its dominant `id % 12` group; the most "
                           "frequent words dominate almost every batch, so"}


def route_groups(run: Run, variant: str, policy: Optional[str]) -> list[float]:
    """Batches per level-1 group of a trainer under a routing policy, first repetition; [] if absent."""
    rows = [x for x in run.groups if x["kind"] == "route" and x["variant"] == variant and x["route"] == policy]
    if not rows:
        return []
    rep0 = min(x["rep"] for x in rows)
    return [x["batches"] for x in rows if x["rep"] == rep0]


def top_share(run: Run, variant: str, policy: Optional[str]) -> float:
    """Share of the batches that the busiest level-1 group got under a policy."""
    g = route_groups(run, variant, policy)
    return ratio(max(g), sum(g)) if g else float("nan")


def policies_of(run: Run, v: str) -> list[str]:
    out: list[str] = []
    for r in run.runs_of("route", v):
        if r["route"] not in out:
            out.append(r["route"])
    return out


def policy_row(run: Run, v: str, p: str, nthreads: int, rep: int) -> tuple[list[Any], Optional[str]]:
    """The table row of one policy and its note on the busiest group."""
    g = [x for x in run.groups if x["kind"] == "route" and x["variant"] == v and x["route"] == p
         and x["threads"] == nthreads and x["rep"] == rep]
    b = [x["batches"] for x in g]
    tot = sum(b)
    c = run.config("route", v, route=p)
    used = sum(1 for x in b if x > 0)
    row = [v, p, num(c["tokens_per_s_median"]) if c else "n/a",
           times(c["ratio_vs_flat"]) if c else "n/a", ci_text(interval(c, "ratio_vs_flat"), times),
           f"{used} of {len(b)}", span(int(min(b)), int(max(b)), str) if b else "n/a",
           times(ratio(max(b), tot / len(b))) if b and tot else "n/a",
           times(c["imbalance"]) if c else "n/a", pct(c["utilisation"], 0) if c else "n/a"]
    if not (g and tot):
        return row, None
    top = max(g, key=lambda x: x["batches"])
    busy, nw = run.busy_workers("route", v, nthreads, route=p)
    return row, (f"- {v}, {p}: busiest level-1 group {int(top['group'])} with {int(top['batches'])} of {int(tot)} "
                 f"batches ({pct(top['batches'] / tot, 0)})"
                 + (f"; {busy} of {nw} workers computed at least one batch." if nw else "."))


def balance_paragraph(run: Run, v: str, policies: list[str], nthreads: int) -> list[str]:
    """The default policy against the others: groups used, the best one's throughput, what it means here."""
    default = run.trainers[v].default_route or policies[0]
    base = run.config("route", v, route=default)
    others = [c for c in (run.config("route", v, route=p) for p in policies if p != default) if c]
    if not (base and others):
        return []
    best = max(others, key=lambda c: c["tokens_per_s_median"])
    g = route_groups(run, v, default)
    used = sum(1 for x in g if x > 0)
    busy, nw = run.busy_workers("route", v, nthreads, route=default)
    why = ROUTE_NOTES.get(default)
    txt = (f"The default policy of {v}, {default}, " + (f"{why} only" if why else "let only")
           + f" {used} of {len(g)} level-1 groups receive batches. "
           + "".join(f"`{p}` used {sum(1 for x in route_groups(run, v, p) if x > 0)} of "
                     f"{len(route_groups(run, v, p))}. " for p in policies if p != default)
           + f"`{best['route']}` ran at {times(ratio(best['tokens_per_s_median'], base['tokens_per_s_median']))} "
           f"the {default} policy's throughput")
    if busy is not None and busy >= run.cores:
        txt += (f": on this machine the balance cannot show in throughput, because even under {default} "
                f"{busy} workers had batches, enough to keep all {run.cores} cores busy. The worker "
                f"imbalance column is what a machine with a core per thread would pay: under {default} "
                f"the busiest worker did {times(base['imbalance'])} the mean worker's CPU work.")
    else:
        txt += "."
    return [txt, ""]


def section_routing(run: Run, plots: Plots) -> list[str]:
    """4. Batches per level-1 group under each routing policy, for every trainer that routes."""
    out = ["## 4. Routing balance", ""]
    routed = run.routed()
    if not routed or not run.groups:
        return out + [not_measured("the routing runs (kind `route`)"), ""]
    firsts = {v: run.runs_of("route", v) for v in routed}
    setup = {v: (int(rs[0]["threads"]), int(min(r["rep"] for r in rs))) for v, rs in firsts.items()}
    pols = {v: policies_of(run, v) for v in routed}
    out.append(plots.add("routing.gp", "routing", file="groups.csv", variants=" ".join(routed),
                         **{f"policies_{i + 1}": " ".join(pols[v]) for i, v in enumerate(routed)},
                         **{f"nthreads_{i + 1}": setup[v][0] for i, v in enumerate(routed)},
                         **{f"rep_{i + 1}": setup[v][1] for i, v in enumerate(routed)}))
    groups = {v: len(route_groups(run, v, pols[v][0])) for v in routed}
    out += ["", "*Batches computed by each level-1 group (the subtree of each of the root's level-1 controls), "
            + "; ".join(f"{v} at {setup[v][0]} threads ({groups[v]} groups)" for v in routed)
            + f", under each routing policy, on {run.machine}.*", ""]
    rows, notes = [], []
    for v in routed:
        for p in pols[v]:
            row, note = policy_row(run, v, p, *setup[v])
            rows.append(row)
            notes += [note] if note else []
    out += [table(["trainer", "policy", "tokens/s", "vs flat", "95 % interval", "groups used", "batches per group",
                   "busiest / mean group", "worker imbalance (max/mean CPU)", "utilisation"], rows, left=2), ""]
    out += ["'vs flat' divides by flat's median in the thread sweep at the same thread count and batch count.",
            ""] + notes + [""]
    for v in routed:
        out += balance_paragraph(run, v, pols[v], setup[v][0])
    return out
