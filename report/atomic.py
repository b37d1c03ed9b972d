"""atomic.py - a file written whole or not at all, as the C programs write theirs.

The text goes to PATH.tmp.PID beside the target, then is renamed over it, so a
reader never sees half a file and two reports writing the same folder at once
never share a temporary (each process has its own name)."""
from __future__ import annotations

import os
from typing import Callable, TextIO


def write_atomic(path: str, fill: Callable[[TextIO], None]) -> None:
    """Writes path through fill(f) on a temporary renamed into place; on failure the old file stays."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            fill(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
