"""validate.py - every file of a run folder, read strictly: encoding, syntax, types, required columns.

Part of the report package (report/__init__.py). The one place where the report
and report.compare decide whether a file is fit to read: runfolder.py,
warnings_file.py, sections/timeline.py (the traces), sections/mpi.py (the
np-R folders) and compare.py load every file through it, and never look at a
raw file themselves. A file is text in UTF-8 without a byte-order mark; a JSON
file is strict JSON (no NaN: the bench writes null) whose fields have the
types its spec says (SPECS below; a field may be absent, but where present it
has its type, null only where the spec allows it); a CSV file has a header,
every column its spec requires, as many fields on every line as the header,
a number (or NaN, the bench's missing value) in every numeric column, a
whole number from 0 in the columns that name a run (threads, repetition,
tokens per batch, thread, level) and a number above 0 where one is needed
(tokens/s). Where the spec cannot say it (an np-R folder's ranks and fan-out
of at least 1), a loader beside it checks the rest. A file
that breaks a rule raises ReportError naming the file, the line and the
field, which the command lines print without a traceback and exit 2 on.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Optional


class ReportError(Exception):
    """A problem with the input that the user must fix; printed without a traceback."""


# --- text -------------------------------------------------------------------------------------------------

def read_text(path: str, shown: Optional[str] = None) -> str:
    """The file's text: UTF-8, no byte-order mark, no NUL byte; else ReportError naming the line."""
    shown = shown or path
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ReportError(f"{shown}: cannot read: {e.strerror or e}")
    if data.startswith(b"\xef\xbb\xbf"):
        raise ReportError(f"{shown}: line 1: starts with a UTF-8 byte-order mark, which the bench never "
                          f"writes (the file was edited or converted; remove the mark)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ReportError(f"{shown}: line {line}: byte 0x{data[e.start]:02x} at offset {e.start} is not "
                          f"UTF-8 (the bench writes UTF-8 only; the file was converted or damaged)")
    nul = text.find("\0")
    if nul >= 0:
        raise ReportError(f"{shown}: line {text[:nul].count(chr(10)) + 1}: a NUL byte (the file is damaged)")
    return text


# --- JSON -------------------------------------------------------------------------------------------------

class Nullable:
    """A spec whose value may also be null."""

    def __init__(self, spec: Any):
        self.spec = spec


@dataclass
class Obj:
    """An object: the listed fields have their specs where present; `required` must be present."""
    fields: dict[str, Any]
    required: tuple[str, ...] = ()


@dataclass
class List:
    """A list whose every item has the spec."""
    item: Any


NUM, INT, STR, BOOL, ANY = "number", "integer", "string", "true or false", "any value"
N_NUM, N_INT, N_STR = Nullable(NUM), Nullable(INT), Nullable(STR)


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    if isinstance(v, str):
        return f"the string {json.dumps(v)[:40]}"
    if isinstance(v, list):
        return "a list"
    return "an object"


def _want(spec: Any) -> str:
    if isinstance(spec, Nullable):
        return f"{_want(spec.spec)} or null"
    if isinstance(spec, Obj):
        return "an object"
    if isinstance(spec, List):
        return "a list"
    return {NUM: "a number", INT: "an integer", STR: "a string", BOOL: "true or false"}.get(spec, spec)


def _fits(v: Any, spec: Any) -> bool:
    if isinstance(spec, Nullable):
        return v is None or _fits(v, spec.spec)
    if spec == ANY:
        return True
    if isinstance(spec, Obj):
        return isinstance(v, dict)
    if isinstance(spec, List):
        return isinstance(v, list)
    if spec == NUM:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if spec == INT:
        return isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer()
    if spec == STR:
        return isinstance(v, str)
    if spec == BOOL:
        return isinstance(v, bool)
    raise AssertionError(f"unknown spec {spec!r}")


def _line_of(text: str, where: str) -> str:
    """`line N, ` of a field's key in the file's text (each part of a dotted path looked for after the
    one before it; for a list's item, its list's key), or "" when it cannot be found."""
    i = 0
    for part in where.split("."):
        j = text.find(f'"{part.split("[", 1)[0]}"', i)
        if j < 0:
            return ""
        i = j
    return f"line {text[:i].count(chr(10)) + 1}, " if where else ""


def check(value: Any, spec: Any, where: str, shown: str, text: str = "") -> None:
    """Raises ReportError when value does not have the spec's type (nested objects and lists included)."""
    if not _fits(value, spec):
        raise ReportError(f"{shown}: {_line_of(text, where)}field '{where}' is {_kind(value)}, "
                          f"expected {_want(spec)}")
    inner = spec.spec if isinstance(spec, Nullable) else spec
    if value is None:
        return
    if isinstance(inner, Obj):
        for k in inner.required:
            if k not in value:
                raise ReportError(f"{shown}: {_line_of(text, where)}field "
                                  f"'{(where + '.' if where else '') + k}' is missing")
        for k, s in inner.fields.items():
            if k in value:
                check(value[k], s, (where + "." if where else "") + k, shown, text)
    elif isinstance(inner, List):
        for i, x in enumerate(value):
            check(x, inner.item, f"{where}[{i}]", shown, text)


def _no_constant(c: str) -> Any:
    raise ValueError(f"{c} is not JSON (the bench writes null for a value that is not a number)")


def load_json(path: str, shown: str, spec: Any = ANY) -> Any:
    """The file's value, strict JSON checked against spec; ReportError otherwise."""
    text = read_text(path, shown)
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise ReportError(f"{shown}: line {e.lineno}, column {e.colno}: not valid JSON ({e.msg}; a file "
                          f"cut short or edited by hand)")
    except (ValueError, RecursionError) as e:
        raise ReportError(f"{shown}: not valid JSON: {e}")
    check(value, spec, "", shown, text)
    return value


# --- CSV --------------------------------------------------------------------------------------------------

NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|NaN|nan")


@dataclass
class CsvSpec:
    """Which columns a CSV file must have, which hold text (the others numbers), which must be finite."""
    required: tuple[str, ...]
    text: frozenset[str] = frozenset()
    finite: frozenset[str] = frozenset()
    positive: frozenset[str] = frozenset()
    counts: frozenset[str] = frozenset()  # whole numbers 0 .. 2^31 - 1 (threads, levels, repetitions)
    text_suffixes: tuple[str, ...] = ("_status",)

    def is_text(self, col: str) -> bool:
        return col in self.text or col.endswith(self.text_suffixes)


def load_csv(path: str, shown: str, spec: CsvSpec) -> list[dict[str, Any]]:
    """Rows as dicts: text columns as strings, the others as floats (NaN kept); ReportError naming the
    line and the column of the first field that breaks the spec."""
    text = read_text(path, shown)
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as e:
        raise ReportError(f"{shown}: not valid CSV: {e}")
    if not lines or not lines[0]:
        raise ReportError(f"{shown}: line 1: no header row (the file is empty or damaged)")
    head = lines[0]
    dup = sorted({c for c in head if head.count(c) > 1})
    if dup:
        raise ReportError(f"{shown}: line 1: column '{dup[0]}' appears more than once in the header")
    missing = [c for c in spec.required if c not in head]
    if missing:
        raise ReportError(f"{shown}: line 1: the header lacks column(s) {', '.join(repr(c) for c in missing)} "
                          f"(a file of another bench version, or damaged)")
    rows = []
    for n, cells in enumerate(lines[1:], start=2):
        if len(cells) != len(head):
            raise ReportError(f"{shown}: line {n}: {len(cells)} field(s), the header has {len(head)} (a row cut "
                              f"short or damaged)")
        row: dict[str, Any] = {}
        for col, v in zip(head, cells):
            if spec.is_text(col):
                row[col] = v
                continue
            if not NUMBER.fullmatch(v):
                raise ReportError(f"{shown}: line {n}, field '{col}': {json.dumps(v)[:40]} is not a number "
                                  f"(NaN marks a missing value)")
            x = float(v)
            if col in spec.finite | spec.positive | spec.counts and not math.isfinite(x):
                raise ReportError(f"{shown}: line {n}, field '{col}': NaN where a measured value is needed")
            if col in spec.counts and not (x.is_integer() and 0 <= x < 2 ** 31):
                raise ReportError(f"{shown}: line {n}, field '{col}': {v} where a whole number from 0 is needed")
            if col in spec.positive and x <= 0:
                raise ReportError(f"{shown}: line {n}, field '{col}': {v} where a value above 0 is needed")
            row[col] = x
        rows.append(row)
    return rows


# --- the run folder's files ---------------------------------------------------------------------------------

KEY_TEXT = frozenset({"kind", "variant", "route", "role", "run_id"})
KEY_COUNTS = frozenset({"threads", "rep", "batch_tokens"})
NONE: frozenset[str] = frozenset()
BENCH_CSV = {
    "runs.csv": CsvSpec(("kind", "variant", "route", "threads", "rep", "batch_tokens", "tokens_per_s", "tokens",
                         "wall_s", "process_cpu_s", "threads_cpu_s", "control_cpu_s", "mean_worker_cpu_s",
                         "workers"), KEY_TEXT, NONE, frozenset({"tokens_per_s"}), KEY_COUNTS | {"workers"}),
    "threads.csv": CsvSpec(("kind", "variant", "route", "threads", "rep", "batch_tokens", "thread", "role",
                            "level", "cpu_s", "batches"), KEY_TEXT, NONE, NONE, KEY_COUNTS | {"thread", "level"}),
    "groups.csv": CsvSpec(("kind", "variant", "route", "threads", "rep", "batch_tokens"), KEY_TEXT, NONE, NONE,
                          KEY_COUNTS),
    "loss.csv": CsvSpec(("kind", "variant", "route", "threads", "rep", "batch_tokens", "step", "tokens", "loss"),
                        KEY_TEXT, NONE, NONE, KEY_COUNTS),
}
MPI_TEXT = frozenset({"policy", "host", "peer_host", "role", "run_id"})
MPI_CSV = {
    "pingpong.csv": CsvSpec(("bytes", "one_way_s"), MPI_TEXT, NONE, NONE, frozenset({"bytes"})),
    "runs.csv": CsvSpec(("policy", "controls_compute", "steps", "wall_s", "tokens_per_s", "comm_s_root",
                         "bytes_total"), MPI_TEXT, NONE, NONE, frozenset({"controls_compute"})),
    "ranks.csv": CsvSpec(("policy",), MPI_TEXT),
    "threads.csv": CsvSpec(("policy",), MPI_TEXT),
}

MODEL = Obj({k: NUM for k in ("V", "T", "D", "L", "H", "B", "params", "gradient_bytes")}
            | {"preset": N_STR, "flops_per_token": N_NUM})
CONFIG = Obj({"kind": STR, "variant": STR, "route": STR, "threads": NUM, "batch_tokens": NUM, "reps": NUM,
              "oversubscribed": Nullable(BOOL), "noisy": Nullable(BOOL)}
             | {k: N_NUM for k in ("tokens_per_s_median", "tokens_per_s_min", "tokens_per_s_max", "tokens_per_s_mean",
                                   "tokens_per_s_sd", "tokens_per_s_cv", "spread", "speedup_vs_serial",
                                   "parallel_efficiency", "ratio_vs_flat", "ratio_vs_symmetry", "control_cpu_s",
                                   "mean_worker_cpu_s", "worker_to_control_cpu", "imbalance", "utilisation",
                                   "process_cpu_s", "gflops", "fraction_of_peak", "loss", "time_to_target_s")}
             | {k + "_ci": Nullable(List(N_NUM)) for k in ("speedup_vs_serial", "parallel_efficiency",
                                                          "ratio_vs_flat", "ratio_vs_symmetry")}
             | {k + "_verdict": N_STR for k in ("ratio_vs_flat", "ratio_vs_symmetry", "speedup_vs_serial")},
             ("kind", "variant", "route", "threads", "batch_tokens", "reps"))
PEAK = Obj({k: N_NUM for k in ("vector_bits", "threads_all", "array_mb", "reps", "fma_gflops_1t", "fma_gflops_all",
                                 "read_gbs_1t", "read_gbs_all", "write_gbs_1t", "add_gbs_1t")})
CONTEXT = Obj({
    "run_id": N_STR, "complete": Nullable(BOOL), "stopped_by": N_STR, "runs_planned": N_INT, "runs_finished": N_INT,
    "date": N_STR, "hostname": N_STR, "cpu_model": N_STR, "cores": N_INT, "cpus_online": N_INT,
    "memory_gb": N_NUM, "kernel": N_STR, "compiler": N_STR, "cflags": N_STR, "git_revision": N_STR,
    "git_dirty": Nullable(BOOL), "cpu_mhz": N_NUM, "cpu_mhz_source": N_STR, "governor": N_STR,
    "caches": Nullable(List(Obj({"level": N_NUM, "type": STR, "size_kb": N_NUM}))),
    "load_before": Nullable(List(N_NUM)), "load_after": Nullable(List(N_NUM)), "argv": Nullable(List(STR)),
    "model": MODEL,
    "dataset": Obj({"text": N_STR, "bytes": N_NUM, "tokens": N_NUM, "types": N_NUM, "seed": N_NUM, "vocab": N_NUM,
                    "entropy_nats_per_token": N_NUM}),
    "options": Obj({"batches_per_step": N_NUM, "reps": N_NUM, "full_reps": N_NUM, "pin": Nullable(BOOL),
                    "quick": Nullable(BOOL), "wait": N_STR, "lr": N_NUM, "init_seed": N_NUM,
                    "full_runs": (Obj({"schedule": N_STR, "lr": N_NUM, "batches_per_step": N_NUM,
                                               "warmup_steps": N_NUM, "lr_floor": N_NUM, "clip_norm": N_NUM,
                                               "target_loss": N_NUM}))}),
    "trainers": Nullable(List(Obj({"name": STR, "summary": N_STR, "min_threads": N_NUM, "routes": List(STR)},
                                  ("name",)))),
    "peak": Nullable(PEAK),
    "counters": Nullable(List(Obj({"event": STR, "usable": Nullable(BOOL), "why": N_STR}, ("event",)))),
})
SUMMARY = Obj({"run_id": N_STR, "cores": N_INT, "configurations": List(CONFIG)}, ("configurations",))
CORE = Obj({"peak": Nullable(PEAK), "presets": Nullable(List(Obj({
    "preset": STR, "reps": N_NUM, "reduce_in_cache": Nullable(BOOL), "reduce_buffers": N_NUM,
    "kernels": List(Obj({"name": STR, "bound": STR, "seconds": N_NUM, "spread": N_NUM, "gflops": N_NUM,
                         "gbs": N_NUM, "fraction": N_NUM}, ("name", "bound")))}
    | {k: N_NUM for k in ("step_gflops", "step_fraction_of_peak", "matmul_fraction_of_peak",
                          "reduce_fraction_of_bandwidth")}, ("preset",))))})
WARNINGS = Obj({"warnings": List(Obj({"figure": STR, "text": STR}, ("figure", "text")))}, ("warnings",))
TRACE = Obj({"otherData": Obj({"dropped_spans": NUM}),
             "traceEvents": List(Obj({"name": STR, "ph": STR, "tid": INT, "ts": NUM, "dur": NUM,
                                      "args": Obj({"name": STR, "step": N_NUM, "batch": N_NUM})},
                                     ("name", "ph", "tid")))}, ("traceEvents",))
MPI_CONTEXT = Obj({"ranks": INT, "threads_per_rank": N_INT, "fanout": INT, "reps": N_INT, "batches": N_INT,
                   "model": MODEL, "mpi": Obj({"library": N_STR, "standard": N_STR, "hosts": List(STR)})},
                  ("ranks",))
JSON_SPECS = {"context.json": CONTEXT, "summary.json": SUMMARY, "core.json": CORE, "warnings.json": WARNINGS}


def load_mpi_context(path: str, shown: str) -> dict[str, Any]:
    """An np-R folder's context.json, checked: at least one rank, a fan-out of at least 1."""
    ctx = load_json(path, shown, MPI_CONTEXT)
    for k in ("ranks", "fanout"):
        if k in ctx and ctx[k] < 1:
            raise ReportError(f"{shown}: {_line_of(read_text(path, shown), k)}field '{k}' is {ctx[k]}, expected "
                              f"at least 1")
    return ctx


def load_trace(path: str, shown: str) -> dict[str, Any]:
    """A trace file, checked: its complete events carry ts and dur, its thread names a name."""
    t = load_json(path, shown, TRACE)
    for i, e in enumerate(t["traceEvents"]):
        need = ("ts", "dur") if e["ph"] == "X" else ("args",) if e["name"] == "thread_name" else ()
        for k in need:
            if k not in e:
                raise ReportError(f"{shown}: field 'traceEvents[{i}].{k}' is missing")
        if e["name"] == "thread_name" and "name" not in e["args"]:
            raise ReportError(f"{shown}: field 'traceEvents[{i}].args.name' is missing")
    return t


def run_file(folder: str, name: str, shown: str) -> Any:
    """One of the bench's JSON or CSV files of a run folder, validated; None when the file is absent."""
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    label = os.path.join(shown, name)
    if name in BENCH_CSV:
        return load_csv(path, label, BENCH_CSV[name])
    if name in JSON_SPECS:
        return load_json(path, label, JSON_SPECS[name])
    return read_text(path, label)
