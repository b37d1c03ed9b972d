"""Two reports on one folder do not share a temporary: each writes REPORT.md
through its own PATH.tmp.PID (report/atomic.py), so another writer's
temporary in the way (here a folder where the fixed name `REPORT.md.tmp` used
to be) neither stops the report nor is touched, and a failed write leaves the
old file and no temporary."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from report.atomic import write_atomic

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICK = os.path.join(REPO, "report", "tests", "data", "quick-run")


class AtomicWriteTest(unittest.TestCase):
    def test_another_writers_temporary_is_left_alone(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "run")
            shutil.copytree(QUICK, run)
            out = os.path.join(run, "REPORT.md")
            os.mkdir(out + ".tmp")  # the name the report once used for every writer
            p = subprocess.run([sys.executable, "-m", "report", run, "--no-plots"], cwd=REPO,
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out, encoding="utf-8") as f:
                self.assertIn("# sphere-bench report", f.read())
            self.assertTrue(os.path.isdir(out + ".tmp"))
            self.assertEqual([n for n in os.listdir(run) if ".tmp." in n], [])

    def test_failed_write_keeps_the_old_file(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "f.txt")
            write_atomic(path, lambda f: f.write("old\n"))

            def broken(f) -> None:
                f.write("half")
                raise RuntimeError("disk full")

            with self.assertRaises(RuntimeError):
                write_atomic(path, broken)
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read(), "old\n")
            self.assertEqual(os.listdir(d), ["f.txt"])


if __name__ == "__main__":
    unittest.main()
