"""The records a comparison produces: difference rows, table diffs, and the verdict vocabulary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MATCH = "match"
MISMATCH = "mismatch"
SHADOW_FAILED = "shadow_failed"
PRIMARY_FAILED = "primary_failed"
BOTH_FAILED = "both_failed"
MISSING = "missing"  # one scheduler ran an instant, the other not within the watcher's grace window
VERDICTS = (MATCH, MISMATCH, SHADOW_FAILED, PRIMARY_FAILED, BOTH_FAILED, MISSING)

# Kinds of difference rows.
CHANGED = "changed"  # the same path holds different values
ONLY_AIRFLOW = "only_airflow"  # the path (or row) exists only in Airflow's output
ONLY_PREFECT = "only_prefect"  # ... only in Prefect's
TYPE_CHANGED = "type_changed"  # same path, different JSON types
NOISE = "noise"  # differs, within what calibration measured between two clean control runs
IGNORED = "ignored"  # differs, at a path a catalog ignore rule names (its reason is the note)
ROW_CHANGED = "row_changed"  # a table row with the same key and different column values
#: Kinds that are listed but do not make a mismatch.
SET_ASIDE = (NOISE, IGNORED)


def json_value(value: Any) -> Any:
    """A value as JSON can hold it: dates and datetimes as ISO text, decimals as plain text, tuples as
    lists (so keys and values print as JSON, never as Python reprs)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


def json_text(value: Any) -> str:
    """``value`` as one line of JSON."""
    return json.dumps(json_value(value), ensure_ascii=False, sort_keys=True)


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
            "airflow": json_value(self.airflow),
            "prefect": json_value(self.prefect),
            "kind": self.kind,
            "note": self.note,
        }


@dataclass(frozen=True)
class ChangedRow:
    key: tuple[Any, ...]
    columns: tuple[str, ...]  # the compared columns whose values differ


@dataclass(frozen=True)
class ColumnDiff:
    """One column's share of a table diff too wide to list by key (every bucket differs): of the
    ``sampled`` rows present on both sides in the sampled buckets, ``rows`` differ in this column;
    ``keys`` are some of them."""

    name: str
    rows: int
    sampled: int
    keys: tuple[tuple[Any, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.name,
            "rows": self.rows,
            "sampled": self.sampled,
            "keys": [json_value(k) for k in self.keys],
        }

    def describe(self) -> str:
        """``price: 4096 of 4096 sampled rows differ``."""
        return f"{self.name}: {self.rows} of {self.sampled} sampled rows differ"


@dataclass(frozen=True)
class TableDiff:
    """A table output compared across the primary and shadow targets (possibly across databases).

    ``only_airflow`` / ``only_prefect`` / ``changed`` hold at most a sample of keys; the ``*_count``
    fields hold the true totals. ``scope`` says which rows were compared (the whole table, the rows
    written in this run, or a declared condition); ``present`` is ``"airflow"`` or ``"prefect"`` when the
    table exists in one target only (a difference by itself); ``by_column`` is filled instead of ``changed``
    when the differences are too many to list by key (most buckets differ, as when one column is wrong in
    every row): per column, how many sampled rows differ and some of their keys; ``changed_count`` is
    then counted by bucket (rows of the differing buckets present on both sides: an upper bound,
    ``changed_count_bound``). ``excluded`` is the catalog's reason when
    the table is listed but deliberately not compared.
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
    scope: str = "whole table"
    present: str = "both"
    excluded: str | None = None
    by_column: tuple[ColumnDiff, ...] = ()
    changed_count_bound: bool = False

    @property
    def rows_differing(self) -> int:
        return self.only_airflow_count + self.only_prefect_count + self.changed_count

    @property
    def equal(self) -> bool:
        if self.excluded is not None:
            return True
        return self.error is None and self.present == "both" and not self.rows_differing

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": list(self.key),
            "scope": self.scope,
            "present": self.present,
            "excluded": self.excluded,
            "airflow_rows": self.airflow_rows,
            "prefect_rows": self.prefect_rows,
            "only_airflow": [json_value(k) for k in self.only_airflow],
            "only_prefect": [json_value(k) for k in self.only_prefect],
            "changed": [{"key": json_value(c.key), "columns": list(c.columns)} for c in self.changed],
            "only_airflow_count": self.only_airflow_count,
            "only_prefect_count": self.only_prefect_count,
            "changed_count": self.changed_count,
            "queries": self.queries,
            "seconds": self.seconds,
            "error": self.error,
            "equal": self.equal,
            "rows_differing": self.rows_differing,
            "by_column": [c.to_dict() for c in self.by_column],
            "changed_count_bound": self.changed_count_bound,
        }


@dataclass(frozen=True)
class Tally:
    """What a verdict counts: real value differences, differing rows per table, what was set aside."""

    values: int = 0
    rows: tuple[tuple[str, int], ...] = ()  # (table, differing rows), tables with a difference only
    tables_one_side: tuple[str, ...] = ()  # tables present in one target only
    table_errors: tuple[str, ...] = ()  # tables that could not be compared
    ignored: int = 0
    noise: int = 0

    @classmethod
    def of(cls, differences: Sequence[Difference], tables: Sequence[TableDiff]) -> Tally:
        return cls(
            values=sum(1 for d in differences if d.kind not in SET_ASIDE),
            rows=tuple(
                (t.table, t.rows_differing) for t in tables if t.rows_differing and t.excluded is None
            ),
            tables_one_side=tuple(t.table for t in tables if t.present != "both" and t.excluded is None),
            table_errors=tuple(t.table for t in tables if t.error and t.excluded is None),
            ignored=sum(1 for d in differences if d.kind == IGNORED),
            noise=sum(1 for d in differences if d.kind == NOISE),
        )

    @property
    def real(self) -> int:
        return self.values + sum(n for _, n in self.rows) + len(self.tables_one_side) + len(self.table_errors)

    def describe(self) -> str:
        """``2 values, 5 rows in price_history, 3 ignored``; ``0 differences`` when nothing at all."""
        parts = []
        if self.values:
            parts.append(f"{self.values} value{'s' if self.values != 1 else ''}")
        parts += [f"{n} row{'s' if n != 1 else ''} in {t}" for t, n in self.rows]
        parts += [f"table {t} in one target only" for t in self.tables_one_side]
        parts += [f"table {t} not compared" for t in self.table_errors]
        if self.ignored:
            parts.append(f"{self.ignored} ignored")
        if self.noise:
            parts.append(f"{self.noise} noise")
        return ", ".join(parts) or "0 differences"


@dataclass(frozen=True)
class TableSide:
    """Where one side's copy of a table lives: a SQLAlchemy-style database URL, a schema, a table; and
    ``where``, the SQL condition selecting the rows compared (None: every row)."""

    url: str = field(repr=False)
    schema: str
    table: str
    where: str | None = None


@dataclass(frozen=True)
class NoiseSpread:
    """How one path varied between clean control runs: for numbers the largest absolute and relative
    spread seen between two controls; for anything else, that it varies. A shadow difference at this
    path is noise only within that spread."""

    path: str
    abs_spread: float | None = None  # None: not a number, it "varies"
    rel_spread: float | None = None

    @property
    def varies(self) -> bool:
        return self.abs_spread is None

    def covers(self, airflow: Any, prefect: Any) -> bool:
        """Whether the difference ``airflow`` -> ``prefect`` is within what calibration saw."""
        if self.varies:
            return True
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (airflow, prefect)):
            return False
        return abs(float(airflow) - float(prefect)) <= float(self.abs_spread or 0.0) + 1e-12

    def describe(self) -> str:
        if self.varies:
            return "varies"
        rel = f" ({self.rel_spread:.1%})" if self.rel_spread else ""
        return f"±{self.abs_spread:g}{rel}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "abs_spread": self.abs_spread, "rel_spread": self.rel_spread}


@dataclass(frozen=True)
class Calibration:
    """One calibration of a workflow: its control runs (each in its own target, from the same start
    state), the fingerprint of what each read, and the noise measured between them."""

    workflow: str
    at: datetime
    runs: int
    controls: tuple[str, ...]  # the control targets
    fingerprints: tuple[str, ...]  # one per control, equal for a calibration that was kept
    noise: tuple[NoiseSpread, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "at": self.at.isoformat(),
            "runs": self.runs,
            "controls": list(self.controls),
            "fingerprints": list(self.fingerprints),
            "noise": [n.to_dict() for n in self.noise],
        }
