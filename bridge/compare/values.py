"""Diff two normalized documents with deepdiff and turn the result into difference rows."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bridge.compare.model import CHANGED, NOISE, ONLY_AIRFLOW, ONLY_PREFECT, TYPE_CHANGED, Difference
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
    noise: Iterable[str] = (),
) -> list[Difference]:
    """Difference rows between two normalized documents. Paths matched by an ignore rule are dropped;
    paths calibrated as noise are kept with kind ``noise``."""
    from deepdiff import DeepDiff

    rules = list(ignore)
    noise_paths = list(noise)
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
            p = dotted(path)
            if _matches(p, [r.path for r in rules]):
                continue
            if kind == "values_changed":
                row = Difference(p, detail["old_value"], detail["new_value"], CHANGED)
            elif kind == "type_changes":
                row = Difference(p, detail.get("old_value"), detail.get("new_value"), TYPE_CHANGED)
            elif kind in ("dictionary_item_removed", "iterable_item_removed"):
                row = Difference(p, detail, None, ONLY_AIRFLOW)
            elif kind in ("dictionary_item_added", "iterable_item_added"):
                row = Difference(p, None, detail, ONLY_PREFECT)
            else:
                row = Difference(p, None, None, CHANGED, note=kind)
            pattern = _matches(p, noise_paths)
            if pattern:
                row = Difference(
                    row.path, row.airflow, row.prefect, NOISE, note=f"calibrated noise ({pattern})"
                )
            rows.append(row)
    return sorted(rows, key=lambda r: r.path)


def _items(entries: Any) -> list[tuple[str, Any]]:
    if isinstance(entries, Mapping):
        return list(entries.items())
    return [(path, None) for path in entries]  # a set of paths (no detail)


def varying_paths(documents: list[Any], float_tolerance: float = 1e-9) -> set[str]:
    """Paths whose values differ between any two of ``documents`` (control runs of the same workflow)."""
    paths: set[str] = set()
    for other in documents[1:]:
        paths.update(d.path for d in diff(documents[0], other, float_tolerance=float_tolerance))
    return paths
