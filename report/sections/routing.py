"""Section 4: the sphere's routing policies and how evenly each spreads the batches.

Part of the report package (report/__init__.py); build.py assembles the sections.
"""

from ..fmt import ci_text, interval, not_measured, num, pct, ratio, span, table, times


def section_routing(run, plots):
    """4. Batches per level-1 sphere under each routing policy."""
    out = ["## 4. Routing balance", ""]
    rr = run.runs_of("route", "sphere")
    if not rr or not run.groups:
        return out + [not_measured("the routing runs (kind `route`)"), ""]
    policies = []
    for r in rr:
        if r["route"] not in policies:
            policies.append(r["route"])
    nthreads = int(rr[0]["threads"])
    rep = int(min(r["rep"] for r in rr))
    out.append(plots.add("routing.gp", "routing", file="groups.csv", policies=" ".join(policies),
                         nthreads=nthreads, rep=rep))
    out += ["", f"*Batches computed by each level-1 sphere (the 12 children of the root, one per symmetry "
            f"group), sphere at {nthreads} threads under each routing policy, on {run.machine}.*", ""]
    rows = []
    notes = []
    for p in policies:
        g = [x for x in run.groups if x["kind"] == "route" and x["route"] == p and x["threads"] == nthreads
             and x["rep"] == rep]
        b = [x["batches"] for x in g]
        tot = sum(b)
        c = run.config("route", "sphere", route=p)
        used = sum(1 for x in b if x > 0)
        top = max(g, key=lambda x: x["batches"]) if g else None
        rows.append([p, num(c["tokens_per_s_median"]) if c else "n/a",
                     times(c["ratio_vs_flat"]) if c else "n/a", ci_text(interval(c, "ratio_vs_flat"), times),
                     f"{used} of {len(b)}", span(int(min(b)), int(max(b)), str) if b else "n/a",
                     times(ratio(max(b), tot / len(b))) if b and tot else "n/a",
                     times(c["imbalance"]) if c else "n/a", pct(c["utilisation"], 0) if c else "n/a"])
        if top and tot:
            busy, nw = run.busy_workers("route", "sphere", nthreads, route=p)
            notes.append(f"- {p}: busiest sphere {int(top['group'])} with {int(top['batches'])} of {int(tot)} "
                         f"batches ({pct(top['batches'] / tot, 0)})"
                         + (f"; {busy} of {nw} workers computed at least one batch." if nw else "."))
    out += [table(["policy", "tokens/s", "vs flat", "95 % interval", "spheres used", "batches per sphere", "busiest / mean sphere",
                   "worker imbalance (max/mean CPU)", "utilisation"], rows), ""]
    out += ["'vs flat' divides by flat's median in the thread sweep at the same thread count and batch count.",
            ""] + notes + [""]
    sym = run.config("route", "sphere", route="symmetry")
    others = [run.config("route", "sphere", route=p) for p in policies if p != "symmetry"]
    others = [c for c in others if c]
    if sym and others:
        best = max(others, key=lambda c: c["tokens_per_s_median"])
        g = [x["batches"] for x in run.groups if x["kind"] == "route" and x["route"] == "symmetry"
             and x["threads"] == nthreads and x["rep"] == rep]
        used = sum(1 for x in g if x > 0)
        busy, nw = run.busy_workers("route", "sphere", nthreads, route="symmetry")
        txt = (f"The original's symmetry policy sends each batch to the sphere of its dominant `id % 12` group; "
               f"the most frequent words dominate almost every batch, so only {used} of {len(g)} spheres "
               f"received batches. "
               + "".join(f"`{p}` used {sum(1 for x in route_groups(run, p) if x > 0)} of "
                         f"{len(route_groups(run, p))}. " for p in policies if p != "symmetry")
               + f"`{best['route']}` ran at "
               f"{times(ratio(best['tokens_per_s_median'], sym['tokens_per_s_median']))} the symmetry "
               f"policy's throughput")
        if busy is not None and busy >= run.cores:
            txt += (f": on this machine the balance cannot show in throughput, because even under symmetry "
                    f"{busy} workers had batches, enough to keep all {run.cores} cores busy. The worker "
                    f"imbalance column is what a machine with a core per thread would pay: under symmetry "
                    f"the busiest worker did {times(sym['imbalance'])} the mean worker's CPU work.")
        else:
            txt += "."
        out += [txt, ""]
    return out


def route_groups(run, policy):
    """Batches per level-1 sphere under a routing policy, first repetition; [] if absent."""
    rows = [x for x in run.groups if x["kind"] == "route" and x["route"] == policy]
    if not rows:
        return []
    rep0 = min(x["rep"] for x in rows)
    return [x["batches"] for x in rows if x["rep"] == rep0]


def sym_top_share(run):
    """Share of the batches that the busiest level-1 sphere got under symmetry routing."""
    first = [x for x in run.groups if x["kind"] == "route" and x["route"] == "symmetry"]
    if not first:
        return float("nan")
    rep0 = min(x["rep"] for x in first)
    g = [x["batches"] for x in first if x["rep"] == rep0]
    return ratio(max(g), sum(g))
