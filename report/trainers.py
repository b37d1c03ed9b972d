"""trainers.py - what a run folder says about each trainer: its order, summary, routes and threads' roles.

Part of the report package (report/__init__.py). The report names no trainer
but two: "flat", the baseline of every ratio, and "serial", the speedup's
baseline. Everything else it says of a trainer comes from here, read from the
run folder: the registry's list in context.json (`"trainers": [{"name",
"summary", "min_threads", "routes"}, ...]`, in the C registry's order) when
the bench wrote one, else the runs themselves (order of appearance in
runs.csv, routes from the `route` runs), and the shape of its threads (how
many controls at each level, how many workers) from threads.csv's roles and
levels. A shape is what the prose and the cost model reason about: one
control, a tree of controls, or no control at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

BASELINE = "flat"   # every "X / flat" ratio divides by it
SERIAL = "serial"   # the speedup's baseline, one thread


@dataclass
class Shape:
    """A trainer's threads in one run: controls per level (level 0 the root) and workers."""
    threads: int = 0
    controls: dict[int, int] = field(default_factory=dict)
    workers: int = 0

    @property
    def n_controls(self) -> int:
        return sum(self.controls.values())

    @property
    def is_tree(self) -> bool:
        """Controls below the root: a hierarchy."""
        return any(level > 0 for level in self.controls)

    @property
    def has_control(self) -> bool:
        return self.n_controls > 0

    def root_label(self) -> str:
        """What the level-0 control is called: "root" atop a tree, else "control"."""
        return "root" if self.is_tree else "control"

    def fanout(self) -> int:
        """Children of the root that are controls (the level-1 controls); 0 when not a tree."""
        return self.controls.get(1, 0)

    def counts(self) -> str:
        """How many threads of each kind, briefly: "1 root, 12 level-1 controls, 51 workers"."""
        parts = []
        for level in sorted(self.controls):
            n = self.controls[level]
            what = (self.root_label() if level == 0 else f"level-{level} control") + ("s" if n > 1 else "")
            parts.append(f"{n} {what}")
        if not self.has_control:
            parts.append("no control thread")
        return ", ".join(parts + [f"{self.workers} worker{'s' if self.workers != 1 else ''}"])

    def layout(self) -> str:
        """Which thread is what, for a figure's title: threads are numbered roots first (tree order)."""
        if not self.has_control:
            return f"no control thread; {_threads(0, self.workers)} are all workers"
        parts, first = [], 0
        for level in sorted(self.controls):
            n = self.controls[level]
            what = (self.root_label() if level == 0 and n == 1 else
                    f"level-{level} control{'s' if n > 1 else ''}" if level > 0 else "controls")
            parts.append(f"{_threads(first, n)} {'is' if n == 1 else 'are'} the {what}")
            first += n
        if self.workers:
            parts.append(f"{_threads(first, self.workers)} {'is a worker' if self.workers == 1 else 'are workers'}")
        return ", ".join(parts)


def _threads(first: int, n: int) -> str:
    return f"thread {first}" if n == 1 else f"threads {first}–{first + n - 1}"


@dataclass
class Trainer:
    name: str
    summary: Optional[str] = None       # the registry's one line, when context.json carries it
    min_threads: Optional[int] = None
    routes: list[str] = field(default_factory=list)  # its routing policies, its default first

    @property
    def default_route(self) -> Optional[str]:
        return self.routes[0] if self.routes else None


def registry_order(context: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    """Every trainer of the run folder's runs (serial included), in the registry's order when
    context.json lists it, else in order of appearance in runs.csv (the bench runs them in it)."""
    seen: list[str] = []
    for r in runs:
        if r["variant"] not in seen:
            seen.append(r["variant"])
    listed = [t.get("name") for t in context.get("trainers") or [] if isinstance(t, dict)]
    return [n for n in listed if n in seen] + [n for n in seen if n not in listed]


def load_trainers(context: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Trainer]:
    """{name: Trainer} for every trainer of the runs, in registry order."""
    listed = {t.get("name"): t for t in context.get("trainers") or [] if isinstance(t, dict)}
    out: dict[str, Trainer] = {}
    for name in registry_order(context, runs):
        t = listed.get(name)
        if t is not None:
            out[name] = Trainer(name, t.get("summary"), t.get("min_threads"), list(t.get("routes") or []))
            continue
        routes: list[str] = []
        for r in runs:
            if r["kind"] == "route" and r["variant"] == name and r["route"] not in routes:
                routes.append(r["route"])
        out[name] = Trainer(name, routes=routes)
    return out


def shape_of(threads_rows: list[dict[str, Any]]) -> Shape:
    """The shape of one run's threads (rows of threads.csv for one kind, trainer, threads, rep)."""
    s = Shape(threads=len(threads_rows))
    for r in threads_rows:
        if r.get("role") == "control":
            level = int(r["level"]) if isinstance(r.get("level"), float) else 0
            s.controls[level] = s.controls.get(level, 0) + 1
        elif r.get("role") == "worker":
            s.workers += 1
    return s
