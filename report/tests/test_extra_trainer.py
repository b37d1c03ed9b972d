"""test_extra_trainer.py - a trainer the report has never heard of appears in every section and figure.

The committed reference run is copied and grown by two trainers (fixtures.py):
"kepler", a copy of sphere (a tree of controls with routing runs), and
"mosaic", a copy of sharded (no control thread). No file of the report names
either, so wherever they show up the report followed the run folder's
trainers rather than a list of names. Each section that speaks of trainers
must name both; the routing section the one with `route` runs; every figure
about trainers must be handed both, by its gnuplot variables or by the
derived table it draws. With gnuplot installed the figures are drawn too.
"""

from __future__ import annotations

import os
import re
import shutil
import unittest

from report.build import build_report
from report.figures import Plots
from report.runfolder import Run
from report.tests.fixtures import add_trainer, copy_reference, set_registry

NEW = {"kepler": "sphere", "mosaic": "sharded"}  # new trainer -> the trainer it copies

# Sections by the start of their heading. Exempt: "6." (the 60:1 figure is flat's
# full run alone), "8." (the core's kernels on one thread), "Across processes" (MPI).
TRAINER_SECTIONS = ("In short", "1.", "2.", "3.", "5.", "7.", "9.", "10.")
ROUTING_SECTION = "4."
# Figures: sixty (flat alone) and core (kernels) draw no trainer.
TRAINER_FIGURES = ("cpu_threads", "scaling", "batch", "loss", "timeline_sweep", "timeline_full")
CONTROL_FIGURES = ("cpu_controls",)   # trainers that have control threads: kepler
ROUTING_FIGURES = ("routing",)        # trainers that have route runs: kepler


def named(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def sections(report: str) -> dict[str, str]:
    out = {}
    for part in re.split(r"(?m)^## ", report)[1:]:
        heading = part.split("\n", 1)[0]
        out[heading] = part
    return out


def section(secs: dict[str, str], prefix: str) -> str:
    found = [t for h, t in secs.items() if h.startswith(prefix)]
    if len(found) != 1:
        raise AssertionError(f"expected one section '{prefix}...', found {len(found)} in {list(secs)}")
    return found[0]


def grown_run(registry: list[dict] | None = None) -> str:
    folder = copy_reference()
    for new, src in NEW.items():
        add_trainer(folder, src, new)
    if registry is not None:
        set_registry(folder, registry)
    return folder


class ExtraTrainer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = grown_run()
        cls.rf = Run(cls.folder)
        cls.gnuplot = shutil.which("gnuplot") is not None
        cls.plots = Plots(cls.rf, cls.gnuplot)
        cls.report = build_report(cls.rf, cls.plots)
        cls.secs = sections(cls.report)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_run_folder_lists_the_new_trainers_last(self):
        self.assertEqual(self.rf.variants[-2:], ["kepler", "mosaic"])
        self.assertEqual(len(set(self.rf.colour_of.values())), len(self.rf.colour_of))

    def test_every_trainer_section_names_them(self):
        for prefix in TRAINER_SECTIONS:
            text = section(self.secs, prefix)
            for new in NEW:
                self.assertTrue(named(new, text), f"section '{prefix}' does not name {new}")

    def test_routing_covers_the_trainer_with_route_runs(self):
        text = section(self.secs, ROUTING_SECTION)
        self.assertTrue(named("kepler", text))
        self.assertFalse(named("mosaic", text), "mosaic has no route runs")

    def test_the_copies_report_their_originals_numbers(self):
        short = section(self.secs, "In short")
        line = lambda v: next(x for x in short.split("\n") if x.startswith(f"- {v} (") and "full run" in x)
        self.assertIn("49,737 tokens/s", line("mosaic"))
        self.assertEqual(line("mosaic").replace("mosaic", "sharded"), line("sharded"))
        self.assertEqual(line("kepler").replace("kepler", "sphere"), line("sphere"))

    def test_thread_shapes_come_from_threads_csv(self):
        self.assertEqual(self.rf.describe("kepler"), "1 root, 12 level-1 controls, 51 workers")
        self.assertEqual(self.rf.describe("mosaic"), "no control thread, 64 workers")
        cpu = section(self.secs, "1.")
        self.assertIn("| kepler | level-1 controls | 12 |", cpu)
        self.assertIn("**No control at all.** The mosaic trainer's 64 threads", cpu)

    def figure_text(self, name: str) -> str:
        """What a figure is handed: its string variables and the derived tables it reads."""
        jobs = [j for j in self.plots.jobs if j[1] == name]
        self.assertEqual(len(jobs), 1, f"figure {name}")
        _, _, variables = jobs[0]
        text = " ".join(str(v) for v in variables.values())
        for v in variables.values():
            if isinstance(v, str) and v.startswith("plots/") and v[len("plots/"):] in self.plots.derived:
                header, rows = self.plots.derived[v[len("plots/"):]]
                text += " " + " ".join(header) + " " + " ".join(str(c) for r in rows for c in r)
        return text

    def test_every_trainer_figure_is_handed_them(self):
        for fig in TRAINER_FIGURES:
            for new in NEW:
                self.assertTrue(named(new, self.figure_text(fig)), f"figure {fig} is not handed {new}")
        for fig in CONTROL_FIGURES + ROUTING_FIGURES:
            self.assertTrue(named("kepler", self.figure_text(fig)), f"figure {fig} is not handed kepler")

    def test_figures_colour_every_trainer(self):
        for script, name, v in self.plots.jobs:
            if "colours" in v:
                names = v.get("variants") or v.get("trainers")
                self.assertEqual(len(v["colours"].split()), len(names.split()), name)

    def test_figures_draw(self):
        if not self.gnuplot:
            self.skipTest("gnuplot is not installed: the figures' data is checked above, not their drawing")
        self.plots.render()
        for _, name, _ in self.plots.jobs:
            for fmt in ("png", "svg"):
                p = os.path.join(self.folder, "plots", f"{name}.{fmt}")
                self.assertTrue(os.path.getsize(p) > 0, p)


class RegistryList(unittest.TestCase):
    """When context.json carries the registry's list, its order and summaries are the report's."""

    def test_order_and_summaries_come_from_context(self):
        registry = [{"name": n, "summary": f"the {n} trainer's one line", "min_threads": 2, "routes": r}
                    for n, r in (("serial", []), ("flat", []), ("mosaic", []), ("sphere", ["symmetry", "round-robin", "steal"]),
                                 ("kepler", ["symmetry", "round-robin", "steal"]), ("sharded", []))]
        folder = grown_run(registry)
        try:
            run = Run(folder)
            self.assertEqual(run.variants, ["flat", "mosaic", "sphere", "kepler", "sharded"])
            report = build_report(run, Plots(run, False))
            self.assertIn("- **mosaic**: the mosaic trainer's one line", report)
            cpu = section(sections(report), "1.")
            self.assertLess(cpu.index("| mosaic |"), cpu.index("| sphere |"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
