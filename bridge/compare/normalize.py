"""Normalization before a diff: what differs between two runs by nature is not a difference.

Built-in noise rules replace, anywhere in the compared document:
  run ids       the run's own ids (correlation id, Airflow run id, Prefect flow-run id) -> "<run_id>"
  targets       the run's own target (primary or shadow schema), also as a whole word  -> "<target>"
  timestamps    ISO-8601 date-times                                                    -> "<timestamp>"
  durations     values under keys such as duration, seconds, elapsed, *_s, msg_per_s   -> "<duration>"
  links         http(s) URLs                                                           -> "<url>"
Declared lists (dotted paths) are sorted so their order does not count. User ignore rules are applied by
the differ, each with its written reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
URL = re.compile(r"^https?://", re.I)
DURATION_KEYS = re.compile(
    r"(^|_)(duration|durations|seconds|elapsed|wall|latency)(_|$)|_s$|_ms$|per_s(ec)?$", re.I
)


def normalize(
    value: Any,
    run_ids: Iterable[str] = (),
    targets: Iterable[str] = (),
    unordered: Iterable[str] = (),
    _path: str = "",
) -> Any:
    """A copy of ``value`` with the built-in noise replaced and the declared lists sorted."""
    ids = {str(i) for i in run_ids if i}
    tgts = {str(t) for t in targets if t}
    order_free = set(unordered)
    return _walk(value, ids, tgts, order_free, _path, key="")


def _walk(value: Any, ids: set[str], tgts: set[str], unordered: set[str], path: str, key: str) -> Any:
    if isinstance(value, Mapping):
        return {
            k: _walk(v, ids, tgts, unordered, f"{path}.{k}" if path else str(k), str(k))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        items = [_walk(v, ids, tgts, unordered, f"{path}[]", key) for v in value]
        if path in unordered:
            items.sort(key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return items
    if key and DURATION_KEYS.search(key) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "<duration>"
    if isinstance(value, str):
        if value in ids:
            return "<run_id>"
        if value in tgts:
            return "<target>"
        if TIMESTAMP.match(value):
            return "<timestamp>"
        if URL.match(value):
            return "<url>"
        for run_id in ids:  # an id embedded in a longer string (a path, a message)
            if run_id in value:
                value = value.replace(run_id, "<run_id>")
        for target in tgts:  # a target as a whole word inside a name: orders-<target>-dlq
            value = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(target)}(?![A-Za-z0-9_])", "<target>", value)
    return value
