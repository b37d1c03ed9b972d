"""test_runfolder.py - loading a run folder (report/runfolder.py) and what it says of its trainers
(report/trainers.py), on small synthetic folders."""

import csv
import json
import math
import os
import shutil
import tempfile
import unittest

from report.runfolder import ReportError, Run, read_csv
from report.trainers import shape_of

RUN_COLS = ["kind", "variant", "route", "threads", "rep", "batch_tokens", "tokens_per_s", "tokens", "wall_s",
            "process_cpu_s", "threads_cpu_s", "control_cpu_s", "mean_worker_cpu_s", "workers", "run_id"]
RUN_EXTRA = [128, 1.0, 1.0, 1.0, 0.0, 1.0, 1]  # the columns after tokens_per_s that every runs.csv has
THREAD_COLS = ["kind", "variant", "route", "threads", "rep", "batch_tokens", "thread", "role", "level", "cpu_s",
               "batches", "cycles", "cycles_status", "run_id"]


def write_csv(path, cols, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)


class Folder(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="report-runfolder-")
        self.addCleanup(shutil.rmtree, self.d, True)

    def make(self, run_id="r1", context=None, runs=None, threads=None, summary_id=None):
        ctx = {"run_id": run_id, "cores": 4, "cpu_model": "Test CPU", "hostname": "h"}
        ctx.update(context or {})
        with open(os.path.join(self.d, "context.json"), "w") as f:
            json.dump(ctx, f)
        with open(os.path.join(self.d, "summary.json"), "w") as f:
            json.dump({"run_id": summary_id or run_id, "configurations": [
                {"kind": "sweep", "variant": "flat", "route": "none", "threads": 2, "batch_tokens": 64, "reps": 1,
                 "tokens_per_s_median": None}]}, f)
        write_csv(os.path.join(self.d, "runs.csv"), RUN_COLS, [r[:-1] + RUN_EXTRA + r[-1:] for r in (
            runs if runs is not None else [
                ["sweep", "serial", "none", 1, 1, 64, 10.0, run_id],
                ["sweep", "flat", "none", 2, 1, 64, 18.0, run_id],
                ["route", "tree", "rr", 8, 1, 64, 17.0, run_id],
                ["route", "tree", "sym", 8, 1, 64, 16.0, run_id],
                ["sweep", "peer", "none", 2, 1, 64, 19.0, run_id]])])
        write_csv(os.path.join(self.d, "threads.csv"), THREAD_COLS, threads or [
            ["sweep", "tree", "none", 8, 1, 64, 0, "control", 0, 0.1, 0, "NaN", "unsupported", run_id],
            ["sweep", "tree", "none", 8, 1, 64, 1, "control", 1, 0.1, 0, "NaN", "unsupported", run_id],
            ["sweep", "tree", "none", 8, 1, 64, 2, "control", 1, 0.1, 0, "NaN", "unsupported", run_id],
            ["sweep", "tree", "none", 8, 1, 64, 3, "worker", 2, 1.0, 3, "NaN", "unsupported", run_id],
            ["sweep", "tree", "none", 8, 2, 64, 3, "worker", 2, 1.0, 3, "NaN", "unsupported", run_id],
            ["sweep", "tree", "none", 4, 1, 64, 3, "worker", 2, 1.0, 3, "NaN", "unsupported", run_id]])
        return Run(self.d)

    def test_every_file_that_carries_a_run_id_must_carry_this_one(self):
        """core.json, warnings.json and samples.txt carry the run id since the bench wrote it there: one from
        another run is refused naming the file; one without an id (an older bench) is read."""
        self.make()
        cases = {"core.json": ({"schema": 1, "run_id": "{id}", "presets": []}, True),
                 "warnings.json": ({"schema": 1, "run_id": "{id}", "warnings": []}, True),
                 "samples.txt": ("# run_id {id}\n# flat, text\nsome words\n", False)}
        for name, (body, is_json) in cases.items():
            path = os.path.join(self.d, name)
            for rid, ok in (("r1", True), ("r2", False)):
                with open(path, "w", encoding="utf-8") as f:
                    if is_json:
                        json.dump({k: (v.replace("{id}", rid) if isinstance(v, str) else v)
                                   for k, v in body.items()}, f)
                    else:
                        f.write(body.replace("{id}", rid))
                if ok:
                    self.assertEqual(Run(self.d).run_id, "r1")
                else:
                    with self.assertRaises(ReportError) as e:
                        Run(self.d)
                    self.assertIn(name, str(e.exception))
            os.unlink(path)
        with open(os.path.join(self.d, "samples.txt"), "w", encoding="utf-8") as f:
            f.write("# flat, text written before run ids\nwords\n")
        self.assertEqual(Run(self.d).run_id, "r1")

    def test_csv_numbers_text_and_nan(self):
        r = self.make()
        t = r.threads[0]
        self.assertEqual((t["kind"], t["role"], t["cycles_status"]), ("sweep", "control", "unsupported"))
        self.assertEqual(t["threads"], 8.0)
        self.assertTrue(math.isnan(t["cycles"]))
        self.assertIsNone(read_csv(os.path.join(self.d, "absent.csv")))

    def test_trainers_in_order_of_appearance_without_a_registry_list(self):
        r = self.make()
        self.assertEqual(list(r.trainers), ["serial", "flat", "tree", "peer"])
        self.assertEqual(r.variants, ["flat", "tree", "peer"])
        self.assertEqual(r.trainers["tree"].routes, ["rr", "sym"])
        self.assertEqual(r.trainers["tree"].default_route, "rr")
        self.assertEqual(r.routed(), ["tree"])
        self.assertIsNone(r.trainers["tree"].summary)

    def test_registry_list_orders_and_describes(self):
        reg = [{"name": n, "summary": f"{n} line", "min_threads": 1, "routes": rs}
               for n, rs in (("serial", []), ("peer", []), ("tree", ["sym", "rr"]), ("flat", []), ("absent", []))]
        r = self.make(context={"trainers": reg})
        self.assertEqual(r.variants, ["peer", "tree", "flat"])  # "absent" has no run: not in the report
        self.assertEqual(r.trainers["tree"].default_route, "sym")
        self.assertEqual(r.describe("peer"), "peer line")

    def test_colours_keep_the_baselines_and_differ(self):
        r = self.make()
        self.assertEqual(r.colour_of["flat"], "#1f77b4")
        self.assertEqual(r.colour_of["serial"], "#555555")
        self.assertNotIn(r.colour_of["tree"], (r.colour_of["flat"], r.colour_of["serial"], r.colour_of["peer"]))
        self.assertEqual(r.colours(["peer", "flat"]), f"{r.colour_of['peer']} #1f77b4")

    def test_shape_from_the_largest_sweep_first_repetition(self):
        s = self.make().shape("tree")
        self.assertEqual((s.threads, s.controls, s.workers), (4, {0: 1, 1: 2}, 1))
        self.assertTrue(s.is_tree)
        self.assertEqual(s.fanout(), 2)
        self.assertEqual(s.counts(), "1 root, 2 level-1 controls, 1 worker")
        self.assertEqual(s.layout(), "thread 0 is the root, threads 1–2 are the level-1 controls, thread 3 is a worker")

    def test_shapes_of_one_control_and_none(self):
        one = shape_of([{"role": "control", "level": 0.0}] + [{"role": "worker", "level": 1.0}] * 3)
        self.assertEqual((one.root_label(), one.is_tree, one.counts()), ("control", False, "1 control, 3 workers"))
        none = shape_of([{"role": "worker", "level": 0.0}] * 2)
        self.assertFalse(none.has_control)
        self.assertEqual(none.layout(), "no control thread; threads 0–1 are all workers")

    def test_config_lookup_cleans_nulls(self):
        c = self.make().config("sweep", "flat", threads=2)
        self.assertTrue(math.isnan(c["tokens_per_s_median"]))
        self.assertIsNone(self.make().config("sweep", "flat", threads=3))

    def test_files_of_different_runs_are_refused(self):
        with self.assertRaises(ReportError) as e:
            self.make(summary_id="r2")
        self.assertIn("mixes files of different runs", str(e.exception))

    def test_missing_folder_and_files(self):
        with self.assertRaises(ReportError):
            Run(os.path.join(self.d, "nope"))
        with self.assertRaises(ReportError) as e:
            Run(self.d)
        self.assertIn("context.json is missing", str(e.exception))


if __name__ == "__main__":
    unittest.main()
