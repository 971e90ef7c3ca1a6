"""Read the report dict defensively and format its values, for every renderer.

The report dict comes from the store, but its strings come from orchestrators, workflow results and
users: every field may be missing, ``None`` or of the wrong type, and every string may be hostile. The
helpers here never raise on odd input; they return empty lists and dicts, ``None`` for numbers that are
not numbers, and ``None`` for links that are not plain http(s) URLs. Escaping is the renderer's job.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlsplit

from bridge.compare.model import SET_ASIDE, json_value

__all__ = [
    "KINDS",
    "SET_ASIDE",
    "VERDICTS",
    "as_dict",
    "as_list",
    "aside_note",
    "both_times",
    "calibrations",
    "count_kind",
    "duration",
    "latest_side",
    "longest",
    "noise_list",
    "noise_text",
    "number",
    "safe_url",
    "split_differences",
    "streak",
    "table_equal",
    "table_status",
    "tally_text",
    "text",
    "value_text",
    "verdict_line",
    "wall_overhead",
    "wall_time",
    "workflows",
]

VERDICTS = ("match", "mismatch", "shadow_failed", "primary_failed", "both_failed", "missing")
KINDS = ("changed", "only_airflow", "only_prefect", "type_changed", "noise", "ignored", "row_changed")
#: Table states (CSS classes too): compared and equal, rows differ, in one target only, not comparable,
#: excluded by the catalog (listed, not compared).
TABLE_STATES = ("equal", "differs", "one_side", "error", "excluded")
MAX_CELL = 2000  # characters of one rendered value; the JSON report keeps everything


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def number(value: Any) -> float | None:
    """A finite int or float, else None (booleans and numeric strings are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: Any, limit: int = MAX_CELL) -> str:
    """Any value as one display string: None is empty, strings stay as they are, the rest is JSON."""
    if value is None:
        return ""
    shown = value if isinstance(value, str) else _json(value)
    return shown if len(shown) <= limit else f"{shown[:limit]}… ({len(shown) - limit} more characters)"


def value_text(value: Any, limit: int = MAX_CELL) -> str:
    """A compared value as JSON, so that the string "1" and the number 1 read differently."""
    shown = _json(value)
    return shown if len(shown) <= limit else f"{shown[:limit]}… ({len(shown) - limit} more characters)"


def _json(value: Any) -> str:
    """JSON as the comparison writes it (dates ISO, decimals plain, tuples as lists): never a Python repr
    of a key like ``(357, datetime.date(2024, 12, 31))``."""
    try:
        return json.dumps(json_value(value), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError):  # circular structures
        return repr(value)


def duration(value: Any) -> str:
    seconds = number(value)
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def safe_url(value: Any) -> str | None:
    """The URL itself if it is an absolute http(s) URL with a host and no whitespace or control
    characters; otherwise None, and the caller shows it as text. Browsers drop tabs and newlines
    inside URLs, so ``java\\nscript:`` must not slip through as a relative link."""
    if not isinstance(value, str) or not value or len(value) > 4096:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def workflows(report: Any) -> list[dict[str, Any]]:
    return [w for w in as_list(as_dict(report).get("workflows")) if isinstance(w, dict)]


def streak(workflow: dict[str, Any]) -> tuple[str | None, int]:
    """(latest verdict, how many in a row): the store's ``streak``, else counted from ``history``."""
    given = as_dict(workflow.get("streak"))
    verdict = given.get("verdict")
    count = given.get("count")
    if isinstance(verdict, str) and isinstance(count, int) and not isinstance(count, bool):
        return verdict, max(count, 0)
    history = [h for h in as_list(workflow.get("history")) if isinstance(h, dict)]
    latest = as_dict(workflow.get("latest")).get("verdict")
    first = history[0].get("verdict") if history else latest
    if not isinstance(first, str):
        return None, 0
    run = 0
    for item in history:
        if item.get("verdict") != first:
            break
        run += 1
    return first, max(run, 1)


def latest_side(workflow: dict[str, Any], side: str) -> dict[str, Any]:
    """``latest.airflow`` / ``latest.prefect``, filled from ``history[0]`` where the latest lacks a field."""
    latest = as_dict(workflow.get("latest"))
    found = dict(as_dict(latest.get(side)))
    history = [h for h in as_list(workflow.get("history")) if isinstance(h, dict)]
    newest = history[0] if history else {}
    same_run = not latest or newest.get("correlation_id") == latest.get("correlation_id")
    if same_run:
        for field in ("duration_s", "elapsed_s", "url"):
            if found.get(field) is None:
                found[field] = newest.get(f"{side}_{field}")
    return found


def wall_time(workflow: dict[str, Any]) -> Any:
    """The latest shadow wall time, from ``latest`` or else from the newest history entry."""
    latest = as_dict(workflow.get("latest"))
    if latest.get("shadow_wall_s") is not None:
        return latest.get("shadow_wall_s")
    history = [h for h in as_list(workflow.get("history")) if isinstance(h, dict)]
    if history and (not latest or history[0].get("correlation_id") == latest.get("correlation_id")):
        return history[0].get("shadow_wall_s")
    return None


def table_equal(table: dict[str, Any]) -> bool:
    """The store's ``equal`` flag, or else: no error and no row only on one side or changed."""
    given = table.get("equal")
    if isinstance(given, bool):
        return given
    counts = [table.get(f) for f in ("only_airflow_count", "only_prefect_count", "changed_count")]
    samples = [table.get(f) for f in ("only_airflow", "only_prefect", "changed")]
    return not table.get("error") and not any(counts) and not any(samples)


def wall_overhead(workflow: dict[str, Any]) -> str:
    """'slower side + 0.9 s': what running both in parallel cost beyond the slower side, or ''.
    A side's time is what its caller waited (trigger to observed end, ``elapsed_s``) when known: queueing
    counts; else its run duration."""
    sides = [latest_side(workflow, side) for side in ("airflow", "prefect")]
    times = [
        number(s.get("elapsed_s")) if s.get("elapsed_s") is not None else number(s.get("duration_s"))
        for s in sides
    ]
    wall = number(wall_time(workflow))
    if wall is None or any(t is None for t in times):
        return ""
    extra = wall - max(t for t in times if t is not None)
    return f"slower side {'+' if extra >= 0 else '−'} {abs(extra):.1f} s"


def verdict_line(entry: dict[str, Any]) -> str:
    """A comparison's verdict line, ``mismatch (2 values, 5 rows in price_history, 3 ignored)``; the bare
    verdict when the line is missing."""
    line = entry.get("verdict_line")
    if isinstance(line, str) and line:
        return line
    return text(entry.get("verdict"))


def tally_text(entry: dict[str, Any]) -> str:
    """What the verdict line counts, without the verdict (``2 values, 3 ignored``): for beside a badge.
    A line that does not start with its own verdict is returned whole."""
    line, verdict = verdict_line(entry), entry.get("verdict")
    if isinstance(verdict, str) and line.startswith(f"{verdict} (") and line.endswith(")"):
        return line[len(verdict) + 2 : -1]
    return "" if line == text(verdict) else line


def split_differences(latest: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(real differences, set-aside ones: ignored by a rule or within calibrated noise). A report lists
    set-aside rows under ``set_aside``; a set-aside kind found under ``differences`` is moved there."""
    found = [d for d in as_list(latest.get("differences")) if isinstance(d, dict)]
    aside = [d for d in as_list(latest.get("set_aside")) if isinstance(d, dict)]
    real = [d for d in found if d.get("kind") not in SET_ASIDE]
    return real, aside + [d for d in found if d.get("kind") in SET_ASIDE]


def aside_note(diff: dict[str, Any]) -> str:
    """Why a set-aside row does not count: the ignore rule's reason, or the spread calibration saw."""
    note = text(diff.get("note"))
    if diff.get("kind") == "noise" and note.startswith("calibrated noise (") and note.endswith(")"):
        spread = note[len("calibrated noise (") : -1]
        return "calibrated: it varies" if spread == "varies" else f"within calibrated noise, seen {spread}"
    if diff.get("kind") == "ignored":
        return note or "(no reason recorded)"
    return note


def table_status(table: dict[str, Any]) -> tuple[str, str]:
    """(state, words) of one compared table; the state is one of ``TABLE_STATES``."""
    excluded = table.get("excluded")
    if excluded:
        return "excluded", f"excluded, not compared: {text(excluded)}"
    present = table.get("present")
    if present in ("airflow", "prefect"):
        return "one_side", f"only in {'Airflow' if present == 'airflow' else 'Prefect'}'s target"
    if table.get("error"):
        return "error", f"error: {text(table.get('error'))}"
    return ("equal", "equal") if table_equal(table) else ("differs", "differs")


def noise_text(spread: Any) -> str:
    """One calibrated noise path with the spread seen: ``result.ms ±2.5 (20.0%)``, ``result.lucky varies``."""
    if isinstance(spread, dict):
        seen = spread.get("seen")
        if not isinstance(seen, str) or not seen:
            seen = "varies" if spread.get("abs_spread") is None else f"±{text(spread.get('abs_spread'))}"
        return f"{text(spread.get('path'))} {seen}".strip()
    return text(spread)


def calibrations(workflow: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The workflow's calibrations, newest first; None when the store keeps none (nothing to show)."""
    found = workflow.get("calibrations")
    if not isinstance(found, (list, tuple)):
        return None
    return [c for c in found if isinstance(c, dict)]


def longest(airflow: dict[str, Any], prefect: dict[str, Any], wall: Any) -> float:
    """The longest of both sides' times (waited and ran) and the wall time: the bars' full width."""
    times = [number(s.get(f)) for s in (airflow, prefect) for f in ("elapsed_s", "duration_s")]
    return max((t for t in [*times, number(wall)] if t is not None), default=0.0)


def noise_list(workflow: dict[str, Any]) -> list[str]:
    """The workflow's calibrated noise paths, each with the spread seen, as words."""
    return [noise_text(p) for p in as_list(workflow.get("noise_paths")) if p is not None]


def count_kind(diffs: list[dict[str, Any]], kind: str) -> int:
    """How many of ``diffs`` are of ``kind``."""
    return sum(1 for d in diffs if isinstance(d, dict) and d.get("kind") == kind)


def both_times(waited: Any, ran: Any) -> str:
    """``3.4 s · 3.2 s``: what a caller waited (trigger → end), then what the run ran (start → end)."""
    return f"{duration(waited)} · {duration(ran)}"
