"""Compare a table over the rows either side wrote in this run, so history outside the run never counts.

The rows each side wrote are found by its run marker (see :mod:`bridge.compare.targets`). Then:

- neither side wrote a row: nothing to compare (the table was not part of this run);
- both sides rewrote every row (a full refresh): the whole tables are compared, by checksums
  (:func:`bridge.compare.tables.diff_tables`);
- otherwise the written rows' ``(key, row hash)`` are fetched from both sides, and a key written on one
  side only is looked up on the other side's whole table: the same row there is no difference (both
  targets hold the same state), a different one is a changed row, none at all is a row on one side only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bridge.compare.buckets import first_keys, match_rows
from bridge.compare.model import TableDiff, TableSide
from bridge.compare.plans import Plan, fetch_hashes
from bridge.compare.tables import Pair, changed_sample, diff_tables, plans_for
from bridge.compare.targets import Marker, written_condition

__all__ = ["diff_written"]

LOOKUP_BATCH = 500  # keys per lookup query on the other side


def _literal(plan: Plan, text: str) -> str:
    escaped = text.replace("'", "''")
    if plan.conn.dialect.name == "mysql":
        escaped = escaped.replace("\\", "\\\\")
    return "'" + escaped.replace("%", "%%") + "'"


def _lookup(plan: Plan, texts: Sequence[str]) -> dict[str, tuple[tuple[Any, ...], int]]:
    """This side's rows with these canonical key texts, wherever they were written."""
    where = []
    for i in range(0, len(texts), LOOKUP_BATCH):
        batch = ", ".join(_literal(plan, t) for t in texts[i : i + LOOKUP_BATCH])
        where.append((f"{plan.key_text} IN ({batch})", ()))
    return fetch_hashes(plan, where) if where else {}


def diff_written(
    airflow: TableSide,
    prefect: TableSide,
    key: Sequence[str],
    columns: Sequence[str] | None,
    markers: tuple[Marker | None, Marker | None],
    *,
    sample: int = 10,
) -> TableDiff | None:
    """The diff over the rows written since ``markers`` (one per side); None when a side's engine cannot
    tell which rows a run wrote (the caller compares the whole table then)."""
    conds = (written_condition(markers[0]), written_condition(markers[1]))
    if conds[0] is None or conds[1] is None:
        return None
    started = time.perf_counter()
    pair = Pair(airflow, prefect)
    try:
        plans = plans_for(pair, (airflow, prefect), key, columns)
        counts = pair.both(
            lambda i: plans[i].conn.query(
                f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {conds[i]} THEN 1 ELSE 0 END), 0) "
                f"FROM {plans[i].conn.dialect.table((airflow, prefect)[i].schema, (airflow, prefect)[i].table)}"
            )[0]
        )
        (total_a, wrote_a), (total_b, wrote_b) = ((int(t), int(w)) for t, w in counts)
        if not wrote_a and not wrote_b:
            names = tuple(c.name for c in plans[0].key)
            return TableDiff(airflow.table, names, 0, 0, scope="not written in this run")
        if wrote_a == total_a and wrote_b == total_b:  # every row rewritten: a full refresh, compare it all
            whole = diff_tables(airflow, prefect, key, columns, sample=sample, pair=pair)
            return _with(whole, "every row (rewritten in this run)", started)
        scoped = _scoped(pair, plans, conds, sample, airflow.table)
    finally:
        pair.close()
    where = f"rows written in this run ({scoped.airflow_rows} airflow, {scoped.prefect_rows} prefect)"
    return _with(scoped, where, started)


def _scoped(
    pair: Pair, plans: tuple[Plan, Plan], conds: tuple[str | None, str | None], sample: int, table: str
) -> TableDiff:
    written = pair.both(lambda i: fetch_hashes(plans[i], [(str(conds[i]), ())]))
    missing = (
        [t for t in written[1] if t not in written[0]],  # written by prefect: look up on airflow's side
        [t for t in written[0] if t not in written[1]],
    )
    found = pair.both(lambda i: _lookup(plans[i], missing[i]))
    sides = ({**found[0], **written[0]}, {**found[1], **written[1]})
    match = match_rows(*sides)
    return TableDiff(
        table=table,
        key=tuple(c.name for c in plans[0].key),
        airflow_rows=len(written[0]),
        prefect_rows=len(written[1]),
        only_airflow=tuple(first_keys(match.only_airflow.values(), sample)),
        only_prefect=tuple(first_keys(match.only_prefect.values(), sample)),
        changed=changed_sample(pair, plans, match, sample),
        only_airflow_count=len(match.only_airflow),
        only_prefect_count=len(match.only_prefect),
        changed_count=len(match.changed),
        queries=pair.queries,
    )


def _with(diff: TableDiff, scope: str, started: float) -> TableDiff:
    from dataclasses import replace

    return replace(diff, scope=scope, seconds=round(time.perf_counter() - started, 3))
