"""test_validate.py - every file of a run folder, damaged every way we know, gives a clean refusal or a report.

A quick run folder (report/tests/data/quick-run: `sphere-bench bench --quick --model tiny --variants flat
--threads 1,2 --full-threads 2`, the checkpoint left out) is copied and one file is damaged at a time: a
byte-order mark, a Latin-1 byte, the file cut in half, `[]` or `null` for the whole file, each top-level
field set to null, to a string or to a list, each column dropped or made all NaN, 0, -1 or 1e308, a
field that is not a number, a row cut short. The report's command line (report/__main__.py, in process) must then either
write a report (exit 0) or refuse with exit 2 and a message naming the file; any exception that escapes
is a traceback the user would have seen. The MPI section must refuse np-R folders of different models or
threads per rank instead of merging them under one header.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
import traceback
import unittest
from typing import Callable

from report.__main__ import main as report_main
from report.tests.fixtures import reference_path
from report.validate import ReportError, load_csv, load_json, BENCH_CSV, CONTEXT

QUICK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "quick-run")
JSON_FILES = ("context.json", "summary.json", "core.json", "warnings.json", "trace-full-flat-2.json",
              "trace-sweep-flat-2.json")
CSV_FILES = ("runs.csv", "threads.csv", "groups.csv", "loss.csv")


def run_report(folder: str) -> tuple[int, str]:
    """(exit status, standard error) of `python3 -m report FOLDER --no-plots`; an escaping exception
    becomes status -1 with its traceback."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = report_main([folder, "--no-plots", "--out", os.path.join(folder, "REPORT.md")])
    except BaseException:  # noqa: BLE001 - the point is to catch what the user would see
        return -1, traceback.format_exc()
    return rc, err.getvalue()


def edit_bytes(f: Callable[[bytes], bytes]) -> Callable[[str], None]:
    def apply(path: str) -> None:
        with open(path, "rb") as fh:
            data = fh.read()
        with open(path, "wb") as fh:
            fh.write(f(data))
    return apply


def edit_json(f: Callable[[object], object]) -> Callable[[str], None]:
    def apply(path: str) -> None:
        with open(path) as fh:
            v = json.load(fh)
        with open(path, "w") as fh:
            json.dump(f(v), fh)
    return apply


def set_key(key: str, value: object) -> Callable[[object], object]:
    def f(v):
        v[key] = value
        return v
    return f


def edit_csv(f: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[str], None]:
    def apply(path: str) -> None:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        with open(path, "w", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(f(rows))
    return apply


def drop_column(i: int):
    return lambda rows: [r[:i] + r[i + 1:] for r in rows]


def fill_column(i: int, value: str):
    return lambda rows: [rows[0]] + [r[:i] + [value] + r[i + 1:] for r in rows[1:]]


def latin1(data: bytes) -> bytes:
    i = data.find(b'"', data.find(b'"') + 1) if data.lstrip().startswith(b"{") else data.find(b",")
    return data[:i] + b"\xe9" + data[i:]


def mutations() -> list[tuple[str, str, Callable[[str], None]]]:
    """(file, what, how) for every damage done to the quick folder."""
    out: list[tuple[str, str, Callable[[str], None]]] = []
    for name in JSON_FILES + CSV_FILES + ("samples.txt",):
        out += [(name, "a byte-order mark", edit_bytes(lambda d: b"\xef\xbb\xbf" + d)),
                (name, "a Latin-1 byte", edit_bytes(latin1)),
                (name, "cut in half", edit_bytes(lambda d: d[:len(d) // 2])),
                (name, "empty", edit_bytes(lambda d: b"")),
                (name, "a NUL byte", edit_bytes(lambda d: d[:5] + b"\0" + d[5:]))]
    for name in JSON_FILES:
        out += [(name, "[]", edit_bytes(lambda d: b"[]")), (name, "null", edit_bytes(lambda d: b"null")),
                (name, "NaN", edit_bytes(lambda d: d.replace(b"null", b"NaN", 1)))]
        with open(os.path.join(QUICK, name)) as f:
            top = json.load(f)
        for key in top:
            for bad in (None, "two", [], {}, 2.5, True):
                out.append((name, f"{key} = {bad!r}", edit_json(set_key(key, bad))))
            out.append((name, f"no {key}", edit_json(lambda v, k=key: {x: y for x, y in v.items() if x != k})))
            if isinstance(top[key], dict):
                for sub in top[key]:
                    for bad in (None, "two", []):
                        out.append((name, f"{key}.{sub} = {bad!r}",
                                    edit_json(lambda v, k=key, s=sub, b=bad: (v[k].__setitem__(s, b), v)[1])))
            if isinstance(top[key], list) and top[key] and isinstance(top[key][0], dict):
                for sub in top[key][0]:
                    for bad in (None, "two", [], {}):
                        out.append((name, f"{key}[*].{sub} = {bad!r}",
                                    edit_json(lambda v, k=key, s=sub, b=bad:
                                              ([x.__setitem__(s, b) for x in v[k]], v)[1])))
                out.append((name, f"{key}[0] = 3", edit_json(lambda v, k=key: (v[k].__setitem__(0, 3), v)[1])))
    for name in CSV_FILES:
        with open(os.path.join(QUICK, name), newline="") as f:
            head = next(csv.reader(f))
        out += [(name, "header only", edit_csv(lambda rows: rows[:1])),
                (name, "a row cut short", edit_csv(lambda rows: rows[:-1] + [rows[-1][:3]])),
                (name, "a row too long", edit_csv(lambda rows: rows[:-1] + [rows[-1] + ["1"]])),
                (name, "a header twice", edit_csv(lambda rows: [rows[0]] + rows))]
        for i, col in enumerate(head):
            out += [(name, f"no column {col}", edit_csv(drop_column(i))),
                    (name, f"column {col} all NaN", edit_csv(fill_column(i, "NaN"))),
                    (name, f"column {col} all 0", edit_csv(fill_column(i, "0"))),
                    (name, f"column {col} all -1", edit_csv(fill_column(i, "-1"))),
                    (name, f"column {col} all 1e308", edit_csv(fill_column(i, "1e308"))),
                    (name, f"column {col} 'two'", edit_csv(fill_column(i, "two")))]
    return out


class Mutated(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="report-validate-")
        self.addCleanup(shutil.rmtree, self.d, True)

    def fresh(self) -> str:
        folder = os.path.join(self.d, "run")
        shutil.rmtree(folder, True)
        shutil.copytree(QUICK, folder)
        return folder

    def test_the_quick_folder_itself_reports(self):
        rc, err = run_report(self.fresh())
        self.assertEqual((rc, err), (0, ""))

    def test_every_damage_is_refused_cleanly_or_reported(self):
        bad = []
        for name, what, how in mutations():
            folder = self.fresh()
            how(os.path.join(folder, name))
            rc, err = run_report(folder)
            if rc == -1 or rc not in (0, 2) or (rc == 2 and name not in err and "mixes files" not in err):
                bad.append(f"{name} with {what}: exit {rc}: {err.strip().splitlines()[-1] if err.strip() else ''}")
        self.assertEqual(bad, [], "\n".join(bad) + f"\n{len(bad)} damaged folders gave a traceback or an unclear refusal")

    def test_refusals_name_file_line_and_field(self):
        folder = self.fresh()
        edit_json(lambda v: (v["options"].__setitem__("quick", "yes"), v)[1])(os.path.join(folder, "context.json"))
        rc, err = run_report(folder)
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"context\.json: line \d+, field 'options\.quick' is the string \"yes\", expected "
                              r"true or false or null")
        folder = self.fresh()
        edit_csv(fill_column(13, "12x"))(os.path.join(folder, "runs.csv"))
        rc, err = run_report(folder)
        self.assertEqual(rc, 2)
        self.assertIn("runs.csv: line 2, field 'tokens_per_s': \"12x\" is not a number", err)
        folder = self.fresh()
        edit_bytes(lambda d: d.replace(b"\n", b"\n\xe9", 3))(os.path.join(folder, "loss.csv"))
        rc, err = run_report(folder)
        self.assertIn("loss.csv: line 2: byte 0xe9", err)

    def test_warnings_of_an_empty_list_and_cores_as_text(self):
        """The issue's own cases: `[]` as warnings.json and "cores": "two" are refused, not a traceback."""
        for name, how, field in (("warnings.json", edit_bytes(lambda d: b"[]"), "expected an object"),
                                 ("context.json", edit_json(set_key("cores", "two")), "field 'cores'"),
                                 ("context.json", edit_json(set_key("options", None)), "field 'options'")):
            folder = self.fresh()
            how(os.path.join(folder, name))
            rc, err = run_report(folder)
            self.assertEqual(rc, 2, err)
            self.assertIn(name, err)
            self.assertIn(field, err)


class Strict(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="report-validate-")
        self.addCleanup(shutil.rmtree, self.d, True)

    def write(self, name: str, data: bytes) -> str:
        p = os.path.join(self.d, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def test_csv_rules(self):
        spec = BENCH_CSV["groups.csv"]
        head = b"kind,variant,route,threads,rep,batch_tokens,batches\n"
        ok = load_csv(self.write("g.csv", head + b"sweep,flat,none,2,1,64,NaN\n"), "g.csv", spec)
        self.assertEqual(ok[0]["threads"], 2.0)
        for body, msg in ((b"sweep,flat,none,NaN,1,64,3\n", "line 2, field 'threads': NaN"),
                          (b"sweep,flat,none,2,1,64,inf\n", "field 'batches': \"inf\" is not a number"),
                          (b"sweep,flat,none,2,1,64,1_000\n", "is not a number"),
                          (b"sweep,flat,none,2.5,1,64,3\n", "field 'threads': 2.5 where a whole number from 0"),
                          (b"sweep,flat,none,2,-1,64,3\n", "field 'rep': -1 where a whole number from 0"),
                          (b"sweep,flat,none,2,1,64\n", "line 2: 6 field(s), the header has 7")):
            with self.assertRaises(ReportError) as e:
                load_csv(self.write("g.csv", head + body), "g.csv", spec)
            self.assertIn(msg, str(e.exception))

    def test_json_types_nested(self):
        p = self.write("c.json", b'{\n "model": {\n  "V": "5005"\n }\n}\n')
        with self.assertRaises(ReportError) as e:
            load_json(p, "c.json", CONTEXT)
        self.assertEqual(str(e.exception), "c.json: line 3, field 'model.V' is the string \"5005\", expected "
                                           "a number")


class MpiFolders(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="report-validate-")
        self.addCleanup(shutil.rmtree, self.d, True)
        self.folder = os.path.join(self.d, "run")
        shutil.copytree(QUICK, self.folder)
        shutil.copytree(os.path.join(reference_path(), "mpi"), os.path.join(self.folder, "mpi"))

    def test_alike_folders_report(self):
        rc, err = run_report(self.folder)
        self.assertEqual((rc, err), (0, ""))

    def test_different_models_or_threads_are_refused(self):
        for key, value in (("threads_per_rank", 4), ("model", {"V": 3257, "T": 8, "D": 16, "L": 2, "H": 4})):
            p = os.path.join(self.folder, "mpi", "np-2", "context.json")
            shutil.copy(os.path.join(reference_path(), "mpi", "np-2", "context.json"), p)
            edit_json(set_key(key, value))(p)
            rc, err = run_report(self.folder)
            self.assertEqual(rc, 2, err)
            self.assertIn(f"the MPI folders differ in what defines their runs ({key}:", err)
            self.assertIn("np-2", err)

    def test_every_damage_to_an_mpi_folder_is_refused_cleanly_or_reported(self):
        base = os.path.join(self.folder, "mpi", "np-2")
        saved = {}
        for n in os.listdir(base):
            with open(os.path.join(base, n), "rb") as f:
                saved[n] = f.read()
        muts = []
        for name in ("pingpong.csv", "runs.csv", "ranks.csv", "threads.csv"):
            with open(os.path.join(base, name), newline="") as f:
                head = next(csv.reader(f))
            for i, col in enumerate(head):
                muts += [(name, f"{col} = {v}", edit_csv(fill_column(i, v))) for v in ("NaN", "0", "two")]
                muts.append((name, f"no column {col}", edit_csv(drop_column(i))))
            muts += [(name, "cut in half", edit_bytes(lambda d: d[:len(d) // 2])), (name, "a Latin-1 byte",
                                                                                  edit_bytes(latin1))]
        with open(os.path.join(base, "context.json")) as f:
            ctx = json.load(f)
        for key in ctx:
            muts += [("context.json", f"{key} = {v!r}", edit_json(set_key(key, v))) for v in (None, "two", 0, [])]
        bad = []
        for name, what, how in muts:
            for n, data in saved.items():
                with open(os.path.join(base, n), "wb") as f:
                    f.write(data)
            how(os.path.join(base, name))
            rc, err = run_report(self.folder)
            if rc not in (0, 2) or (rc == 2 and name not in err and "MPI folders differ" not in err):
                bad.append(f"np-2/{name} with {what}: exit {rc}: {err.strip().splitlines()[-1] if err else ''}")
        self.assertEqual(bad, [], "\n".join(bad))

    def test_damaged_mpi_file(self):
        p = os.path.join(self.folder, "mpi", "np-4", "runs.csv")
        edit_csv(drop_column(1))(p)
        rc, err = run_report(self.folder)
        self.assertEqual(rc, 2)
        self.assertIn("np-4/runs.csv: line 1: the header lacks column(s) 'policy'", err)


if __name__ == "__main__":
    unittest.main()
