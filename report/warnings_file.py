"""warnings_file.py - the bench's noise warnings (warnings.json, bench/noise.c), for the report.

Part of the report package (report/__init__.py); build.py assembles the sections. A run folder
written before the noise guards existed has no warnings.json: then no
warning is shown and the context section says the guards did not run.
"""

from __future__ import annotations

from typing import Any, Optional


def load_warnings(run: Any) -> Optional[list[dict[str, Any]]]:
    """The warnings list, or None when the run folder has no warnings.json (read and validated with
    the folder: runfolder.py, validate.py)."""
    return run.warnings


def warned(run: Any, figure: str) -> bool:
    """Whether a warning names this figure (the mark a warned figure carries)."""
    return any(w.get("figure") == figure for w in (load_warnings(run) or []))


def warning_lines(run: Any) -> list[str]:
    ws = load_warnings(run)
    if not ws:
        return []
    return ["**Noise warnings** (bench/noise.c; each figure named is still reported, marked ⚠):", ""] + \
        [f"- ⚠ {w.get('text')}" for w in ws] + [""]
