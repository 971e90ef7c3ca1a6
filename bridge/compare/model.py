"""The records a comparison produces: difference rows, table diffs, and the verdict vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MATCH = "match"
MISMATCH = "mismatch"
SHADOW_FAILED = "shadow_failed"
PRIMARY_FAILED = "primary_failed"
BOTH_FAILED = "both_failed"
VERDICTS = (MATCH, MISMATCH, SHADOW_FAILED, PRIMARY_FAILED, BOTH_FAILED)

# Kinds of difference rows.
CHANGED = "changed"  # the same path holds different values
ONLY_AIRFLOW = "only_airflow"  # the path (or row) exists only in Airflow's output
ONLY_PREFECT = "only_prefect"  # ... only in Prefect's
TYPE_CHANGED = "type_changed"  # same path, different JSON types
NOISE = "noise"  # differs, but calibration showed it differs between two primary runs too
ROW_CHANGED = "row_changed"  # a table row with the same key and different column values


@dataclass(frozen=True)
class Difference:
    """One row of a diff table: where, what Airflow had, what Prefect had, what kind of difference."""

    path: str
    airflow: Any
    prefect: Any
    kind: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "airflow": self.airflow,
            "prefect": self.prefect,
            "kind": self.kind,
            "note": self.note,
        }


@dataclass(frozen=True)
class ChangedRow:
    key: tuple[Any, ...]
    columns: tuple[str, ...]  # the compared columns whose values differ


@dataclass(frozen=True)
class TableDiff:
    """A table output compared across the primary and shadow targets (possibly across databases).

    ``only_airflow`` / ``only_prefect`` / ``changed`` hold at most a sample of keys; the ``*_count``
    fields hold the true totals.
    """

    table: str
    key: tuple[str, ...]
    airflow_rows: int
    prefect_rows: int
    only_airflow: tuple[tuple[Any, ...], ...] = ()
    only_prefect: tuple[tuple[Any, ...], ...] = ()
    changed: tuple[ChangedRow, ...] = ()
    only_airflow_count: int = 0
    only_prefect_count: int = 0
    changed_count: int = 0
    queries: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def equal(self) -> bool:
        return self.error is None and not (
            self.only_airflow_count or self.only_prefect_count or self.changed_count
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": list(self.key),
            "airflow_rows": self.airflow_rows,
            "prefect_rows": self.prefect_rows,
            "only_airflow": [list(k) for k in self.only_airflow],
            "only_prefect": [list(k) for k in self.only_prefect],
            "changed": [{"key": list(c.key), "columns": list(c.columns)} for c in self.changed],
            "only_airflow_count": self.only_airflow_count,
            "only_prefect_count": self.only_prefect_count,
            "changed_count": self.changed_count,
            "queries": self.queries,
            "seconds": self.seconds,
            "error": self.error,
            "equal": self.equal,
        }


@dataclass(frozen=True)
class TableSide:
    """Where one side's copy of a table lives: a SQLAlchemy-style database URL, a schema, a table."""

    url: str = field(repr=False)
    schema: str
    table: str
