"""Diff two normalized documents with deepdiff and turn the result into difference rows."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bridge.compare.model import (
    CHANGED,
    IGNORED,
    NOISE,
    ONLY_AIRFLOW,
    ONLY_PREFECT,
    TYPE_CHANGED,
    Difference,
    NoiseSpread,
)
from bridge.config import IgnoreRule

_PART = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\d+)\]")


def dotted(deepdiff_path: str) -> str:
    """root['result']['rows'][3] -> result.rows[3]"""
    out = ""
    for part in _PART.findall(deepdiff_path):
        if part[0] in "'\"":
            out += ("." if out else "") + part[1:-1]
        else:
            out += f"[{part}]"
    return out


def _matches(path: str, patterns: Iterable[str]) -> str | None:
    """The first pattern (exact, glob, or a parent path) that ``path`` falls under."""
    for pattern in patterns:
        if (
            path == pattern
            or fnmatch.fnmatchcase(path, pattern)
            or path.startswith((pattern + ".", pattern + "["))
        ):
            return pattern
    return None


def diff(
    airflow: Any,
    prefect: Any,
    *,
    float_tolerance: float = 1e-9,
    ignore: Iterable[IgnoreRule] = (),
    noise: Iterable[NoiseSpread] = (),
) -> list[Difference]:
    """Difference rows between two normalized documents. Nothing is dropped: a path an ignore rule names
    is kept as kind ``ignored`` with the rule's reason; a path calibration measured is ``noise`` only
    within the spread it saw, and outside it a real difference that says so."""
    from deepdiff import DeepDiff

    rules = {r.path: r for r in ignore}
    spreads = {n.path: n for n in noise}
    found = DeepDiff(
        airflow,
        prefect,
        math_epsilon=float_tolerance or None,
        verbose_level=2,
        ignore_numeric_type_changes=True,
    )
    rows: list[Difference] = []
    for kind, entries in found.items():
        for path, detail in _items(entries):
            row = _row(dotted(path), kind, detail)
            rule = _matches(row.path, rules)
            if rule:
                row = Difference(row.path, row.airflow, row.prefect, IGNORED, note=rules[rule].reason)
            else:
                pattern = _matches(row.path, spreads)
                if pattern:
                    row = _against_noise(row, spreads[pattern])
            rows.append(row)
    return sorted(rows, key=lambda r: r.path)


def _row(p: str, kind: str, detail: Any) -> Difference:
    if kind == "values_changed":
        return Difference(p, detail["old_value"], detail["new_value"], CHANGED)
    if kind == "type_changes":
        return Difference(p, detail.get("old_value"), detail.get("new_value"), TYPE_CHANGED)
    if kind in ("dictionary_item_removed", "iterable_item_removed"):
        return Difference(p, detail, None, ONLY_AIRFLOW)
    if kind in ("dictionary_item_added", "iterable_item_added"):
        return Difference(p, None, detail, ONLY_PREFECT)
    return Difference(p, None, None, CHANGED, note=kind)


def _against_noise(row: Difference, spread: NoiseSpread) -> Difference:
    seen = spread.describe()
    if row.kind == CHANGED and spread.covers(row.airflow, row.prefect):
        return Difference(row.path, row.airflow, row.prefect, NOISE, note=f"calibrated noise ({seen})")
    if spread.varies and row.kind != CHANGED:
        return Difference(row.path, row.airflow, row.prefect, NOISE, note=f"calibrated noise ({seen})")
    return Difference(
        row.path, row.airflow, row.prefect, row.kind, note=f"outside calibrated noise (seen {seen})"
    )


def _items(entries: Any) -> list[tuple[str, Any]]:
    if isinstance(entries, Mapping):
        return list(entries.items())
    return [(path, None) for path in entries]  # a set of paths (no detail)


def spreads(documents: Sequence[Any], float_tolerance: float = 1e-9) -> list[NoiseSpread]:
    """How each path varied between any two of ``documents`` (clean control runs of one workflow, each
    normalized): numbers get the largest absolute and relative spread seen, anything else "varies"."""
    seen: dict[str, list[float] | None] = {}
    for i, first in enumerate(documents):
        for other in documents[i + 1 :]:
            for d in diff(first, other, float_tolerance=float_tolerance):
                gap = _gap(d)
                if gap is None or seen.get(d.path, []) is None:
                    seen[d.path] = None
                else:
                    previous = seen.setdefault(d.path, [0.0, 0.0])
                    assert previous is not None
                    seen[d.path] = [max(previous[0], gap[0]), max(previous[1], gap[1])]
    return [
        NoiseSpread(path) if g is None else NoiseSpread(path, g[0], g[1]) for path, g in sorted(seen.items())
    ]


def _gap(d: Difference) -> tuple[float, float] | None:
    """(absolute, relative) distance of a numeric change; None for anything else."""
    a, b = d.airflow, d.prefect
    if d.kind != CHANGED or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
        return None
    gap = abs(float(a) - float(b))
    scale = max(abs(float(a)), abs(float(b)))
    return gap, (gap / scale if scale else 0.0)
