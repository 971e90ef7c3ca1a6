"""Task states as the servers say them: a mapped task's indices folded into one state, a failed try's
log condensed into its exception."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Which native state a mapped task shows when its indices differ: the first of these any index is in
# (Airflow's states and Prefect's state names, compared in lower case). Failures first (they explain the
# run), then what is still moving, then what is done.
SEVERITY = (
    "failed",
    "crashed",
    "upstream_failed",
    "up_for_retry",
    "awaitingretry",
    "retrying",
    "up_for_reschedule",
    "restarting",
    "running",
    "deferred",
    "cancelling",
    "queued",
    "pending",
    "scheduled",
    "late",
    "paused",
    "none",
    "cancelled",
    "removed",
    "success",
    "completed",
    "cached",
    "skipped",
)
REASON_LIMIT = 300  # characters of an exception's message kept in one line


def merge_map_states(states: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """One task's state from its instances' (one, or one per map index, in index order), and the
    per-index states when they differ (else ``()``)."""
    distinct = set(states)
    if len(distinct) <= 1:
        return (states[0] if states else "none"), ()
    rank = {state: i for i, state in enumerate(SEVERITY)}
    return min(distinct, key=lambda s: (rank.get(s.lower(), -1), s)), tuple(states)


def failure_reason(entries: Sequence[Any] | None) -> str | None:
    """The exception a task's structured log (Airflow 3's JSON log entries) ends on, in one line:
    ``ValueError: message``; else its last error line; None if it names neither."""
    if not entries:
        return None
    last_error = None
    for entry in reversed(entries):
        if not isinstance(entry, Mapping):
            continue
        details = entry.get("error_detail")
        if isinstance(details, list) and details and isinstance(details[0], Mapping):
            raised = details[0]  # the exception raised; causes follow it
            text = f"{raised.get('exc_type') or 'Exception'}: {raised.get('exc_value') or ''}".rstrip(": ")
            return _one_line(text)
        if last_error is None and str(entry.get("level", "")).lower() in ("error", "critical"):
            last_error = _one_line(str(entry.get("event") or ""))
    return last_error or None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= REASON_LIMIT else line[: REASON_LIMIT - 1] + "…"


def span(items: Sequence[Mapping[str, Any]], start_key: str, end_key: str) -> dict[str, Any]:
    """When a task ran, over its instances (map indices, calls): the first start and the last end, as
    ``TaskObservation``'s ``start`` and ``end`` (None when the server recorded none)."""
    from bridge.backends.base import parse_time

    starts = [t for t in (parse_time(i.get(start_key)) for i in items) if t is not None]
    ends = [t for t in (parse_time(i.get(end_key)) for i in items) if t is not None]
    return {"start": min(starts, default=None), "end": max(ends, default=None)}
