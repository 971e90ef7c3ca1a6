"""Normalization before a diff: only what is known to be this run's own is masked, never a value's shape.

Built-in rules replace, anywhere in the compared document, exactly these values of the run itself:
  run ids       its own ids (correlation id, Airflow run id, Prefect flow-run id)     -> "<run_id>"
                (also inside a longer string: a path, a message)
  targets       its own target (primary or shadow schema), also as a whole word      -> "<target>"
  links         its own URLs (the run's page, or any URL holding one of its run ids) -> "<url>"
  start / end   its own start and end time, when a value equals one of them exactly   -> "<run_start>" /
                (the same instant, whatever the ISO spelling)                           "<run_end>"
Anything else that varies between two clean runs (a wall-clock time, a duration, a random token) is not
masked here: calibration measures it (``bridge calibrate``) or a catalog ignore rule declares it, with its
reason. Declared lists (dotted paths) are sorted so their order does not count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
URL = re.compile(r"^https?://", re.I)


@dataclass(frozen=True)
class RunIdentity:
    """What belongs to one run and may be masked: its ids, targets, URLs, start and end times."""

    run_ids: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    start: datetime | None = field(default=None)
    end: datetime | None = field(default=None)

    @classmethod
    def of(
        cls,
        run_ids: Iterable[str] = (),
        targets: Iterable[str] = (),
        urls: Iterable[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> RunIdentity:
        return cls(
            tuple(sorted({str(i) for i in run_ids if i})),
            tuple(sorted({str(t) for t in targets if t})),
            tuple(sorted({str(u).rstrip("/") for u in urls if u})),
            start,
            end,
        )


def _instant(text: str) -> datetime | None:
    if not _ISO.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def normalize(value: Any, identity: RunIdentity | None = None, unordered: Iterable[str] = ()) -> Any:
    """A copy of ``value`` with the run's own values masked and the declared lists sorted."""
    return _walk(value, identity or RunIdentity(), set(unordered), "")


def _walk(value: Any, me: RunIdentity, unordered: set[str], path: str) -> Any:
    if isinstance(value, Mapping):
        return {k: _walk(v, me, unordered, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_walk(v, me, unordered, f"{path}[]") for v in value]
        if path in unordered:
            items.sort(key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return items
    if isinstance(value, str):
        return _string(value, me)
    return value


def _string(value: str, me: RunIdentity) -> str:
    if value in me.run_ids:
        return "<run_id>"
    if value in me.targets:
        return "<target>"
    if URL.match(value):
        if value.rstrip("/") in me.urls or any(i in value for i in me.run_ids):
            return "<url>"
        return value
    instant = _instant(value) if (me.start or me.end) else None
    if instant is not None:
        if me.start is not None and instant == me.start:
            return "<run_start>"
        if me.end is not None and instant == me.end:
            return "<run_end>"
        return value
    for run_id in me.run_ids:  # an id embedded in a longer string (a path, a message)
        if run_id in value:
            value = value.replace(run_id, "<run_id>")
    for target in me.targets:  # a target as a whole word inside a name: orders-<target>-dlq
        value = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(target)}(?![A-Za-z0-9_])", "<target>", value)
    return value
