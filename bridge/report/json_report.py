"""The report as JSON: stable (sorted keys, two-space indent, one trailing newline), always valid JSON.

Input that is not plain JSON is made so rather than refused: tuples become lists, non-string keys become
strings, NaN and infinities become null, anything else becomes its ``str``.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["render_json"]


def render_json(report: Any) -> str:
    return json.dumps(_plain(report), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def _plain(value: Any, depth: int = 0) -> Any:
    if depth > 100:
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v, depth + 1) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return str(value)
