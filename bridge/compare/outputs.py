"""Every table a run wrote, compared: the tables of both targets found and keyed, each diffed over its
scope; and the start state copied before a run, and the run markers taken.

A table is compared when either target has it and a side wrote rows to it in this run, or the catalog
declares it. Its key is the declared one, else its primary key. Its scope is the declared condition, else
the rows written in this run (PostgreSQL; other engines compare the whole table). A table present in one
target only and written there in this run is a difference by itself. Declared ``exclude`` lists the table
with its reason and compares nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bridge.compare.connections import connect
from bridge.compare.model import TableDiff, TableSide
from bridge.compare.targets import Marker, copy_tables, list_tables, take_marker, written_condition
from bridge.config import ShadowSettings, TableOutput
from bridge.errors import BridgeError, DatabaseUnavailableError, UsageError

__all__ = ["Targets", "compare_outputs", "fill_scope", "key_fingerprints"]


@dataclass(frozen=True)
class Targets:
    """The two targets of one comparison (primary and shadow, or two calibration controls), where their
    tables live by default, and the markers taken on their databases just before the run."""

    primary: str
    other: str
    url: str = field(repr=False)
    markers: Mapping[str, Marker] = field(default_factory=dict, repr=False)  # url -> marker

    def marker(self, url: str) -> Marker | None:
        return self.markers.get(url)


def prepare(settings: ShadowSettings, primary: str, others: Sequence[str], url: str) -> dict[str, Marker]:
    """Copy the start state (``start_from_primary``) from ``primary`` into each of ``others``, then take
    a marker on every database the outputs live in. Returns url -> marker."""
    for other in others:
        if settings.start_from_primary:
            copy_tables(url, primary, other, settings.start_from_primary)
    urls = {url} | {u for t in settings.tables for u in (t.airflow_url, t.prefect_url) if u}
    return {u: take_marker(u) for u in sorted(urls)}


def fill_scope(scope: str, values: Mapping[str, Any]) -> str:
    """A declared scope with its ``{name}`` placeholders replaced by SQL literals of ``values``."""

    class Literals(dict[str, str]):
        def __missing__(self, name: str) -> str:
            raise UsageError(
                f"scope {scope!r} names {{{name}}}, which neither the run's conf nor its result has"
            )

    def literal(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    return scope.format_map(Literals({k: literal(v) for k, v in values.items()}))


def _written_rows(url: str, schema: str, table: str, marker: Marker | None) -> int | None:
    cond = written_condition(marker)
    if cond is None:
        return None
    conn = connect(url, "target")
    try:
        rel = conn.dialect.table(schema, table)
        return int(conn.query(f"SELECT COUNT(*) FROM {rel} WHERE {cond}")[0][0])
    finally:
        conn.close()


def _one_side(
    name: str, key: tuple[str, ...], side: str, url: str, schema: str, t: Targets
) -> TableDiff | None:
    """A table in one target only: a difference if that side wrote to it in this run (or cannot tell)."""
    rows = _written_rows(url, schema, name, t.marker(url))
    if rows == 0:
        return None
    scope = "whole table" if rows is None else "rows written in this run"
    counts = (rows or 0, 0) if side == "airflow" else (0, rows or 0)
    return TableDiff(name, key, counts[0], counts[1], scope=scope, present=side)


def _diff(
    name: str, key: tuple[str, ...], declared: TableOutput | None, t: Targets, values: Mapping[str, Any]
) -> TableDiff | None:
    from bridge.compare.scoped import diff_written
    from bridge.compare.tables import diff_tables

    url_a = (declared.airflow_url if declared else None) or t.url
    url_b = (declared.prefect_url if declared else None) or t.url
    columns = declared.columns if declared else None
    if declared and declared.scope:
        where = fill_scope(declared.scope, values)
        result = diff_tables(
            TableSide(url_a, t.primary, name, where), TableSide(url_b, t.other, name, where), key, columns
        )
        return replace(result, scope=declared.scope)
    written = diff_written(
        TableSide(url_a, t.primary, name),
        TableSide(url_b, t.other, name),
        key,
        columns,
        (t.marker(url_a), t.marker(url_b)),
    )
    if written is None:
        whole = diff_tables(TableSide(url_a, t.primary, name), TableSide(url_b, t.other, name), key, columns)
        return replace(
            whole, scope="whole table (this engine cannot tell which rows a run wrote: declare a scope)"
        )
    if written.scope == "not written in this run" and declared is None:
        return None
    return written


def compare_outputs(settings: ShadowSettings, t: Targets, values: Mapping[str, Any]) -> list[TableDiff]:
    """Every table of both targets that this run wrote (and every declared one), compared. ``values``
    fill declared scopes (the run's conf over its result's top-level values)."""
    declared = {d.table: d for d in settings.tables}
    found: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] = ({}, {})
    if settings.discover:
        for i, schema in enumerate((t.primary, t.other)):
            conn = connect(t.url, "target")
            try:
                found[i].update(list_tables(conn, schema))
            finally:
                conn.close()
    out: list[TableDiff] = []
    for name in sorted(set(found[0]) | set(found[1]) | set(declared)):
        d = declared.get(name)
        key = (d.key if d and d.key else ()) or found[0].get(name) or found[1].get(name) or ()
        if d and d.exclude:
            out.append(TableDiff(name, key, 0, 0, scope="excluded", excluded=d.exclude))
            continue
        try:
            diff = _compare_one(name, key, d, t, found, values)
        except BridgeError as exc:
            diff = TableDiff(name, key, 0, 0, error=str(exc))
        if diff is not None:
            out.append(diff)
    return out


def _compare_one(
    name: str,
    key: tuple[str, ...],
    d: TableOutput | None,
    t: Targets,
    found: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]],
    values: Mapping[str, Any],
) -> TableDiff | None:
    own_urls = d is not None and (d.airflow_url or d.prefect_url)
    if not own_urls and (name in found[0]) != (name in found[1]):
        side, schema = ("airflow", t.primary) if name in found[0] else ("prefect", t.other)
        one = _one_side(name, key, side, t.url, schema, t)
        if one is None and d is not None:  # a declared output must exist in both targets
            return TableDiff(name, key, 0, 0, scope="declared output", present=side)
        return one
    if not key:
        raise UsageError(
            f"table {name} has no primary key: declare its key in [[workflows.<dag>.shadow.tables]]"
            " or exclude it with a reason"
        )
    return _diff(name, key, d, t, values)


def key_fingerprints(
    settings: ShadowSettings, url: str, target: str, marker: Marker | None
) -> dict[str, tuple[int, int]]:
    """Per keyed table of ``target``: (rows written since ``marker``, sum of their key hashes), ``(0, 0)``
    for a table not written. What a calibration control wrote, as a fingerprint of what it read (e.g.
    the message ids it consumed)."""
    from bridge.compare.dialects import element_kind
    from bridge.compare.plans import describe, make_plan, resolve

    cond = written_condition(marker)
    conn = connect(url, "target")
    try:
        out: dict[str, tuple[int, int]] = {}
        declared = {d.table: d for d in settings.tables}
        for name, pk in list_tables(conn, target).items():
            d = declared.get(name)
            if d is not None and d.exclude:
                continue
            key = (d.key if d and d.key else ()) or pk
            if not key:
                continue
            side = TableSide(url, target, name)
            keys = resolve(key, describe(conn, side), conn, side, "key")
            plan = make_plan(conn, side, keys, (), [element_kind(c.category, c.category) for c in keys], [])
            where = f" WHERE {cond}" if cond else ""
            count, total = conn.query(f"SELECT COUNT(*), SUM({plan.row_hash}) FROM {plan.rel}{where}")[0]
            out[name] = (int(count), int(total or 0))
        return out
    finally:
        conn.close()


def prepare_targets(url: str, settings: ShadowSettings, primary: str, others: Sequence[str]) -> Targets:
    """Copy the start state into ``others`` (in the warehouse at ``url``) and take the markers (see
    :func:`prepare`). A database that cannot be reached leaves no markers: its tables then fail to compare,
    visibly."""
    if not settings.uses_targets:
        return Targets(primary, others[0] if others else primary, url)
    try:
        markers = prepare(settings, primary, others, url)
    except DatabaseUnavailableError:
        markers = {}
    return Targets(primary, others[0] if others else primary, url, markers)
